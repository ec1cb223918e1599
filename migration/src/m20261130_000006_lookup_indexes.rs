//! An index for every lookup, filter and list order the admin API offers, so that reads
//! take the same time whatever the size of the tables (see `tests/api/query_plans.rs`).
//!
//! On PostgreSQL an index on a table that holds rows is built `CONCURRENTLY`, which takes no
//! lock that blocks writes: the service (or another replica) keeps applying events while
//! it builds. That cannot run inside a transaction, so this migration runs without one and
//! each statement is safe to run again: an interrupted concurrent build leaves an invalid
//! index, which is dropped and built again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index, table, columns). Lists are newest first by `pk` (events by `created_at`, `id`;
/// either by `created` when a `created` range is asked), so each filter's index ends with
/// the list order.
pub const INDEXES: [(&str, &str, &str); 20] = [
    ("idx_orders_id", "marketplace_orders", "id"),
    ("idx_orders_charge", "marketplace_orders", "charge"),
    (
        "idx_orders_payment_intent",
        "marketplace_orders",
        "payment_intent",
    ),
    ("idx_orders_customer", "marketplace_orders", "customer, pk"),
    ("idx_orders_store_pk", "marketplace_orders", "store_key, pk"),
    ("idx_orders_status", "marketplace_orders", "status, pk"),
    (
        "idx_orders_store_status",
        "marketplace_orders",
        "store_key, status, pk",
    ),
    // A `created` range orders its list by `created` (see `store::admin::page_by_created`).
    ("idx_orders_created", "marketplace_orders", "created, pk"),
    (
        "idx_orders_store_created",
        "marketplace_orders",
        "store_key, created, pk",
    ),
    ("idx_customers_id", "marketplace_customers", "id"),
    ("idx_customers_email", "marketplace_customers", "email, pk"),
    (
        "idx_customers_store_pk",
        "marketplace_customers",
        "store_key, pk",
    ),
    ("idx_products_id", "marketplace_products", "id"),
    (
        "idx_products_store_pk",
        "marketplace_products",
        "store_key, pk",
    ),
    (
        "idx_products_category",
        "marketplace_products",
        "category, pk",
    ),
    ("idx_stores_status", "stripe_stores", "status, pk"),
    (
        "idx_events_newest",
        "stripe_webhook_events",
        "created_at, id",
    ),
    (
        "idx_events_type",
        "stripe_webhook_events",
        "type, created_at, id",
    ),
    (
        "idx_events_store",
        "stripe_webhook_events",
        "store_key, created_at, id",
    ),
    ("idx_events_created", "stripe_webhook_events", "created, id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(false)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        for (name, table, columns) in INDEXES {
            // An empty table (a new database) is indexed at once; a concurrent build
            // waits for every open transaction of the cluster, which only pays off when
            // there are rows to index while writes go on.
            let concurrently = postgres && has_rows(db, table).await?;
            if concurrently {
                drop_if_invalid(db, name).await?;
            }
            let how = if concurrently { "CONCURRENTLY " } else { "" };
            db.execute_unprepared(&format!(
                "CREATE INDEX {how}IF NOT EXISTS {name} ON {table} ({columns})"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}

async fn has_rows(db: &impl ConnectionTrait, table: &str) -> Result<bool, DbErr> {
    let sql = format!("SELECT 1 AS found FROM {table} LIMIT 1");
    Ok(db.query_one_raw(raw(db, sql)).await?.is_some())
}

/// Drops what an interrupted `CREATE INDEX CONCURRENTLY` left behind: an index of that
/// name that PostgreSQL marks invalid (unused by queries, but still written).
async fn drop_if_invalid(db: &impl ConnectionTrait, name: &str) -> Result<(), DbErr> {
    let sql = format!(
        "SELECT 1 AS found FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE c.relname = '{name}' AND NOT i.indisvalid \
         AND pg_catalog.pg_table_is_visible(c.oid)"
    );
    if db.query_one_raw(raw(db, sql)).await?.is_some() {
        db.execute_unprepared(&format!("DROP INDEX CONCURRENTLY IF EXISTS {name}"))
            .await?;
    }
    Ok(())
}

fn raw(db: &impl ConnectionTrait, sql: String) -> Statement {
    Statement::from_string(db.get_database_backend(), sql)
}
