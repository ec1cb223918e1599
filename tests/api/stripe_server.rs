//! A stand-in for Stripe's API, started by the tests on a random port: exactly the endpoints
//! the service calls, with Stripe's request rules (the bearer key, `Stripe-Account`, list
//! pagination) and error shape. It records every request for assertions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use warp::Filter;
use warp::http::{HeaderMap, Method, StatusCode};
use warp::reply::Response;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub account: Option<String>,
    pub version: Option<String>,
    pub idempotency_key: Option<String>,
    pub authorized: bool,
}

#[derive(Default)]
struct State {
    key: String,
    /// A restricted key that may not read the account (403 on `GET /v1/account`).
    restricted: Option<String>,
    /// Events by account (`None`: the platform's), in any order.
    events: HashMap<Option<String>, Vec<Value>>,
    /// Requests still to answer 429, and the `Stripe-Should-Retry` they carry.
    throttle: (u32, Option<bool>, Option<u64>),
    requests: Vec<Recorded>,
}

/// A running stand-in; it stops with the test's runtime.
#[derive(Clone)]
pub struct StripeServer {
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl StripeServer {
    /// Starts a server that accepts the secret key `key` only.
    pub async fn start(key: &str) -> Self {
        let state = Arc::new(Mutex::new(State {
            key: key.to_owned(),
            ..Default::default()
        }));
        let shared = state.clone();
        let route = warp::method()
            .and(warp::path::full())
            .and(warp::query::raw().or(warp::any().map(String::new)).unify())
            .and(warp::header::headers_cloned())
            .map(
                move |method: Method,
                      path: warp::path::FullPath,
                      query: String,
                      headers: HeaderMap| {
                    answer(&shared, &method, path.as_str(), &query, &headers)
                },
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(warp::serve(route).incoming(listener).run());
        Self {
            base: format!("http://{addr}"),
            state,
        }
    }

    /// Adds events of `account` (`None`: the platform); a connected account's carry
    /// `account`, as Stripe sends them.
    pub fn add_events(&self, account: Option<&str>, events: impl IntoIterator<Item = Value>) {
        let mut state = self.state.lock().unwrap();
        let list = state.events.entry(account.map(str::to_owned)).or_default();
        for mut event in events {
            if let Some(account) = account {
                event["account"] = json!(account);
            }
            list.push(event);
        }
    }

    /// The next `count` requests are answered 429, with `Stripe-Should-Retry` when given.
    pub fn throttle(&self, count: u32, should_retry: Option<bool>) {
        self.state.lock().unwrap().throttle = (count, should_retry, None);
    }

    /// The next `count` requests are answered 429 with `Retry-After: secs`.
    pub fn throttle_for(&self, count: u32, secs: u64) {
        self.state.lock().unwrap().throttle = (count, None, Some(secs));
    }

    /// Also accepts `key`, a restricted key lacking the permission to read the account.
    pub fn restricted_key(&self, key: &str) {
        self.state.lock().unwrap().restricted = Some(key.to_owned());
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }
}

fn error(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> Response {
    let mut body = json!({"error": {"type": kind, "message": message}});
    if let Some(code) = code {
        body["error"]["code"] = json!(code);
    }
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

use warp::Reply;

fn answer(
    state: &Mutex<State>,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut state = state.lock().unwrap();
    let authorization = header("authorization");
    let restricted = state
        .restricted
        .as_ref()
        .is_some_and(|key| authorization.as_deref() == Some(&format!("Bearer {key}")));
    let authorized =
        restricted || authorization.as_deref() == Some(&format!("Bearer {}", state.key));
    let query: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let account = header("stripe-account");
    state.requests.push(Recorded {
        method: method.to_string(),
        path: path.to_owned(),
        query: query.clone(),
        account: account.clone(),
        version: header("stripe-version"),
        idempotency_key: header("idempotency-key"),
        authorized,
    });
    if !authorized {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            "Invalid API Key provided: sk_test_****",
        );
    }
    if state.throttle.0 > 0 {
        state.throttle.0 -= 1;
        let mut reply = error(
            StatusCode::TOO_MANY_REQUESTS,
            "invalid_request_error",
            Some("rate_limit"),
            "Too many requests hit the API too quickly.",
        );
        if let Some(retry) = state.throttle.1 {
            reply
                .headers_mut()
                .insert("stripe-should-retry", retry.to_string().parse().unwrap());
        }
        if let Some(secs) = state.throttle.2 {
            reply
                .headers_mut()
                .insert("retry-after", secs.to_string().parse().unwrap());
        }
        return reply;
    }
    match (method.as_str(), path) {
        ("GET", "/v1/account") if restricted => error(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            Some("secret_key_required"),
            "The provided key 'rk_test_****' does not have the required permissions for this endpoint.",
        ),
        ("GET", "/v1/account") => {
            let mut account_object =
                crate::helpers::fixture_value("account.updated.json")["data"]["object"].clone();
            account_object["id"] = json!(account.unwrap_or_else(|| "acct_platform".to_owned()));
            warp::reply::json(&account_object).into_response()
        }
        ("GET", "/v1/events") => list_events(&state, account, &query),
        _ => error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("resource_missing"),
            &format!("Unrecognized request URL ({method} {path})."),
        ),
    }
}

/// `GET /v1/events`: newest first, `created[gte]`, `limit` (1 to 100, default 10),
/// `starting_after` an id of the list, `has_more`.
fn list_events(state: &State, account: Option<String>, query: &[(String, String)]) -> Response {
    let param = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let limit: usize = match param("limit").map(str::parse::<usize>) {
        None => 10,
        Some(Ok(limit)) if (1..=100).contains(&limit) => limit,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("parameter_invalid_integer"),
                "Invalid integer: limit must be between 1 and 100",
            );
        }
    };
    let since: i64 = param("created[gte]")
        .and_then(|v| v.parse().ok())
        .unwrap_or(i64::MIN);
    let mut events: Vec<&Value> = state
        .events
        .get(&account)
        .map(|events| events.iter().collect())
        .unwrap_or_default();
    events.retain(|event| event["created"].as_i64().unwrap_or(0) >= since);
    events.sort_by(|a, b| {
        let key = |e: &Value| {
            (
                e["created"].as_i64().unwrap_or(0),
                e["id"].as_str().unwrap_or("").to_owned(),
            )
        };
        key(b).cmp(&key(a))
    });
    let start = match param("starting_after") {
        None => 0,
        Some(after) => match events.iter().position(|e| e["id"] == after) {
            Some(index) => index + 1,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    Some("resource_missing"),
                    &format!("No such event: '{after}'"),
                );
            }
        },
    };
    let page: Vec<&Value> = events.iter().skip(start).take(limit).copied().collect();
    let has_more = start + page.len() < events.len();
    warp::reply::json(&json!({
        "object": "list",
        "url": "/v1/events",
        "has_more": has_more,
        "data": page,
    }))
    .into_response()
}
