//! `POST /webhooks/stripe`: acceptance, duplicates, and every rejection.

use futures_util::stream;
use serde_json::{Value, json};

use crate::helpers::{event_id, fixture, fixture_event_names, now, sign_at, spawn_app};
use crate::schema::Api;

async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("JSON error body");
    let code = body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_owned();
    assert!(
        body["error"]["message"].is_string(),
        "error.message: {body}"
    );
    (status, code)
}

#[tokio::test]
async fn every_fixture_event_is_accepted_and_stored_byte_exact() {
    let app = spawn_app().await;
    let names = fixture_event_names();
    assert!(names.len() >= 15, "fixtures missing: {names:?}");
    for name in &names {
        let body = fixture(name);
        let response = app.post_event(&body).await;
        assert_eq!(response.status(), 200, "{name}");
        let receipt: Value = response.json().await.unwrap();
        let id = event_id(&body);
        assert_eq!(
            receipt,
            json!({"received": true, "duplicate": false, "id": id}),
            "{name}"
        );
        let row = app.stored_event(&id).await.expect("row stored");
        assert_eq!(
            row.payload.as_bytes(),
            &body[..],
            "{name} stored byte-exact"
        );
        assert!(row.attempts <= 1, "{name}: applied at most once so far");
        let envelope: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(row.event_type, envelope["type"].as_str().unwrap());
        assert_eq!(row.created, envelope["created"].as_i64().unwrap());
        assert_eq!(row.livemode, envelope["livemode"].as_bool().unwrap());
        assert_eq!(row.account.as_deref(), envelope["account"].as_str());
        assert_eq!(
            row.object_id.as_deref(),
            envelope["data"]["object"]["id"].as_str()
        );
    }
    assert_eq!(app.event_count().await, names.len() as u64);
}

#[tokio::test]
async fn connect_events_are_keyed_by_account_and_platform_events_by_the_platform() {
    let app = spawn_app().await;
    let connect = fixture("charge.succeeded.json");
    assert_eq!(app.post_event(&connect).await.status(), 200);
    let row = app.stored_event(&event_id(&connect)).await.unwrap();
    assert_eq!(row.store_key, "acct_1PgafTB7WZ01zgkW");

    let mut platform: Value = serde_json::from_slice(&connect).unwrap();
    platform.as_object_mut().unwrap().remove("account");
    platform["id"] = json!("evt_destination_charge_1");
    platform["data"]["object"]["transfer_data"] = json!({"destination": "acct_seller_2"});
    let body = serde_json::to_vec(&platform).unwrap();
    assert_eq!(app.post_event(&body).await.status(), 200);
    let row = app.stored_event("evt_destination_charge_1").await.unwrap();
    // Applied by the platform's actor with the payment's other events; the order names
    // the seller (tests/api/marketplace.rs).
    assert_eq!(row.store_key, "platform");
    assert_eq!(row.account, None);
}

#[tokio::test]
async fn redelivery_is_answered_200_as_duplicate_and_stored_once() {
    let app = spawn_app().await;
    let body = fixture("customer.created.json");
    assert_eq!(app.post_event(&body).await.status(), 200);
    let before = app.stored_event(&event_id(&body)).await.unwrap();
    // Stripe redelivers with the same id but a new timestamp and signature.
    let redelivery = app
        .post_with_signature(&body, Some(sign_at(&body, now() - 5)))
        .await;
    assert_eq!(redelivery.status(), 200);
    let receipt: Value = redelivery.json().await.unwrap();
    assert_eq!(receipt["duplicate"], json!(true));
    assert_eq!(receipt["id"], json!(event_id(&body)));
    assert_eq!(app.event_count().await, 1);
    let after = app.stored_event(&event_id(&body)).await.unwrap();
    assert_eq!(
        (after.payload, after.created_at),
        (before.payload, before.created_at),
        "the stored delivery is untouched"
    );
}

#[tokio::test]
async fn twenty_concurrent_copies_are_stored_once() {
    let app = spawn_app().await;
    let body = fixture("payment_intent.succeeded.json");
    let requests = (0..20).map(|_| app.post_event(&body));
    let responses = futures_util::future::join_all(requests).await;
    let mut new = 0;
    for response in responses {
        assert_eq!(response.status(), 200);
        let receipt: Value = response.json().await.unwrap();
        if receipt["duplicate"] == json!(false) {
            new += 1;
        }
    }
    assert_eq!(new, 1, "exactly one copy is the new one");
    assert_eq!(app.event_count().await, 1);
}

/// Group commit: one insert for several deliveries answers each of them, the first copy of
/// an id in the batch is the new one, and an id stored before is a duplicate, or a conflict
/// when its body differs from the one kept.
#[tokio::test]
async fn a_group_commit_answers_each_delivery_and_keeps_the_first_copy() {
    use payments::store::inbox::{self, Stored};
    use payments::stripe::envelope::Envelope;
    let app = spawn_app().await;
    let row = |name: &str, id: &str, marker: &str| {
        let body = crate::admin::event(name, id, |e| {
            e["data"]["object"]["description"] = json!(marker)
        });
        let envelope = Envelope::parse(&body).unwrap();
        inbox::new_row(&envelope, String::from_utf8(body).unwrap())
    };
    let before = row("customer.created.json", "evt_group_old", "old");
    assert_eq!(
        inbox::store_batch(&app.db, &[before]).await.unwrap(),
        vec![Stored::New]
    );

    let batch = [
        row("customer.created.json", "evt_group_a", "first"),
        row("customer.created.json", "evt_group_a", "second"),
        row("product.created.json", "evt_group_b", "b"),
        row("customer.created.json", "evt_group_old", "again"),
        row("customer.created.json", "evt_group_a", "first"),
    ];
    let stored = inbox::store_batch(&app.db, &batch).await.unwrap();
    assert_eq!(
        stored,
        vec![
            Stored::New,
            Stored::Conflict,
            Stored::New,
            Stored::Conflict,
            Stored::Duplicate
        ]
    );
    for id in ["evt_group_a", "evt_group_old"] {
        assert_eq!(
            app.stored_event(id).await.unwrap().body_conflicts,
            1,
            "{id}"
        );
    }
    assert_eq!(app.event_count().await, 3);
    let kept = app.stored_event("evt_group_a").await.unwrap();
    assert!(
        kept.payload.contains("first"),
        "the first copy is the one stored"
    );
    let old = app.stored_event("evt_group_old").await.unwrap();
    assert!(old.payload.contains("old") && !old.payload.contains("again"));
}

#[tokio::test]
async fn unknown_event_type_is_stored_and_answered_200() {
    let app = spawn_app().await;
    let body = br#"{"id":"evt_unknown_1","object":"event","type":"issuing_card.created","created":1721948000,"livemode":false,"data":{"object":{"id":"ic_1","object":"issuing.card"}}}"#;
    assert_eq!(app.post_event(body).await.status(), 200);
    let row = app.stored_event("evt_unknown_1").await.unwrap();
    assert_eq!(row.event_type, "issuing_card.created");
    assert_eq!(row.store_key, "platform");
}

#[tokio::test]
async fn body_over_the_cap_is_rejected_with_413_before_anything_else() {
    let app = spawn_app().await;
    let mut body = fixture("charge.succeeded.json");
    body.truncate(body.len() - 1);
    body.extend(std::iter::repeat_n(b' ', 1024 * 1024));
    body.push(b'}');
    // Unsigned: the size is checked first.
    let (status, code) = error_code(app.post_with_signature(&body, None).await).await;
    assert_eq!((status, code.as_str()), (413, "payload_too_large"));
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn chunked_body_over_the_cap_is_rejected_with_413() {
    let app = spawn_app().await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let response = app
        .client
        .post(format!("{}/webhooks/stripe", app.address))
        .header("stripe-signature", sign_at(b"{}", now()))
        .body(reqwest::Body::wrap_stream(stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    let (status, code) = error_code(response).await;
    assert_eq!((status, code.as_str()), (413, "payload_too_large"));
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn every_signature_failure_gets_its_code_and_stores_nothing() {
    let app = spawn_app().await;
    let body = fixture("charge.succeeded.json");
    let valid = sign_at(&body, now());
    let v1 = valid.split_once(",v1=").unwrap().1.to_owned();
    let cases = [
        (None, "missing_signature"),
        (Some(String::new()), "missing_signature"),
        (
            Some("not a signature header".to_owned()),
            "malformed_signature",
        ),
        (Some(format!("t={}", now())), "malformed_signature"),
        (Some(format!("t={},v0={v1}", now())), "malformed_signature"),
        (
            Some(format!("t={},v1={}", now(), "0".repeat(64))),
            "no_matching_signature",
        ),
        (
            Some(format!("t={},v1={v1}", now() - 1)),
            "no_matching_signature",
        ),
        (
            Some(sign_at(&body, now() - 301)),
            "timestamp_outside_tolerance",
        ),
    ];
    for (header, expected) in cases {
        let response = app.post_with_signature(&body, header.clone()).await;
        let (status, code) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (400, expected),
            "header {header:?}"
        );
    }
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    let (status, code) = error_code(app.post_with_signature(&tampered, Some(valid)).await).await;
    assert_eq!((status, code.as_str()), (400, "no_matching_signature"));
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn future_timestamps_are_accepted_like_the_official_sdks() {
    let app = spawn_app().await;
    let body = fixture("price.created.json");
    let response = app
        .post_with_signature(&body, Some(sign_at(&body, now() + 3600)))
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn signed_bodies_that_are_not_events_are_rejected_as_invalid_payload() {
    let app = spawn_app().await;
    let bodies: [&[u8]; 7] = [
        b"[]",
        b"\"evt_1\"",
        b"{\"id\":\"evt_1\",\"type\":\"charge.succeeded\"}",
        b"{\"id\":7,\"type\":\"charge.succeeded\",\"data\":{\"object\":{}}}",
        b"{\"id\":\"evt_1\",\"data\":{\"object\":{}}}",
        b"{\"id\":\"evt_1\",\"type\":\"x\",\"data\":{\"object\":\"ch_1\"}}",
        b"{\"id\":\"evt_1\",\"type\":",
    ];
    for body in bodies {
        let (status, code) = error_code(app.post_event(body).await).await;
        assert_eq!(
            (status, code.as_str()),
            (400, "invalid_payload"),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let invalid_utf8 = b"{\"id\":\"evt_\xff\",\"type\":\"x\",\"data\":{\"object\":{}}}";
    let (status, code) = error_code(app.post_event(invalid_utf8).await).await;
    assert_eq!((status, code.as_str()), (400, "invalid_payload"));
    let deep = format!(
        "{{\"id\":\"evt_1\",\"type\":\"x\",\"data\":{{\"object\":{}",
        "{\"a\":".repeat(100_000)
    );
    let (status, code) = error_code(app.post_event(deep.as_bytes()).await).await;
    assert_eq!((status, code.as_str()), (400, "invalid_payload"));
    assert_eq!(app.event_count().await, 0);
}

/// A thin (v2) notification as Stripe sends it (stripe-python `tests/test_v2_event.py`).
const THIN_EVENT: &[u8] = br#"{"id":"evt_test_65R9Ijk8","object":"v2.core.event","type":"v2.core.account.updated","livemode":false,"created":"2024-09-17T06:20:52.246Z","context":"acct_thin","related_object":{"id":"acct_thin","type":"v2.core.account","url":"/v2/core/accounts/acct_thin"}}"#;

#[tokio::test]
async fn thin_v2_notification_is_acknowledged_and_logged_as_ignored_with_the_reason() {
    let app = spawn_app().await;
    let api = Api::new(&app).await;
    let response = app.post_event(THIN_EVENT).await;
    assert_eq!(response.status(), 200);
    let receipt: Value = response.json().await.unwrap();
    assert_eq!(
        receipt,
        json!({"received": true, "duplicate": false, "id": "evt_test_65R9Ijk8"})
    );
    app.wait_until_applied().await;

    let (status, log) = api.get("/webhooks/stripe/logs?account=acct_thin").await;
    assert_eq!(status, 200);
    let logged = &log["data"][0];
    assert_eq!(logged["id"], "evt_test_65R9Ijk8");
    assert_eq!(logged["type"], "v2.core.account.updated");
    assert_eq!(logged["status"], "ignored");
    assert_eq!(logged["object_id"], "acct_thin");
    assert_eq!(logged["created"], 1_726_554_052);
    assert_eq!(logged["last_error"], payments::domain::THIN_EVENT_IGNORED);
    assert!(
        logged["last_error"]
            .as_str()
            .unwrap()
            .contains("snapshot (v1) event destination")
    );

    // Stripe's redelivery (new signature, same id) is deduplicated.
    let again = app.post_event(THIN_EVENT).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["duplicate"], true);
    assert_eq!(app.event_count().await, 1);
    let (_, event) = api.get("/webhooks/stripe/events/evt_test_65R9Ijk8").await;
    assert_eq!(event["status"], "ignored");
    assert_eq!(event["attempts"], 1);
    assert_eq!(event["payload"]["related_object"]["id"], "acct_thin");
}

#[tokio::test]
async fn thin_v2_notification_without_an_account_context_is_the_platforms() {
    let app = spawn_app().await;
    let body = br#"{"id":"evt_thin_platform","object":"v2.core.event","type":"v1.billing.meter.error_report_triggered","livemode":false,"created":"2024-09-17T06:20:52.246Z","related_object":{"id":"mtr_123","type":"billing.meter","url":"/v1/billing/meters/mtr_123"}}"#;
    assert_eq!(app.post_event(body).await.status(), 200);
    app.wait_until_applied().await;
    let stored = app.stored_event("evt_thin_platform").await.unwrap();
    assert_eq!(stored.store_key, "platform");
    assert_eq!(stored.status.to_string(), "ignored");
    assert_eq!(
        stored.last_error.as_deref(),
        Some(payments::domain::THIN_EVENT_IGNORED)
    );
}

#[tokio::test]
async fn signed_body_with_a_non_json_content_type_is_refused_with_415() {
    let app = spawn_app().await;
    let body = fixture("product.created.json");
    let response = app
        .client
        .post(format!("{}/webhooks/stripe", app.address))
        .header("content-type", "text/plain")
        .header("stripe-signature", app.sign(&body))
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, code) = error_code(response).await;
    assert_eq!((status, code.as_str()), (415, "unsupported_media_type"));
    assert_eq!(app.event_count().await, 0);
}

/// Bodies that are JSON on the surface but that the apply path could not read: each would
/// be stored, acknowledged, then dead-lettered, so they are refused before being stored.
fn unreadable_json_bodies() -> Vec<(&'static str, String)> {
    let event =
        |object: &str| format!(r#"{{"id":"evt_x","type":"x","data":{{"object":{object}}}}}"#);
    let levels = 100_000;
    vec![
        (
            "100,000 nested arrays",
            event(&format!(
                r#"{{"a":{}1{}}}"#,
                "[".repeat(levels),
                "]".repeat(levels)
            )),
        ),
        (
            "100,000 nested objects",
            event(&format!(
                "{}1{}",
                r#"{"a":"#.repeat(levels),
                "}".repeat(levels)
            )),
        ),
        (
            "deep nesting in an unknown top-level field",
            format!(
                r#"{{"id":"evt_x","type":"x","extra":{}{},"data":{{"object":{{}}}}}}"#,
                "[".repeat(levels),
                "]".repeat(levels)
            ),
        ),
        (
            "a number with 100,000 digits",
            event(&format!(r#"{{"amount":{}}}"#, "9".repeat(levels))),
        ),
        ("a number beyond f64", event(r#"{"amount":1e400}"#)),
        (
            "a huge created",
            r#"{"id":"evt_x","type":"x","created":-1e999,"data":{"object":{}}}"#.to_owned(),
        ),
    ]
}

#[tokio::test]
async fn signed_bodies_the_apply_path_could_not_read_are_refused_400() {
    let app = spawn_app().await;
    for (what, body) in unreadable_json_bodies() {
        let (status, code) = error_code(app.post_event(body.as_bytes()).await).await;
        assert_eq!((status, code.as_str()), (400, "invalid_payload"), "{what}");
    }
    assert_eq!(app.event_count().await, 0);
    // The service is still up and still accepts a real event.
    let body = fixture("customer.created.json");
    assert_eq!(app.post_event(&body).await.status(), 200);
}

#[tokio::test]
async fn unsigned_hostile_bodies_are_refused_for_their_signature_first() {
    let app = spawn_app().await;
    let mut bodies = unreadable_json_bodies();
    bodies.push(("a JSON array", "[1,2,3]".to_owned()));
    bodies.push(("a JSON string", "\"evt_x\"".to_owned()));
    for (what, body) in bodies {
        let (status, code) = error_code(app.post_with_signature(body.as_bytes(), None).await).await;
        assert_eq!(
            (status, code.as_str()),
            (400, "missing_signature"),
            "{what}"
        );
    }
    let invalid_utf8 = b"{\"id\":\"evt_\xff\xfe\",\"type\":\"x\",\"data\":{\"object\":{}}}";
    let (status, code) = error_code(
        app.post_with_signature(invalid_utf8, Some(sign_at(b"other", now())))
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "no_matching_signature"));
    assert_eq!(app.event_count().await, 0);
}

/// A signed envelope whose fields have the wrong type or size is refused with
/// `400 invalid_payload` naming the field, and nothing is stored: it is not coerced into
/// another store, a time of 0 or test mode.
#[tokio::test]
async fn signed_envelopes_with_fields_of_the_wrong_type_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let long_id = "x".repeat(100_000);
    let cases: [(&str, Value, &str); 6] = [
        ("account", json!(123), "`account`"),
        ("account", json!(""), "`account`"),
        ("created", json!("now"), "`created`"),
        ("livemode", json!("yes"), "`livemode`"),
        ("id", json!(long_id), "`id`"),
        (
            "data",
            json!({"object": {"email": "a@example.com"}}),
            "`data.object.id`",
        ),
    ];
    for (field, value, named) in cases {
        let mut event: Value = serde_json::from_slice(&fixture("customer.created.json")).unwrap();
        event[field] = value;
        let body = serde_json::to_vec(&event).unwrap();
        let response = app.post_event(&body).await;
        assert_eq!(response.status(), 400, "{field}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["code"], "invalid_payload", "{field}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{field}: {message}");
    }
    assert_eq!(app.event_count().await, 0);
}

/// A reused event id with a different body is answered as a duplicate (Stripe's contract)
/// but not silently: the first body is kept, the event counts the conflict, and the
/// metric says `conflict`. The same body again is a plain duplicate.
#[tokio::test]
async fn a_reused_event_id_with_another_body_is_counted_as_a_conflict() {
    let app = spawn_app().await;
    let first = fixture("customer.created.json");
    let id = event_id(&first);
    assert_eq!(app.post_event(&first).await.status(), 200);
    let mut forged: Value = serde_json::from_slice(&first).unwrap();
    forged["data"]["object"]["email"] = json!("forged@example.com");
    let forged = serde_json::to_vec(&forged).unwrap();
    for _ in 0..2 {
        let answer: Value = app.post_event(&forged).await.json().await.unwrap();
        assert_eq!(answer["duplicate"], true);
    }
    let again: Value = app.post_event(&first).await.json().await.unwrap();
    assert_eq!(again["duplicate"], true);

    let event: Value = app
        .admin_get(&format!("/webhooks/stripe/events/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(event["body_conflicts"], 2);
    assert_eq!(
        event["payload"],
        serde_json::from_slice::<Value>(&first).unwrap()
    );
    // The recorder is process-wide: other tests may count conflicts too.
    let metrics = app.metrics_text().await;
    let outcome = "outcome=\"conflict\"";
    let conflicts = crate::metrics::sample(&metrics, "payments_webhook_requests_total", outcome);
    assert!(conflicts.is_some_and(|n| n >= 2.0), "{conflicts:?}");
}
