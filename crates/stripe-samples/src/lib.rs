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

use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};

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
const NAME: &str = "Jenny Rosen";
const EMAIL: &str = "jenny@example.com";
const PHONE: &str = "+15555555555";
const DESCRIPTION: &str = "(created by payments trigger)";
const UNIT_AMOUNT: i64 = 2000;
const QUANTITY: i64 = 2;
const AMOUNT: i64 = UNIT_AMOUNT * QUANTITY;
/// What a brand-new Standard account still has to provide.
const ONBOARDING_DUE: &[&str] = &[
    "business_profile.product_description",
    "business_profile.support_phone",
    "business_profile.url",
    "external_account",
    "tos_acceptance.date",
    "tos_acceptance.ip",
];

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

fn address(line1: &str, postal_code: &str) -> Value {
    json!({
        "city": "San Francisco", "country": "US", "line1": line1, "line2": null,
        "postal_code": postal_code, "state": "CA",
    })
}

fn billing_address() -> Value {
    address("1234 Fake Street", "94102")
}

fn shipping() -> Value {
    json!({
        "address": address("510 Townsend St", "94103"),
        "carrier": null, "name": NAME, "phone": null, "tracking_number": null,
    })
}

fn billing_details() -> Value {
    json!({
        "address": billing_address(), "email": EMAIL, "name": NAME, "phone": PHONE,
        "tax_id": null,
    })
}

fn business_profile(onboarded: bool) -> Value {
    if onboarded {
        json!({
            "mcc": "5691", "name": "Rosen Threads",
            "product_description": "Comfortable gray cotton t-shirts",
            "support_address": billing_address(), "support_email": EMAIL,
            "support_phone": PHONE, "support_url": null, "url": "https://rosenthreads.example.com",
        })
    } else {
        let empty_address = json!({
            "city": null, "country": null, "line1": null, "line2": null,
            "postal_code": null, "state": null,
        });
        json!({
            "mcc": null, "name": null, "product_description": null,
            "support_address": empty_address, "support_email": null, "support_phone": null,
            "support_url": null, "url": null,
        })
    }
}

fn account_object(id: &str, onboarded: bool, created: i64) -> Value {
    let (capability, due, disabled_reason) = if onboarded {
        ("active", json!([]), Value::Null)
    } else {
        (
            "inactive",
            json!(ONBOARDING_DUE),
            json!("requirements.past_due"),
        )
    };
    let display_name = if onboarded {
        json!("Rosen Threads")
    } else {
        Value::Null
    };
    json!({
        "id": id,
        "object": "account",
        "business_profile": business_profile(onboarded),
        "business_type": if onboarded { json!("company") } else { Value::Null },
        "capabilities": { "card_payments": capability, "transfers": capability },
        "charges_enabled": onboarded,
        "controller": { "type": "account" },
        "country": "US",
        "created": created,
        "default_currency": "usd",
        "details_submitted": onboarded,
        "email": EMAIL,
        "external_accounts": {
            "object": "list", "data": [], "has_more": false,
            "url": format!("/v1/accounts/{id}/external_accounts"),
        },
        "metadata": {},
        "payouts_enabled": onboarded,
        "requirements": {
            "alternatives": [], "current_deadline": null, "currently_due": due,
            "disabled_reason": disabled_reason, "errors": [], "eventually_due": due,
            "past_due": due, "pending_verification": [],
        },
        "settings": {
            "dashboard": { "display_name": display_name, "timezone": "Etc/UTC" },
            "payouts": {
                "debit_negative_balances": true,
                "schedule": { "delay_days": 2, "interval": "daily" },
                "statement_descriptor": null,
            },
        },
        "tos_acceptance": { "date": null, "ip": null, "user_agent": null },
        "type": "standard",
    })
}

/// The keys onboarding changed, with their pre-onboarding values.
fn account_previous_attributes() -> Value {
    let mut business_profile = business_profile(false);
    if let Some(profile) = business_profile.as_object_mut() {
        profile.remove("support_url"); // unchanged by onboarding
    }
    json!({
        "business_profile": business_profile,
        "business_type": null,
        "capabilities": { "card_payments": "inactive", "transfers": "inactive" },
        "charges_enabled": false,
        "details_submitted": false,
        "payouts_enabled": false,
        "requirements": {
            "currently_due": ONBOARDING_DUE, "disabled_reason": "requirements.past_due",
            "eventually_due": ONBOARDING_DUE, "past_due": ONBOARDING_DUE,
        },
        "settings": { "dashboard": { "display_name": null } },
    })
}

/// The platform's Connect application, as sent in `account.application.*` events.
fn application() -> Value {
    json!({ "id": random_id("ca_", 32), "object": "application", "name": "Rosen Marketplace" })
}

fn customer(ids: &Ids, created: i64, metadata: Value) -> Value {
    json!({
        "id": ids.customer,
        "object": "customer",
        "address": billing_address(),
        "balance": 0,
        "created": created,
        "currency": "usd",
        "default_source": null, "delinquent": false, "discount": null,
        "description": DESCRIPTION,
        "email": EMAIL,
        "invoice_prefix": random_alphanumeric(8).to_uppercase(),
        "livemode": false,
        "metadata": metadata,
        "name": NAME,
        "phone": PHONE,
        "preferred_locales": [],
        "shipping": shipping(),
        "tax_exempt": "none", "test_clock": null,
    })
}

fn product(ids: &Ids, created: i64, updated: i64, active: bool, extra: Value) -> Value {
    let mut metadata = json!({ "category": "T-shirts" });
    if let (Some(metadata), Some(extra)) = (metadata.as_object_mut(), extra.as_object()) {
        metadata.extend(extra.clone());
    }
    json!({
        "id": ids.product,
        "object": "product",
        "active": active,
        "created": created,
        "default_price": if active { json!(ids.price) } else { Value::Null },
        "description": "Comfortable gray cotton t-shirt",
        "images": ["https://rosenthreads.example.com/images/gray-tee.png"],
        "livemode": false,
        "marketing_features": [],
        "metadata": metadata,
        "name": "T-shirt",
        "package_dimensions": null, "shippable": true, "statement_descriptor": null,
        "tax_code": null, "type": "good", "unit_label": null, "url": null,
        "updated": updated,
    })
}

fn price(ids: &Ids, created: i64, active: bool, metadata: Value) -> Value {
    json!({
        "id": ids.price,
        "object": "price",
        "active": active,
        "billing_scheme": "per_unit",
        "created": created,
        "currency": "usd",
        "custom_unit_amount": null, "lookup_key": null, "nickname": null,
        "livemode": false,
        "metadata": metadata,
        "product": ids.product,
        "recurring": null,
        "tax_behavior": "unspecified", "tiers_mode": null, "transform_quantity": null,
        "type": "one_time",
        "unit_amount": UNIT_AMOUNT,
        "unit_amount_decimal": UNIT_AMOUNT.to_string(),
    })
}

/// `metadata` of the charge and PaymentIntent: what was bought, as a JSON string.
fn order_metadata(ids: &Ids) -> Value {
    let items = json!([{ "product": ids.product, "quantity": QUANTITY }]);
    json!({ "items": items.to_string() })
}

#[derive(Clone, Copy, PartialEq)]
enum ChargeState {
    Succeeded,
    Failed,
    Refunded,
}

fn charge(ids: &Ids, created: i64, state: ChargeState) -> Value {
    let failed = state == ChargeState::Failed;
    let refunded = state == ChargeState::Refunded;
    let (failure_code, failure_message, last4, outcome) = if failed {
        let outcome = json!({
            "network_status": "declined_by_network", "reason": "generic_decline",
            "risk_level": "normal", "risk_score": 41, "type": "issuer_declined",
            "seller_message": "The bank did not return any further details with this decline.",
        });
        (
            json!("card_declined"),
            json!("Your card was declined."),
            "0002",
            outcome,
        )
    } else {
        let outcome = json!({
            "network_status": "approved_by_network", "reason": null, "risk_level": "normal",
            "risk_score": 32, "seller_message": "Payment complete.", "type": "authorized",
        });
        (Value::Null, Value::Null, "4242", outcome)
    };
    let receipt_url = if failed {
        Value::Null
    } else {
        json!(format!(
            "https://pay.stripe.com/receipts/payment/{}",
            random_alphanumeric(96)
        ))
    };
    json!({
        "id": ids.charge,
        "object": "charge",
        "amount": AMOUNT,
        "amount_captured": if failed { 0 } else { AMOUNT },
        "amount_refunded": if refunded { AMOUNT } else { 0 },
        "application": null, "application_fee": null, "application_fee_amount": null,
        "balance_transaction": if failed { Value::Null } else { json!(random_id("txn_", 24)) },
        "billing_details": billing_details(),
        "calculated_statement_descriptor": "ROSEN THREADS",
        "captured": !failed,
        "created": created,
        "currency": "usd",
        "customer": ids.customer,
        "description": DESCRIPTION,
        "disputed": false,
        "failure_code": failure_code,
        "failure_message": failure_message,
        "livemode": false,
        "metadata": order_metadata(ids),
        "on_behalf_of": null,
        "outcome": outcome,
        "paid": !failed,
        "payment_intent": ids.payment_intent,
        "payment_method": ids.payment_method,
        "payment_method_details": {
            "card": {
                "brand": "visa", "country": "US", "exp_month": 8, "exp_year": 2030,
                "funding": "credit", "last4": last4, "network": "visa",
            },
            "type": "card",
        },
        "receipt_email": null, "receipt_number": null,
        "receipt_url": receipt_url,
        "refunded": refunded,
        "review": null,
        "shipping": shipping(),
        "source_transfer": null, "statement_descriptor": null,
        "status": if failed { "failed" } else { "succeeded" },
        "transfer_data": null,
        "transfer_group": null,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum PaymentIntentState {
    Created,
    Succeeded,
    Failed,
    Canceled,
}

fn payment_intent(ids: &Ids, now: i64, state: PaymentIntentState) -> Value {
    use PaymentIntentState as S;
    let status = match state {
        S::Created | S::Failed => "requires_payment_method",
        S::Succeeded => "succeeded",
        S::Canceled => "canceled",
    };
    let last_payment_error = if state == S::Failed {
        json!({
            "charge": ids.charge,
            "code": "card_declined",
            "decline_code": "generic_decline",
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "message": "Your card was declined.",
            "param": null,
            "payment_method": {
                "id": ids.payment_method, "object": "payment_method",
                "billing_details": billing_details(),
                "card": {
                    "brand": "visa", "country": "US", "exp_month": 8, "exp_year": 2030,
                    "funding": "credit", "last4": "0002",
                },
                "created": now - 1, "customer": null, "livemode": false, "metadata": {},
                "type": "card",
            },
            "type": "card_error",
        })
    } else {
        Value::Null
    };
    let charged = matches!(state, S::Succeeded | S::Failed);
    let canceled = state == S::Canceled;
    json!({
        "id": ids.payment_intent,
        "object": "payment_intent",
        "amount": AMOUNT,
        "amount_capturable": 0,
        "amount_received": if state == S::Succeeded { AMOUNT } else { 0 },
        "application": null, "application_fee_amount": null, "automatic_payment_methods": null,
        "canceled_at": if canceled { json!(now) } else { Value::Null },
        "cancellation_reason": if canceled { json!("requested_by_customer") } else { Value::Null },
        "capture_method": "automatic",
        "client_secret": format!("{}_secret_{}", ids.payment_intent, random_alphanumeric(25)),
        "confirmation_method": "automatic",
        "created": if state == S::Created { now } else { now - 10 },
        "currency": "usd",
        "customer": ids.customer,
        "description": DESCRIPTION,
        "last_payment_error": last_payment_error,
        "latest_charge": if charged { json!(ids.charge) } else { Value::Null },
        "livemode": false,
        "metadata": order_metadata(ids),
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": if state == S::Succeeded { json!(ids.payment_method) } else { Value::Null },
        "payment_method_types": ["card"],
        "processing": null, "receipt_email": null, "setup_future_usage": null,
        "shipping": shipping(),
        "statement_descriptor": null,
        "status": status,
        "transfer_data": null,
        "transfer_group": null,
    })
}

#[cfg(test)]
mod tests {
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
        let items: Value =
            serde_json::from_str(charge["metadata"]["items"].as_str().unwrap()).unwrap();
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
}
