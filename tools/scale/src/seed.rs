//! Writes a [`Plan`]'s rows straight into the database, in bulk: one `INSERT ... SELECT`
//! over a range of row numbers per batch, every column computed in SQL.
//!
//! The indexes of the last migration are built after the rows are in (a bulk build is
//! much faster than keeping ten indexes up to date row by row), and the maintained
//! summaries are recounted once at the end. On PostgreSQL the summary triggers are
//! skipped while seeding (`session_replication_role = replica`, superusers only; without
//! it they fire, which is slower but as exact).

use std::time::Instant;

use anyhow::{Context, bail};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::plan::{self, Plan, customer_store_sql, pick_sql, share_sql};

/// Builds the `INSERT ... SELECT` of one table, over `{series}`.
type InsertSql = fn(&Plan, DbBackend) -> String;

/// Rows per statement.
const BATCH: i64 = 250_000;

/// The migrations before the lookup indexes.
const BEFORE_INDEXES: u32 = 5;

/// Seeds `plan` into `db`, which must hold no orders yet; `progress` hears each step.
pub async fn seed(
    db: &DatabaseConnection,
    plan: &Plan,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<()> {
    let started = Instant::now();
    let applied = Migrator::get_applied_migrations(db).await?.len() as u32;
    Migrator::up(db, Some(BEFORE_INDEXES.saturating_sub(applied)))
        .await
        .context("migrating")?;
    if holds_orders(db).await? {
        bail!("the database already holds orders: seed a fresh database");
    }
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres
        && db
            .execute_unprepared("SET session_replication_role = replica")
            .await
            .is_err()
    {
        progress("not a superuser: the summary triggers fire while seeding (slower)");
    }
    let tables: [(&str, i64, InsertSql); 6] = [
        ("stores", plan.stores, stores),
        ("customers", plan.customers, customers),
        ("products", plan.products, products),
        ("prices", plan.products, prices),
        ("orders", plan.orders, orders),
        ("events", plan.events, events),
    ];
    for (name, rows, insert) in tables {
        let sql = insert(plan, backend);
        let mut lo = 0;
        while lo < rows {
            let hi = (lo + BATCH).min(rows);
            let statement = sql
                .replace("{series}", &series(backend, lo, hi))
                .replace("{n}", &rows.to_string());
            db.execute_unprepared(&statement)
                .await
                .with_context(|| format!("seeding {name} {lo}..{hi}"))?;
            lo = hi;
            progress(&format!(
                "{name}: {hi} of {rows} ({:.0} s)",
                started.elapsed().as_secs_f64()
            ));
        }
    }
    if backend == DbBackend::Postgres {
        db.execute_unprepared("SET session_replication_role = DEFAULT")
            .await
            .ok();
    }
    migration::recount_summaries(db).await?;
    progress(&format!(
        "summaries recounted ({:.0} s)",
        started.elapsed().as_secs_f64()
    ));
    Migrator::up(db, None)
        .await
        .context("building the indexes")?;
    progress(&format!(
        "indexes built ({:.0} s)",
        started.elapsed().as_secs_f64()
    ));
    db.execute_unprepared("ANALYZE").await?;
    progress(&format!(
        "analyzed ({:.0} s)",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

async fn holds_orders(db: &DatabaseConnection) -> anyhow::Result<bool> {
    let statement = Statement::from_string(
        db.get_database_backend(),
        "SELECT 1 AS found FROM marketplace_orders LIMIT 1",
    );
    Ok(db.query_one_raw(statement).await?.is_some())
}

/// The row numbers `lo..hi` as a source named `s` with one column `k`.
pub(crate) fn series(backend: DbBackend, lo: i64, hi: i64) -> String {
    match backend {
        DbBackend::Postgres => format!("generate_series({lo}, {}) AS s(k)", hi - 1),
        _ => format!(
            "(WITH RECURSIVE r(k) AS (SELECT {lo} UNION ALL SELECT k + 1 FROM r WHERE k < {}) \
             SELECT k FROM r) AS s",
            hi - 1
        ),
    }
}

/// The current time as the service stores it, less `seconds_ago` (an SQL expression).
fn timestamp(backend: DbBackend, seconds_ago: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("(now() - ({seconds_ago}) * interval '1 second')"),
        _ => format!(
            "(strftime('%Y-%m-%dT%H:%M:%S', 'now', '-' || ({seconds_ago}) || ' seconds') \
             || '.000000000+00:00')"
        ),
    }
}

fn stores(_: &Plan, backend: DbBackend) -> String {
    let now = timestamp(backend, "0");
    let status = "(CASE WHEN k % 20 < 17 THEN 'active' WHEN k % 20 < 19 THEN 'onboarding' \
                  ELSE 'restricted' END)";
    format!(
        "INSERT INTO stripe_stores (id, livemode, name, email, country, currency, status, \
         charges_enabled, payouts_enabled, details_submitted, created_at, updated_at) \
         SELECT 'acct_scale' || k, FALSE, 'Scale Store ' || k, 'store' || k || '@example.com', \
         'US', 'usd', {status}, k % 20 < 17, k % 20 < 17, k % 20 <> 17, {now}, {now} \
         FROM {{series}}"
    )
}

/// The store of row `k` when it follows a customer chosen with `multiplier` (products and
/// their prices with one, an event with its order's).
fn store_by(plan: &Plan, multiplier: i64) -> String {
    customer_store_sql(plan, &pick_sql("k", multiplier, plan.customers))
}

fn customers(plan: &Plan, backend: DbBackend) -> String {
    let now = timestamp(backend, "0");
    format!(
        "INSERT INTO marketplace_customers (store_key, livemode, id, email, name, created, \
         created_at, updated_at) \
         SELECT 'acct_scale' || {store}, FALSE, 'cus_scale' || k, 'c' || k || '@example.com', \
         'Customer ' || k, {first} + k, {now}, {now} FROM {{series}}",
        store = customer_store_sql(plan, "k"),
        first = plan::FIRST_CREATED,
    )
}

/// One product in ten names no default price: its price is found by product.
fn products(plan: &Plan, backend: DbBackend) -> String {
    let now = timestamp(backend, "0");
    format!(
        "INSERT INTO marketplace_products (store_key, livemode, id, name, active, category, \
         default_price, created, created_at, updated_at) \
         SELECT 'acct_scale' || {store}, FALSE, 'prod_scale' || k, 'Product ' || k, \
         k % 10 <> 0, 'Category ' || {category}, \
         CASE WHEN k % 10 = 5 THEN NULL ELSE 'price_scale' || k END, {first} + k, {now}, {now} \
         FROM {{series}}",
        store = store_by(plan, plan::PRODUCT_STORE),
        category = pick_sql("k", plan::PRODUCT_CATEGORY, plan::CATEGORIES),
        first = plan::FIRST_CREATED,
    )
}

fn prices(plan: &Plan, backend: DbBackend) -> String {
    let now = timestamp(backend, "0");
    format!(
        "INSERT INTO marketplace_prices (store_key, livemode, id, product, unit_amount, \
         currency, type, created, created_at, updated_at) \
         SELECT 'acct_scale' || {store}, FALSE, 'price_scale' || k, 'prod_scale' || k, \
         500 + k % 5000, 'usd', 'one_time', {first} + k, {now}, {now} FROM {{series}}",
        store = store_by(plan, plan::PRODUCT_STORE),
        first = plan::FIRST_CREATED,
    )
}

fn orders(plan: &Plan, backend: DbBackend) -> String {
    let now = timestamp(backend, "0");
    let status = share_sql("k", plan::ORDER_STATUS, &plan::ORDER_STATUSES);
    let amount = format!("(500 + {})", pick_sql("k", plan::ORDER_AMOUNT, 20_000));
    let captured =
        format!("(CASE WHEN {status} IN ('completed', 'refunded') THEN {amount} ELSE 0 END)");
    let refunded = format!("(CASE WHEN {status} = 'refunded' THEN {amount} ELSE 0 END)");
    let currency = format!(
        "(CASE WHEN {} = 0 THEN 'eur' ELSE 'usd' END)",
        pick_sql("k", plan::ORDER_CURRENCY, 10)
    );
    format!(
        "INSERT INTO marketplace_orders (store_key, source_store, livemode, id, payment_intent, \
         charge, customer, amount, amount_captured, amount_refunded, currency, status, \
         receipt_url, created, created_at, updated_at) \
         SELECT 'acct_scale' || {store}, 'acct_scale' || {store}, FALSE, 'pi_scale' || k, \
         'pi_scale' || k, 'ch_scale' || k, 'cus_scale' || c, {amount}, {captured}, {refunded}, \
         {currency}, {status}, 'https://pay.stripe.com/receipts/scale/' || k, \
         {first} + k * {step}, {now}, {now} \
         FROM (SELECT k, {customer} AS c FROM {{series}}) AS s",
        store = customer_store_sql(plan, "c"),
        customer = pick_sql("k", plan::ORDER_CUSTOMER, plan.customers),
        first = plan::FIRST_CREATED,
        step = plan::CREATED_STEP,
    )
}

fn events(plan: &Plan, backend: DbBackend) -> String {
    // Received in order, ten a second, the last one now: all within the retention period.
    let received = timestamp(backend, "({n} - k) / 10");
    format!(
        "INSERT INTO stripe_webhook_events (id, type, account, store_key, livemode, api_version, \
         object_id, payload, status, attempts, created, created_at, processed_at) \
         SELECT 'evt_scale' || k, {event_type}, 'acct_scale' || {store}, \
         'acct_scale' || {store}, FALSE, '2024-06-20', 'pi_scale' || k, \
         '{{\"id\":\"evt_scale' || k || '\",\"object\":\"event\"}}', {status}, 1, \
         {first} + k * {step}, {received}, {received} FROM {{series}}",
        event_type = share_sql("k", plan::EVENT_TYPE, &plan::EVENT_TYPES),
        store = store_by(plan, plan::ORDER_CUSTOMER),
        status = share_sql("k", plan::EVENT_STATUS, &plan::EVENT_STATUSES),
        first = plan::FIRST_CREATED,
        step = plan::CREATED_STEP,
    )
}
