//! The marketplace flows of issue 12, on snapshots: each flow's events, in every order
//! and with duplicates, give the order Stripe's Dashboard would show.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::derive::{Payment, derive};
use super::observe::{Snapshot, SourceKind, observe};
use super::{Order, OrderStatus};
use crate::domain::EventRef;
use crate::domain::version::permutations;

/// One delivered event: id, type, created, object.
#[derive(Clone)]
struct Delivery(&'static str, &'static str, i64, Value);

/// What the store layer keeps: the latest snapshot of each object.
fn latest(api_version: Option<&str>, deliveries: &[Delivery]) -> Vec<Snapshot> {
    let mut kept: BTreeMap<(SourceKind, String), Snapshot> = BTreeMap::new();
    for Delivery(id, event_type, created, object) in deliveries {
        let event = EventRef {
            id,
            event_type,
            store_key: "platform",
            livemode: false,
            created: *created,
            api_version,
            object,
        };
        for snapshot in observe(&event).expect("valid") {
            let key = (snapshot.kind, snapshot.id.clone());
            if kept
                .get(&key)
                .is_none_or(|old| old.version <= snapshot.version)
            {
                kept.insert(key, snapshot);
            }
        }
    }
    kept.into_values().collect()
}

fn order_of(api_version: Option<&str>, deliveries: &[Delivery]) -> Order {
    let snapshots = latest(api_version, deliveries);
    let (transfers, payment): (Vec<Snapshot>, Vec<Snapshot>) = snapshots
        .into_iter()
        .partition(|s| s.kind == SourceKind::Transfer && s.own_order_key().is_none());
    derive(&Payment {
        id: "pi_1",
        source_store: "platform",
        snapshots: &payment,
        group_transfers: &transfers,
    })
}

/// The order of `deliveries`, checked to be the same for every delivery order, with the
/// first delivery also redelivered.
fn settled(deliveries: &[Delivery]) -> Order {
    settled_in(None, deliveries)
}

/// [`settled`], for payloads written in `api_version`.
fn settled_in(api_version: Option<&str>, deliveries: &[Delivery]) -> Order {
    let mut with_duplicate = deliveries.to_vec();
    with_duplicate.push(deliveries[0].clone());
    let expected = order_of(api_version, deliveries);
    for order in permutations(&with_duplicate) {
        assert_eq!(order_of(api_version, &order), expected);
    }
    expected
}

const BASIL: Option<&str> = Some("2025-03-31.basil");
const ACACIA: Option<&str> = Some("2024-06-20");

fn intent(status: &str, extra: Value) -> Value {
    let mut intent = json!({"id": "pi_1", "object": "payment_intent", "amount": 1000,
        "amount_received": 0, "currency": "usd", "customer": "cus_1", "status": status,
        "latest_charge": null, "last_payment_error": null, "created": 100,
        "metadata": {}, "transfer_data": null, "on_behalf_of": null});
    merge(&mut intent, extra);
    intent
}

fn charge(status: &str, extra: Value) -> Value {
    let mut charge = json!({"id": "ch_1", "object": "charge", "amount": 1000,
        "amount_captured": 1000, "amount_refunded": 0, "captured": true, "refunded": false,
        "currency": "usd", "customer": "cus_1", "payment_intent": "pi_1", "status": status,
        "receipt_url": "https://pay.stripe.com/receipts/r1", "created": 101,
        "failure_code": null, "failure_message": null, "metadata": {},
        "transfer_data": null, "on_behalf_of": null, "application_fee_amount": null});
    merge(&mut charge, extra);
    charge
}

fn merge(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        target.extend(extra);
    }
}

/// The charge of `pi_1`, paid in full.
fn paid() -> Delivery {
    Delivery(
        "evt_1",
        "charge.succeeded",
        101,
        charge("succeeded", json!({})),
    )
}

fn dispute_opened() -> Delivery {
    Delivery(
        "evt_2",
        "charge.dispute.created",
        300,
        dispute("needs_response"),
    )
}

fn refund(id: &'static str, status: &str, amount: i64) -> Value {
    json!({"id": id, "object": "refund", "amount": amount, "charge": "ch_1",
           "payment_intent": "pi_1", "currency": "usd", "status": status, "created": 200})
}

fn dispute(status: &str) -> Value {
    json!({"id": "dp_1", "object": "dispute", "amount": 1000, "charge": "ch_1",
           "payment_intent": "pi_1", "currency": "usd", "status": status, "created": 300,
           "balance_transactions": []})
}

#[test]
fn a_destination_charge_names_its_seller_fee_and_transfer() {
    let destination = json!({"transfer_data": {"destination": "acct_seller", "amount": null},
                             "application_fee_amount": 150});
    let paid = json!({"status": "succeeded", "amount_received": 1000, "latest_charge": "ch_1"});
    let mut paid_intent = destination.clone();
    merge(&mut paid_intent, paid);
    let order = settled(&[
        Delivery(
            "evt_1",
            "payment_intent.created",
            100,
            intent("requires_payment_method", destination.clone()),
        ),
        Delivery(
            "evt_2",
            "charge.succeeded",
            101,
            charge("succeeded", destination),
        ),
        Delivery(
            "evt_3",
            "payment_intent.succeeded",
            101,
            intent("succeeded", paid_intent),
        ),
    ]);
    assert_eq!(order.seller, "acct_seller");
    assert_eq!(order.status, OrderStatus::Completed);
    assert_eq!(order.application_fee_amount, Some(150));
    assert_eq!(order.transfer_amount, Some(850));
    assert_eq!(order.transfer_destination.as_deref(), Some("acct_seller"));
    assert_eq!(order.customer.as_deref(), Some("cus_1"));

    // The transfer Stripe makes is what the seller really got, less a reversal.
    let transfer = json!({"id": "tr_1", "object": "transfer", "amount": 850,
        "amount_reversed": 100, "destination": "acct_seller", "source_transaction": "ch_1",
        "transfer_group": "group_pi_1", "reversed": false});
    let deliveries = [
        Delivery(
            "evt_2",
            "charge.succeeded",
            101,
            charge(
                "succeeded",
                json!({"transfer_data": {"destination": "acct_seller"}}),
            ),
        ),
        Delivery("evt_4", "transfer.created", 102, transfer),
    ];
    let order = settled(&deliveries);
    assert_eq!(order.transfer_amount, Some(750));
}

#[test]
fn separate_charges_and_transfers_find_the_seller_through_the_transfer_group() {
    let grouped = json!({"transfer_group": "ORDER_42"});
    let transfer = json!({"id": "tr_9", "object": "transfer", "amount": 700,
        "amount_reversed": 0, "destination": "acct_t", "source_transaction": null,
        "transfer_group": "ORDER_42"});
    let order = settled(&[
        Delivery(
            "evt_1",
            "charge.succeeded",
            101,
            charge("succeeded", grouped),
        ),
        Delivery("evt_2", "transfer.created", 105, transfer),
    ]);
    assert_eq!(order.seller, "acct_t");
    assert_eq!(order.transfer_amount, Some(700));
}

#[test]
fn amount_currency_and_items_follow_the_latest_payment_intent() {
    let first = intent(
        "requires_payment_method",
        json!({
        "metadata": {"items": "price_a:1"}}),
    );
    let moved = intent(
        "requires_payment_method",
        json!({
        "amount": 2500, "currency": "eur", "metadata": {"items": "price_a:1,price_b:2"}}),
    );
    let order = settled(&[
        Delivery("evt_1", "payment_intent.created", 100, first),
        Delivery("evt_2", "payment_intent.updated", 160, moved),
    ]);
    assert_eq!(
        (order.amount, order.currency.as_deref()),
        (2500, Some("eur"))
    );
    let items = order.items.expect("items");
    assert_eq!(items.as_array().map(Vec::len), Some(2));
    assert_eq!(items[1], json!({"price": "price_b", "quantity": 2}));
}

#[test]
fn a_failure_is_cleared_when_a_later_attempt_succeeds() {
    let error = json!({"last_payment_error": {"code": "card_declined", "message": "Declined."}});
    let failed_charge = json!({"id": "ch_0", "status": "failed", "captured": false,
        "amount_captured": 0, "failure_code": "card_declined", "created": 100});
    let paid = json!({"amount_received": 1000, "latest_charge": "ch_1"});
    let order = settled(&[
        Delivery(
            "evt_1",
            "charge.failed",
            100,
            charge("failed", failed_charge),
        ),
        Delivery(
            "evt_2",
            "payment_intent.payment_failed",
            100,
            intent("requires_payment_method", error.clone()),
        ),
        Delivery(
            "evt_3",
            "charge.succeeded",
            130,
            charge("succeeded", json!({})),
        ),
        Delivery(
            "evt_4",
            "payment_intent.succeeded",
            130,
            intent("succeeded", paid),
        ),
    ]);
    assert_eq!(order.status, OrderStatus::Completed);
    assert_eq!((order.failure_code, order.failure_message), (None, None));
    assert_eq!(order.charge.as_deref(), Some("ch_1"));

    let failed = settled(&[Delivery(
        "evt_2",
        "payment_intent.payment_failed",
        100,
        intent("requires_payment_method", error),
    )]);
    assert_eq!(failed.status, OrderStatus::Failed);
    assert_eq!(failed.failure_code.as_deref(), Some("card_declined"));
}

#[test]
fn an_authorization_is_not_a_sale_until_captured() {
    let uncaptured = json!({"captured": false, "amount_captured": 0});
    let authorized = settled(&[
        Delivery(
            "evt_1",
            "charge.succeeded",
            101,
            charge("succeeded", uncaptured.clone()),
        ),
        Delivery(
            "evt_2",
            "payment_intent.amount_capturable_updated",
            101,
            intent(
                "requires_capture",
                json!({"latest_charge": "ch_1", "amount_capturable": 1000}),
            ),
        ),
    ]);
    assert_eq!(authorized.status, OrderStatus::Authorized);
    assert_eq!(authorized.amount_captured, 0);

    // A partial capture: Stripe releases the rest, which `amount_refunded` then counts.
    let partial = json!({"captured": true, "amount_captured": 600, "amount_refunded": 400});
    let captured = settled(&[
        Delivery(
            "evt_1",
            "charge.succeeded",
            101,
            charge("succeeded", uncaptured.clone()),
        ),
        Delivery(
            "evt_3",
            "charge.captured",
            101,
            charge("succeeded", partial.clone()),
        ),
        Delivery(
            "evt_4",
            "charge.refunded",
            101,
            charge("succeeded", partial),
        ),
    ]);
    assert_eq!(captured.status, OrderStatus::Completed);
    assert_eq!(
        (
            captured.amount,
            captured.amount_captured,
            captured.amount_refunded
        ),
        (1000, 600, 0)
    );

    // An authorization left to expire is refunded in full without a capture.
    let expired = json!({"captured": false, "amount_captured": 0, "amount_refunded": 1000,
                         "refunded": true});
    let order = settled(&[
        Delivery(
            "evt_1",
            "charge.succeeded",
            101,
            charge("succeeded", uncaptured),
        ),
        Delivery("evt_5", "charge.expired", 900, charge("succeeded", expired)),
    ]);
    assert_eq!(order.status, OrderStatus::Canceled);
    assert_eq!(order.amount_captured, 0);
}

#[test]
fn a_lost_dispute_is_recorded_beside_the_status() {
    let order = settled(&[
        paid(),
        dispute_opened(),
        Delivery("evt_3", "charge.dispute.funds_withdrawn", 300, {
            let mut d = dispute("needs_response");
            d["balance_transactions"] = json!([{"id": "txn_1"}]);
            d
        }),
        Delivery("evt_4", "charge.dispute.closed", 400, dispute("lost")),
    ]);
    assert_eq!(order.status, OrderStatus::Completed);
    assert_eq!(order.dispute_status.as_deref(), Some("lost"));
    assert_eq!((order.amount_disputed, order.amount_lost), (1000, 1000));

    let won = settled(&[
        paid(),
        dispute_opened(),
        Delivery("evt_4", "charge.dispute.closed", 400, dispute("won")),
    ]);
    assert_eq!(won.dispute_status.as_deref(), Some("won"));
    assert_eq!(won.amount_lost, 0);
}

#[test]
fn a_failed_refund_stops_counting() {
    let refunded = json!({"amount_refunded": 300});
    let pending = settled(&[
        paid(),
        Delivery(
            "evt_2",
            "charge.refunded",
            200,
            charge("succeeded", refunded.clone()),
        ),
        Delivery(
            "evt_3",
            "refund.created",
            200,
            refund("re_1", "pending", 300),
        ),
    ]);
    assert_eq!(pending.status, OrderStatus::PartiallyRefunded);
    assert_eq!(pending.amount_refunded, 300);

    let failed = settled(&[
        paid(),
        Delivery(
            "evt_2",
            "charge.refunded",
            200,
            charge("succeeded", refunded),
        ),
        Delivery(
            "evt_3",
            "refund.created",
            200,
            refund("re_1", "pending", 300),
        ),
        Delivery("evt_4", "refund.failed", 260, refund("re_1", "failed", 300)),
        Delivery(
            "evt_5",
            "charge.refund.updated",
            200,
            refund("re_2", "succeeded", 1000),
        ),
    ]);
    assert_eq!(failed.amount_refunded, 1000);
    assert_eq!(failed.status, OrderStatus::Refunded);
}

#[test]
fn older_api_versions_embed_charges_and_refunds() {
    // Before 2022-11-15 a PaymentIntent lists its charges instead of `latest_charge`.
    let embedded = charge(
        "succeeded",
        json!({"amount_refunded": 200,
        "refunds": {"object": "list", "data": [refund("re_1", "succeeded", 200)]}}),
    );
    let old = intent(
        "succeeded",
        json!({"amount_received": 1000,
        "charges": {"object": "list", "data": [embedded]}}),
    );
    let mut old = old;
    old.as_object_mut().expect("object").remove("latest_charge");
    let order = settled(&[Delivery("evt_1", "payment_intent.succeeded", 101, old)]);
    assert_eq!(order.charge.as_deref(), Some("ch_1"));
    assert_eq!(
        order.receipt_url.as_deref(),
        Some("https://pay.stripe.com/receipts/r1")
    );
    assert_eq!(order.status, OrderStatus::PartiallyRefunded);
    assert_eq!(order.amount_refunded, 200);
}

#[test]
fn same_second_snapshots_of_a_charge_are_ordered_by_progress() {
    let uncaptured = json!({"captured": false, "amount_captured": 0});
    let refunded = json!({"amount_refunded": 1000, "refunded": true});
    // All in one second, and event ids that sort against the lifecycle.
    let order = settled(&[
        Delivery(
            "evt_z",
            "charge.succeeded",
            101,
            charge("succeeded", uncaptured),
        ),
        Delivery(
            "evt_y",
            "charge.captured",
            101,
            charge("succeeded", json!({})),
        ),
        Delivery(
            "evt_x",
            "charge.refunded",
            101,
            charge("succeeded", refunded),
        ),
    ]);
    assert_eq!(order.status, OrderStatus::Refunded);
    assert_eq!(order.amount_refunded, 1000);
}

#[test]
fn line_items_keep_the_price_as_paid() {
    let items = r#"[{"price":"price_1","product":"prod_1","quantity":2,"unit_amount":450,"currency":"usd"}]"#;
    let order = settled(&[Delivery(
        "evt_1",
        "payment_intent.succeeded",
        101,
        intent(
            "succeeded",
            json!({"amount_received": 900, "metadata": {"items": items}}),
        ),
    )]);
    assert_eq!(
        order.items,
        Some(
            json!([{"price": "price_1", "product": "prod_1", "quantity": 2,
                     "unit_amount": 450, "currency": "usd"}])
        )
    );
}

#[test]
fn a_checkout_session_names_the_customer_and_lines() {
    let session = json!({"id": "cs_1", "object": "checkout.session", "payment_intent": "pi_1",
        "customer": "cus_9", "status": "complete", "payment_status": "paid",
        "metadata": {"items": "prod_1:3"}});
    let order = settled(&[
        Delivery("evt_1", "checkout.session.completed", 101, session),
        Delivery(
            "evt_2",
            "payment_intent.succeeded",
            101,
            intent(
                "succeeded",
                json!({"customer": null, "amount_received": 1000}),
            ),
        ),
    ]);
    assert_eq!(order.customer.as_deref(), Some("cus_9"));
    assert_eq!(
        order.items,
        Some(json!([{"product": "prod_1", "quantity": 3}]))
    );
    assert_eq!(order.status, OrderStatus::Completed);
}

/// A Checkout Session of the platform selling for `acct_seller`, before it is paid.
fn open_session(extra: Value) -> Value {
    let mut session = json!({"id": "cs_1", "object": "checkout.session", "mode": "payment",
        "status": "open", "payment_status": "unpaid", "payment_intent": null,
        "amount_total": 3000, "currency": "eur", "created": 100,
        "metadata": {"items": "price_1:2", "seller_account": "acct_seller"}});
    merge(&mut session, extra);
    session
}

#[test]
fn a_checkout_session_is_a_pending_order_until_paid_and_canceled_once_expired() {
    let open = settled(&[Delivery(
        "",
        "checkout.session.created",
        100,
        open_session(json!({})),
    )]);
    assert_eq!(open.status, OrderStatus::Pending);
    assert_eq!((open.amount, open.amount_captured), (3000, 0));
    assert_eq!(open.currency.as_deref(), Some("eur"));
    assert_eq!(open.created, Some(100));
    assert_eq!(
        open.items,
        Some(json!([{"price": "price_1", "quantity": 2}]))
    );
    // The platform's session names the seller of a destination charge.
    assert_eq!(open.seller, "acct_seller");
    let expired = settled(&[
        Delivery("", "checkout.session.created", 100, open_session(json!({}))),
        Delivery(
            "evt_2",
            "checkout.session.expired",
            186_500,
            open_session(json!({"status": "expired"})),
        ),
    ]);
    assert_eq!(expired.status, OrderStatus::Canceled);
}

#[test]
fn a_session_alone_says_paid_or_failed_until_its_payment_objects_arrive() {
    let completed = settled(&[Delivery(
        "evt_1",
        "checkout.session.completed",
        101,
        open_session(json!({"status": "complete", "payment_status": "paid"})),
    )]);
    assert_eq!(completed.status, OrderStatus::Completed);
    assert_eq!(completed.amount_captured, 3000);
    let failed = settled(&[
        Delivery(
            "evt_1",
            "checkout.session.completed",
            101,
            open_session(json!({"status": "complete"})),
        ),
        Delivery(
            "evt_2",
            "checkout.session.async_payment_failed",
            102,
            open_session(json!({"status": "complete"})),
        ),
    ]);
    assert_eq!(failed.status, OrderStatus::Failed);
    let free = settled(&[Delivery(
        "evt_4",
        "checkout.session.completed",
        101,
        open_session(
            json!({"status": "complete", "payment_status": "no_payment_required", "amount_total": 0}),
        ),
    )]);
    assert_eq!((free.status, free.amount), (OrderStatus::Completed, 0));
    // Once the PaymentIntent is known it decides, and the session keeps the lines.
    let paid = settled(&[
        Delivery("", "checkout.session.created", 100, open_session(json!({}))),
        Delivery(
            "evt_3",
            "payment_intent.succeeded",
            101,
            intent("succeeded", json!({"amount_received": 1000})),
        ),
    ]);
    assert_eq!(paid.status, OrderStatus::Completed);
    assert_eq!(paid.amount_captured, 1000);
    assert_eq!(
        paid.items,
        Some(json!([{"price": "price_1", "quantity": 2}]))
    );
}

#[test]
fn only_the_platforms_sessions_name_another_seller() {
    let session = open_session(json!({}));
    let event = EventRef {
        id: "evt_1",
        event_type: "checkout.session.created",
        store_key: "acct_other",
        livemode: false,
        created: 100,
        api_version: None,
        object: &session,
    };
    let snapshots = observe(&event).unwrap();
    let order = derive(&Payment {
        id: "cs_1",
        source_store: "acct_other",
        snapshots: &snapshots,
        group_transfers: &[],
    });
    assert_eq!(order.seller, "acct_other");
}

#[test]
fn objects_are_recognised_by_their_object_field_or_their_event_type() {
    let event = |event_type, object: &Value| {
        let event = EventRef {
            id: "evt_1",
            event_type,
            store_key: "platform",
            livemode: false,
            created: 1,
            api_version: None,
            object,
        };
        observe(&event).expect("valid").first().map(|s| s.kind)
    };
    let bare = json!({"id": "x_1"});
    assert_eq!(
        event("charge.dispute.created", &bare),
        Some(SourceKind::Dispute)
    );
    assert_eq!(
        event("charge.refund.updated", &bare),
        Some(SourceKind::Refund)
    );
    assert_eq!(event("charge.succeeded", &bare), Some(SourceKind::Charge));
    let paid_session = json!({"id": "cs_1", "payment_intent": "pi_1"});
    assert_eq!(
        event("checkout.session.completed", &paid_session),
        Some(SourceKind::CheckoutSession)
    );
    // A session that sells nothing at once is no order.
    let setup = json!({"id": "cs_2", "mode": "setup"});
    assert_eq!(event("checkout.session.completed", &setup), None);
    assert_eq!(
        event("checkout.session.expired", &bare),
        Some(SourceKind::CheckoutSession)
    );
    assert_eq!(
        event("charge.succeeded", &json!({"id": "x", "object": "legacy"})),
        None
    );
    assert_eq!(
        event("transfer.created", &json!({"id": "x", "object": "balance"})),
        None
    );
}

#[test]
fn from_basil_on_a_partial_capture_releases_the_rest_without_a_refund() {
    let captured = json!({"amount_captured": 600, "amount_refunded": 0});
    let refunded = json!({"amount_captured": 600, "amount_refunded": 200});
    let order = settled_in(
        BASIL,
        &[
            Delivery(
                "evt_1",
                "charge.captured",
                101,
                charge("succeeded", captured),
            ),
            Delivery(
                "evt_2",
                "charge.refunded",
                150,
                charge("succeeded", refunded),
            ),
        ],
    );
    assert_eq!((order.amount_captured, order.amount_refunded), (600, 200));
    assert_eq!(order.status, OrderStatus::PartiallyRefunded);
}

#[test]
fn before_basil_the_refund_of_the_uncaptured_rest_is_no_refund_to_the_customer() {
    // The rest (400) is a Refund object, counted by the charge; then a real refund of 100.
    let rest = refund("re_rest", "succeeded", 400);
    let captured = json!({"amount_captured": 600, "amount_refunded": 400});
    let refunded = json!({"amount_captured": 600, "amount_refunded": 500});
    let order = settled_in(
        ACACIA,
        &[
            Delivery(
                "evt_1",
                "charge.captured",
                101,
                charge("succeeded", captured),
            ),
            Delivery("evt_2", "charge.refund.updated", 101, rest),
            Delivery(
                "evt_3",
                "charge.refunded",
                150,
                charge("succeeded", refunded),
            ),
            Delivery(
                "evt_4",
                "refund.created",
                150,
                refund("re_2", "succeeded", 100),
            ),
        ],
    );
    assert_eq!((order.amount_captured, order.amount_refunded), (600, 100));
}

#[test]
fn from_basil_an_expired_authorization_is_told_by_its_event() {
    let uncaptured = json!({"captured": false, "amount_captured": 0});
    let order = settled_in(
        BASIL,
        &[
            Delivery(
                "evt_1",
                "charge.succeeded",
                101,
                charge("succeeded", uncaptured.clone()),
            ),
            Delivery(
                "evt_2",
                "charge.expired",
                900,
                charge("succeeded", uncaptured),
            ),
        ],
    );
    assert_eq!(order.status, OrderStatus::Canceled);
}

#[test]
fn refunds_missing_from_the_known_objects_still_count_through_the_charge() {
    // Two refunds, 300 and 200; only the second one's object was delivered.
    let order = settled(&[
        Delivery(
            "evt_1",
            "charge.refunded",
            150,
            charge("succeeded", json!({"amount_refunded": 500})),
        ),
        Delivery(
            "evt_2",
            "charge.refund.updated",
            150,
            refund("re_2", "pending", 200),
        ),
    ]);
    assert_eq!(order.amount_refunded, 500);
}

#[test]
fn a_stale_payment_intent_does_not_bring_back_its_failed_attempt() {
    let failed = json!({"id": "ch_0", "status": "failed", "captured": false,
                        "amount_captured": 0, "created": 100});
    let order = settled(&[
        Delivery(
            "evt_1",
            "payment_intent.payment_failed",
            100,
            intent(
                "requires_payment_method",
                json!({"latest_charge": "ch_0", "last_payment_error": {"code": "card_declined"}}),
            ),
        ),
        Delivery("evt_2", "charge.failed", 100, charge("failed", failed)),
        Delivery(
            "evt_3",
            "charge.succeeded",
            130,
            charge("succeeded", json!({})),
        ),
    ]);
    assert_eq!(order.charge.as_deref(), Some("ch_1"));
    assert_eq!(order.status, OrderStatus::Completed);
}

#[test]
fn hostile_amounts_and_lists_neither_panic_nor_multiply_the_work() {
    let negative = json!({"amount": -5, "amount_captured": -5, "amount_refunded": i64::MAX});
    let order = settled(&[
        Delivery(
            "evt_1",
            "charge.refunded",
            101,
            charge("succeeded", negative),
        ),
        Delivery(
            "evt_2",
            "refund.created",
            102,
            refund("re_1", "succeeded", i64::MAX),
        ),
        Delivery(
            "evt_3",
            "refund.created",
            102,
            refund("re_2", "succeeded", i64::MAX),
        ),
    ]);
    assert_eq!((order.amount_captured, order.amount_refunded), (0, 0));

    // Hundreds of embedded charges, most naming another PaymentIntent.
    let charges: Vec<Value> = (0..500)
        .map(|n| {
            charge(
                "failed",
                json!({"id": format!("ch_{n}"),
            "payment_intent": if n % 2 == 0 { "pi_1" } else { "pi_other" }}),
            )
        })
        .collect();
    let event = EventRef {
        id: "evt_1",
        event_type: "payment_intent.payment_failed",
        store_key: "platform",
        livemode: false,
        created: 1,
        api_version: None,
        object: &intent(
            "requires_payment_method",
            json!({"charges": {"data": charges}}),
        ),
    };
    let snapshots = observe(&event).expect("valid");
    assert_eq!(
        snapshots.len(),
        1 + 5,
        "the PaymentIntent and its own charges of one page"
    );
    assert!(
        snapshots[1..]
            .iter()
            .all(|s| s.payment_intent().as_deref() == Some("pi_1"))
    );
}
