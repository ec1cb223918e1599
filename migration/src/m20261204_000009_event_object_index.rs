//! An index of the event log by the object each event is about, within its store: the
//! console's order page lists the events of an order's PaymentIntent and charge. Built as
//! the lookup indexes are (see `m20261130_000006_lookup_indexes`): concurrently on
//! PostgreSQL, outside a transaction, safe to run again.

use sea_orm_migration::prelude::*;

use crate::m20261130_000006_lookup_indexes::{create_index, drop_index, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const EVENTS_BY_OBJECT: crate::m20261130_000006_lookup_indexes::Index = index(
    "idx_events_object",
    "stripe_webhook_events",
    "store_key, object_id, created",
);

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(false)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_index(manager.get_connection(), EVENTS_BY_OBJECT).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager.get_connection(), EVENTS_BY_OBJECT).await
    }
}
