//! The event log over the inbox: the filtered list, one event, and replays.
//!
//! Events page by (`created_at`, `id`), newest first: `created_at` is when the event was
//! stored, so new deliveries sort first, and the id breaks ties between deliveries stored
//! in the same instant. Filtered by a `created` range, they page by (`created`, `id`).

use std::collections::BTreeSet;

use entity::status::EventStatus;
use entity::webhook_event::{self, Column, Entity};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{Page, PageRequest, QueryError, page_in_order};
use crate::store::inbox;

/// Filters of the event log and of bulk replays (all optional).
#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    pub status: Option<String>,
    pub event_type: Option<String>,
    /// The store key (`acct_...` or `platform`).
    pub account: Option<String>,
    /// Stripe's `created` at or after (Unix seconds).
    pub created_gte: Option<i64>,
    pub created_lte: Option<i64>,
}

impl EventFilter {
    /// Whether no filter is set (a bulk replay refuses that).
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.event_type.is_none()
            && self.account.is_none()
            && self.created_gte.is_none()
            && self.created_lte.is_none()
    }

    /// The rows matching every filter set (a `status` that is not a status matches none:
    /// the HTTP layer refuses it first).
    fn condition(&self) -> Condition {
        let mut condition = Condition::all();
        if let Some(text) = &self.status {
            condition = condition.add(match EventStatus::parse(text) {
                Some(status) => of_status(status),
                None => Expr::cust("1 = 0"),
            });
        }
        let equal = [
            (Column::EventType, &self.event_type),
            (Column::StoreKey, &self.account),
        ];
        for (column, value) in equal {
            if let Some(value) = value {
                condition = condition.add(column.eq(value.as_str()));
            }
        }
        if let Some(gte) = self.created_gte {
            condition = condition.add(Column::Created.gte(gte));
        }
        if let Some(lte) = self.created_lte {
            condition = condition.add(Column::Created.lte(lte));
        }
        condition
    }
}

/// `status = '...'` written out rather than bound: each status but `processed` has a
/// partial index (`WHERE status = '...'`), which PostgreSQL cannot use for a prepared
/// statement's generic plan with the status as a parameter. The text comes from the closed
/// set of statuses, never from the request.
fn of_status(status: EventStatus) -> SimpleExpr {
    Expr::cust(format!("\"status\" = '{}'", status.as_str()))
}

/// A page of events, newest received first; by Stripe's `created` when a `created` range
/// is given, so that the range and the order are one index range.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &EventFilter,
    page: &PageRequest,
) -> Result<Page<webhook_event::Model>, QueryError> {
    let lead = match filter.created_gte.is_some() || filter.created_lte.is_some() {
        true => Column::Created,
        false => Column::CreatedAt,
    };
    let base = Entity::find().filter(filter.condition());
    page_in_order(db, base, page, &[lead, Column::Id], Column::Id).await
}

/// One stored event, with its payload.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<webhook_event::Model, QueryError> {
    inbox::find(db, id)
        .await?
        .ok_or_else(|| QueryError::NotFound {
            kind: "event",
            id: id.to_owned(),
        })
}

/// Puts every event matching `filter` back in the queue; returns how many, and the
/// stores they belong to (each needs its actor to resume).
pub async fn requeue(
    db: &impl ConnectionTrait,
    filter: &EventFilter,
) -> Result<(u64, BTreeSet<String>), QueryError> {
    // The stores first: once requeued the events no longer match a `status` filter.
    let stores: Vec<String> = Entity::find()
        .select_only()
        .column(Column::StoreKey)
        .filter(filter.condition())
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let replayed = inbox::requeue(db, filter.condition()).await?;
    Ok((replayed, stores.into_iter().collect()))
}

/// Puts one event back in the queue, whatever its status, and returns it as it now is.
pub async fn requeue_one(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<webhook_event::Model, QueryError> {
    find(db, id).await?;
    inbox::requeue(db, Condition::all().add(Column::Id.eq(id))).await?;
    find(db, id).await
}

/// The latest events (up to `limit`, newest first) of a store about any of `objects`: an
/// order's history, by its PaymentIntent and charge ids.
pub async fn about_objects(
    db: &impl ConnectionTrait,
    store_key: &str,
    objects: &[&str],
    limit: u64,
) -> Result<Vec<webhook_event::Model>, QueryError> {
    use sea_orm::QueryOrder;
    Ok(Entity::find()
        .filter(Column::StoreKey.eq(store_key))
        .filter(Column::ObjectId.is_in(objects.iter().copied()))
        .order_by_desc(Column::Created)
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}
