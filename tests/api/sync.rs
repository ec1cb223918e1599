//! Backfill and gap-fill from Stripe ([`payments::sync`]) against the Stripe stand-in: a
//! sync interrupted mid-listing resumes from its stored cursor, a finished one next time
//! lists only newer events, `--objects` rebuilds rows older than Stripe's 30 days of events
//! without overwriting a newer state, the admin API starts and shows a run, and the
//! periodic gap-fill picks up an event Stripe lists after the service started.

use std::time::Duration;

use figment::providers::Serialized;
use sea_orm::{
    ColumnTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::{Value, json};

use crate::binary::payments;
use crate::helpers::{
    TestApp, fresh_database_url, spawn_app, spawn_app_with, temp_dir, test_settings,
};
use crate::schema::Api;
use crate::stripe_api::events;
use crate::stripe_server::{StripeServer, now};

const KEY: &str = "sk_test_stand_in_key_0001";
const SELLER: &str = "acct_1Resume";
const DAY: i64 = 86_400;

/// Runs `payments sync ARGS` off the runtime; whether it succeeded, and what it printed.
async fn sync(url: &str, base: &str, args: &[&str]) -> (bool, String) {
    let mut command = payments(
        &temp_dir(),
        &[
            ("DATABASE_URL", url.to_owned()),
            ("STRIPE_API_KEY", KEY.to_owned()),
            ("STRIPE_API_BASE", base.to_owned()),
        ],
    );
    command.arg("sync").args(args);
    let output = tokio::task::spawn_blocking(move || crate::binary::run(command))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), format!("{stdout}{stderr}"))
}

/// The `/v1/events` requests from the `from`th request on: their `starting_after` and
/// `created[gte]`.
fn event_requests(stripe: &StripeServer, from: usize) -> Vec<(Option<String>, Option<String>)> {
    let param = |query: &[(String, String)], name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    stripe.requests()[from..]
        .iter()
        .filter(|r| r.path == "/v1/events")
        .map(|r| {
            (
                param(&r.query, "starting_after"),
                param(&r.query, "created[gte]"),
            )
        })
        .collect()
}

async fn cursor(db: &DatabaseConnection, store: &str, kind: &str) -> entity::sync_cursor::Model {
    entity::sync_cursor::Entity::find_by_id((store.to_owned(), kind.to_owned()))
        .one(db)
        .await
        .unwrap()
        .expect("the listing keeps a cursor")
}

async fn stored_events(db: &DatabaseConnection) -> u64 {
    entity::webhook_event::Entity::find()
        .count(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_interrupted_sync_resumes_from_its_cursor_and_stores_every_event_once() {
    let stripe = StripeServer::start(KEY).await;
    let start = now() - 7_200;
    stripe.add_events(Some(SELLER), events("resume", start, 250));
    let url = fresh_database_url().await;
    // The second page fails as often as the client tries (4 attempts): the listing stops.
    stripe.fail_listing("/v1/events", 1, 4);
    let (ok, out) = sync(&url, &stripe.base, &["--store", SELLER]).await;
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("{SELLER}: failed: events: Stripe: HTTP 500")),
        "{out}"
    );
    let db = Database::connect(url.as_str()).await.unwrap();
    let interrupted = cursor(&db, SELLER, "events").await;
    assert_eq!(interrupted.state, "failed");
    assert_eq!(
        interrupted.starting_after.as_deref(),
        Some("evt_resume0150")
    );
    assert_eq!(stored_events(&db).await, 100, "the first page is stored");
    let first_run = event_requests(&stripe, 0);
    let since = first_run[0].1.clone().expect("created[gte]");

    let before = stripe.requests().len();
    let (ok, out) = sync(&url, &stripe.base, &["--store", SELLER]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("{SELLER}: seen 150, new 150, skipped 0")),
        "{out}"
    );
    let resumed = event_requests(&stripe, before);
    assert_eq!(
        resumed,
        [
            (Some("evt_resume0150".to_owned()), Some(since.clone())),
            (Some("evt_resume0050".to_owned()), Some(since)),
        ],
        "the second run resumes where the first stopped, in the same window"
    );
    assert_eq!(stored_events(&db).await, 250);
    for n in [0, 49, 50, 149, 150, 249] {
        let id = format!("evt_resume{n:04}");
        let stored = entity::webhook_event::Entity::find_by_id(id.clone())
            .one(&db)
            .await
            .unwrap();
        assert!(stored.is_some(), "{id}");
    }
    let finished = cursor(&db, SELLER, "events").await;
    assert_eq!(finished.state, "finished");
    assert_eq!(finished.starting_after, None);
    assert_eq!(finished.synced_through, Some(start + 249));
    db.close().await.unwrap();
}

#[tokio::test]
async fn a_finished_sync_next_lists_only_newer_events_with_a_small_overlap() {
    let stripe = StripeServer::start(KEY).await;
    let start = now() - 7_200;
    let mut older = events("older", start, 120);
    for (n, event) in older.iter_mut().enumerate() {
        event["created"] = json!(start + 10 * n as i64);
    }
    stripe.add_events(Some(SELLER), older);
    let url = fresh_database_url().await;
    let (ok, out) = sync(&url, &stripe.base, &["--store", SELLER]).await;
    assert!(
        ok && out.contains(&format!("{SELLER}: seen 120, new 120, skipped 0")),
        "{out}"
    );

    stripe.add_events(Some(SELLER), events("later", now() - 60, 5));
    let before = stripe.requests().len();
    let (ok, out) = sync(&url, &stripe.base, &["--store", SELLER]).await;
    // From the newest event listed (start + 1190) less the 300 s overlap: the 31 older
    // events from start + 890, and the 5 new ones.
    assert!(
        ok && out.contains(&format!("{SELLER}: seen 36, new 5, skipped 31")),
        "{out}"
    );
    let since = (start + 1_190 - payments::sync::OVERLAP).to_string();
    assert_eq!(event_requests(&stripe, before), [(None, Some(since))]);
}

/// Stripe's example of `name` (`account`, `customer`, `product`, `price`,
/// `payment_intent`).
fn example(name: &str) -> Value {
    let files = [
        include_str!("../data/stripe-openapi/catalog-objects.json"),
        include_str!("../data/stripe-openapi/payment-objects.json"),
        include_str!("../data/stripe-openapi/account-object.json"),
    ];
    files
        .iter()
        .map(|file| serde_json::from_str::<Value>(file).unwrap())
        .find_map(|objects| objects.get(name).cloned())
        .unwrap_or_else(|| panic!("no example of {name}"))
}

fn object(name: &str, fields: Value) -> Value {
    let mut object = example(name);
    for (key, value) in fields.as_object().unwrap() {
        object[key] = value.clone();
    }
    object
}

/// A signed webhook of `account` about `object`, applied by the service.
async fn deliver(app: &TestApp, account: &str, id: &str, kind: &str, created: i64, object: Value) {
    let event = json!({
        "id": id, "object": "event", "type": kind, "created": created, "livemode": false,
        "account": account, "api_version": payments::stripe::api::API_VERSION,
        "data": {"object": object},
    });
    let response = app.post_event(event.to_string().as_bytes()).await;
    assert_eq!(response.status(), 200);
    app.wait_until_applied().await;
}

async fn customer_name(db: &DatabaseConnection, id: &str) -> Option<String> {
    use entity::customer::{Column, Entity};
    let row = Entity::find()
        .filter(Column::Id.eq(id))
        .one(db)
        .await
        .unwrap();
    row.expect("the customer has a row").name
}

async fn product_name(db: &DatabaseConnection, id: &str) -> Option<String> {
    use entity::product::{Column, Entity};
    let row = Entity::find()
        .filter(Column::Id.eq(id))
        .one(db)
        .await
        .unwrap();
    row.expect("the product has a row").name
}

#[tokio::test]
async fn objects_rebuild_rows_older_than_30_days_and_never_overwrite_a_newer_state() {
    const SHOP: &str = "acct_1Objects";
    let stripe = StripeServer::start(KEY).await;
    let old = now() - 400 * DAY;
    let account = object("account", json!({"id": SHOP, "created": old}));
    stripe.add_object(None, account);
    let listed = [
        object(
            "customer",
            json!({"id": "cus_old", "name": "Ada Old", "created": old}),
        ),
        object(
            "product",
            json!({"id": "prod_old", "name": "Old lamp", "created": old, "updated": old}),
        ),
        object(
            "price",
            json!({"id": "price_old", "product": "prod_old", "unit_amount": 1500, "created": old}),
        ),
        object(
            "payment_intent",
            json!({
                "id": "pi_old", "status": "succeeded", "amount_received": 1099, "created": old,
                "transfer_data": null, "on_behalf_of": null,
            }),
        ),
        // Read before the webhooks below changed them.
        object(
            "customer",
            json!({"id": "cus_changed", "name": "Stale name", "created": old}),
        ),
        object(
            "product",
            json!({"id": "prod_changed", "name": "Stale product", "created": old, "updated": now() - 3 * DAY}),
        ),
    ];
    for object in listed {
        stripe.add_object(Some(SHOP), object);
    }
    let url = fresh_database_url().await;
    let app = spawn_app_with(test_settings(&url), &url).await;
    let changed = object(
        "customer",
        json!({"id": "cus_changed", "name": "Webhook name", "created": old}),
    );
    deliver(
        &app,
        SHOP,
        "evt_customer_changed",
        "customer.updated",
        now() - 100,
        changed,
    )
    .await;
    let fresh = json!({"id": "prod_changed", "name": "Fresh product", "created": old, "updated": now() - 60});
    let fresh = object("product", fresh);
    deliver(
        &app,
        SHOP,
        "evt_product_changed",
        "product.updated",
        now() - 60,
        fresh,
    )
    .await;

    let (ok, out) = sync(&url, &stripe.base, &["--objects"]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("{SHOP}: seen 6, new 6, skipped 0")),
        "{out}"
    );
    assert!(
        out.contains("platform: seen 1, new 1, skipped 0"),
        "the account: {out}"
    );
    app.wait_until_applied().await;
    let store = entity::store::Entity::find()
        .filter(entity::store::Column::Id.eq(SHOP))
        .one(&app.db)
        .await
        .unwrap();
    assert!(store.is_some(), "the account's store is rebuilt");
    assert_eq!(
        customer_name(&app.db, "cus_old").await.as_deref(),
        Some("Ada Old")
    );
    assert_eq!(
        product_name(&app.db, "prod_old").await.as_deref(),
        Some("Old lamp")
    );
    let price = entity::price::Entity::find()
        .filter(entity::price::Column::Id.eq("price_old"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the price is rebuilt");
    assert_eq!(price.unit_amount, Some(1500));
    let order = entity::order::Entity::find()
        .filter(entity::order::Column::Id.eq("pi_old"))
        .one(&app.db)
        .await
        .unwrap();
    assert!(order.is_some(), "the payment's order is rebuilt");
    assert_eq!(
        customer_name(&app.db, "cus_changed").await.as_deref(),
        Some("Webhook name")
    );
    assert_eq!(
        product_name(&app.db, "prod_changed").await.as_deref(),
        Some("Fresh product")
    );
    let snapshot = app
        .stored_event(&format!("sync_cus_old_{old}"))
        .await
        .unwrap();
    assert_eq!(
        (snapshot.event_type.as_str(), snapshot.created),
        ("customer.updated", old)
    );

    let before = app.event_count().await;
    let (ok, out) = sync(&url, &stripe.base, &["--objects"]).await;
    assert!(
        ok && out.contains(&format!("{SHOP}: seen 6, new 0, skipped 6")),
        "{out}"
    );
    assert_eq!(
        app.event_count().await,
        before,
        "a second listing stores nothing"
    );
    app.shutdown().await;
}

/// The service's settings with the stand-in as Stripe.
fn with_stripe(url: &str, stripe: &StripeServer) -> figment::Figment {
    test_settings(url)
        .merge(Serialized::default("stripe_api_key", KEY))
        .merge(Serialized::default("stripe_api_base", stripe.base.clone()))
}

/// POST `/sync` with `body`; the status and the answer, checked against the document.
async fn start(app: &TestApp, api: &Api<'_>, body: &str) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/sync", app.address))
        .bearer_auth(crate::helpers::ADMIN_TOKEN)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = crate::schema::body_value(response).await;
    api.check("post", "/sync", status, &body);
    (status, body)
}

/// Polls `GET /sync/{id}` until the run has ended.
async fn ended(api: &Api<'_>, id: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, run) = api.get(&format!("/sync/{id}")).await;
        assert_eq!(status, 200, "{run}");
        if run["state"] != "running" {
            return run;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run did not end: {run}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_admin_api_starts_one_sync_at_a_time_and_shows_it_until_it_ends() {
    let stripe = StripeServer::start(KEY).await;
    stripe.add_events(None, events("admin", now() - 3_600, 150));
    let url = fresh_database_url().await;
    let app = spawn_app_with(with_stripe(&url, &stripe), &url).await;
    let api = Api::new(&app).await;
    let (status, refused) = start(&app, &api, r#"{"since":"1w"}"#).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("invalid_request"))
    );

    // Its first request waits out a 429 with Retry-After: 2, so the run is still going.
    stripe.throttle_for(1, 2);
    let (status, run) = start(&app, &api, r#"{"since":"1d"}"#).await;
    assert_eq!(status, 202, "{run}");
    assert_eq!(
        (run["state"].as_str(), run["trigger"].as_str()),
        (Some("running"), Some("api"))
    );
    assert_eq!(run["since"], 86_400);
    let id = run["id"].as_str().unwrap().to_owned();
    let (status, busy) = start(&app, &api, "").await;
    assert_eq!(status, 409, "{busy}");
    assert_eq!(busy["error"]["code"], "sync_running");
    assert!(busy["error"]["message"].as_str().unwrap().contains(&id));

    let run = ended(&api, &id).await;
    assert_eq!(run["state"], "finished", "{run}");
    assert_eq!(
        run["totals"],
        json!({"seen": 150, "new": 150, "skipped": 0})
    );
    let listing = &run["listings"][0];
    assert_eq!(
        (listing["store"].as_str(), listing["kind"].as_str()),
        (Some("platform"), Some("events"))
    );
    assert_eq!(listing["counts"]["new"], 150);
    assert_eq!(listing["cursor"], Value::Null);
    assert!(run["finished"].as_i64().unwrap() >= run["created"].as_i64().unwrap());
    let (_, runs) = api.get("/sync").await;
    assert_eq!(runs["data"][0]["id"], id.as_str());
    let (status, missing) = api.get("/sync/syncrun_unknown").await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (404, Some("resource_missing"))
    );
    // The service hands the new events to the store's actor at once.
    app.wait_until_applied().await;
    let products = entity::product::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(products, 150);
    app.shutdown().await;
}

#[tokio::test]
async fn without_a_stripe_key_a_sync_cannot_start() {
    let app = spawn_app().await;
    let api = Api::new(&app).await;
    let (status, body) = start(&app, &api, r#"{"objects":true}"#).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("stripe_not_configured"))
    );
    let (status, runs) = api.get("/sync").await;
    assert_eq!(
        (status, runs["data"].as_array().map(Vec::len)),
        (200, Some(0))
    );
}

#[tokio::test]
async fn the_periodic_gap_fill_stores_an_event_stripe_lists_after_the_start() {
    let stripe = StripeServer::start(KEY).await;
    let url = fresh_database_url().await;
    let settings = with_stripe(&url, &stripe).merge(Serialized::default("sync_interval_secs", 1));
    let app = spawn_app_with(settings, &url).await;
    let mut missed = events("gapfill", now(), 1);
    missed[0]["id"] = json!("evt_never_delivered");
    stripe.add_events(None, missed);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while app.stored_event("evt_never_delivered").await.is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the gap-fill did not store it"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.wait_until_applied().await;
    let product = entity::product::Entity::find()
        .filter(entity::product::Column::Id.eq("prod_gapfill0000"))
        .one(&app.db)
        .await
        .unwrap();
    assert!(product.is_some());
    let api = Api::new(&app).await;
    let (_, runs) = api.get("/sync").await;
    let runs = runs["data"].as_array().unwrap();
    assert!(
        runs.iter().all(|run| run["trigger"] == "interval"),
        "{runs:?}"
    );
    app.shutdown().await;
}
