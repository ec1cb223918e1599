//! The inbox table `stripe_webhook_events`: storing deliveries and reading the event log.

use chrono::Utc;
use entity::webhook_event::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TryInsertResult,
};

use crate::stripe::envelope::Envelope;

/// Status of an event that is stored but not yet applied.
pub const RECEIVED: &str = "received";
/// Every status an event can have.
pub const STATUSES: &[&str] = &[RECEIVED, "processed", "skipped", "ignored", "failed"];

/// Outcome of storing a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    /// The event id was already stored; nothing changed.
    Duplicate,
}

/// Stores a verified delivery: the raw payload and the envelope fields. Committed when this
/// returns `Ok`; a duplicate event id leaves the existing row untouched.
pub async fn store(
    db: &impl ConnectionTrait,
    envelope: &Envelope,
    payload: String,
) -> Result<Stored, DbErr> {
    let row = webhook_event::ActiveModel {
        id: Set(envelope.id.clone()),
        event_type: Set(envelope.event_type.clone()),
        account: Set(envelope.account.clone()),
        store_key: Set(envelope.store_key.clone()),
        livemode: Set(envelope.livemode),
        api_version: Set(envelope.api_version.clone()),
        object_id: Set(envelope.object_id.clone()),
        payload: Set(payload),
        status: Set(RECEIVED.to_owned()),
        attempts: Set(0),
        last_error: Set(None),
        created: Set(envelope.created),
        created_at: Set(Utc::now()),
        processed_at: Set(None),
    };
    let result = Entity::insert(row)
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await?;
    Ok(match result {
        TryInsertResult::Inserted(rows) if rows > 0 => Stored::New,
        _ => Stored::Duplicate,
    })
}

/// Filters of the event log.
#[derive(Debug, Default, Clone)]
pub struct LogFilter {
    pub status: Option<String>,
    pub event_type: Option<String>,
    pub account: Option<String>,
    pub limit: u64,
}

/// The most recent events matching `filter`, newest first.
pub async fn recent(
    db: &impl ConnectionTrait,
    filter: &LogFilter,
) -> Result<Vec<webhook_event::Model>, DbErr> {
    let mut query = Entity::find();
    if let Some(status) = &filter.status {
        query = query.filter(Column::Status.eq(status.as_str()));
    }
    if let Some(event_type) = &filter.event_type {
        query = query.filter(Column::EventType.eq(event_type.as_str()));
    }
    if let Some(account) = &filter.account {
        query = query.filter(Column::StoreKey.eq(account.as_str()));
    }
    query
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id)
        .limit(filter.limit)
        .all(db)
        .await
}
