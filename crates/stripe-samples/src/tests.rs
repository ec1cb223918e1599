//! The builders' promises: complete envelopes, fresh ids, consistent objects.

use super::objects::QUANTITY;
use super::*;

const NOW: i64 = 1_721_948_600;
const ACCT: &str = "acct_1PgafTB7WZ01zgkW";

fn object(event: &Value) -> &Value {
    &event["data"]["object"]
}

#[test]
fn every_type_builds_a_complete_envelope() {
    for &event_type in EVENT_TYPES {
        for account in [Some(ACCT), None] {
            let event = build_event(event_type, account, NOW).unwrap();
            assert_eq!(event["type"], event_type);
            assert_eq!(event["object"], "event");
            assert!(event["id"].as_str().unwrap().starts_with("evt_"));
            assert!(object(&event).is_object(), "{event_type}");
            assert_eq!(event["created"], NOW);
            assert_eq!(event["api_version"], API_VERSION);
            assert_eq!(event["livemode"], false);
            assert_eq!(event["pending_webhooks"], 1);
            assert!(
                event["request"]
                    .as_object()
                    .unwrap()
                    .contains_key("idempotency_key")
            );
            assert_eq!(event.get("account").and_then(Value::as_str), account);
            let has_previous = event["data"].get("previous_attributes").is_some();
            assert_eq!(
                has_previous,
                event_type.ends_with(".updated"),
                "{event_type}"
            );
        }
    }
}

#[test]
fn account_objects_use_the_given_account() {
    let event = build_event("account.updated", Some(ACCT), NOW).unwrap();
    assert_eq!(object(&event)["id"], ACCT);
    assert_eq!(object(&event)["charges_enabled"], true);
    let event = build_event("account.created", None, NOW).unwrap();
    let acct = object(&event);
    assert!(acct["id"].as_str().unwrap().starts_with("acct_"));
    assert_eq!(acct["charges_enabled"], false);
    assert_eq!(acct["details_submitted"], false);
    assert_eq!(acct["capabilities"]["card_payments"], "inactive");
    assert!(
        !acct["requirements"]["currently_due"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let event = build_event("account.application.deauthorized", Some(ACCT), NOW).unwrap();
    assert_eq!(object(&event)["object"], "application");
    assert!(object(&event)["id"].as_str().unwrap().starts_with("ca_"));
}

#[test]
fn two_builds_have_different_ids() {
    let a = build_event("charge.succeeded", Some(ACCT), NOW).unwrap();
    let b = build_event("charge.succeeded", Some(ACCT), NOW).unwrap();
    assert_ne!(a["id"], b["id"]);
    assert_ne!(object(&a)["id"], object(&b)["id"]);
    assert_ne!(a["request"]["id"], b["request"]["id"]);
    assert_ne!(
        a["request"]["idempotency_key"],
        b["request"]["idempotency_key"]
    );
}

#[test]
fn events_about_the_same_objects_refer_to_each_other() {
    let ids = ObjectIds::fresh();
    let price = build_event_about("price.created", Some(ACCT), NOW, &ids).unwrap();
    let charge = build_event_about("charge.succeeded", Some(ACCT), NOW, &ids).unwrap();
    assert_eq!(object(&price)["id"], ids.price.as_str());
    assert_eq!(object(&price)["product"], ids.product.as_str());
    assert_eq!(object(&charge)["customer"], ids.customer.as_str());
    assert_eq!(
        object(&charge)["payment_intent"],
        ids.payment_intent.as_str()
    );
    assert_ne!(price["id"], charge["id"]);
}

#[test]
fn unknown_type_is_an_error() {
    let err = build_event("charge.captured", None, NOW).unwrap_err();
    assert_eq!(err.0, "charge.captured");
    let message = err.to_string();
    assert!(message.contains("`charge.captured`"));
    assert!(message.contains("payment_intent.canceled"));
}

#[test]
fn idempotency_key_looks_like_a_uuid_v4() {
    let key = idempotency_key();
    let groups: Vec<&str> = key.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    assert_eq!(lengths, [8, 4, 4, 4, 12]);
    assert!(groups[2].starts_with('4'));
    assert!(groups[3].starts_with(['8', '9', 'a', 'b']));
}

#[test]
fn charge_refunded_keeps_succeeded_status() {
    let event = build_event("charge.refunded", Some(ACCT), NOW).unwrap();
    let charge = object(&event);
    assert_eq!(charge["status"], "succeeded");
    assert_eq!(charge["refunded"], true);
    assert_eq!(charge["amount_refunded"], charge["amount"]);
    assert!(charge["transfer_data"].is_null());
}

#[test]
fn charge_items_metadata_is_a_json_string() {
    let event = build_event("charge.failed", None, NOW).unwrap();
    let charge = object(&event);
    assert_eq!(charge["status"], "failed");
    assert_eq!(charge["failure_code"], "card_declined");
    let items: Value = serde_json::from_str(charge["metadata"]["items"].as_str().unwrap()).unwrap();
    assert!(items[0]["product"].as_str().unwrap().starts_with("prod_"));
    assert_eq!(items[0]["quantity"], QUANTITY);
}

#[test]
fn payment_intent_states() {
    let event = build_event("payment_intent.canceled", Some(ACCT), NOW).unwrap();
    let pi = object(&event);
    assert_eq!(pi["status"], "canceled");
    assert_eq!(pi["canceled_at"], NOW);
    assert_eq!(pi["cancellation_reason"], "requested_by_customer");
    let event = build_event("payment_intent.payment_failed", Some(ACCT), NOW).unwrap();
    let pi = object(&event);
    assert_eq!(pi["status"], "requires_payment_method");
    assert_eq!(pi["last_payment_error"]["charge"], pi["latest_charge"]);
    let event = build_event("payment_intent.created", None, NOW).unwrap();
    assert_eq!(object(&event)["status"], "requires_payment_method");
}

#[test]
fn deletions() {
    let event = build_event("customer.deleted", Some(ACCT), NOW).unwrap();
    assert_eq!(object(&event)["deleted"], true);
    assert!(object(&event)["id"].as_str().unwrap().starts_with("cus_"));
    for event_type in ["product.deleted", "price.deleted"] {
        let event = build_event(event_type, Some(ACCT), NOW).unwrap();
        assert_eq!(object(&event)["active"], false);
    }
    let event = build_event("product.created", Some(ACCT), NOW).unwrap();
    assert_eq!(object(&event)["metadata"]["category"], "T-shirts");
    assert_eq!(object(&event)["updated"], NOW);
}
