//! The objects inside the events (`data.object`): accounts, customers, products, prices,
//! charges and PaymentIntents, shaped like Stripe's published examples.

use serde_json::{Value, json};

use super::{Ids, random_alphanumeric, random_id};

const NAME: &str = "Jenny Rosen";
const EMAIL: &str = "jenny@example.com";
const PHONE: &str = "+15555555555";
const DESCRIPTION: &str = "(created by payments trigger)";
const UNIT_AMOUNT: i64 = 2000;
pub(crate) const QUANTITY: i64 = 2;
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

pub(crate) fn account_object(id: &str, onboarded: bool, created: i64) -> Value {
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
pub(crate) fn account_previous_attributes() -> Value {
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
pub(crate) fn application() -> Value {
    json!({ "id": random_id("ca_", 32), "object": "application", "name": "Rosen Marketplace" })
}

pub(crate) fn customer(ids: &Ids, created: i64, metadata: Value) -> Value {
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

pub(crate) fn product(ids: &Ids, created: i64, updated: i64, active: bool, extra: Value) -> Value {
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

pub(crate) fn price(ids: &Ids, created: i64, active: bool, metadata: Value) -> Value {
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
pub(crate) enum ChargeState {
    Succeeded,
    Failed,
    Refunded,
}

pub(crate) fn charge(ids: &Ids, created: i64, state: ChargeState) -> Value {
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
pub(crate) enum PaymentIntentState {
    Created,
    Succeeded,
    Failed,
    Canceled,
}

pub(crate) fn payment_intent(ids: &Ids, now: i64, state: PaymentIntentState) -> Value {
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
