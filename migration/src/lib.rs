//! Database migrations, written once for SQLite and PostgreSQL.
//!
//! The service runs them at start-up and through `payments migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_tables;
mod m20261126_000002_store_connection;
mod m20261130_000003_store_account_facts;
mod m20261130_000004_order_observations;
mod m20261130_000005_maintained_summaries;
mod m20261130_000006_lookup_indexes;
mod m20261130_000007_event_body_conflicts;
mod m20261204_000008_contact_messages_and_slugs;
mod m20261204_000009_event_object_index;
mod m20261205_000010_sync_cursors;
mod m20261207_000011_pages_stale;

pub use m20261130_000005_maintained_summaries::recount as recount_summaries;
pub use m20261130_000006_lookup_indexes::INDEXES as LOOKUP_INDEXES;

/// Every migration of the service, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_tables::Migration),
            Box::new(m20261126_000002_store_connection::Migration),
            Box::new(m20261130_000003_store_account_facts::Migration),
            Box::new(m20261130_000004_order_observations::Migration),
            Box::new(m20261130_000005_maintained_summaries::Migration),
            Box::new(m20261130_000006_lookup_indexes::Migration),
            Box::new(m20261130_000007_event_body_conflicts::Migration),
            Box::new(m20261204_000008_contact_messages_and_slugs::Migration),
            Box::new(m20261204_000009_event_object_index::Migration),
            Box::new(m20261205_000010_sync_cursors::Migration),
            Box::new(m20261207_000011_pages_stale::Migration),
        ]
    }
}
