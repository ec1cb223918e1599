//! Every statement the admin API runs (and the queue's reads), run again under `EXPLAIN
//! ANALYZE` on PostgreSQL over a seeded database (the scale benchmark's shape at 20,000
//! orders): a sequential scan, or
//! an index scan that reads and throws away many rows, fails the test. So a new filter
//! or lookup cannot ship without its index, and a filter the indexes serve only for the
//! list order (reading the table backwards until enough rows match) is caught too.

use std::sync::{Arc, Mutex};

use scale::plan::Plan;
use scale::requests::{Samples, admin_reads};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, Statement, TransactionTrait};
use tracing::field::{Field, Visit};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

use crate::helpers::{fresh_database_url, postgres_url, spawn_app_with, test_settings};
use crate::schema::Api;

/// Rows a plan node may read and discard, or a scan return (5 % of the orders seeded).
const MAX_ROWS_REMOVED: u64 = 1_000;

#[tokio::test]
async fn every_admin_read_is_served_by_an_index() {
    if postgres_url().is_none() {
        eprintln!("skipped: query plans are checked on PostgreSQL (set TEST_DATABASE_URL)");
        return;
    }
    let url = fresh_database_url().await;
    let plan = Plan::for_orders(20_000);
    let mut options = ConnectOptions::new(url.as_str());
    options.max_connections(1);
    let db = Database::connect(options).await.unwrap();
    scale::seed::seed(&db, &plan, |_| {}).await.unwrap();

    let app = spawn_app_with(test_settings(&url), &url).await;
    let api = Api::new(&app).await;
    let statements = Statements::default();
    // The test's runtime has one thread: the server's tasks report to this subscriber.
    let subscriber = Registry::default().with(
        statements
            .clone()
            .with_filter(Targets::new().with_target("sea_orm", tracing::Level::DEBUG)),
    );
    let _capture = tracing::subscriber::set_default(subscriber);

    let requests = admin_reads(&api.doc, &Samples::of(&plan)).unwrap();
    let mut problems = Vec::new();
    let mut explained = 0;
    for (_, path) in &requests {
        statements.take();
        ask_callsites_again();
        let (status, body) = api.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        for sql in statements.take() {
            if !sql.starts_with("SELECT") {
                continue;
            }
            explained += 1;
            let plan = explain(&db, &sql).await;
            if let Some(problem) = problem_in(&plan) {
                problems.push(format!("{path}\n  {sql}\n  {problem}\n{plan}"));
            }
        }
    }
    // The queue's own reads, on the webhook path: by store, across stores, and retention's.
    use payments::store::inbox;
    statements.take();
    ask_callsites_again();
    inbox::pending_for_store(&app.db, "acct_scale0", 100)
        .await
        .unwrap();
    inbox::stores_with_pending(&app.db).await.unwrap();
    inbox::stores_with_pending_before(&app.db, chrono::Utc::now())
        .await
        .unwrap();
    inbox::pending_summary(&app.db).await.unwrap();
    let month_ago = chrono::Utc::now() - chrono::Duration::days(30);
    inbox::prune_applied(&app.db, month_ago, 100).await.unwrap();
    for sql in statements.take() {
        if !(sql.starts_with("SELECT") || sql.starts_with("DELETE")) {
            continue;
        }
        explained += 1;
        // (Explained in a transaction that is rolled back: the delete deletes nothing.)
        let plan = explain(&db, &sql).await;
        if let Some(problem) = problem_in(&plan) {
            problems.push(format!("the queue\n  {sql}\n  {problem}\n{plan}"));
        }
    }
    assert!(
        explained > requests.len() + 5,
        "statements were not captured: {explained} for {} requests",
        requests.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Re-evaluates every callsite's interest with this thread's capture installed. While it
/// is the only scoped subscriber alive, tracing judges a callsite by the subscriber of
/// whichever thread hits it first: a sea_orm statement callsite first hit by another test's
/// thread (no subscriber there) is cached as "never", and this test then captures nothing
/// (seen in full PostgreSQL runs). Asked again before each request, it is judged here.
fn ask_callsites_again() {
    tracing::callsite::rebuild_interest_cache();
}

/// The plan of `sql` as run, with sequential scans priced out: one remains only where no
/// index can serve.
async fn explain(db: &sea_orm::DatabaseConnection, sql: &str) -> String {
    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("SET LOCAL enable_seqscan = off")
        .await
        .unwrap();
    let rows = txn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {sql}"),
        ))
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    rows.iter()
        .map(|row| row.try_get::<String>("", "QUERY PLAN").unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// What is wrong with a plan, if anything.
fn problem_in(plan: &str) -> Option<String> {
    for line in plan.lines() {
        if line.contains("Seq Scan") {
            return Some(format!("a sequential scan: {}", line.trim()));
        }
        // A page holds at most 101 rows: a scan that returns many more feeds a sort or a
        // filter with rows the answer does not need.
        let returned = line
            .split("actual rows=")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<u64>().ok());
        if line.contains("Scan") && returned.is_some_and(|n| n > MAX_ROWS_REMOVED) {
            return Some(format!("a scan returning many rows: {}", line.trim()));
        }
        let removed = line
            .trim()
            .strip_prefix("Rows Removed by Filter: ")
            .and_then(|n| n.parse::<u64>().ok());
        if removed.is_some_and(|n| n > MAX_ROWS_REMOVED) {
            return Some(format!("rows read and thrown away: {}", line.trim()));
        }
    }
    None
}

/// The SQL of every statement sea-orm runs (its `debug-print` events, values inlined).
#[derive(Clone, Default)]
struct Statements(Arc<Mutex<Vec<String>>>);

impl Statements {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

impl<S: tracing::Subscriber> Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Message(Option<String>);
        impl Visit for Message {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = Some(format!("{value:?}"));
                }
            }
        }
        let mut message = Message(None);
        event.record(&mut message);
        self.0.lock().unwrap().extend(message.0);
    }
}

#[test]
fn a_scan_that_throws_rows_away_is_a_problem() {
    let plan = "Limit\n  ->  Index Scan Backward using marketplace_orders_pkey on marketplace_orders\n        Filter: (customer = 'cus_1'::text)\n        Rows Removed by Filter: 19990";
    assert!(problem_in(plan).unwrap().contains("thrown away"));
    assert!(problem_in("Seq Scan on marketplace_orders").is_some());
    let sorted = "Sort\n  ->  Index Scan using idx_orders_created on marketplace_orders (actual rows=10000 loops=1)";
    assert!(problem_in(sorted).unwrap().contains("many rows"));
    assert!(problem_in("Index Scan using idx_orders_customer on marketplace_orders").is_none());
}
