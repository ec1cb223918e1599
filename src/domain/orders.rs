//! `charge.*` and `payment_intent.*` events: the `marketplace_orders` rows.
//!
//! One order per payment, keyed by the PaymentIntent id (or the charge id of a charge
//! without one), so `charge.succeeded` and `payment_intent.succeeded` land on the same row.
//! Orders are not version-guarded: each event is turned into an [`Order`] observation read
//! from the object itself (never from the event type name), and observations are combined
//! by [`Order::merge`], which is commutative, associative and idempotent. The row is then the
//! same for any order of the events and any number of duplicates.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use entity::order;
pub use entity::status::OrderStatus;
use serde_json::{Value, json};

use super::{DomainError, EventRef, object_id};
use crate::stripe::object::{bool_field, expandable_id, i64_field, str_at, str_field};

/// The order status a charge implies.
fn status_of_charge(charge: &Value, amount: i64, amount_refunded: i64) -> OrderStatus {
    // A refunded charge keeps `status: succeeded`, and `refunded` is false for a
    // partial refund: the amounts tell.
    if amount_refunded > 0 {
        if amount_refunded >= amount || bool_field(charge, "refunded") == Some(true) {
            return OrderStatus::Refunded;
        }
        return OrderStatus::PartiallyRefunded;
    }
    match charge.get("status").and_then(Value::as_str) {
        Some("succeeded") => OrderStatus::Completed,
        Some("failed") => OrderStatus::Failed,
        _ => OrderStatus::Pending,
    }
}

/// The order status a PaymentIntent implies.
fn status_of_payment_intent(intent: &Value) -> OrderStatus {
    // After a failed attempt a PaymentIntent returns to `requires_payment_method`; only
    // its `last_payment_error` tells that apart from one nobody has tried to pay yet.
    let failed = intent
        .get("last_payment_error")
        .is_some_and(|error| !error.is_null());
    match intent.get("status").and_then(Value::as_str) {
        Some("succeeded") => OrderStatus::Completed,
        Some("canceled") => OrderStatus::Canceled,
        Some("requires_payment_method") if failed => OrderStatus::Failed,
        _ => OrderStatus::Pending,
    }
}

/// An order's fields: what one event observed of a payment, or the merge of several.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// The PaymentIntent id when there is one, else the charge id.
    pub id: String,
    pub payment_intent: Option<String>,
    pub charge: Option<String>,
    pub customer: Option<String>,
    pub amount: i64,
    pub amount_refunded: i64,
    pub currency: Option<String>,
    pub status: OrderStatus,
    /// `[{"product": "prod_...", "quantity": N}]`, see [`parse_items`].
    pub items: Option<Value>,
    pub receipt_url: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub created: Option<i64>,
}

impl Order {
    /// The observation of a charge or PaymentIntent object; `None` for other objects. An
    /// object without an `object` field is taken to be what `family` (the event type's
    /// first segment) says.
    pub fn observe(object: &Value, family: &str) -> Result<Option<Self>, DomainError> {
        let kind = object
            .get("object")
            .and_then(Value::as_str)
            .unwrap_or(family);
        match kind {
            "charge" => Self::from_charge(object).map(Some),
            "payment_intent" => Self::from_payment_intent(object).map(Some),
            _ => Ok(None),
        }
    }

    fn from_charge(charge: &Value) -> Result<Self, DomainError> {
        let id = object_id(charge, "charge")?;
        let payment_intent = expandable_id(charge, "payment_intent");
        let amount = i64_field(charge, "amount").unwrap_or(0);
        let amount_refunded = i64_field(charge, "amount_refunded").unwrap_or(0);
        Ok(Self {
            id: payment_intent.clone().unwrap_or_else(|| id.clone()),
            payment_intent,
            charge: Some(id),
            customer: expandable_id(charge, "customer"),
            amount,
            amount_refunded,
            currency: str_field(charge, "currency"),
            status: status_of_charge(charge, amount, amount_refunded),
            items: parse_items(charge),
            receipt_url: str_field(charge, "receipt_url"),
            failure_code: str_field(charge, "failure_code"),
            failure_message: str_field(charge, "failure_message"),
            created: i64_field(charge, "created"),
        })
    }

    fn from_payment_intent(intent: &Value) -> Result<Self, DomainError> {
        let id = object_id(intent, "payment_intent")?;
        Ok(Self {
            id: id.clone(),
            payment_intent: Some(id),
            charge: expandable_id(intent, "latest_charge"),
            customer: expandable_id(intent, "customer"),
            amount: i64_field(intent, "amount").unwrap_or(0),
            amount_refunded: 0,
            currency: str_field(intent, "currency"),
            status: status_of_payment_intent(intent),
            items: parse_items(intent),
            receipt_url: None,
            failure_code: str_at(intent, "/last_payment_error/code"),
            failure_message: str_at(intent, "/last_payment_error/message"),
            created: i64_field(intent, "created"),
        })
    }

    /// Combines two views of the same payment. Commutative, associative and idempotent:
    /// every field is a maximum or minimum over a total order.
    pub fn merge(&self, other: &Self) -> Self {
        let failure = (self.failure_code.clone(), self.failure_message.clone())
            .max((other.failure_code.clone(), other.failure_message.clone()));
        Self {
            id: self.id.clone(),
            payment_intent: self
                .payment_intent
                .clone()
                .max(other.payment_intent.clone()),
            charge: self.merged_charge(other),
            customer: self.customer.clone().max(other.customer.clone()),
            amount: self.merged_amount(other),
            amount_refunded: self.amount_refunded.max(other.amount_refunded),
            currency: self.currency.clone().max(other.currency.clone()),
            status: self.status.max(other.status),
            items: greater_json(&self.items, &other.items),
            receipt_url: self.receipt_url.clone().max(other.receipt_url.clone()),
            // Code and message come from one failure, never one from each.
            failure_code: failure.0,
            failure_message: failure.1,
            created: earliest(self.created, other.created),
        }
    }

    /// The charge of the highest status, the greatest id among equals: the maximum of
    /// `(status, charge)` pairs, with "no charge" below any charge.
    ///
    /// A view of higher status without a charge therefore drops a lower-status charge.
    /// Keeping it instead would need the status the kept charge came from, which the row
    /// does not store: without it the merge would depend on arrival order. A PaymentIntent
    /// keeps `latest_charge` once set, so this only loses a charge created after a view
    /// that outranks it (a pending retry after a failure that created no charge).
    /// The amount of the view with the greatest `(status, charge)`: the amount that was
    /// finally paid, not a PaymentIntent's earlier amount (it can be lowered before payment).
    fn merged_amount(&self, other: &Self) -> i64 {
        let mine = (self.status, &self.charge);
        let theirs = (other.status, &other.charge);
        match mine.cmp(&theirs) {
            Ordering::Greater => self.amount,
            Ordering::Less => other.amount,
            Ordering::Equal => self.amount.max(other.amount),
        }
    }

    fn merged_charge(&self, other: &Self) -> Option<String> {
        match self.status.cmp(&other.status) {
            Ordering::Greater => self.charge.clone(),
            Ordering::Less => other.charge.clone(),
            Ordering::Equal => self.charge.clone().max(other.charge.clone()),
        }
    }

    /// The order a row holds.
    pub fn from_row(row: &order::Model) -> Self {
        Self {
            id: row.id.clone(),
            payment_intent: row.payment_intent.clone(),
            charge: row.charge.clone(),
            customer: row.customer.clone(),
            amount: row.amount,
            amount_refunded: row.amount_refunded,
            currency: row.currency.clone(),
            status: row.status,
            items: row.items.as_ref().and_then(canonical_items),
            receipt_url: row.receipt_url.clone(),
            failure_code: row.failure_code.clone(),
            failure_message: row.failure_message.clone(),
            created: row.created,
        }
    }

    /// Writes the order's fields into its row.
    pub fn write(self, row: &mut order::Model) {
        row.payment_intent = self.payment_intent;
        row.charge = self.charge;
        row.customer = self.customer;
        row.amount = self.amount;
        row.amount_refunded = self.amount_refunded;
        row.currency = self.currency;
        row.status = self.status;
        row.items = self.items;
        row.receipt_url = self.receipt_url;
        row.failure_code = self.failure_code;
        row.failure_message = self.failure_message;
        row.created = self.created;
    }
}

/// The items of a payment: `metadata.items`, a JSON *string* holding
/// `[{"product": "prod_...", "quantity": N}]` (metadata values are strings). Only
/// well-formed entries are kept; none at all is `None`.
pub fn parse_items(object: &Value) -> Option<Value> {
    let text = object.pointer("/metadata/items")?.as_str()?;
    canonical_items(&serde_json::from_str(text).ok()?)
}

/// The well-formed entries of an items list, rebuilt with only their two fields so that
/// equal lists serialize equally.
fn canonical_items(items: &Value) -> Option<Value> {
    let items: Vec<Value> = items
        .as_array()?
        .iter()
        .filter_map(|item| {
            let product = item.get("product")?.as_str().filter(|p| !p.is_empty())?;
            let quantity = item
                .get("quantity")?
                .as_i64()
                .filter(|quantity| *quantity > 0)?;
            Some(json!({"product": product, "quantity": quantity}))
        })
        .collect();
    (!items.is_empty()).then_some(Value::Array(items))
}

/// The greater of two optional JSON values by their serialization; `None` is below all.
fn greater_json(a: &Option<Value>, b: &Option<Value>) -> Option<Value> {
    match (a, b) {
        (Some(a), Some(b)) => [a, b].into_iter().max_by_key(|v| v.to_string()).cloned(),
        (a, b) => a.clone().or_else(|| b.clone()),
    }
}

/// The earlier of two optional times; `None` is unknown, not earliest.
fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// An order row holding only its key: the start of every new row.
pub fn blank(event: &EventRef<'_>, id: &str, now: DateTime<Utc>) -> order::Model {
    order::Model {
        pk: 0,
        store_key: event.store_key.to_owned(),
        livemode: event.livemode,
        id: id.to_owned(),
        payment_intent: None,
        charge: None,
        customer: None,
        amount: 0,
        amount_refunded: 0,
        currency: None,
        status: OrderStatus::Pending,
        items: None,
        receipt_url: None,
        failure_code: None,
        failure_message: None,
        created: None,
        created_at: now,
        updated_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> Value {
        let event: Value = serde_json::from_str(text).expect("fixture is JSON");
        event["data"]["object"].clone()
    }

    fn observe(object: &Value) -> Order {
        Order::observe(object, "").expect("valid").expect("handled")
    }

    fn fixtures() -> Vec<Order> {
        [
            include_str!("../../tests/data/stripe/charge.failed.json"),
            include_str!("../../tests/data/stripe/payment_intent.payment_failed.json"),
            include_str!("../../tests/data/stripe/charge.succeeded.json"),
            include_str!("../../tests/data/stripe/payment_intent.succeeded.json"),
            include_str!("../../tests/data/stripe/charge.refunded.json"),
        ]
        .into_iter()
        .map(|text| observe(&object(text)))
        .collect()
    }

    const PI: &str = "pi_1PgafyB7WZ01zgkWSjxsAJo3";
    const FAILED_CHARGE: &str = "ch_1PgafwB7WZ01zgkW0dEcL1nd";
    const PAID_CHARGE: &str = "ch_1PgafuB7WZ01zgkWXYmPNZs8";

    /// A synthetic observation of the payment `pi_1`.
    fn view(status: OrderStatus, charge: Option<&str>) -> Order {
        Order {
            id: "pi_1".to_owned(),
            payment_intent: Some("pi_1".to_owned()),
            charge: charge.map(str::to_owned),
            customer: None,
            amount: 1000,
            amount_refunded: 0,
            currency: Some("usd".to_owned()),
            status,
            items: None,
            receipt_url: None,
            failure_code: None,
            failure_message: None,
            created: Some(100),
        }
    }

    /// Observations that disagree on every field, for the algebraic tests.
    fn pool() -> Vec<Order> {
        use OrderStatus::*;
        let mut pool = vec![
            view(Pending, None),
            view(Failed, None),
            view(Failed, Some("ch_b")),
            view(Pending, Some("ch_z")),
            view(Canceled, None),
            view(Completed, Some("ch_a")),
            view(PartiallyRefunded, Some("ch_a")),
        ];
        pool[1].failure_code = Some("authentication_required".to_owned());
        pool[2].failure_code = Some("card_declined".to_owned());
        pool[2].failure_message = Some("Your card was declined.".to_owned());
        pool[3].items = Some(json!([{"product": "prod_b", "quantity": 1}]));
        pool[4].items = Some(json!([{"product": "prod_a", "quantity": 3}]));
        pool[5].customer = Some("cus_1".to_owned());
        pool[5].receipt_url = Some("https://pay.stripe.com/r".to_owned());
        pool[5].created = Some(90);
        pool[6].amount = 1200;
        pool[6].amount_refunded = 300;
        pool[6].created = None;
        pool
    }

    fn fold(observations: &[Order]) -> Order {
        let (first, rest) = observations.split_first().expect("one observation");
        rest.iter().fold(first.clone(), |row, next| row.merge(next))
    }

    #[test]
    fn a_succeeded_charge_is_a_completed_order_of_its_payment_intent() {
        let order = observe(&object(include_str!(
            "../../tests/data/stripe/charge.succeeded.json"
        )));
        assert_eq!(order.id, PI);
        assert_eq!(order.payment_intent.as_deref(), Some(PI));
        assert_eq!(order.charge.as_deref(), Some(PAID_CHARGE));
        assert_eq!(order.customer.as_deref(), Some("cus_QXg1o8vcGmoR32"));
        assert_eq!((order.amount, order.amount_refunded), (1099, 0));
        assert_eq!(order.currency.as_deref(), Some("usd"));
        assert_eq!(order.status, OrderStatus::Completed);
        assert!(order.receipt_url.is_some());
        assert_eq!(order.created, Some(1_721_948_600));
    }

    #[test]
    fn the_paid_amount_wins_over_an_earlier_larger_amount() {
        let mut created = view(OrderStatus::Pending, None);
        created.amount = 2000;
        let paid = view(OrderStatus::Completed, Some("ch_a"));
        assert_eq!(created.merge(&paid).amount, 1000);
        assert_eq!(paid.merge(&created).amount, 1000);
    }

    #[test]
    fn failure_code_and_message_come_from_the_same_failure() {
        let mut first = view(OrderStatus::Failed, Some("ch_a"));
        first.failure_code = Some("card_declined".to_owned());
        first.failure_message = Some("Your card was declined.".to_owned());
        let mut second = view(OrderStatus::Failed, Some("ch_b"));
        second.failure_code = Some("expired_card".to_owned());
        second.failure_message = Some("A message".to_owned());
        let merged = first.merge(&second);
        assert_eq!(merged.failure_code.as_deref(), Some("expired_card"));
        assert_eq!(merged.failure_message.as_deref(), Some("A message"));
    }

    #[test]
    fn failures_carry_their_code_and_message() {
        for failed in &fixtures()[..2] {
            assert_eq!(failed.status, OrderStatus::Failed);
            assert_eq!(failed.charge.as_deref(), Some(FAILED_CHARGE));
            assert_eq!(failed.failure_code.as_deref(), Some("card_declined"));
            assert_eq!(
                failed.failure_message.as_deref(),
                Some("Your card was declined.")
            );
        }
    }

    #[test]
    fn charge_status_comes_from_the_amounts_before_the_status() {
        let status = |charge: Value| observe(&charge).status;
        let charge = |status: &str, refunded: i64, flag: bool| {
            json!({"object": "charge", "id": "ch_1", "amount": 1000, "status": status,
                   "amount_refunded": refunded, "refunded": flag})
        };
        assert_eq!(
            status(charge("succeeded", 0, false)),
            OrderStatus::Completed
        );
        assert_eq!(status(charge("pending", 0, false)), OrderStatus::Pending);
        assert_eq!(status(charge("failed", 0, false)), OrderStatus::Failed);
        assert_eq!(
            status(charge("succeeded", 400, false)),
            OrderStatus::PartiallyRefunded
        );
        assert_eq!(
            status(charge("succeeded", 1000, false)),
            OrderStatus::Refunded
        );
        assert_eq!(status(charge("succeeded", 1, true)), OrderStatus::Refunded);
    }

    #[test]
    fn payment_intent_status_maps_to_order_status() {
        let status = |status: &str, error: Value| {
            observe(
                &json!({"object": "payment_intent", "id": "pi_1", "status": status,
                            "last_payment_error": error}),
            )
            .status
        };
        let error = json!({"code": "card_declined"});
        assert_eq!(status("succeeded", Value::Null), OrderStatus::Completed);
        assert_eq!(status("canceled", Value::Null), OrderStatus::Canceled);
        assert_eq!(
            status("requires_payment_method", error),
            OrderStatus::Failed
        );
        for pending in [
            "requires_payment_method",
            "requires_confirmation",
            "requires_action",
            "processing",
            "requires_capture",
        ] {
            assert_eq!(status(pending, Value::Null), OrderStatus::Pending);
        }
    }

    #[test]
    fn a_charge_without_a_payment_intent_is_its_own_order() {
        let order = observe(&json!({"object": "charge", "id": "ch_9",
                                    "payment_intent": null, "status": "succeeded"}));
        assert_eq!(order.id, "ch_9");
        assert_eq!(order.payment_intent, None);
    }

    #[test]
    fn expanded_references_are_read_by_id() {
        let order = observe(&json!({"object": "charge", "id": "ch_1",
            "payment_intent": {"id": "pi_7"}, "customer": {"id": "cus_7"}}));
        assert_eq!(order.id, "pi_7");
        assert_eq!(order.customer.as_deref(), Some("cus_7"));
    }

    #[test]
    fn other_objects_are_not_orders_and_ids_are_required() {
        let dispute = json!({"object": "dispute", "id": "dp_1", "charge": "ch_1"});
        assert_eq!(Order::observe(&dispute, "charge").expect("valid"), None);
        assert!(Order::observe(&json!({"object": "charge"}), "charge").is_err());
        assert!(Order::observe(&json!({"status": "succeeded"}), "payment_intent").is_err());
    }

    #[test]
    fn status_names_round_trip() {
        for view in pool() {
            assert_eq!(OrderStatus::parse(view.status.as_str()), Some(view.status));
        }
        assert_eq!(OrderStatus::parse("shipped"), None);
    }

    #[test]
    fn items_keep_only_well_formed_entries() {
        let items = |text: &str| parse_items(&json!({"metadata": {"items": text}}));
        assert_eq!(
            items(
                r#"[{"product":"prod_1","quantity":2,"name":"x"},{"product":"prod_2"},
                      {"product":"prod_3","quantity":0},{"product":"prod_4","quantity":1.5},
                      {"product":5,"quantity":1},"junk",{"product":"prod_5","quantity":"2"}]"#
            ),
            Some(json!([{"product": "prod_1", "quantity": 2}]))
        );
        assert_eq!(items("not json"), None);
        assert_eq!(items(r#"{"product":"prod_1","quantity":1}"#), None);
        assert_eq!(items("[]"), None);
        assert_eq!(parse_items(&json!({"metadata": {}})), None);
        assert_eq!(parse_items(&json!({"metadata": {"items": [1]}})), None);
    }

    #[test]
    fn the_fixture_payment_ends_refunded_with_the_paid_charge() {
        let order = fold(&fixtures());
        assert_eq!(order.status, OrderStatus::Refunded);
        assert_eq!(order.charge.as_deref(), Some(PAID_CHARGE));
        assert_eq!((order.amount, order.amount_refunded), (1099, 1099));
        assert_eq!(order.failure_code.as_deref(), Some("card_declined"));
        assert_eq!(order.created, Some(1_721_948_550));
    }

    #[test]
    fn a_late_failure_does_not_undo_a_success() {
        let fixtures = fixtures();
        let order = fold(&[fixtures[3].clone(), fixtures[0].clone()]);
        assert_eq!(order.status, OrderStatus::Completed);
        assert_eq!(order.charge.as_deref(), Some(PAID_CHARGE));
    }

    #[test]
    fn merge_is_commutative_associative_and_idempotent() {
        let mut pool = pool();
        pool.extend(fixtures().into_iter().map(|mut order| {
            order.id = "pi_1".to_owned();
            order
        }));
        for a in &pool {
            assert_eq!(a.merge(a), *a);
            for b in &pool {
                assert_eq!(a.merge(b), b.merge(a));
                for c in &pool {
                    assert_eq!(a.merge(b).merge(c), a.merge(&b.merge(c)));
                }
            }
        }
    }

    #[test]
    fn every_order_of_the_fixture_events_with_duplicates_gives_the_same_order() {
        let mut events = fixtures();
        events.push(events[1].clone());
        let expected = fold(&events);
        for order in crate::domain::version::permutations(&events) {
            assert_eq!(fold(&order), expected);
        }
    }

    #[test]
    fn every_order_of_conflicting_views_gives_the_same_order() {
        let events = pool();
        let expected = fold(&events);
        assert_eq!(expected.status, OrderStatus::PartiallyRefunded);
        assert_eq!(expected.charge.as_deref(), Some("ch_a"));
        assert_eq!(expected.created, Some(90));
        for order in crate::domain::version::permutations(&events) {
            assert_eq!(fold(&order), expected);
        }
    }

    #[test]
    fn a_row_stores_exactly_the_merged_order() {
        let event = EventRef {
            id: "evt_1",
            event_type: "charge.succeeded",
            store_key: "acct_1",
            livemode: false,
            created: 1,
            object: &Value::Null,
        };
        let views = pool();
        let mut row = blank(&event, "pi_1", DateTime::UNIX_EPOCH);
        views[0].clone().write(&mut row);
        for end in 1..views.len() {
            Order::from_row(&row).merge(&views[end]).write(&mut row);
            assert_eq!(Order::from_row(&row), fold(&views[..=end]));
        }
    }
}
