//! The admin API over the rows the actors built from events sent over HTTP: every
//! endpoint, its fields, filters, lookups and errors. Every answer is validated against
//! the OpenAPI document (see `schema.rs`).

use serde_json::{Value, json};

use crate::helpers::{TestApp, fixture, fixture_event_names, spawn_app};
use crate::schema::Api;

const ACCOUNT: &str = "acct_1PgafTB7WZ01zgkW";

/// A fixture event with changes applied to it.
pub fn event(name: &str, id: &str, change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut event: Value = serde_json::from_slice(&fixture(name)).unwrap();
    event["id"] = json!(id);
    change(&mut event);
    serde_json::to_vec(&event).unwrap()
}

async fn send(app: &TestApp, body: &[u8]) {
    assert_eq!(app.post_event(body).await.status(), 200);
}

/// Every fixture, plus a second store `acct_second` selling an active shirt (with a price)
/// and an order whose items name it, and a product id repeated across both stores.
async fn build_marketplace(app: &TestApp) {
    for name in fixture_event_names() {
        send(app, &fixture(&name)).await;
    }
    // Applied before the second store's events, so "newest first" is deterministic.
    app.wait_until_applied().await;
    let second = |event: &mut Value| event["account"] = json!("acct_second");
    send(
        app,
        &event("account.updated.json", "evt_s_account", |e| {
            second(e);
            e["data"]["object"]["id"] = json!("acct_second");
        }),
    )
    .await;
    send(
        app,
        &event("product.created.json", "evt_s_product", |e| {
            second(e);
            e["data"]["object"]["id"] = json!("prod_shirt");
            e["data"]["object"]["default_price"] = json!("price_shirt");
            e["data"]["object"]["metadata"] = json!({"category": "shirts"});
        }),
    )
    .await;
    send(
        app,
        &event("price.created.json", "evt_s_price", |e| {
            second(e);
            e["data"]["object"]["id"] = json!("price_shirt");
            e["data"]["object"]["product"] = json!("prod_shirt");
            e["data"]["object"]["unit_amount"] = json!(2500);
        }),
    )
    .await;
    send(app, &event("payment_intent.succeeded.json", "evt_s_pi", |e| {
        second(e);
        let object = &mut e["data"]["object"];
        object["id"] = json!("pi_second");
        object["latest_charge"] = json!("ch_second");
        object["customer"] = json!("cus_second");
        object["amount"] = json!(5500);
        object["amount_received"] = json!(5500);
        object["metadata"] = json!({
            "items": r#"[{"product":"prod_shirt","quantity":2},{"product":"prod_gone","quantity":1}]"#
        });
    }))
    .await;
    send(
        app,
        &event("customer.created.json", "evt_s_customer", |e| {
            second(e);
            e["data"]["object"]["id"] = json!("cus_second");
            e["data"]["object"]["email"] = json!("second@example.com");
        }),
    )
    .await;
    // The fixture store's product id, reused by the second store (custom ids may repeat).
    send(
        app,
        &event("product.created.json", "evt_s_dup", |e| {
            second(e);
        }),
    )
    .await;
    app.wait_until_applied().await;
}

fn ids(list: &Value) -> Vec<&str> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|object| object["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn stores_show_pages_payment_settings_status_and_counts() {
    let app = spawn_app().await;
    build_marketplace(&app).await;
    let api = Api::new(&app).await;

    let (status, list) = api.get("/stores").await;
    assert_eq!(status, 200);
    assert_eq!(
        (list["object"].clone(), list["has_more"].clone()),
        (json!("list"), json!(false))
    );
    assert_eq!(ids(&list), ["acct_second", ACCOUNT], "newest first");

    let (status, store) = api.get(&format!("/stores/{ACCOUNT}")).await;
    assert_eq!(status, 200);
    assert_eq!(store["object"], "store");
    assert_eq!(store["name"], "Rosen Threads");
    assert_eq!(store["status"], "active");
    assert_eq!(store["livemode"], false);
    assert_eq!(store["pages"]["contact"]["email"], "jenny@example.com");
    assert_eq!(store["payment_settings"]["currency"], "usd");
    assert_eq!(
        store["counts"],
        json!({"products": 0, "customers": 0, "orders": 1}),
        "the fixture's product and customer are deleted"
    );
    assert!(store["created"].is_i64() && store["updated_at"].is_i64());

    let (_, second) = api.get("/stores/acct_second?livemode=false").await;
    assert_eq!(
        second["counts"],
        json!({"products": 2, "customers": 1, "orders": 1})
    );
    let (status, _) = api.get("/stores/acct_second?livemode=true").await;
    assert_eq!(status, 404, "no live store");
}

#[tokio::test]
async fn orders_resolve_their_items_and_filter() {
    let app = spawn_app().await;
    build_marketplace(&app).await;
    let api = Api::new(&app).await;

    let (_, order) = api.get("/orders/pi_second").await;
    assert_eq!(order["object"], "order");
    assert_eq!(order["store"], "acct_second");
    assert_eq!(
        (order["amount"].clone(), order["currency"].clone()),
        (json!(5500), json!("usd"))
    );
    assert_eq!(order["status"], "completed");
    assert_eq!(order["customer"], "cus_second");
    assert_eq!(order["payment_intent"], "pi_second");
    assert_eq!(
        order["items"],
        json!([
            {"product": "prod_shirt", "price": null, "quantity": 2, "name": "T-shirt", "unit_amount": 2500, "currency": "usd"},
            {"product": "prod_gone", "price": null, "quantity": 1, "name": null, "unit_amount": null, "currency": null},
        ])
    );

    let (_, fixture_order) = api.get("/orders/pi_1PgafyB7WZ01zgkWSjxsAJo3").await;
    assert_eq!(fixture_order["status"], "refunded");
    assert_eq!(fixture_order["amount_refunded"], 1099);
    assert_eq!(fixture_order["charge"], "ch_1PgafuB7WZ01zgkWXYmPNZs8");
    let (_, by_charge) = api.get("/orders/ch_1PgafuB7WZ01zgkWXYmPNZs8").await;
    assert_eq!(
        by_charge["id"], "pi_1PgafyB7WZ01zgkWSjxsAJo3",
        "a charge id finds its order"
    );

    let (_, all) = api.get("/orders").await;
    assert_eq!(ids(&all), ["pi_second", "pi_1PgafyB7WZ01zgkWSjxsAJo3"]);
    for (query, expected) in [
        ("store=acct_second", vec!["pi_second"]),
        ("status=refunded", vec!["pi_1PgafyB7WZ01zgkWSjxsAJo3"]),
        ("customer=cus_second", vec!["pi_second"]),
        ("payment_intent=pi_second", vec!["pi_second"]),
        ("created[gte]=4000000000", vec![]),
        (
            "created[lte]=4000000000&livemode=false&limit=1",
            vec!["pi_second"],
        ),
    ] {
        let (status, list) = api.get(&format!("/orders?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(ids(&list), expected, "{query}");
    }
    let (_, of_store) = api.get(&format!("/stores/{ACCOUNT}/orders")).await;
    assert_eq!(ids(&of_store), ["pi_1PgafyB7WZ01zgkWSjxsAJo3"]);
}

#[tokio::test]
async fn customers_show_order_count_and_spending_and_keep_deleted_ones() {
    let app = spawn_app().await;
    build_marketplace(&app).await;
    let api = Api::new(&app).await;

    let (_, customer) = api.get("/customers/cus_second").await;
    assert_eq!(customer["object"], "customer");
    assert_eq!(customer["email"], "second@example.com");
    assert_eq!(customer["deleted"], false);
    assert_eq!(customer["order_count"], 1);
    assert_eq!(customer["total_spent"], json!({"usd": 5500}));

    let (_, deleted) = api.get("/customers/cus_QXg1o8vcGmoR32").await;
    assert_eq!(
        deleted["deleted"], true,
        "a deleted customer is still readable"
    );
    assert_eq!(deleted["order_count"], 1);
    assert_eq!(deleted["total_spent"], json!({"usd": 0}), "fully refunded");

    let (_, list) = api.get("/customers").await;
    assert_eq!(ids(&list), ["cus_second", "cus_QXg1o8vcGmoR32"]);
    assert!(
        list["data"][0].get("order_count").is_none(),
        "retrieve only"
    );
    let (_, by_email) = api.get("/customers?email=second@example.com").await;
    assert_eq!(ids(&by_email), ["cus_second"]);
    let (_, of_store) = api.get(&format!("/stores/{ACCOUNT}/customers")).await;
    assert_eq!(ids(&of_store), ["cus_QXg1o8vcGmoR32"]);
}

#[tokio::test]
async fn products_show_their_default_price_and_repeated_ids_need_a_store() {
    let app = spawn_app().await;
    build_marketplace(&app).await;
    let api = Api::new(&app).await;

    let (_, shirt) = api.get("/products/prod_shirt").await;
    assert_eq!(shirt["object"], "product");
    assert_eq!(shirt["category"], "shirts");
    assert_eq!(shirt["active"], true);
    assert_eq!(
        shirt["price"],
        json!({"id": "price_shirt", "unit_amount": 2500, "currency": "usd"})
    );

    let (status, ambiguous) = api.get("/products/prod_QXg1hqf4jFNsqG").await;
    assert_eq!(status, 409);
    assert_eq!(ambiguous["error"]["code"], "ambiguous_id");
    assert_eq!(
        ambiguous["error"]["stores"],
        json!([ACCOUNT, "acct_second"])
    );
    let (status, deleted) = api
        .get(&format!("/products/prod_QXg1hqf4jFNsqG?store={ACCOUNT}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (deleted["deleted"].clone(), deleted["price"].clone()),
        (json!(true), Value::Null)
    );

    for (query, expected) in [
        (
            "store=acct_second",
            vec!["prod_QXg1hqf4jFNsqG", "prod_shirt"],
        ),
        ("active=true&category=shirts", vec!["prod_shirt"]),
        ("active=false", vec!["prod_QXg1hqf4jFNsqG"]),
    ] {
        let (_, list) = api.get(&format!("/products?{query}")).await;
        assert_eq!(ids(&list), expected, "{query}");
    }
    let (_, of_store) = api
        .get("/stores/acct_second/products?category=shirts")
        .await;
    assert_eq!(ids(&of_store), ["prod_shirt"]);
}

#[tokio::test]
async fn events_show_status_attempts_and_the_raw_payload() {
    let app = spawn_app().await;
    build_marketplace(&app).await;
    let api = Api::new(&app).await;

    let (_, page) = api.get("/webhooks/stripe/logs?limit=3").await;
    assert_eq!(ids(&page), ["evt_s_dup", "evt_s_customer", "evt_s_pi"]);
    assert_eq!(page["has_more"], true);
    let first = &page["data"][0];
    assert_eq!(first["object"], "event");
    assert!(first["received_at"].is_i64() && first["processed_at"].is_i64());
    assert!(
        first.get("payload").is_none(),
        "the log does not carry payloads"
    );

    let (_, event) = api.get("/webhooks/stripe/events/evt_s_pi").await;
    assert_eq!(event["status"], "processed");
    assert_eq!(event["attempts"], 1);
    assert_eq!(event["last_error"], Value::Null);
    assert_eq!(event["payload"]["data"]["object"]["id"], "pi_second");
    let (_, filtered) = api
        .get("/webhooks/stripe/logs?account=acct_second&type=price.created")
        .await;
    assert_eq!(ids(&filtered), ["evt_s_price"]);
}

#[tokio::test]
async fn client_mistakes_get_4xx_never_500() {
    let app = spawn_app().await;
    build_marketplace(&app).await;
    let api = Api::new(&app).await;
    for (path, status, code, param) in [
        ("/orders?limit=0", 400, "invalid_request", "limit"),
        ("/orders?limit=101", 400, "invalid_request", "limit"),
        ("/orders?status=paid", 400, "invalid_request", "status"),
        (
            "/orders?created[gte]=yesterday",
            400,
            "invalid_request",
            "created[gte]",
        ),
        (
            "/orders?starting_after=pi_nope",
            404,
            "resource_missing",
            "starting_after",
        ),
        ("/orders?page=pi_nope", 404, "resource_missing", "page"),
        (
            "/orders?page=x&ending_before=pi_1",
            400,
            "invalid_request",
            "page",
        ),
        (
            "/stores/acct_nope/orders?store=acct_nope",
            400,
            "invalid_request",
            "store",
        ),
        ("/orders?colour=red", 400, "invalid_request", "colour"),
        ("/products?active=yes", 400, "invalid_request", "active"),
        (
            "/customers?ending_before=cus_nope",
            404,
            "resource_missing",
            "ending_before",
        ),
        ("/stores?status=closed", 400, "invalid_request", "status"),
        (
            "/stores/acct_second?livemode=maybe",
            400,
            "invalid_request",
            "livemode",
        ),
        (
            "/webhooks/stripe/logs?status=done",
            400,
            "invalid_request",
            "status",
        ),
        (
            "/webhooks/stripe/logs?limit=101",
            400,
            "invalid_request",
            "limit",
        ),
        ("/stores/acct_nope", 404, "resource_missing", "acct_nope"),
        (
            "/stores/acct_nope/orders",
            404,
            "resource_missing",
            "acct_nope",
        ),
        ("/orders/pi_nope", 404, "resource_missing", "pi_nope"),
        ("/customers/cus_nope", 404, "resource_missing", "cus_nope"),
        ("/products/prod_nope", 404, "resource_missing", "prod_nope"),
        (
            "/webhooks/stripe/events/evt_nope",
            404,
            "resource_missing",
            "evt_nope",
        ),
    ] {
        let (got, body) = api.get(path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(body["error"]["code"], code, "{path}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(param), "{path}: {message}");
    }
    let (status, body) = api.post("/webhooks/stripe/replay").await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("invalid_request"))
    );

    let wrong_method = app
        .client
        .delete(format!("{}/orders", app.address))
        .bearer_auth(crate::helpers::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
    let body: Value = wrong_method.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}
