//! Events: `GET /v1/events` with Stripe's list rules, the events the server makes when its
//! objects change, and their delivery as signed webhooks.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{Answer, Call, Fail, State, now};

pub fn route(state: &mut State, call: &Call<'_>) -> Option<Answer> {
    if (call.method, call.path) != ("GET", "/v1/events") {
        return None;
    }
    let since: i64 = call
        .param("created[gte]")
        .and_then(|v| v.parse().ok())
        .unwrap_or(i64::MIN);
    let events: Vec<Value> = state
        .events
        .get(&call.account.map(str::to_owned))
        .map(|events| {
            events
                .iter()
                .filter(|event| event["created"].as_i64().unwrap_or(0) >= since)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    Some(list(events, call, "/v1/events", "event"))
}

/// One page of `items`, newest first (`created`, then id): `limit` (1 to 100, default 10),
/// `starting_after` an id of the list, `has_more`.
pub fn list(mut items: Vec<Value>, call: &Call<'_>, url: &str, noun: &str) -> Answer {
    let limit: usize = match call.param("limit").map(str::parse::<usize>) {
        None => 10,
        Some(Ok(limit)) if (1..=100).contains(&limit) => limit,
        Some(_) => {
            return Err(Fail::invalid(
                "parameter_invalid_integer",
                "Invalid integer: limit must be between 1 and 100",
            ));
        }
    };
    let key = |e: &Value| {
        (
            e["created"].as_i64().unwrap_or(0),
            e["id"].as_str().unwrap_or("").to_owned(),
        )
    };
    items.sort_by_key(|item| std::cmp::Reverse(key(item)));
    let start = match call.param("starting_after") {
        None => 0,
        Some(after) => match items.iter().position(|e| e["id"] == after) {
            Some(index) => index + 1,
            None => {
                return Err(Fail::invalid(
                    "resource_missing",
                    format!("No such {noun}: '{after}'"),
                ));
            }
        },
    };
    let page: Vec<Value> = items.iter().skip(start).take(limit).cloned().collect();
    let has_more = start + page.len() < items.len();
    Ok(json!({"object": "list", "url": url, "has_more": has_more, "data": page}))
}

/// Makes the event `event_type` about `object` of `account` (`None`: the platform): it is
/// listed by `GET /v1/events` and, when a receiver is set, sent. Returns its id.
pub fn emit(state: &mut State, account: Option<&str>, event_type: &str, object: &Value) -> String {
    emit_changed(state, account, event_type, object, None)
}

/// [`emit`] for a `*.updated` event, which carries the changed fields' old values.
pub fn emit_changed(
    state: &mut State,
    account: Option<&str>,
    event_type: &str,
    object: &Value,
    previous: Option<Value>,
) -> String {
    let id = state.new_id("evt");
    let mut event = json!({
        "id": id,
        "object": "event",
        "api_version": payments::stripe::api::API_VERSION,
        "created": now(),
        "data": {"object": object},
        "livemode": object["livemode"].as_bool().unwrap_or(false),
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": event_type,
    });
    if let Some(account) = account {
        event["account"] = json!(account);
    }
    if let Some(previous) = previous {
        event["data"]["previous_attributes"] = previous;
    }
    state
        .events
        .entry(account.map(str::to_owned))
        .or_default()
        .push(event.clone());
    if let Some(webhooks) = &state.webhooks {
        let _ = webhooks.send(event);
    }
    id
}

/// Sends each event to `url`, signed as Stripe signs, until the receiver accepts it.
pub async fn deliver(url: String, mut events: mpsc::UnboundedReceiver<Value>) {
    let client = crate::helpers::http_client();
    while let Some(event) = events.recv().await {
        let body = serde_json::to_vec(&event).unwrap();
        for attempt in 0..50 {
            let signature = crate::helpers::sign_at(&body, now());
            let sent = client
                .post(&url)
                .header("Stripe-Signature", signature)
                .header("Content-Type", "application/json")
                .body(body.clone())
                .send()
                .await;
            if sent.is_ok_and(|response| response.status().is_success()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20 * (attempt + 1))).await;
        }
    }
}
