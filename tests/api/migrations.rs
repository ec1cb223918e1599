//! Upgrading a database in place: a database migrated by an earlier release, holding rows,
//! is migrated by the current service at start-up and keeps working.

use chrono::{TimeZone, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, Database, EntityTrait};
use serde_json::json;

use crate::helpers::{fixture, fresh_database_url, spawn_app_with, test_settings};
use crate::ordering::deliver_and_apply;
use crate::schema::Api;

const ACCOUNT: &str = "acct_1PgafTB7WZ01zgkW";

/// How many migrations the release before `m20261130_000003_store_account_facts` had.
const BEFORE_ACCOUNT_FACTS: u32 = 2;

#[tokio::test]
async fn a_store_of_the_previous_schema_is_kept_and_gains_its_stripe_creation_time() {
    let url = fresh_database_url().await;
    let old = Database::connect(url.as_str()).await.unwrap();
    Migrator::up(&old, Some(BEFORE_ACCOUNT_FACTS))
        .await
        .unwrap();
    let seen = Utc.timestamp_opt(1_721_948_500, 0).unwrap();
    // The row as the previous release wrote it: no `account_created`, and a version
    // tie-break in the old `rank|event_id` form.
    let insert = Query::insert()
        .into_table(Alias::new("stripe_stores"))
        .columns(
            [
                "id",
                "livemode",
                "name",
                "status",
                "charges_enabled",
                "details_submitted",
                "version",
                "version_event",
                "created_at",
                "updated_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            ACCOUNT.into(),
            false.into(),
            "Old Name".into(),
            "onboarding".into(),
            false.into(),
            false.into(),
            1_721_948_451_i64.into(),
            "0|evt_old".into(),
            seen.into(),
            seen.into(),
        ])
        .to_owned();
    old.execute(&insert).await.unwrap();
    old.close().await.unwrap();

    // The service migrates at start-up.
    let app = spawn_app_with(test_settings(&url), &url).await;
    assert!(
        Migrator::get_pending_migrations(&app.db)
            .await
            .unwrap()
            .is_empty()
    );
    let api = Api::new(&app).await;
    let (status, store) = api.get(&format!("/stores/{ACCOUNT}?livemode=false")).await;
    assert_eq!(status, 200);
    assert_eq!(store["name"], "Old Name");
    assert_eq!(store["created"], 1_721_948_500);
    assert_eq!(store["account_created"], serde_json::Value::Null);

    // A later account event is applied over the old row and brings the Stripe time.
    assert_eq!(
        app.post_event(&fixture("account.updated.json"))
            .await
            .status(),
        200
    );
    app.wait_until_applied().await;
    let (_, store) = api.get(&format!("/stores/{ACCOUNT}?livemode=false")).await;
    assert_eq!(store["name"], "Rosen Threads");
    assert_eq!(store["status"], "active");
    assert_eq!(store["account_created"], 1_721_948_451);
    assert_eq!(store["created"], 1_721_948_500, "first seen is kept");
    app.shutdown().await;
}

/// A database of the schema before this release holding the rows `inserts` write.
async fn old_database(inserts: &[&str]) -> sea_orm::DatabaseConnection {
    let db = Database::connect(fresh_database_url().await.as_str())
        .await
        .unwrap();
    Migrator::up(&db, Some(BEFORE_ACCOUNT_FACTS)).await.unwrap();
    for insert in inserts {
        db.execute_unprepared(insert).await.unwrap();
    }
    db
}

/// The one order of `db`, after the current migrations.
async fn the_migrated_order(db: &sea_orm::DatabaseConnection) -> entity::order::Model {
    payments::store::db::migrate(db).await.unwrap();
    entity::order::Entity::find()
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

/// Orders written before observations existed keep what they knew, and the next event
/// about them builds on it.
#[tokio::test]
async fn orders_written_before_observations_are_carried_forward() {
    let db = old_database(&[
        "INSERT INTO marketplace_orders (store_key, livemode, id, payment_intent, charge, \
         customer, amount, amount_refunded, currency, status, items, receipt_url, created, \
         created_at, updated_at) VALUES ('acct_up', false, 'pi_up', 'pi_up', 'ch_up', \
         'cus_up', 1000, 0, 'usd', 'completed', '[{\"product\":\"prod_up\",\"quantity\":2}]', \
         'https://pay.stripe.com/receipts/up', 1000, '2026-01-01 00:00:00+00:00', \
         '2026-01-01 00:00:00+00:00')",
    ])
    .await;
    let order = the_migrated_order(&db).await;
    assert_eq!(
        (order.source_store.as_str(), order.store_key.as_str()),
        ("acct_up", "acct_up")
    );
    assert_eq!(
        order.amount_captured, 1000,
        "a completed order was captured"
    );
    let observations = entity::order_observation::Entity::find()
        .all(&db)
        .await
        .unwrap();
    assert_eq!(observations.len(), 1);
    assert_eq!(observations[0].kind, "legacy");

    // A refund of the old payment: its charge is new to the service, the items are not.
    let refund = json!({"id": "evt_up_refund", "object": "event", "type": "charge.refunded",
        "created": 2000, "livemode": false, "account": "acct_up", "data": {"object": {
            "id": "ch_up", "object": "charge", "amount": 1000, "amount_captured": 1000,
            "amount_refunded": 400, "captured": true, "refunded": false, "status": "succeeded",
            "currency": "usd", "payment_intent": "pi_up", "customer": "cus_up",
            "metadata": {}, "created": 1000}}});
    deliver_and_apply(&db, &[serde_json::to_vec(&refund).unwrap()]).await;
    let order = entity::order::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.status, "partially_refunded");
    assert_eq!((order.amount_captured, order.amount_refunded), (1000, 400));
    assert_eq!(
        order.items,
        Some(json!([{"product": "prod_up", "quantity": 2}]))
    );
    assert_eq!(
        order.receipt_url.as_deref(),
        Some("https://pay.stripe.com/receipts/up")
    );

    // And back down and up again.
    Migrator::down(&db, Some(1)).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
}

/// A destination charge used to be keyed by its seller, its order filed there; after the
/// upgrade its events are the platform's, and the next one lands on the same order.
#[tokio::test]
async fn a_destination_order_of_the_previous_schema_moves_to_the_platforms_payments() {
    let db = old_database(&[
        "INSERT INTO marketplace_orders (store_key, livemode, id, payment_intent, charge, \
         customer, amount, amount_refunded, currency, status, created, created_at, \
         updated_at) VALUES ('acct_dest', false, 'pi_dest', 'pi_dest', 'ch_dest', 'cus_p', \
         2000, 0, 'usd', 'completed', 1000, '2026-01-01 00:00:00+00:00', \
         '2026-01-01 00:00:00+00:00')",
        "INSERT INTO stripe_webhook_events (id, type, account, store_key, livemode, \
         object_id, payload, status, attempts, created, created_at) VALUES \
         ('evt_old_dest', 'charge.succeeded', NULL, 'acct_dest', false, 'ch_dest', '{}', \
         'processed', 1, 1000, '2026-01-01 00:00:00+00:00')",
    ])
    .await;
    let order = the_migrated_order(&db).await;
    assert_eq!(
        (order.source_store.as_str(), order.store_key.as_str()),
        ("platform", "acct_dest")
    );
    let event = entity::webhook_event::Entity::find_by_id("evt_old_dest".to_owned())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.store_key, "platform");

    let refund = json!({"id": "evt_dest_refund", "object": "event", "type": "charge.refunded",
        "created": 2000, "livemode": false, "data": {"object": {
            "id": "ch_dest", "object": "charge", "amount": 2000, "amount_captured": 2000,
            "amount_refunded": 2000, "captured": true, "refunded": true, "status": "succeeded",
            "currency": "usd", "payment_intent": "pi_dest", "customer": "cus_p",
            "transfer_data": {"destination": "acct_dest"}, "created": 1000}}});
    deliver_and_apply(&db, &[serde_json::to_vec(&refund).unwrap()]).await;
    let orders = entity::order::Entity::find().all(&db).await.unwrap();
    assert_eq!(orders.len(), 1, "one order for one payment: {orders:?}");
    assert_eq!(orders[0].status, "refunded");
    assert_eq!(orders[0].store_key, "acct_dest");
}

/// How many migrations there are from the maintained summaries on (the fifth migration:
/// summaries, lookup indexes, event body conflicts and every later one): rolled back, the
/// schema is the one before the summaries.
fn after_summaries() -> u32 {
    u32::try_from(Migrator::migrations().len() - 4).unwrap()
}

#[tokio::test]
async fn a_database_holding_rows_gains_exact_summaries_and_valid_indexes() {
    let url = fresh_database_url().await;
    let db = Database::connect(url.as_str()).await.unwrap();
    // Rows written by today's code, then the schema taken back to before the summaries:
    // the rows stay, and the migrations must build the summaries and indexes over them.
    Migrator::up(&db, None).await.unwrap();
    let stream = crate::ordering::event_stream();
    deliver_and_apply(&db, &crate::ordering::tagged(&stream, "")).await;
    Migrator::down(&db, Some(after_summaries())).await.unwrap();

    // On PostgreSQL the tables now hold rows, so the indexes are built concurrently.
    Migrator::up(&db, None).await.unwrap();
    crate::summaries::assert_summaries_match_a_recount(&db).await;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        let invalid = db
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                 WHERE NOT i.indisvalid AND pg_catalog.pg_table_is_visible(c.oid)",
            ))
            .await
            .unwrap();
        assert!(invalid.is_empty(), "invalid indexes left behind");
    }
    for index in migration::LOOKUP_INDEXES {
        let name = index.name;
        assert!(index_exists(&db, name).await, "index {name} is missing");
    }
    assert!(!index_exists(&db, "uq_orders_source_id").await, "replaced");
    // And back: the schema before the summaries and indexes.
    Migrator::down(&db, Some(after_summaries())).await.unwrap();
    assert!(!index_exists(&db, "idx_orders_charge").await);
    assert!(index_exists(&db, "uq_orders_source_id").await, "put back");
}

async fn index_exists(db: &sea_orm::DatabaseConnection, name: &str) -> bool {
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => format!(
            "SELECT 1 FROM pg_class WHERE relname = '{name}' \
             AND pg_catalog.pg_table_is_visible(oid)"
        ),
        _ => format!("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = '{name}'"),
    };
    let statement = sea_orm::Statement::from_string(db.get_database_backend(), sql);
    db.query_one_raw(statement).await.unwrap().is_some()
}

/// Replicas of a compose stack or a rollout start together: each migrates at start-up, and
/// the advisory lock makes them take turns instead of racing each other's `CREATE TABLE`s.
#[tokio::test]
async fn replicas_starting_together_all_migrate_cleanly() {
    if crate::helpers::postgres_url().is_none() {
        eprintln!("skipped: needs TEST_DATABASE_URL (SQLite has one writer on one machine)");
        return;
    }
    let url = fresh_database_url().await;
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(Database::connect(url.as_str()).await.unwrap());
    }
    let results =
        futures_util::future::join_all(replicas.iter().map(payments::store::db::migrate)).await;
    for result in results {
        result.expect("every replica's migration succeeds");
    }
    let pending = Migrator::get_pending_migrations(&replicas[0])
        .await
        .unwrap();
    assert!(pending.is_empty());
}
