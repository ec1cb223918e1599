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

/// An index: its name, table, columns and whether it is unique.
#[derive(Debug, Clone, Copy)]
pub struct Index {
    pub name: &'static str,
    pub table: &'static str,
    pub columns: &'static str,
    pub unique: bool,
    /// A partial index: only the rows where this holds.
    pub only: Option<&'static str>,
}

pub(crate) const fn index(name: &'static str, table: &'static str, columns: &'static str) -> Index {
    Index {
        name,
        table,
        columns,
        unique: false,
        only: None,
    }
}

/// An index of the rows of one event status: the inbox's waiting events, or the failed ones
/// an operator looks for, without an entry for each of the millions of applied events
/// (and without one more index write when an event leaves that status).
const fn of_status(name: &'static str, columns: &'static str, only: &'static str) -> Index {
    Index {
        only: Some(only),
        ..index(name, "stripe_webhook_events", columns)
    }
}

const fn unique(name: &'static str, table: &'static str, columns: &'static str) -> Index {
    Index {
        unique: true,
        ..index(name, table, columns)
    }
}

/// The indexes added. Lists are newest first by `pk` (events by `created_at`, `id`; either
/// by `created` when a `created` range is asked), so each filter's index ends with the list
/// order. The natural keys lead with the Stripe id, so that they also serve a lookup by id
/// without a store (an id is all but unique across stores).
pub const INDEXES: [Index; 26] = [
    unique(
        "uq_orders_id",
        "marketplace_orders",
        "id, source_store, livemode",
    ),
    unique(
        "uq_customers_id",
        "marketplace_customers",
        "id, store_key, livemode",
    ),
    unique(
        "uq_products_id",
        "marketplace_products",
        "id, store_key, livemode",
    ),
    index("idx_orders_charge", "marketplace_orders", "charge"),
    index(
        "idx_orders_payment_intent",
        "marketplace_orders",
        "payment_intent",
    ),
    index("idx_orders_customer", "marketplace_orders", "customer, pk"),
    index("idx_orders_store_pk", "marketplace_orders", "store_key, pk"),
    index("idx_orders_status", "marketplace_orders", "status, pk"),
    index(
        "idx_orders_store_status",
        "marketplace_orders",
        "store_key, status, pk",
    ),
    // A `created` range orders its list by `created` (see `store::admin::page_by_created`).
    index("idx_orders_created", "marketplace_orders", "created, pk"),
    index(
        "idx_orders_store_created",
        "marketplace_orders",
        "store_key, created, pk",
    ),
    index("idx_customers_email", "marketplace_customers", "email, pk"),
    index(
        "idx_customers_store_pk",
        "marketplace_customers",
        "store_key, pk",
    ),
    index(
        "idx_products_store_pk",
        "marketplace_products",
        "store_key, pk",
    ),
    index(
        "idx_products_category",
        "marketplace_products",
        "category, pk",
    ),
    // The prices of products that name no default price (`store::rows::prices_shown`).
    index(
        "idx_prices_product",
        "marketplace_prices",
        "store_key, livemode, product",
    ),
    index("idx_stores_status", "stripe_stores", "status, pk"),
    index(
        "idx_events_newest",
        "stripe_webhook_events",
        "created_at, id",
    ),
    index(
        "idx_events_type",
        "stripe_webhook_events",
        "type, created_at, id",
    ),
    index(
        "idx_events_store",
        "stripe_webhook_events",
        "store_key, created_at, id",
    ),
    index("idx_events_created", "stripe_webhook_events", "created, id"),
    // The inbox: a store's waiting events in order (also how many wait, the oldest, which
    // stores). The queries write `status = 'received'` out: a generic plan with the status
    // as a parameter cannot use a partial index.
    of_status(
        "idx_events_store_received",
        "store_key, created_at, id",
        "status = 'received'",
    ),
    // The event log filtered by a status, newest first: each status but `processed`, which
    // is most of the log and found by reading it in order.
    of_status(
        "idx_events_received",
        "created_at, id",
        "status = 'received'",
    ),
    of_status("idx_events_skipped", "created_at, id", "status = 'skipped'"),
    of_status("idx_events_ignored", "created_at, id", "status = 'ignored'"),
    of_status("idx_events_failed", "created_at, id", "status = 'failed'"),
];

/// What [`INDEXES`] make redundant, dropped once they exist (every index is written on
/// each change of its row, so each one costs the webhook path), and put back on the way
/// down: the natural keys that led with the store (the store lists now use `store_key, pk`
/// and lookups the id-leading keys), a customer index for totals the database now
/// maintains, two `created_at` indexes no query uses, and the inbox's status indexes, which
/// held every event (partial indexes of each status but `processed` replace them: an event
/// that ends `processed` leaves no entry behind in them).
const REPLACED: [Index; 9] = [
    unique(
        "uq_orders_source_id",
        "marketplace_orders",
        "source_store, livemode, id",
    ),
    unique(
        "uq_customers_store_id",
        "marketplace_customers",
        "store_key, livemode, id",
    ),
    unique(
        "uq_products_store_id",
        "marketplace_products",
        "store_key, livemode, id",
    ),
    index(
        "idx_orders_store_id",
        "marketplace_orders",
        "store_key, livemode, id",
    ),
    index(
        "idx_orders_source_customer",
        "marketplace_orders",
        "source_store, livemode, customer",
    ),
    index("idx_orders_created_at", "marketplace_orders", "created_at"),
    index(
        "idx_events_created_at",
        "stripe_webhook_events",
        "created_at",
    ),
    index(
        "idx_events_status",
        "stripe_webhook_events",
        "status, created_at",
    ),
    index(
        "idx_events_store_status",
        "stripe_webhook_events",
        "store_key, status, created_at",
    ),
];

/// Tables whose rows are updated in place by most events: on PostgreSQL, room left in each
/// page lets an update that changes no indexed column stay on its page without touching
/// any index (a HOT update).
const UPDATED_IN_PLACE: [&str; 4] = [
    "stripe_stores",
    "marketplace_customers",
    "marketplace_products",
    "marketplace_orders",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(false)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for index in INDEXES {
            create_index(db, index).await?;
        }
        for index in REPLACED {
            drop_index(db, index).await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            for table in UPDATED_IN_PLACE {
                db.execute_unprepared(&format!("ALTER TABLE {table} SET (fillfactor = 90)"))
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            for table in UPDATED_IN_PLACE {
                db.execute_unprepared(&format!("ALTER TABLE {table} RESET (fillfactor)"))
                    .await?;
            }
        }
        for index in REPLACED {
            create_index(db, index).await?;
        }
        for index in INDEXES {
            drop_index(db, index).await?;
        }
        Ok(())
    }
}

/// Creates `index` unless it exists: on PostgreSQL concurrently when its table holds rows
/// (an empty table, as in a new database, is indexed at once; a concurrent build waits for
/// every open transaction of the cluster, which only pays off when there are rows to index
/// while writes go on).
pub(crate) async fn create_index(db: &impl ConnectionTrait, index: Index) -> Result<(), DbErr> {
    let concurrently = concurrently(db, index.table).await?;
    if concurrently {
        drop_if_invalid(db, index.name).await?;
    }
    let unique = if index.unique { "UNIQUE " } else { "" };
    let how = if concurrently { "CONCURRENTLY " } else { "" };
    let only = index.only.map(|only| format!(" WHERE {only}"));
    let Index {
        name,
        table,
        columns,
        ..
    } = index;
    db.execute_unprepared(&format!(
        "CREATE {unique}INDEX {how}IF NOT EXISTS {name} ON {table} ({columns}){}",
        only.unwrap_or_default()
    ))
    .await?;
    Ok(())
}

pub(crate) async fn drop_index(db: &impl ConnectionTrait, index: Index) -> Result<(), DbErr> {
    let how = match concurrently(db, index.table).await? {
        true => "CONCURRENTLY ",
        false => "",
    };
    db.execute_unprepared(&format!("DROP INDEX {how}IF EXISTS {}", index.name))
        .await?;
    Ok(())
}

async fn concurrently(db: &impl ConnectionTrait, table: &str) -> Result<bool, DbErr> {
    Ok(db.get_database_backend() == DbBackend::Postgres && has_rows(db, table).await?)
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
