//! A storefront checkout's order, written the moment its Checkout Session is created.
//!
//! Stripe sends no event when a session is created, so the session Stripe answered with
//! is stored as the session's first snapshot, through the same path as the snapshots of
//! webhooks ([`payments::apply`]): the order appears at once as `pending`, keyed by the
//! session, and moves to its PaymentIntent's order when an event names one. The snapshot
//! is versioned at the session's `created` with no event id, so any event about the
//! session outranks it.

use entity::order;
use entity::order_observation::{self as observation, Column};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    TransactionTrait,
};
use serde_json::Value;

use super::{db, payments, rows};
use crate::domain::orders::observe::{SourceKind, observe};
use crate::domain::{DomainError, EventRef};

/// The snapshot's event type: what created it, since no event did.
pub const CREATED: &str = "checkout.session.created";

/// Why a session could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the session is not one Stripe would send: {0}")]
    Invalid(#[from] DomainError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Records the Checkout Session `session` of `source_store` (the seller's account for a
/// direct charge, the platform for a destination charge) as its order's first snapshot,
/// under the store's lock, as an actor applies an event.
pub async fn record_session(
    db: &DatabaseConnection,
    source_store: &str,
    session: &Value,
) -> Result<(), RecordError> {
    let created = session.get("created").and_then(Value::as_i64).unwrap_or(0);
    let livemode = session.get("livemode").and_then(Value::as_bool) == Some(true);
    let event = EventRef {
        id: "",
        event_type: CREATED,
        store_key: source_store,
        livemode,
        created,
        api_version: Some(crate::stripe::api::API_VERSION),
        object: session,
    };
    let snapshots = observe(&event)?;
    let txn = db.begin().await?;
    db::lock_store(&txn, source_store).await?;
    rows::ensure_store(&txn, source_store, livemode).await?;
    payments::apply(&txn, &event, snapshots).await?;
    txn.commit().await?;
    Ok(())
}

/// The order of the Checkout Session `session` of `source_store`, whichever id it is
/// filed under now (the session's, or its PaymentIntent's).
pub async fn order_of_session(
    db: &impl ConnectionTrait,
    source_store: &str,
    livemode: bool,
    session: &str,
) -> Result<Option<order::Model>, DbErr> {
    let filed = observation::Entity::find()
        .filter(Column::SourceStore.eq(source_store))
        .filter(Column::Livemode.eq(livemode))
        .filter(Column::Kind.eq(SourceKind::CheckoutSession.as_str()))
        .filter(Column::SourceId.eq(session))
        .one(db)
        .await?;
    let Some(order_id) = filed.and_then(|row| row.order_id) else {
        return Ok(None);
    };
    order::Entity::find()
        .filter(order::Column::SourceStore.eq(source_store))
        .filter(order::Column::Livemode.eq(livemode))
        .filter(order::Column::Id.eq(order_id))
        .one(db)
        .await
}
