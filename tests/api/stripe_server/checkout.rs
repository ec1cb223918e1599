//! Checkout Sessions (`POST /v1/checkout/sessions`, retrieve, `.../expire`) and a customer
//! paying one ([`StripeServer::pay`]): the PaymentIntent, charge, transfer and session
//! changes a real Stripe makes, each sent as its event, in the order Stripe sends them.
//!
//! A direct charge lives on the connected account named by `Stripe-Account` (its events
//! carry `account`); a destination charge lives on the platform and pays the account named
//! by `payment_intent_data[transfer_data][destination]`.

use serde_json::{Value, json};

use super::events::emit;
use super::{Answer, Call, Fail, State, StripeServer, now};

const OBJECTS: &str = include_str!("../../data/stripe-openapi/payment-objects.json");

fn example(name: &str) -> Value {
    let objects: Value = serde_json::from_str(OBJECTS).unwrap();
    objects[name].clone()
}

/// How the customer's payment goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payment {
    /// A card that is charged at once.
    Succeeded,
    /// A card that is declined: the session stays open.
    Declined,
    /// A bank debit: the session completes unpaid, then the payment settles or fails.
    Delayed { succeeds: bool },
}

pub fn route(state: &mut State, call: &Call<'_>) -> Option<Answer> {
    let rest = call.rest("/v1/checkout/sessions")?;
    Some(match (call.method, rest.as_slice()) {
        ("POST", []) => create(state, call),
        ("GET", [id]) => retrieve(state, call.account, id),
        ("POST", [id, "expire"]) => expire(state, call.account, id),
        _ => return None,
    })
}

fn retrieve(state: &State, account: Option<&str>, id: &str) -> Answer {
    state
        .object(account, id)
        .filter(|object| object["object"] == "checkout.session")
        .cloned()
        .ok_or_else(|| Fail::missing("checkout.session", id))
}

fn missing(param: &str) -> Fail {
    Fail::invalid(
        "parameter_missing",
        format!("Missing required param: {param}."),
    )
}

/// Stripe's metadata limits: 50 keys, keys of 40 characters, values of 500.
fn check_metadata(metadata: &Value, param: &str) -> Result<(), Fail> {
    let Some(map) = metadata.as_object() else {
        return Ok(());
    };
    let too_long = map.iter().any(|(key, value)| {
        key.chars().count() > 40 || value.as_str().is_some_and(|v| v.chars().count() > 500)
    });
    if map.len() > 50 || too_long {
        return Err(Fail::invalid(
            "parameter_invalid_string",
            format!("Invalid {param}: keys must be at most 40 characters and values at most 500."),
        ));
    }
    Ok(())
}

/// The priced lines of the session: `(price, quantity)`, the total and the currency.
/// A session's lines: each price with its quantity.
type Lines = Vec<(Value, i64)>;

fn lines(state: &State, call: &Call<'_>) -> Result<(Lines, i64, String), Fail> {
    let items = call.params["line_items"]
        .as_array()
        .filter(|items| !items.is_empty())
        .ok_or_else(|| missing("line_items"))?;
    let mut lines = Vec::new();
    let mut total = 0;
    let mut currency: Option<String> = None;
    for (index, item) in items.iter().enumerate() {
        let price = match (item["price"].as_str(), item.get("price_data")) {
            (Some(price_id), None) => state
                .object(call.account, price_id)
                .filter(|p| p["object"] == "price")
                .cloned()
                .ok_or_else(|| Fail::missing("price", price_id))?,
            (None, Some(data)) => inline_price(data, index)?,
            _ => return Err(missing(&format!("line_items[{index}][price]"))),
        };
        let price = &price;
        if price["active"] != true {
            return Err(Fail::invalid(
                "price_inactive",
                format!("The price `{}` is not active.", price["id"]),
            ));
        }
        if !price["recurring"].is_null() {
            return Err(Fail::invalid(
                "parameter_invalid_string",
                "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
            ));
        }
        let quantity: i64 = item["quantity"]
            .as_str()
            .and_then(|q| q.parse().ok())
            .filter(|q| (1..=999_999).contains(q))
            .ok_or_else(|| missing(&format!("line_items[{index}][quantity]")))?;
        let line_currency = price["currency"].as_str().unwrap_or_default().to_owned();
        if currency.get_or_insert(line_currency.clone()) != &line_currency {
            return Err(Fail::invalid(
                "parameter_invalid_string",
                "All prices of a session must have the same currency.",
            ));
        }
        total += price["unit_amount"].as_i64().unwrap_or(0) * quantity;
        lines.push((price.clone(), quantity));
    }
    Ok((lines, total, currency.unwrap_or_default()))
}

/// A line's `price_data`: a one-time price made for the session alone.
fn inline_price(data: &Value, index: usize) -> Result<Value, Fail> {
    let field = |name: &str| format!("line_items[{index}][price_data][{name}]");
    let currency = data["currency"]
        .as_str()
        .ok_or_else(|| missing(&field("currency")))?;
    let unit_amount: i64 = data["unit_amount"]
        .as_str()
        .and_then(|amount| amount.parse().ok())
        .filter(|amount| *amount >= 0)
        .ok_or_else(|| missing(&field("unit_amount")))?;
    if data["product"].is_null() && data["product_data"]["name"].as_str().is_none() {
        return Err(missing(&field("product_data][name")));
    }
    Ok(
        json!({"object": "price", "active": true, "currency": currency,
        "unit_amount": unit_amount, "recurring": null, "type": "one_time"}),
    )
}

fn create(state: &mut State, call: &Call<'_>) -> Answer {
    let params = call.params;
    match params["mode"].as_str() {
        Some("payment") => {}
        Some(other) => {
            return Err(Fail::invalid(
                "parameter_invalid_string",
                format!("This stand-in takes `payment` mode only, not `{other}`."),
            ));
        }
        None => return Err(missing("mode")),
    }
    let success_url = params["success_url"]
        .as_str()
        .ok_or_else(|| missing("success_url"))?;
    let (lines, total, currency) = lines(state, call)?;
    let intent_data = &params["payment_intent_data"];
    check_metadata(&params["metadata"], "metadata")?;
    check_metadata(&intent_data["metadata"], "payment_intent_data[metadata]")?;
    let destination = intent_data["transfer_data"]["destination"].as_str();
    if destination.is_some() && call.account.is_some() {
        return Err(Fail::invalid(
            "parameter_invalid_string",
            "`transfer_data[destination]` cannot be used with the Stripe-Account header: a destination charge is created on the platform.",
        ));
    }
    if let Some(fee) = intent_data["application_fee_amount"].as_str() {
        if call.account.is_none() && destination.is_none() {
            return Err(Fail::invalid(
                "parameter_invalid_integer",
                "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment (using an OAuth key or Stripe-Account header) or destination payment (using `transfer_data[destination]`).",
            ));
        }
        let fee: i64 = fee.parse().map_err(|_| {
            Fail::invalid(
                "parameter_invalid_integer",
                format!("Invalid integer: {fee}"),
            )
        })?;
        if fee < 0 || fee > total {
            return Err(Fail::invalid(
                "parameter_invalid_integer",
                "The application fee cannot exceed the amount of the payment.",
            ));
        }
    }
    let id = state.new_id("cs");
    let created = now();
    let mut session = example("checkout.session");
    let fields = json!({
        "id": id,
        "url": format!("{}/c/pay/{id}", state.base),
        "created": created,
        "expires_at": created + 24 * 3600,
        "mode": "payment",
        "status": "open",
        "payment_status": "unpaid",
        "payment_intent": null,
        "customer": null,
        "customer_details": null,
        "customer_email": params["customer_email"],
        "client_reference_id": params["client_reference_id"],
        "metadata": params["metadata"].as_object().cloned().unwrap_or_default(),
        "success_url": success_url.replace("{CHECKOUT_SESSION_ID}", &id),
        "cancel_url": params["cancel_url"].as_str().map(|u| u.replace("{CHECKOUT_SESSION_ID}", &id)),
        "amount_subtotal": total,
        "amount_total": total,
        "currency": currency,
        "livemode": false,
        "shipping_cost": null,
        "shipping_address_collection": null,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "invoice": null,
        "subscription": null,
        "setup_intent": null,
        "payment_link": null,
        "recovered_from": null,
        "after_expiration": null,
        "collected_information": null,
    });
    for (key, value) in fields.as_object().unwrap() {
        session[key] = value.clone();
    }
    state.put(call.account, session.clone());
    state.private.insert(
        id.clone(),
        json!({
            "account": call.account,
            "intent_data": intent_data,
            "lines": lines.iter().map(|(price, quantity)| json!({"price": price, "quantity": quantity})).collect::<Vec<_>>(),
        }),
    );
    Ok(session)
}

fn expire(state: &mut State, account: Option<&str>, id: &str) -> Answer {
    let mut session = retrieve(state, account, id)?;
    if session["status"] != "open" {
        return Err(Fail::invalid(
            "checkout_session_not_open",
            format!(
                "Only Checkout Sessions with a status of `open` can be expired; {id} is {}.",
                session["status"]
            ),
        ));
    }
    // An attempt that failed leaves a PaymentIntent, which expiring cancels.
    if let Some(intent_id) = session["payment_intent"].as_str() {
        let mut intent = state.object(account, intent_id).cloned().unwrap();
        intent["status"] = json!("canceled");
        intent["canceled_at"] = json!(now());
        intent["cancellation_reason"] = json!("abandoned");
        state.put(account, intent.clone());
        emit(state, account, "payment_intent.canceled", &intent);
    }
    session["status"] = json!("expired");
    state.put(account, session.clone());
    emit(state, account, "checkout.session.expired", &session);
    Ok(session)
}

/// What the session was created with.
struct Order {
    account: Option<String>,
    intent_data: Value,
    amount: i64,
    currency: String,
}

/// The PaymentIntent Checkout creates when the customer submits the form.
fn new_intent(state: &mut State, order: &Order) -> Value {
    let mut intent = example("payment_intent");
    let fee = order.intent_data["application_fee_amount"]
        .as_str()
        .and_then(|fee| fee.parse::<i64>().ok());
    let destination = order.intent_data["transfer_data"]["destination"].as_str();
    let fields = json!({
        "id": state.new_id("pi"),
        "amount": order.amount,
        "amount_capturable": 0,
        "amount_received": 0,
        "application_fee_amount": fee,
        "canceled_at": null,
        "capture_method": "automatic",
        "client_secret": null,
        "created": now(),
        "currency": order.currency,
        "customer": null,
        "last_payment_error": null,
        "latest_charge": null,
        "metadata": order.intent_data["metadata"].as_object().cloned().unwrap_or_default(),
        "next_action": null,
        "on_behalf_of": null,
        "processing": null,
        "shipping": null,
        "status": "requires_payment_method",
        "transfer_data": destination.map(|d| json!({"destination": d})),
        "transfer_group": null,
    });
    for (key, value) in fields.as_object().unwrap() {
        intent[key] = value.clone();
    }
    intent
}

/// A charge of `intent`: `status` is `succeeded`, `failed` or `pending`.
fn new_charge(state: &mut State, intent: &Value, status: &str) -> Value {
    let mut charge = example("charge");
    let id = state.new_id("ch");
    let succeeded = status == "succeeded";
    let declined = status == "failed";
    let amount = intent["amount"].as_i64().unwrap_or(0);
    let fields = json!({
        "id": id,
        "amount": amount,
        "amount_captured": if succeeded { amount } else { 0 },
        "amount_refunded": 0,
        "application_fee_amount": intent["application_fee_amount"],
        "balance_transaction": null,
        "captured": succeeded,
        "created": now(),
        "currency": intent["currency"],
        "customer": null,
        "disputed": false,
        "failure_code": if declined { json!("card_declined") } else { Value::Null },
        "failure_message": if declined { json!("Your card was declined.") } else { Value::Null },
        "metadata": intent["metadata"],
        "on_behalf_of": null,
        "paid": succeeded,
        "payment_intent": intent["id"],
        "receipt_url": format!("https://pay.stripe.com/receipts/payment/{id}"),
        "refunded": false,
        "status": status,
        "transfer_data": intent["transfer_data"],
        "transfer_group": null,
    });
    for (key, value) in fields.as_object().unwrap() {
        charge[key] = value.clone();
    }
    charge.as_object_mut().unwrap().remove("refunds");
    charge
}

impl StripeServer {
    /// The customer pays the open session `id` (of `account`, `None` for the platform),
    /// and the server sends what Stripe sends about it.
    pub fn pay(&self, account: Option<&str>, id: &str, payment: Payment) {
        self.with_state(|state| pay(state, account, id, payment));
    }

    /// The session `id` expires unpaid, as after 24 hours.
    pub fn expire(&self, account: Option<&str>, id: &str) {
        self.with_state(|state| expire(state, account, id))
            .expect("an open session");
    }
}

fn pay(state: &mut State, account: Option<&str>, id: &str, payment: Payment) {
    let mut session = retrieve(state, account, id).expect("a session of the account");
    assert_eq!(
        session["status"], "open",
        "only an open session can be paid"
    );
    let private = state.private[id].clone();
    let order = Order {
        account: private["account"].as_str().map(str::to_owned),
        intent_data: private["intent_data"].clone(),
        amount: session["amount_total"].as_i64().unwrap(),
        currency: session["currency"].as_str().unwrap().to_owned(),
    };
    assert_eq!(order.account.as_deref(), account);
    let mut intent = match session["payment_intent"].as_str() {
        Some(existing) => state.object(account, existing).cloned().unwrap(),
        None => {
            let intent = new_intent(state, &order);
            state.put(account, intent.clone());
            emit(state, account, "payment_intent.created", &intent);
            intent
        }
    };
    session["payment_intent"] = intent["id"].clone();
    session["customer_details"] = json!({
        "address": null, "email": "shopper@example.com", "name": "Sam Shopper",
        "phone": null, "tax_exempt": "none", "tax_ids": [],
    });
    let status = match payment {
        Payment::Succeeded => "succeeded",
        Payment::Declined => "failed",
        Payment::Delayed { .. } => "pending",
    };
    let charge = new_charge(state, &intent, status);
    intent["latest_charge"] = charge["id"].clone();
    state.put(account, charge.clone());
    match payment {
        Payment::Succeeded => {
            emit(state, account, "charge.succeeded", &charge);
            succeed_intent(state, account, &mut intent, &charge);
            complete(
                state,
                account,
                &mut session,
                "paid",
                "checkout.session.completed",
            );
        }
        Payment::Declined => {
            emit(state, account, "charge.failed", &charge);
            fail_intent(state, account, &mut intent);
            state.put(account, session);
        }
        Payment::Delayed { succeeds } => {
            intent["status"] = json!("processing");
            state.put(account, intent.clone());
            emit(state, account, "payment_intent.processing", &intent);
            emit(state, account, "charge.pending", &charge);
            complete(
                state,
                account,
                &mut session,
                "unpaid",
                "checkout.session.completed",
            );
            let mut settled = charge.clone();
            if succeeds {
                settled["status"] = json!("succeeded");
                settled["paid"] = json!(true);
                settled["captured"] = json!(true);
                settled["amount_captured"] = settled["amount"].clone();
                state.put(account, settled.clone());
                emit(state, account, "charge.succeeded", &settled);
                succeed_intent(state, account, &mut intent, &settled);
                complete(
                    state,
                    account,
                    &mut session,
                    "paid",
                    "checkout.session.async_payment_succeeded",
                );
            } else {
                settled["status"] = json!("failed");
                settled["failure_code"] = json!("insufficient_funds");
                settled["failure_message"] = json!("The account has insufficient funds.");
                state.put(account, settled.clone());
                emit(state, account, "charge.failed", &settled);
                fail_intent(state, account, &mut intent);
                complete(
                    state,
                    account,
                    &mut session,
                    "unpaid",
                    "checkout.session.async_payment_failed",
                );
            }
        }
    }
}

fn succeed_intent(state: &mut State, account: Option<&str>, intent: &mut Value, charge: &Value) {
    intent["status"] = json!("succeeded");
    intent["amount_received"] = intent["amount"].clone();
    intent["latest_charge"] = charge["id"].clone();
    intent["last_payment_error"] = Value::Null;
    state.put(account, intent.clone());
    emit(state, account, "payment_intent.succeeded", intent);
    // A destination charge pays the seller through a transfer, made on the platform.
    if let Some(destination) = intent["transfer_data"]["destination"].as_str() {
        let amount = intent["amount"].as_i64().unwrap_or(0)
            - intent["application_fee_amount"].as_i64().unwrap_or(0);
        let mut transfer = example("transfer");
        let fields = json!({
            "id": state.new_id("tr"),
            "amount": amount,
            "amount_reversed": 0,
            "created": now(),
            "currency": intent["currency"],
            "destination": destination,
            "destination_payment": null,
            "livemode": false,
            "metadata": {},
            "reversed": false,
            "reversals": {"object": "list", "data": [], "has_more": false, "url": "/v1/transfers/reversals"},
            "source_transaction": charge["id"],
            "transfer_group": null,
        });
        for (key, value) in fields.as_object().unwrap() {
            transfer[key] = value.clone();
        }
        state.put(None, transfer.clone());
        emit(state, None, "transfer.created", &transfer);
    }
}

fn fail_intent(state: &mut State, account: Option<&str>, intent: &mut Value) {
    intent["status"] = json!("requires_payment_method");
    intent["last_payment_error"] = json!({
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "generic_decline",
        "message": "Your card was declined.",
    });
    state.put(account, intent.clone());
    emit(state, account, "payment_intent.payment_failed", intent);
}

fn complete(
    state: &mut State,
    account: Option<&str>,
    session: &mut Value,
    paid: &str,
    event: &str,
) {
    session["status"] = json!("complete");
    session["payment_status"] = json!(paid);
    state.put(account, session.clone());
    emit(state, account, event, session);
}
