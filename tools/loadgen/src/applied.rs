//! After sending: read the server's database until every acknowledged event has left
//! `received` (or the wait is over), and measure the apply lag.
//!
//! The lag of an event is `processed_at - created_at`: from when the server stored it to
//! when an actor applied it (or dead-lettered it). An acknowledged event that is not in
//! the database is *lost*: the server answers 2xx only after the row is committed.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::webhook_event::{Column, Entity};
use hdrhistogram::Histogram;
use sea_orm::{
    ColumnTrait, ConnectOptions, Database, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect,
};
use tokio::time::Instant;

use super::tally::{micros, micros_histogram};
use entity::status::EventStatus;

/// Ids per `IN (...)` query: well under SQLite's and PostgreSQL's parameter limits.
const CHUNK: usize = 500;
const POLL: Duration = Duration::from_millis(200);

/// Where the acknowledged events stand.
pub struct Applied {
    /// Acknowledged events found in the database, by status.
    pub statuses: BTreeMap<String, u64>,
    /// Acknowledged events still `received` when the wait ended.
    pub unapplied: u64,
    /// Acknowledged events missing from the database.
    pub lost: u64,
    /// Apply lag of the events that left `received`, µs.
    pub lag: Histogram<u64>,
    /// How long the wait took.
    pub waited: Duration,
}

impl Applied {
    /// Nothing counted yet.
    fn empty() -> Self {
        Applied {
            statuses: BTreeMap::new(),
            unapplied: 0,
            lost: 0,
            lag: micros_histogram(),
            waited: Duration::ZERO,
        }
    }

    /// Dead-lettered events (`failed`).
    pub fn failed(&self) -> u64 {
        self.statuses.get("failed").copied().unwrap_or(0)
    }
}

/// (id, status, stored at, applied at)
type Row = (String, String, DateTime<Utc>, Option<DateTime<Utc>>);

/// Waits up to `timeout` for the `acknowledged` events to be applied.
pub async fn wait(
    database_url: &str,
    acknowledged: Vec<String>,
    timeout: Duration,
) -> anyhow::Result<Applied> {
    let db = connect(database_url).await?;
    let started = Instant::now();
    let mut applied = Applied::empty();
    let mut pending = acknowledged;
    loop {
        let rows = fetch(&db, &pending).await?;
        pending = settle(&mut applied, pending, &rows);
        if pending.is_empty() || started.elapsed() >= timeout {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    applied.unapplied = pending.len() as u64;
    *applied
        .statuses
        .entry(EventStatus::Received.as_str().to_owned())
        .or_default() += applied.unapplied;
    applied.statuses.retain(|_, count| *count > 0);
    applied.waited = started.elapsed();
    db.close().await.ok();
    Ok(applied)
}

async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    // One reader is plenty, and sqlx would log every statement at INFO.
    options.max_connections(1).sqlx_logging(false);
    Ok(Database::connect(options).await?)
}

/// Records the rows that left `received`; returns the ids still waiting.
fn settle(applied: &mut Applied, pending: Vec<String>, rows: &HashMap<String, Row>) -> Vec<String> {
    let mut waiting = Vec::new();
    for id in pending {
        let Some((_, status, stored_at, applied_at)) = rows.get(&id) else {
            applied.lost += 1;
            continue;
        };
        if status == EventStatus::Received.as_str() {
            waiting.push(id);
            continue;
        }
        *applied.statuses.entry(status.clone()).or_default() += 1;
        if let Some(applied_at) = applied_at {
            let lag = (*applied_at - *stored_at).to_std().unwrap_or_default();
            applied.lag.saturating_record(micros(lag).max(1));
        }
    }
    waiting
}

async fn fetch(db: &DatabaseConnection, ids: &[String]) -> anyhow::Result<HashMap<String, Row>> {
    let mut rows = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let found: Vec<Row> = Entity::find()
            .select_only()
            .columns([
                Column::Id,
                Column::Status,
                Column::CreatedAt,
                Column::ProcessedAt,
            ])
            .filter(Column::Id.is_in(chunk.iter().map(String::as_str)))
            .into_tuple()
            .all(db)
            .await?;
        rows.extend(found.into_iter().map(|row| (row.0.clone(), row)));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_rows_are_lost_and_received_rows_keep_waiting() {
        let at = |ms| DateTime::<Utc>::from_timestamp_millis(ms).unwrap();
        let rows = HashMap::from([
            (
                "evt_done".to_owned(),
                (
                    "evt_done".to_owned(),
                    "processed".to_owned(),
                    at(1_000),
                    Some(at(1_250)),
                ),
            ),
            (
                "evt_wait".to_owned(),
                (
                    "evt_wait".to_owned(),
                    "received".to_owned(),
                    at(1_000),
                    None,
                ),
            ),
        ]);
        let mut applied = Applied::empty();
        let pending = ["evt_done", "evt_wait", "evt_gone"]
            .map(str::to_owned)
            .to_vec();
        let waiting = settle(&mut applied, pending, &rows);
        assert_eq!(waiting, ["evt_wait"]);
        assert_eq!(applied.lost, 1);
        assert_eq!(applied.statuses["processed"], 1);
        assert_eq!(applied.lag.len(), 1);
        assert!((applied.lag.max() as i64 - 250_000).abs() < 500);
    }
}
