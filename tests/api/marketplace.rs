//! Marketplace money flows through the real HTTP intake and apply path: destination
//! charges, separate transfers, capture, disputes, refunds that fail, older API versions,
//! items as paid. Every response is checked against the OpenAPI document.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::schema::Api;

/// A signed delivery of a v1 snapshot event; `account` is `None` on the platform endpoint.
fn event(
    id: &str,
    event_type: &str,
    created: i64,
    account: Option<&str>,
    object: Value,
) -> Vec<u8> {
    let mut event = json!({"id": id, "object": "event", "type": event_type, "created": created,
        "livemode": false, "api_version": "2024-06-20", "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null}, "data": {"object": object}});
    if let Some(account) = account {
        event["account"] = json!(account);
    }
    serde_json::to_vec(&event).unwrap()
}

async fn deliver(app: &TestApp, events: &[Vec<u8>]) {
    for body in events {
        assert_eq!(app.post_event(body).await.status(), 200);
    }
    app.wait_until_applied().await;
}

fn intent(id: &str, status: &str, extra: Value) -> Value {
    let mut intent = json!({"id": id, "object": "payment_intent", "amount": 1000,
        "amount_received": 0, "amount_capturable": 0, "currency": "usd", "customer": "cus_p",
        "status": status, "latest_charge": null, "last_payment_error": null, "created": 1000,
        "capture_method": "automatic", "metadata": {}, "transfer_data": null,
        "on_behalf_of": null, "application_fee_amount": null, "transfer_group": null,
        "livemode": false});
    extend(&mut intent, extra);
    intent
}

fn charge(id: &str, intent: &str, extra: Value) -> Value {
    let mut charge = json!({"id": id, "object": "charge", "amount": 1000,
        "amount_captured": 1000, "amount_refunded": 0, "captured": true, "refunded": false,
        "paid": true, "currency": "usd", "customer": "cus_p", "payment_intent": intent,
        "status": "succeeded", "receipt_url": format!("https://pay.stripe.com/receipts/{id}"),
        "created": 1001, "failure_code": null, "failure_message": null, "metadata": {},
        "transfer_data": null, "on_behalf_of": null, "application_fee_amount": null,
        "transfer_group": null, "disputed": false, "livemode": false});
    extend(&mut charge, extra);
    charge
}

fn extend(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        target.extend(extra);
    }
}

fn customer(id: &str) -> Value {
    json!({"id": id, "object": "customer", "email": "buyer@example.com", "name": "Buyer",
           "created": 900, "metadata": {}, "livemode": false})
}

async fn order(api: &Api<'_>, id: &str) -> Value {
    let (status, order) = api.get(&format!("/orders/{id}")).await;
    assert_eq!(status, 200, "{order}");
    order
}

#[tokio::test]
async fn a_destination_charge_is_the_sellers_order_with_the_platforms_customer() {
    let app = spawn_app().await;
    let destination = json!({"transfer_data": {"destination": "acct_seller"},
                             "application_fee_amount": 150, "transfer_group": "group_pi_d"});
    let mut paid = destination.clone();
    extend(
        &mut paid,
        json!({"amount_received": 1000, "latest_charge": "ch_d",
                             "metadata": {"items": "prod_mug:2"}}),
    );
    let product = json!({"id": "prod_mug", "object": "product", "name": "Mug", "active": true,
        "default_price": null, "updated": 800, "created": 800, "metadata": {}, "images": []});
    deliver(
        &app,
        &[
            event(
                "evt_md_cus",
                "customer.created",
                900,
                None,
                customer("cus_p"),
            ),
            event("evt_md_prod", "product.created", 800, None, product),
            event(
                "evt_md_pi",
                "payment_intent.succeeded",
                1001,
                None,
                intent("pi_d", "succeeded", paid),
            ),
            event(
                "evt_md_ch",
                "charge.succeeded",
                1001,
                None,
                charge("ch_d", "pi_d", destination),
            ),
            event(
                "evt_md_tr",
                "transfer.created",
                1002,
                None,
                json!({"id": "tr_d", "object": "transfer",
            "amount": 850, "amount_reversed": 0, "destination": "acct_seller",
            "source_transaction": "ch_d", "transfer_group": "group_pi_d", "reversed": false}),
            ),
        ],
    )
    .await;
    let api = Api::new(&app).await;
    let order = order(&api, "pi_d").await;
    assert_eq!(order["store"], "acct_seller");
    assert_eq!(order["source_store"], "platform");
    assert_eq!(order["status"], "completed");
    assert_eq!(order["application_fee_amount"], 150);
    assert_eq!(
        (
            order["transfer_amount"].clone(),
            order["transfer_destination"].clone()
        ),
        (json!(850), json!("acct_seller"))
    );
    assert_eq!(
        order["items"][0]["name"], "Mug",
        "the platform's catalogue names the item"
    );
    let (_, seller_orders) = api.get("/stores/acct_seller/orders").await;
    assert_eq!(seller_orders["data"][0]["id"], "pi_d");
    let (_, buyer) = api.get("/customers/cus_p?store=platform").await;
    assert_eq!(buyer["order_count"], 1);
    assert_eq!(buyer["total_spent"], json!({"usd": 1000}));
}

#[tokio::test]
async fn separate_charges_and_transfers_reach_the_seller_through_the_transfer_group() {
    let app = spawn_app().await;
    let grouped = json!({"transfer_group": "ORDER_77"});
    // The transfer comes first: it waits, linked by its group, for its payment.
    deliver(
        &app,
        &[
            event(
                "evt_sct_tr",
                "transfer.created",
                1005,
                None,
                json!({"id": "tr_g", "object": "transfer",
            "amount": 700, "amount_reversed": 0, "destination": "acct_t",
            "source_transaction": null, "transfer_group": "ORDER_77"}),
            ),
            event(
                "evt_sct_ch",
                "charge.succeeded",
                1001,
                None,
                charge("ch_g", "pi_g", grouped.clone()),
            ),
            event(
                "evt_sct_pi",
                "payment_intent.succeeded",
                1001,
                None,
                intent(
                    "pi_g",
                    "succeeded",
                    json!({"transfer_group": "ORDER_77", "amount_received": 1000,
                                                  "latest_charge": "ch_g"}),
                ),
            ),
        ],
    )
    .await;
    let api = Api::new(&app).await;
    let order = order(&api, "pi_g").await;
    assert_eq!(order["store"], "acct_t");
    assert_eq!(order["transfer_amount"], 700);
}

#[tokio::test]
async fn an_authorization_counts_once_captured_and_a_partial_capture_is_no_refund() {
    let app = spawn_app().await;
    let acct = Some("acct_cap");
    let uncaptured = json!({"captured": false, "amount_captured": 0});
    deliver(
        &app,
        &[
            event(
                "evt_cap_cus",
                "customer.created",
                900,
                acct,
                customer("cus_p"),
            ),
            event(
                "evt_cap_ch",
                "charge.succeeded",
                1001,
                acct,
                charge("ch_c", "pi_c", uncaptured),
            ),
            event(
                "evt_cap_pi",
                "payment_intent.amount_capturable_updated",
                1001,
                acct,
                intent(
                    "pi_c",
                    "requires_capture",
                    json!({"amount_capturable": 1000, "latest_charge": "ch_c",
                                                         "capture_method": "manual"}),
                ),
            ),
        ],
    )
    .await;
    let api = Api::new(&app).await;
    let authorized = order(&api, "pi_c").await;
    assert_eq!(authorized["status"], "authorized");
    assert_eq!(authorized["amount_captured"], 0);
    let (_, buyer) = api.get("/customers/cus_p").await;
    assert_eq!(
        (buyer["order_count"].clone(), buyer["total_spent"].clone()),
        (json!(0), json!({}))
    );

    let partial = json!({"amount_captured": 600, "amount_refunded": 400});
    deliver(
        &app,
        &[
            event(
                "evt_cap_captured",
                "charge.captured",
                1100,
                acct,
                charge("ch_c", "pi_c", partial.clone()),
            ),
            event(
                "evt_cap_refunded",
                "charge.refunded",
                1100,
                acct,
                charge("ch_c", "pi_c", partial),
            ),
            event(
                "evt_cap_pi2",
                "payment_intent.succeeded",
                1100,
                acct,
                intent(
                    "pi_c",
                    "succeeded",
                    json!({"amount_received": 600, "latest_charge": "ch_c"}),
                ),
            ),
        ],
    )
    .await;
    let captured = order(&api, "pi_c").await;
    assert_eq!(captured["status"], "completed");
    assert_eq!(
        (
            captured["amount"].clone(),
            captured["amount_captured"].clone(),
            captured["amount_refunded"].clone()
        ),
        (json!(1000), json!(600), json!(0))
    );
    let (_, buyer) = api.get("/customers/cus_p").await;
    assert_eq!(buyer["total_spent"], json!({"usd": 600}));
}

#[tokio::test]
async fn a_lost_dispute_and_a_failed_refund_change_what_the_customer_spent() {
    let app = spawn_app().await;
    let acct = Some("acct_dis");
    let dispute = |status: &str| {
        json!({"id": "dp_1", "object": "dispute", "amount": 1000,
        "charge": "ch_x", "payment_intent": "pi_x", "currency": "usd", "status": status,
        "created": 1200, "reason": "fraudulent", "balance_transactions": []})
    };
    let refund = |status: &str| {
        json!({"id": "re_1", "object": "refund", "amount": 300,
        "charge": "ch_x", "payment_intent": null, "currency": "usd", "status": status,
        "created": 1100})
    };
    deliver(
        &app,
        &[
            event(
                "evt_dis_cus",
                "customer.created",
                900,
                acct,
                customer("cus_p"),
            ),
            // The refund names only its charge, and comes before the charge.
            event(
                "evt_dis_re1",
                "refund.created",
                1100,
                acct,
                refund("pending"),
            ),
            event(
                "evt_dis_ch",
                "charge.succeeded",
                1001,
                acct,
                charge("ch_x", "pi_x", json!({})),
            ),
        ],
    )
    .await;
    let api = Api::new(&app).await;
    let refunding = order(&api, "pi_x").await;
    assert_eq!(refunding["status"], "partially_refunded");
    assert_eq!(refunding["amount_refunded"], 300);
    let (status, _) = api.get("/orders/ch_x").await;
    assert_eq!(status, 200, "the charge id finds the PaymentIntent's order");

    deliver(
        &app,
        &[
            event("evt_dis_re2", "refund.failed", 1150, acct, refund("failed")),
            event(
                "evt_dis_dp1",
                "charge.dispute.created",
                1200,
                acct,
                dispute("needs_response"),
            ),
            event(
                "evt_dis_dp2",
                "charge.dispute.closed",
                1300,
                acct,
                dispute("lost"),
            ),
        ],
    )
    .await;
    let order = order(&api, "pi_x").await;
    assert_eq!(order["status"], "completed");
    assert_eq!(order["amount_refunded"], 0);
    assert_eq!(
        order["dispute"],
        json!({"status": "lost", "amount": 1000, "amount_lost": 1000})
    );
    let (_, buyer) = api.get("/customers/cus_p").await;
    assert_eq!(
        (buyer["order_count"].clone(), buyer["total_spent"].clone()),
        (json!(1), json!({"usd": 0}))
    );
}

#[tokio::test]
async fn a_later_attempt_clears_the_failure_and_the_latest_intent_sets_amount_and_currency() {
    let app = spawn_app().await;
    let acct = Some("acct_retry");
    let error = json!({"last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
                       "currency": "eur"});
    deliver(
        &app,
        &[event(
            "evt_re_pi1",
            "payment_intent.payment_failed",
            1001,
            acct,
            intent("pi_r", "requires_payment_method", error),
        )],
    )
    .await;
    let api = Api::new(&app).await;
    let failed = order(&api, "pi_r").await;
    assert_eq!(
        (failed["status"].clone(), failed["failure_code"].clone()),
        (json!("failed"), json!("card_declined"))
    );
    deliver(
        &app,
        &[event(
            "evt_re_pi2",
            "payment_intent.succeeded",
            1060,
            acct,
            intent(
                "pi_r",
                "succeeded",
                json!({"amount": 2000, "amount_received": 2000, "latest_charge": "ch_r"}),
            ),
        )],
    )
    .await;
    let paid = order(&api, "pi_r").await;
    assert_eq!(paid["status"], "completed");
    assert_eq!(
        (paid["amount"].clone(), paid["currency"].clone()),
        (json!(2000), json!("usd"))
    );
    assert_eq!(
        (
            paid["failure_code"].clone(),
            paid["failure_message"].clone()
        ),
        (Value::Null, Value::Null)
    );
}

#[tokio::test]
async fn older_api_versions_and_items_as_paid() {
    let app = spawn_app().await;
    let acct = Some("acct_old");
    // Before 2022-11-15: `charges.data` instead of `latest_charge`.
    let mut old = intent(
        "pi_o",
        "succeeded",
        json!({"amount_received": 1000,
        "charges": {"object": "list", "data": [charge("ch_o", "pi_o", json!({}))]},
        "metadata": {"items": r#"[{"price":"price_o","quantity":2,"unit_amount":500,"currency":"usd"}]"#}}),
    );
    old.as_object_mut().unwrap().remove("latest_charge");
    let price = json!({"id": "price_o", "object": "price", "product": "prod_o", "unit_amount": 900,
        "currency": "usd", "active": true, "type": "one_time", "created": 800});
    let product = json!({"id": "prod_o", "object": "product", "name": "Old lamp", "active": true,
        "updated": 800, "created": 800, "metadata": {}});
    deliver(
        &app,
        &[
            event("evt_old_pi", "payment_intent.succeeded", 1001, acct, old),
            event("evt_old_price", "price.created", 800, acct, price),
            event("evt_old_prod", "product.created", 800, acct, product),
        ],
    )
    .await;
    let api = Api::new(&app).await;
    let order = order(&api, "pi_o").await;
    assert_eq!(order["charge"], "ch_o");
    assert_eq!(order["receipt_url"], "https://pay.stripe.com/receipts/ch_o");
    let item = &order["items"][0];
    assert_eq!(
        (item["unit_amount"].clone(), item["quantity"].clone()),
        (json!(500), json!(2)),
        "the price as paid, not today's 900"
    );
    assert_eq!(
        (item["product"].clone(), item["name"].clone()),
        (json!("prod_o"), json!("Old lamp"))
    );
    // Before 2022-08-01 products name no default price: the earliest active one stands in.
    let (_, lamp) = api.get("/products/prod_o").await;
    assert_eq!(lamp["price"]["id"], "price_o");
}

#[tokio::test]
async fn a_cart_that_grew_shows_the_latest_cart_whatever_the_delivery_order() {
    let app = spawn_app().await;
    let acct = Some("acct_cart");
    let cart = |items: &str, amount: i64| {
        intent(
            "pi_cart",
            "requires_payment_method",
            json!({"amount": amount,
            "metadata": {"items": items}}),
        )
    };
    // The grown cart (later) arrives first; the JSON of the old one sorts higher.
    deliver(
        &app,
        &[
            event(
                "evt_cart_2",
                "payment_intent.updated",
                1100,
                acct,
                cart("price_a:1,price_b:2", 3000),
            ),
            event(
                "evt_cart_1",
                "payment_intent.created",
                1000,
                acct,
                cart("prod_z:1", 1000),
            ),
        ],
    )
    .await;
    let api = Api::new(&app).await;
    let order = order(&api, "pi_cart").await;
    let prices: Vec<&Value> = order["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["price"])
        .collect();
    assert_eq!(prices, [&json!("price_a"), &json!("price_b")]);
    assert_eq!(order["amount"], 3000);
    assert_eq!(order["status"], "pending");
}
