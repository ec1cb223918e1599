//! Sample Stripe v1 webhook events for `payments trigger <event-type>` and the load
//! generator (`tools/loadgen`).
//!
//! A crate of its own, depending on no part of the service, so that the service library
//! does not carry test-event builders as public API; the service checks that every type
//! built here is one it knows (`src/stripe/event_types.rs`).
//!
//! Like `stripe trigger`, the `trigger` command uses these builders to exercise a
//! running `payments` server end to end: it builds a complete event envelope, signs
//! it with the webhook secret and POSTs it to the webhook endpoint. Nothing is
//! created in Stripe; the events are synthetic but shaped like real deliveries.
//!
//! The shapes follow the fixtures in the repository's `tests/data/stripe/` (Stripe's own
//! published example objects, see `SOURCES.md` there), with rarely-used nested keys trimmed.
//! Every call mints fresh ids (event, objects, request, idempotency key), so
//! triggering the same type twice never looks like a redelivery; [`build_event_about`]
//! takes the object ids from the caller instead (the load generator's store stories). Ids are
//! consistent within one event (a charge points at its PaymentIntent, the failed
//! PaymentIntent's `last_payment_error.charge` is its `latest_charge`, a product's
//! `default_price` is the price whose `product` it is, ...).
//!
//! Notes on semantics:
//! * `account.created` is synthetic: Stripe v1 has no such event. It carries an
//!   account before onboarding; `account.updated` carries the onboarded account.
//! * `account.application.*` carry an `application` object (the platform), as
//!   Stripe sends them, not an account.
//! * `customer.deleted` carries the customer as it was, plus `"deleted": true`;
//!   `product.deleted` / `price.deleted` carry the object with `active: false`.
//! * A refunded charge keeps `status: "succeeded"` (with `refunded: true`).
//!
//! [`story`] tells one seller's whole story (onboarding, a catalogue, customers, orders)
//! for `payments demo`, deterministically: the same account gives the same events.

mod objects;
pub mod story;

use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};

use objects::{
    ChargeState, PaymentIntentState, account_object, account_previous_attributes, application,
    charge, customer, payment_intent, price, product,
};

/// Event types these builders make (all of them offered by `payments trigger`).
pub const EVENT_TYPES: &[&str] = &[
    "account.created",
    "account.updated",
    "account.application.authorized",
    "account.application.deauthorized",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "product.created",
    "product.updated",
    "product.deleted",
    "price.created",
    "price.updated",
    "price.deleted",
    "charge.succeeded",
    "charge.failed",
    "charge.refunded",
    "payment_intent.created",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
];

/// The event type given to [`build_event`] is not one of [`EVENT_TYPES`].
#[derive(Debug, thiserror::Error)]
#[error("unknown event type `{0}`; supported: {supported}", supported = EVENT_TYPES.join(", "))]
pub struct UnknownEventType(pub String);

const API_VERSION: &str = "2026-06-24.dahlia";
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// Builds a complete event envelope of `event_type` with a fresh `evt_` id and `created = now`.
///
/// `account` = `Some(acct)` makes it a Connect event (envelope `account` key set, and
/// `account.*` objects have `id` = `acct`); `None` makes it a platform event (no
/// `account` key; `account.*` objects get a random `acct_` id).
pub fn build_event(
    event_type: &str,
    account: Option<&str>,
    now: i64,
) -> Result<Value, UnknownEventType> {
    build_event_about(event_type, account, now, &ObjectIds::fresh())
}

/// Like [`build_event`], about the given objects: events built from the same
/// [`ObjectIds`] refer to each other (the price's product, the charge's PaymentIntent and
/// customer, ...), so a caller can tell a consistent story over many events.
pub fn build_event_about(
    event_type: &str,
    account: Option<&str>,
    now: i64,
    objects: &ObjectIds,
) -> Result<Value, UnknownEventType> {
    use ChargeState as C;
    use Origin::{Api, Dashboard, Delete};
    use PaymentIntentState as Pi;

    let ids = Ids::new(account, objects);
    let foo_bar = json!({ "foo": "bar" });
    let foo_unset = json!({ "metadata": { "foo": null } });
    let (object, previous, origin) = match event_type {
        "account.created" => (account_object(&ids.account, false, now), None, Api),
        "account.updated" => (
            account_object(&ids.account, true, now - DAY),
            Some(account_previous_attributes()),
            Dashboard,
        ),
        "account.application.authorized" | "account.application.deauthorized" => {
            (application(), None, Dashboard)
        }
        "customer.created" => (customer(&ids, now, json!({})), None, Api),
        "customer.updated" => (customer(&ids, now - HOUR, foo_bar), Some(foo_unset), Api),
        "customer.deleted" => {
            let object = with(customer(&ids, now - DAY, json!({})), "deleted", json!(true));
            (object, None, Delete)
        }
        "product.created" => (product(&ids, now, now, true, json!({})), None, Api),
        "product.updated" => {
            let previous = json!({ "metadata": { "foo": null }, "updated": now - HOUR });
            (
                product(&ids, now - HOUR, now, true, foo_bar),
                Some(previous),
                Api,
            )
        }
        "product.deleted" => (
            product(&ids, now - DAY, now, false, json!({})),
            None,
            Delete,
        ),
        "price.created" => (price(&ids, now, true, json!({})), None, Api),
        "price.updated" => (price(&ids, now - HOUR, true, foo_bar), Some(foo_unset), Api),
        "price.deleted" => (price(&ids, now - DAY, false, json!({})), None, Delete),
        "charge.succeeded" => (charge(&ids, now - 1, C::Succeeded), None, Api),
        "charge.failed" => (charge(&ids, now - 1, C::Failed), None, Api),
        "charge.refunded" => (charge(&ids, now - HOUR, C::Refunded), None, Api),
        "payment_intent.created" => (payment_intent(&ids, now, Pi::Created), None, Api),
        "payment_intent.succeeded" => (payment_intent(&ids, now, Pi::Succeeded), None, Api),
        "payment_intent.payment_failed" => (payment_intent(&ids, now, Pi::Failed), None, Api),
        "payment_intent.canceled" => (payment_intent(&ids, now, Pi::Canceled), None, Api),
        _ => return Err(UnknownEventType(event_type.to_owned())),
    };

    let mut data = json!({ "object": object });
    if let Some(previous) = previous {
        data = with(data, "previous_attributes", previous);
    }
    let mut event = json!({
        "id": random_id("evt_", 24),
        "object": "event",
        "api_version": API_VERSION,
        "created": now,
        "data": data,
        "livemode": false,
        "pending_webhooks": 1,
        "request": origin.request(),
        "type": event_type,
    });
    if let Some(account) = account {
        event = with(event, "account", json!(account));
    }
    Ok(event)
}

/// What caused the event; decides the envelope's `request`.
enum Origin {
    /// An API call: request id and idempotency key.
    Api,
    /// A DELETE API call: request id, no idempotency key.
    Delete,
    /// Dashboard / onboarding / OAuth: no API request.
    Dashboard,
}

impl Origin {
    fn request(&self) -> Value {
        match self {
            Self::Api => {
                json!({ "id": random_id("req_", 14), "idempotency_key": idempotency_key() })
            }
            Self::Delete => json!({ "id": random_id("req_", 14), "idempotency_key": null }),
            Self::Dashboard => json!({ "id": null, "idempotency_key": null }),
        }
    }
}

/// The ids of the objects an event is about or refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectIds {
    pub customer: String,
    pub product: String,
    /// The product's price (and its `default_price`).
    pub price: String,
    pub payment_intent: String,
    pub charge: String,
    pub payment_method: String,
}

impl ObjectIds {
    /// New random ids, shaped like Stripe's.
    pub fn fresh() -> Self {
        Self {
            customer: random_id("cus_", 14),
            product: random_id("prod_", 14),
            price: random_id("price_", 24),
            payment_intent: random_id("pi_", 24),
            charge: random_id("ch_", 24),
            payment_method: random_id("pm_", 24),
        }
    }
}

/// Object ids of one event.
struct Ids {
    account: String,
    customer: String,
    product: String,
    price: String,
    payment_intent: String,
    charge: String,
    payment_method: String,
}

impl Ids {
    fn new(account: Option<&str>, objects: &ObjectIds) -> Self {
        Self {
            account: account.map_or_else(|| random_id("acct_", 16), str::to_owned),
            customer: objects.customer.clone(),
            product: objects.product.clone(),
            price: objects.price.clone(),
            payment_intent: objects.payment_intent.clone(),
            charge: objects.charge.clone(),
            payment_method: objects.payment_method.clone(),
        }
    }
}

fn random_alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

fn random_id(prefix: &str, len: usize) -> String {
    format!("{prefix}{}", random_alphanumeric(len))
}

/// A random UUID v4 in its usual lowercase 8-4-4-4-12 form.
fn idempotency_key() -> String {
    let mut bits: u128 = rand::rng().random();
    bits = (bits & !(0xf << 76)) | (0x4 << 76); // version 4
    bits = (bits & !(0x3 << 62)) | (0x2 << 62); // RFC 4122 variant
    let hex = format!("{bits:032x}");
    let (a, rest) = hex.split_at(8);
    let (b, rest) = rest.split_at(4);
    let (c, rest) = rest.split_at(4);
    let (d, e) = rest.split_at(4);
    format!("{a}-{b}-{c}-{d}-{e}")
}

/// Returns `object` with `key` set to `value`.
fn with(mut object: Value, key: &str, value: Value) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.insert(key.to_owned(), value);
    }
    object
}

#[cfg(test)]
mod tests;
