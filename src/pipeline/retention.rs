//! Retention: applied events older than the configured age are deleted in the background,
//! so the event log does not grow without bound. Failed and waiting events are kept until
//! an operator replays them; they are never pruned.

use std::time::Duration;

use sea_orm::DatabaseConnection;
use tracing::{info, warn};

use crate::metrics;
use crate::store::inbox;

/// Rows deleted per statement.
const CHUNK: u64 = 1000;

/// Every `interval`, deletes the applied events older than `age`.
pub async fn run(db: DatabaseConnection, age: Duration, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    loop {
        ticks.tick().await;
        match prune_once(&db, age).await {
            Ok(0) => {}
            Ok(deleted) => info!(deleted, "pruned applied events past retention"),
            Err(err) => warn!(error = %err, "pruning old events failed; will try again"),
        }
    }
}

/// Deletes every applied event older than `age`, chunk by chunk. Returns how many.
pub async fn prune_once(db: &DatabaseConnection, age: Duration) -> Result<u64, sea_orm::DbErr> {
    let Some(before) = chrono::Duration::from_std(age)
        .ok()
        .and_then(|age| chrono::Utc::now().checked_sub_signed(age))
    else {
        return Ok(0);
    };
    let mut total = 0;
    loop {
        let deleted = inbox::prune_applied(db, before, CHUNK).await?;
        total += deleted;
        metrics::events_pruned(deleted);
        if deleted < CHUNK {
            return Ok(total);
        }
    }
}
