//! Applying stored events: a batch of a store's events ([`apply_batch`]), or one event with
//! its attempt counted first ([`attempt`]: retries, and after a crash). Both take, in ONE
//! transaction, the store's lock and the events (one statement), run their domain
//! handlers, record their final status and mark the store's pages stale when a change
//! shows on them ([`rebuild_pages`] rebuilds them a moment later).
//!
//! The claim (`status = 'received'` → final status, `RETURNING` the ids claimed) makes the
//! effect happen once even if two actors or two replicas try the same event. On PostgreSQL
//! a transaction-scoped advisory lock per store key serializes a store's transactions
//! across replicas. SQLite has a single writer; the claim is the transaction's first
//! statement, so the write lock is taken at once (a deferred transaction that read first
//! could fail its later write with SQLITE_BUSY instead of waiting).
//!
//! A database failure gives the attempt back: an outage must not dead-letter healthy events.

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use serde_json::Value;
use std::time::Instant;

use entity::webhook_event::Model;

use entity::status::EventStatus;

use crate::domain::{self, DomainError, EventRef, Outcome};
use crate::metrics;
use crate::store::changes::{self, WriteError};
use crate::store::{db as database, inbox, pages, rows};

/// What one attempt at an event came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Applied now, with this outcome.
    Done(Outcome),
    /// Not waiting any more: applied before, by this or another actor.
    AlreadyDone,
    /// It had used up its attempts and is now `failed`.
    DeadLettered,
}

/// Why an attempt failed; the event stays `received` for the next attempt.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("attempt {attempts} failed: {source}")]
    Domain {
        attempts: i32,
        #[source]
        source: WriteError,
    },
    #[error("database unavailable: {0}")]
    Db(#[from] DbErr),
}

/// Makes one attempt at event `id`. Events that already used `max_attempts` are
/// dead-lettered instead.
pub async fn attempt(
    db: &DatabaseConnection,
    id: &str,
    max_attempts: i32,
    store: &mut StoreState,
) -> Result<Applied, ApplyError> {
    let Some(row) = inbox::find(db, id).await? else {
        return Ok(Applied::AlreadyDone);
    };
    if row.status != EventStatus::Received {
        return Ok(Applied::AlreadyDone);
    }
    if row.attempts >= max_attempts {
        inbox::mark_failed(db, id).await?;
        metrics::event_dead_lettered(&row.event_type);
        return Ok(Applied::DeadLettered);
    }
    if !inbox::begin_attempt(db, id).await? {
        return Ok(Applied::AlreadyDone);
    }
    let attempts = row.attempts + 1;
    let started = Instant::now();
    // The attempt is counted already: the claim must not count it again.
    match batch_in_transaction(db, std::slice::from_ref(&row), Count::Counted, store).await {
        Ok(applied) => {
            let Some(&(_, outcome)) = applied.first() else {
                return Ok(Applied::AlreadyDone);
            };
            metrics::event_attempted(&row.event_type, outcome.into(), started.elapsed());
            let lag = chrono::Utc::now() - row.created_at;
            metrics::event_lag(lag.to_std().unwrap_or_default());
            Ok(Applied::Done(outcome))
        }
        Err(BatchError::Domain { source, .. }) => {
            inbox::record_error(db, id, &source.to_string()).await?;
            if attempts < max_attempts {
                metrics::event_attempted(
                    &row.event_type,
                    metrics::ApplyResult::Retried,
                    started.elapsed(),
                );
            }
            Err(ApplyError::Domain { attempts, source })
        }
        Err(BatchError::Db(err)) => {
            // Best effort: the database may be the thing that failed.
            let _ = inbox::release_attempt(db, id, &format!("database error: {err}")).await;
            Err(ApplyError::Db(err))
        }
    }
}

/// The parsed payload of a stored event (public for the apply path's benchmarks).
pub fn parse_payload(row: &Model) -> Result<Value, DomainError> {
    serde_json::from_str(&row.payload).map_err(|err| DomainError::InvalidObject {
        object: "event",
        reason: err.to_string(),
    })
}

/// What the domain sees of a stored event.
pub fn event_ref<'a>(row: &'a Model, payload: &'a Value) -> EventRef<'a> {
    EventRef {
        id: &row.id,
        event_type: &row.event_type,
        store_key: &row.store_key,
        livemode: row.livemode,
        created: row.created,
        api_version: row.api_version.as_deref(),
        object: payload.pointer("/data/object").unwrap_or(&Value::Null),
    }
}

/// Whether the claim counts the attempt: a batch's attempt counts only if it commits; a
/// retry ([`attempt`]) counted its attempt before starting, so a crash still counts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Count {
    OnCommit,
    Counted,
}

/// Why a batch was not applied; nothing of it was (its transaction rolled back).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// One of the events failed: apply them one by one to find which ([`attempt`]).
    #[error("event {event_id} failed: {source}")]
    Domain {
        event_id: String,
        #[source]
        source: WriteError,
    },
    #[error("database unavailable: {0}")]
    Db(DbErr),
}

/// Applies a store's waiting events, oldest first, in ONE transaction: lock the store,
/// claim them all, run their handlers, set the outcomes that are not `processed`, commit.
/// One commit and a handful of statements for the whole batch is what lets a busy store
/// keep up. The claim counts the attempt, so it counts only if the batch commits: the
/// caller uses this only for events that never failed, and falls back to [`attempt`]
/// (which counts before it starts) after any failure or crash.
/// Returns the events applied now with their outcome; the others were applied before.
pub async fn apply_batch(
    db: &DatabaseConnection,
    rows: &[Model],
    store: &mut StoreState,
) -> Result<Vec<(usize, Outcome)>, BatchError> {
    let started = Instant::now();
    let applied = batch_in_transaction(db, rows, Count::OnCommit, store).await?;
    metrics::apply_batch(rows.len());
    let share = started.elapsed() / u32::try_from(rows.len().max(1)).unwrap_or(u32::MAX);
    let now = chrono::Utc::now();
    for (index, outcome) in &applied {
        let row = &rows[*index];
        metrics::event_attempted(&row.event_type, (*outcome).into(), share);
        metrics::event_lag((now - row.created_at).to_std().unwrap_or_default());
    }
    Ok(applied)
}

/// What an actor knows of its store's rows between transactions, per mode (`[test, live]`).
#[derive(Debug, Default, Clone, Copy)]
pub struct StoreState {
    /// The store row exists: a committed batch ensured it, and stores are never deleted.
    pub exists: [bool; 2],
    /// A committed batch marked the pages stale; the actor rebuilds them.
    pub pages_stale: [bool; 2],
}

/// Lock the store, claim the rows, run their handlers, record their outcomes, commit;
/// `store` learns what the commit made true.
async fn batch_in_transaction(
    db: &DatabaseConnection,
    rows: &[Model],
    count: Count,
    store: &mut StoreState,
) -> Result<Vec<(usize, Outcome)>, BatchError> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let txn = db.begin().await.map_err(BatchError::Db)?;
    let mut after = *store;
    let result = claim_and_apply(&txn, &first.store_key, rows, count, &mut after).await;
    match result {
        Ok(applied) => {
            txn.commit().await.map_err(BatchError::Db)?;
            *store = after;
            Ok(applied)
        }
        Err(err) => {
            // Roll back now rather than on drop, so the store's lock is released at once.
            let _ = txn.rollback().await;
            Err(err)
        }
    }
}

async fn claim_and_apply(
    txn: &DatabaseTransaction,
    store_key: &str,
    rows: &[Model],
    count: Count,
    store: &mut StoreState,
) -> Result<Vec<(usize, Outcome)>, BatchError> {
    let db_error = |err: DbErr| failure(&rows[0].id, WriteError::Db(err));
    let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
    // Takes the store's lock too.
    let claimed = inbox::claim(txn, store_key, &ids, count == Count::OnCommit)
        .await
        .map_err(db_error)?;
    // The store row once per mode, and only until the actor knows it exists.
    for livemode in [false, true] {
        let mode = usize::from(livemode);
        if !store.exists[mode]
            && rows
                .iter()
                .any(|row| row.livemode == livemode && claimed.contains(&row.id))
        {
            rows::ensure_store(txn, store_key, livemode)
                .await
                .map_err(db_error)?;
            store.exists[mode] = true;
        }
    }
    let mut touched = [false, false];
    let mut applied = Vec::with_capacity(claimed.len());
    let mut reasons = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        if !claimed.contains(&row.id) {
            continue;
        }
        let done = apply_one(txn, row)
            .await
            .map_err(|source| failure(&row.id, source))?;
        touched[usize::from(row.livemode)] |= done.touches_pages;
        applied.push((index, done.outcome));
        if let Some(reason) = done.reason {
            reasons.push((row.id.as_str(), reason));
        }
    }
    // The pages depend on the store and its whole catalogue: rebuilding them here would
    // read the catalogue in every batch. They are marked stale with the change, in the
    // same commit, and the actor rebuilds them once for all the changes of the next moment.
    for livemode in [false, true] {
        let mode = usize::from(livemode);
        if touched[mode] && !store.pages_stale[mode] {
            rows::mark_pages_stale(txn, store_key, livemode)
                .await
                .map_err(db_error)?;
            store.pages_stale[mode] = true;
        }
    }
    for outcome in [Outcome::Skipped, Outcome::Ignored] {
        let ids: Vec<&str> = applied
            .iter()
            .filter(|(_, applied)| *applied == outcome)
            .map(|(index, _)| rows[*index].id.as_str())
            .collect();
        if !ids.is_empty() {
            inbox::set_status(txn, &ids, outcome.status())
                .await
                .map_err(db_error)?;
        }
    }
    // Rare (a misconfigured endpoint), so one statement per event is fine.
    for (id, reason) in reasons {
        inbox::record_reason(txn, id, reason)
            .await
            .map_err(db_error)?;
    }
    Ok(applied)
}

/// Rebuilds the pages of the store, in one transaction under the store's lock: those of
/// the modes `store` says this actor marked stale, and with `check`, any other mode's
/// whose row says they are stale (after a restart, or another replica's mark), read
/// first without a transaction, so that a check that finds nothing costs one statement.
pub async fn rebuild_pages(
    db: &DatabaseConnection,
    store_key: &str,
    store: &mut StoreState,
    check: bool,
) -> Result<(), DbErr> {
    let mut due = store.pages_stale;
    if check {
        for livemode in rows::modes_with_stale_pages(db, store_key).await? {
            due[usize::from(livemode)] = true;
        }
    }
    if due.contains(&true) {
        let txn = db.begin().await?;
        database::lock_store(&txn, store_key).await?;
        for livemode in [false, true] {
            let mode = usize::from(livemode);
            if due[mode] {
                pages::rebuild_stale_pages(&txn, store_key, livemode, store.pages_stale[mode])
                    .await?;
            }
        }
        txn.commit().await?;
        metrics::pages_rebuilt();
    }
    store.pages_stale = [false, false];
    Ok(())
}

/// An outage fails the whole batch (it is retried as it is); anything else is the fault
/// of the event `event_id`.
fn failure(event_id: &str, source: WriteError) -> BatchError {
    match source {
        WriteError::Db(err) if database::is_unavailable(&err) => BatchError::Db(err),
        source => BatchError::Domain {
            event_id: event_id.to_owned(),
            source,
        },
    }
}

/// What applying one claimed event came to.
struct Done {
    outcome: Outcome,
    /// Whether it may have changed the store's pages.
    touches_pages: bool,
    /// Why an event of any type was not applied, for the event log.
    reason: Option<&'static str>,
}

/// Applies one claimed event.
async fn apply_one(txn: &DatabaseTransaction, row: &Model) -> Result<Done, WriteError> {
    let payload = parse_payload(row)?;
    if let Some(reason) = domain::not_applicable(&payload) {
        return Ok(Done {
            outcome: Outcome::Ignored,
            touches_pages: false,
            reason: Some(reason),
        });
    }
    let event = event_ref(row, &payload);
    #[cfg(feature = "fault-injection")]
    {
        let object_id = event.object.get("id").and_then(Value::as_str);
        crate::faults::check(object_id);
        crate::faults::pause(object_id).await;
    }
    let Some(change) = domain::change_of(&event, previous_attributes(&payload))? else {
        return Ok(Done {
            outcome: Outcome::Ignored,
            touches_pages: false,
            reason: None,
        });
    };
    let touches_pages = change.touches_pages();
    let outcome = changes::apply(txn, &event, change).await?;
    Ok(Done {
        outcome,
        touches_pages: touches_pages && outcome == Outcome::Processed,
        reason: None,
    })
}

/// `data.previous_attributes` of a `*.updated` event: the old values of what changed.
pub fn previous_attributes(payload: &Value) -> Option<&Value> {
    payload
        .pointer("/data/previous_attributes")
        .filter(|previous| previous.is_object())
}
