//! What the fixture events build: the store, its customer, product, price and order.

use entity::{customer, order, price, product, store};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, fixture, fixture_event_names, spawn_app};

const ACCOUNT: &str = "acct_1PgafTB7WZ01zgkW";

async fn send_all_fixtures(app: &TestApp) {
    for name in fixture_event_names() {
        assert_eq!(
            app.post_event(&fixture(&name)).await.status(),
            200,
            "{name}"
        );
    }
    app.wait_until_applied().await;
}

async fn the_store(app: &TestApp, id: &str) -> store::Model {
    store::Entity::find()
        .filter(store::Column::Id.eq(id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("store {id} exists"))
}

#[tokio::test]
async fn fixture_events_build_the_store_with_pages_and_payment_settings() {
    let app = spawn_app().await;
    send_all_fixtures(&app).await;
    let store = the_store(&app, ACCOUNT).await;
    assert!(!store.livemode);
    assert_eq!(store.name.as_deref(), Some("Rosen Threads"));
    assert_eq!(store.status, "active");
    assert!(store.charges_enabled && store.payouts_enabled && store.details_submitted);
    assert_eq!(store.country.as_deref(), Some("US"));
    assert_eq!(store.currency.as_deref(), Some("usd"));
    assert_eq!(store.phone.as_deref(), Some("+15555555555"));
    assert_eq!(store.support_email.as_deref(), Some("jenny@example.com"));
    assert_eq!(
        store.website.as_deref(),
        Some("https://rosenthreads.example.com")
    );
    assert_eq!(
        store.description.as_deref(),
        Some("Comfortable gray cotton t-shirts")
    );
    assert_eq!(store.address.as_ref().unwrap()["line1"], "1234 Fake Street");

    let pages = store.pages.expect("pages built");
    assert_eq!(pages["home"]["hero"]["title"], "Rosen Threads");
    assert_eq!(
        pages["home"]["featured_products"],
        json!([]),
        "the only product is deleted"
    );
    assert_eq!(
        pages["about"]["website"],
        "https://rosenthreads.example.com"
    );
    assert_eq!(pages["contact"]["email"], "jenny@example.com");
    let fields: Vec<&str> = pages["contact"]["form"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "email", "message"]);
    let settings = store.payment_settings.expect("payment settings");
    assert_eq!(settings["stripe_enabled"], true);
    assert_eq!(settings["currency"], "usd");
    assert!(
        settings["payment_methods"]
            .as_array()
            .unwrap()
            .contains(&json!("card"))
    );
}

#[tokio::test]
async fn fixture_events_build_the_customer_catalogue_and_order() {
    let app = spawn_app().await;
    send_all_fixtures(&app).await;

    let customer = customer::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(customer.store_key, ACCOUNT);
    assert_eq!(customer.id, "cus_QXg1o8vcGmoR32");
    assert_eq!(customer.email.as_deref(), Some("jenny@example.com"));
    assert_eq!(customer.name.as_deref(), Some("Jenny Rosen"));
    assert_eq!(
        customer.metadata,
        Some(json!({"foo": "bar"})),
        "the newer update wins"
    );
    assert!(
        customer.deleted_at.is_some(),
        "customer.deleted leaves a tombstone"
    );

    let product = product::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(product.id, "prod_QXg1hqf4jFNsqG");
    assert!(product.deleted_at.is_some());
    assert!(!product.active, "a deleted product is archived");
    assert_eq!(product.metadata, Some(json!({"foo": "bar"})));

    let price = price::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(price.id, "price_1PgafmB7WZ01zgkW6dKueIc5");
    assert_eq!(price.product.as_deref(), Some("prod_QXg1hqf4jFNsqG"));
    assert_eq!(price.currency.as_deref(), Some("usd"));
    assert!(!price.active && price.deleted_at.is_some());

    let orders = order::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(
        orders.len(),
        1,
        "charge and PaymentIntent events land on one order"
    );
    let order = &orders[0];
    assert_eq!(order.id, "pi_1PgafyB7WZ01zgkWSjxsAJo3");
    assert_eq!(
        order.payment_intent.as_deref(),
        Some("pi_1PgafyB7WZ01zgkWSjxsAJo3")
    );
    assert_eq!(order.charge.as_deref(), Some("ch_1PgafuB7WZ01zgkWXYmPNZs8"));
    assert_eq!(order.status, "refunded");
    assert_eq!((order.amount, order.amount_refunded), (1099, 1099));
    assert_eq!(order.currency.as_deref(), Some("usd"));
    assert_eq!(order.customer.as_deref(), Some("cus_QXg1o8vcGmoR32"));
    assert!(
        order
            .receipt_url
            .as_deref()
            .unwrap()
            .starts_with("https://pay.stripe.com/")
    );
    // The first attempt was declined, the second paid: Stripe clears the failure.
    assert_eq!(order.failure_code, None);
    assert_eq!(order.amount_captured, 1099);
}

#[tokio::test]
async fn event_status_becomes_processed_and_unknown_types_ignored() {
    let app = spawn_app().await;
    let body = fixture("customer.created.json");
    app.post_event(&body).await;
    let unknown = br#"{"id":"evt_unknown_apply","object":"event","type":"issuing_card.created","created":1,"livemode":false,"data":{"object":{"id":"ic_1"}}}"#;
    app.post_event(unknown).await;
    app.wait_until_applied().await;
    let row = app
        .stored_event(&crate::helpers::event_id(&body))
        .await
        .unwrap();
    assert_eq!(row.status, "processed");
    assert!(row.processed_at.is_some());
    assert_eq!(row.last_error, None);
    assert_eq!(row.attempts, 1);
    assert_eq!(
        app.stored_event("evt_unknown_apply").await.unwrap().status,
        "ignored"
    );
}

#[tokio::test]
async fn destination_charge_on_the_platform_lands_in_the_sellers_store() {
    let app = spawn_app().await;
    let mut event: Value = serde_json::from_slice(&fixture("charge.succeeded.json")).unwrap();
    event.as_object_mut().unwrap().remove("account");
    event["id"] = json!("evt_destination_apply");
    event["data"]["object"]["transfer_data"] = json!({"destination": "acct_seller_dest"});
    app.post_event(&serde_json::to_vec(&event).unwrap()).await;
    app.wait_until_applied().await;
    let order = order::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(order.store_key, "acct_seller_dest");
    assert_eq!(order.source_store, "platform");
    assert_eq!(order.status, "completed");
    let store = the_store(&app, "acct_seller_dest").await;
    assert_eq!(
        store.status, "onboarding",
        "a stub store until account events arrive"
    );
}

#[tokio::test]
async fn test_mode_events_never_touch_live_rows() {
    let app = spawn_app().await;
    let mut live: Value = serde_json::from_slice(&fixture("customer.created.json")).unwrap();
    live["id"] = json!("evt_live_customer");
    live["livemode"] = json!(true);
    live["data"]["object"]["livemode"] = json!(true);
    live["data"]["object"]["email"] = json!("live@example.com");
    app.post_event(&serde_json::to_vec(&live).unwrap()).await;
    app.post_event(&fixture("customer.updated.json")).await;
    app.wait_until_applied().await;
    let rows = customer::Entity::find()
        .filter(customer::Column::Livemode.eq(true))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].email.as_deref(), Some("live@example.com"));
    assert_eq!(rows[0].metadata, Some(json!({})));
}

#[tokio::test]
async fn a_disconnected_store_shows_payments_disabled_and_its_stripe_creation_time() {
    let app = spawn_app().await;
    send_all_fixtures(&app).await;
    let api = crate::schema::Api::new(&app).await;
    let path = format!("/stores/{ACCOUNT}?livemode=false");
    let (_, store) = api.get(&path).await;
    assert_eq!(store["status"], "active");
    assert_eq!(store["charges_enabled"], true);
    assert_eq!(store["account_created"], 1_721_948_451);

    let deauthorized = json!({
        "id": "evt_deauthorized_store", "object": "event",
        "type": "account.application.deauthorized", "account": ACCOUNT,
        "created": 1_721_960_000, "livemode": false,
        "data": {"object": {"id": "ca_1", "object": "application", "name": "Market"}},
    });
    let response = app
        .post_event(&serde_json::to_vec(&deauthorized).unwrap())
        .await;
    assert_eq!(response.status(), 200);
    app.wait_until_applied().await;
    let (_, store) = api.get(&path).await;
    assert_eq!(store["status"], "disconnected");
    assert_eq!(store["charges_enabled"], false);
    assert_eq!(store["payment_settings"]["stripe_enabled"], false);
    assert_eq!(store["payment_settings"]["payment_methods"], json!([]));
    let row = the_store(&app, ACCOUNT).await;
    assert!(
        row.charges_enabled,
        "Stripe's own flag is kept for a reconnection"
    );
}

/// An account object in onboarding, shaped like Stripe's; `business_profile.name` is empty,
/// so the store is named after the company.
fn onboarding_account(details: bool, charges: bool, payouts: bool) -> Value {
    json!({
        "id": "acct_burst", "object": "account", "type": "express", "country": "FR",
        "email": "owner@example.com", "default_currency": "eur", "created": 1_721_900_000,
        "business_profile": {"name": null, "url": null, "support_email": null},
        "company": {"name": "Atelier Burst", "phone": "+33100000000",
                    "address": {"city": "Paris", "country": "FR"}},
        "details_submitted": details, "charges_enabled": charges, "payouts_enabled": payouts,
        "capabilities": {"card_payments": if charges { "active" } else { "pending" },
                         "transfers": if payouts { "active" } else { "pending" }},
        "requirements": {"currently_due": [], "disabled_reason":
            if charges { Value::Null } else { json!("requirements.pending_verification") }},
        "settings": {"dashboard": {"display_name": null}},
    })
}

#[tokio::test]
async fn a_same_second_onboarding_burst_delivered_backwards_leaves_the_store_active() {
    let app = spawn_app().await;
    let update = |id: &str, object: Value, previous: Value| {
        let event = json!({"id": id, "object": "event", "type": "account.updated",
            "account": "acct_burst", "created": 1_721_950_000, "livemode": false,
            "data": {"object": object, "previous_attributes": previous}});
        serde_json::to_vec(&event).unwrap()
    };
    // One second, three steps; the event ids sort against the order Stripe made them in.
    let steps = [
        update(
            "evt_burst_c",
            onboarding_account(true, false, false),
            json!({"details_submitted": false}),
        ),
        update(
            "evt_burst_b",
            onboarding_account(true, true, false),
            json!({"charges_enabled": false,
                      "requirements": {"disabled_reason": "requirements.pending_verification"}}),
        ),
        update(
            "evt_burst_a",
            onboarding_account(true, true, true),
            json!({"payouts_enabled": false}),
        ),
    ];
    for body in steps.iter().rev().chain(steps.iter()) {
        assert_eq!(app.post_event(body).await.status(), 200);
    }
    app.wait_until_applied().await;
    let api = crate::schema::Api::new(&app).await;
    let (_, store) = api.get("/stores/acct_burst").await;
    assert_eq!(store["status"], "active");
    assert_eq!(
        (&store["charges_enabled"], &store["payouts_enabled"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(store["name"], "Atelier Burst", "the company name stands in");
    assert_eq!(store["account_created"], 1_721_900_000);
}

#[tokio::test]
async fn nul_characters_in_a_signed_event_are_dropped_on_every_backend() {
    let app = spawn_app().await;
    let mut event: Value = serde_json::from_slice(&fixture("customer.created.json")).unwrap();
    event["id"] = json!("evt_nul_customer");
    event["data"]["object"]["name"] = json!("Jenny\u{0}Rosen");
    event["data"]["object"]["metadata"] = json!({"note\u{0}": "a\u{0}b"});
    assert_eq!(
        app.post_event(&serde_json::to_vec(&event).unwrap())
            .await
            .status(),
        200
    );
    app.wait_until_applied().await;
    assert_eq!(
        app.stored_event("evt_nul_customer").await.unwrap().status,
        "processed"
    );
    let row = customer::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.name.as_deref(), Some("JennyRosen"));
    assert_eq!(row.metadata, Some(json!({"note": "ab"})));
}

/// A service stopped between a catalogue change and the rebuild of the pages (the flag
/// is set, the pages are old): the next start rebuilds them without any new event.
#[tokio::test]
async fn pages_left_stale_by_a_stopped_service_are_rebuilt_at_start_up() {
    use crate::helpers::{fresh_database_url, spawn_app_with, test_settings};
    use sea_orm::{ConnectionTrait, Statement};

    let url = fresh_database_url().await;
    let app = spawn_app_with(test_settings(&url), &url).await;
    for name in ["account.updated.json", "product.created.json"] {
        assert_eq!(app.post_event(&fixture(name)).await.status(), 200, "{name}");
    }
    app.wait_until_applied().await;
    let store = the_store(&app, ACCOUNT).await;
    assert!(!store.pages_stale);
    let featured = &store.pages.as_ref().unwrap()["home"]["featured_products"];
    assert_eq!(featured[0]["name"], "T-shirt", "{featured}");
    let db = app.db.clone();
    app.shutdown().await;

    // What the stopped service left: the product renamed in the same commit that marked
    // the pages stale, and no rebuild.
    for sql in [
        "UPDATE marketplace_products SET name = 'Gray T-shirt'",
        "UPDATE stripe_stores SET pages_stale = TRUE",
    ] {
        db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap();
    }

    let app = spawn_app_with(test_settings(&url), &url).await;
    app.wait_until_applied().await;
    let store = the_store(&app, ACCOUNT).await;
    assert!(!store.pages_stale);
    let featured = &store.pages.as_ref().unwrap()["home"]["featured_products"];
    assert_eq!(featured[0]["name"], "Gray T-shirt", "{featured}");
    app.shutdown().await;
}
