//! The console's overview: stores by status, orders and revenue per currency, events per
//! status, and how much waits in the inbox. Grouped counts over whole tables, read only
//! when someone opens the overview.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::{order, store, webhook_event};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect};

use crate::store::inbox;

/// What the overview shows. Live and test data are counted apart: each key leads with
/// `livemode`.
#[derive(Debug, Clone, Default)]
pub struct Overview {
    /// Stores per mode and status (`active`, `onboarding`, ...).
    pub stores: BTreeMap<(bool, String), i64>,
    /// Per mode and currency: orders, and what they kept (captured less refunds and lost
    /// disputes).
    pub revenue: BTreeMap<(bool, String), Revenue>,
    /// Stored events per mode and status.
    pub events: BTreeMap<(bool, String), i64>,
    /// Events waiting to be applied, and when the oldest of them arrived.
    pub pending: u64,
    pub oldest_pending: Option<DateTime<Utc>>,
}

/// The orders of one currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Revenue {
    pub orders: i64,
    pub kept: i64,
}

/// Reads the overview.
pub async fn read(db: &impl ConnectionTrait) -> Result<Overview, DbErr> {
    let (pending, oldest_pending) = inbox::pending_summary(db).await?;
    Ok(Overview {
        stores: stores_by_status(db).await?,
        revenue: revenue_by_currency(db).await?,
        events: events_by_status(db).await?,
        pending,
        oldest_pending,
    })
}

async fn stores_by_status(
    db: &impl ConnectionTrait,
) -> Result<BTreeMap<(bool, String), i64>, DbErr> {
    let rows: Vec<(bool, String, i64)> = store::Entity::find()
        .select_only()
        .column(store::Column::Livemode)
        .column(store::Column::Status)
        .column_as(Expr::col(store::Column::Pk).count(), "count")
        .group_by(store::Column::Livemode)
        .group_by(store::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    Ok(by_mode(rows))
}

async fn events_by_status(
    db: &impl ConnectionTrait,
) -> Result<BTreeMap<(bool, String), i64>, DbErr> {
    let rows: Vec<(bool, String, i64)> = webhook_event::Entity::find()
        .select_only()
        .column(webhook_event::Column::Livemode)
        .column(webhook_event::Column::Status)
        .column_as(Expr::col(webhook_event::Column::Id).count(), "count")
        .group_by(webhook_event::Column::Livemode)
        .group_by(webhook_event::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    Ok(by_mode(rows))
}

/// Orders and kept amounts per currency; orders of an unknown currency are left out.
async fn revenue_by_currency(
    db: &impl ConnectionTrait,
) -> Result<BTreeMap<(bool, String), Revenue>, DbErr> {
    // PostgreSQL sums BIGINTs as NUMERIC: cast back.
    let kept = Expr::cust(
        "CAST(SUM(CASE WHEN amount_captured - amount_refunded - amount_lost > 0 \
         THEN amount_captured - amount_refunded - amount_lost ELSE 0 END) AS BIGINT)",
    );
    let rows: Vec<(bool, Option<String>, i64, Option<i64>)> = order::Entity::find()
        .select_only()
        .column(order::Column::Livemode)
        .column(order::Column::Currency)
        .column_as(Expr::col(order::Column::Pk).count(), "orders")
        .column_as(kept, "kept")
        .group_by(order::Column::Livemode)
        .group_by(order::Column::Currency)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(livemode, currency, orders, kept)| {
            let kept = kept.unwrap_or(0);
            Some(((livemode, currency?), Revenue { orders, kept }))
        })
        .collect())
}

/// Counts keyed by mode and status.
fn by_mode(rows: Vec<(bool, String, i64)>) -> BTreeMap<(bool, String), i64> {
    rows.into_iter()
        .map(|(livemode, status, count)| ((livemode, status), count))
        .collect()
}
