//! Applying stored events: a batch of a store's events ([`apply_batch`]), the batches of
//! several stores together ([`apply_group`], through the shared [`Applier`]: group
//! commit), or one event with its attempt counted first ([`attempt`]: retries, and after a
//! crash). Each takes, in ONE transaction, the stores' locks and the events (one
//! statement), runs their domain handlers, records their final status and marks the
//! store's pages stale when a change shows on them ([`rebuild_pages`] rebuilds them a
//! moment later).
//!
//! The claim (`status = 'received'` → final status, `RETURNING` the ids claimed) makes the
//! effect happen once even if two actors or two replicas try the same event. On PostgreSQL
//! a transaction-scoped advisory lock per store key serializes a store's transactions
//! across replicas. SQLite has a single writer; the claim is the transaction's first
//! statement, so the write lock is taken at once (a deferred transaction that read first
//! could fail its later write with SQLITE_BUSY instead of waiting).
//!
//! A database failure gives the attempt back: an outage must not dead-letter healthy events.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use entity::status::EventStatus;
use entity::webhook_event::Model;
use futures_util::FutureExt;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use serde_json::Value;
use tracing::debug;

use super::admission::WriteLock;
use super::group_commit::GroupCommit;
use crate::domain::{self, Change, DomainError, EventRef, Outcome};
use crate::metrics;
use crate::store::changes::{self, WorkingSet, WriteError};
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
    Db(Arc<DbErr>),
}

impl From<DbErr> for ApplyError {
    fn from(err: DbErr) -> Self {
        Self::Db(Arc::new(err))
    }
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
    /// Shared: a group's outage is the answer of each of its batches.
    #[error("database unavailable: {0}")]
    Db(Arc<DbErr>),
}

impl BatchError {
    fn db(err: DbErr) -> Self {
        Self::Db(Arc::new(err))
    }
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
    record_applied(rows, &applied, started.elapsed(), rows.len());
    Ok(applied)
}

/// Metrics of a committed batch; `elapsed` was shared by `events` events.
fn record_applied(
    rows: &[Model],
    applied: &[(usize, Outcome)],
    elapsed: std::time::Duration,
    events: usize,
) {
    metrics::apply_batch(rows.len());
    let share = elapsed / u32::try_from(events.max(1)).unwrap_or(u32::MAX);
    let now = chrono::Utc::now();
    for (index, outcome) in applied {
        let row = &rows[*index];
        metrics::event_attempted(&row.event_type, (*outcome).into(), share);
        metrics::event_lag((now - row.created_at).to_std().unwrap_or_default());
    }
}

/// Most stores' batches in one group transaction.
const MAX_GROUP: usize = 64;

/// A store's batch handed to the group commit of applies ([`Applier`]).
#[derive(Debug)]
pub struct StoreBatch {
    /// Events of one store that never failed, oldest first.
    pub rows: Vec<Model>,
    /// What the actor knows of the store's rows.
    pub store: StoreState,
}

/// What came of a [`StoreBatch`]: its rows back, what the store's rows are now, and the
/// events applied now with their outcome (as [`apply_batch`] answers), or the panic of a
/// handler while the batch was applied alone, for its actor to die of.
#[derive(Debug)]
pub struct BatchDone {
    pub rows: Vec<Model>,
    pub store: StoreState,
    pub result: std::thread::Result<Result<Vec<(usize, Outcome)>, BatchError>>,
    /// How many stores' batches its transaction applied (1: it went alone).
    pub grouped: usize,
}

/// The group commit of applies, shared by every actor: the batches of stores that are
/// ready together are applied in one transaction ([`apply_group`]).
pub type Applier = GroupCommit<StoreBatch, BatchDone>;

/// Starts the applier with at most `writers` transactions at once, each under `lock`.
pub fn start_applier(db: DatabaseConnection, writers: usize, lock: WriteLock) -> Applier {
    GroupCommit::start(writers, MAX_GROUP, move |batches| {
        let (db, lock) = (db.clone(), lock.clone());
        async move {
            let _held = lock.hold().await;
            apply_group(&db, batches).await
        }
    })
}

/// Applies the batches of several stores in ONE transaction: one statement locks every
/// store and claims every event, each store's handlers run in turn, one commit. Each
/// store's events keep their order: an actor hands over its next batch only after this
/// one is answered. When anything fails, the transaction rolls back and each batch is
/// applied in a transaction of its own ([`apply_batch`]), so that only the batch at fault
/// fails, with its own error.
pub async fn apply_group(db: &DatabaseConnection, batches: Vec<StoreBatch>) -> Vec<BatchDone> {
    if batches.len() < 2 {
        return apply_each_alone(db, batches).await;
    }
    let started = Instant::now();
    let group = AssertUnwindSafe(group_in_transaction(db, &batches)).catch_unwind();
    match group.await {
        Ok(Ok(results)) => {
            let grouped = batches.len();
            metrics::apply_group(grouped);
            let events = batches.iter().map(|batch| batch.rows.len()).sum();
            let elapsed = started.elapsed();
            batches
                .into_iter()
                .zip(results)
                .map(|(batch, (applied, store))| {
                    record_applied(&batch.rows, &applied, elapsed, events);
                    BatchDone {
                        rows: batch.rows,
                        store,
                        result: Ok(Ok(applied)),
                        grouped,
                    }
                })
                .collect()
        }
        // Unavailable for one is unavailable for all: no batch is tried alone.
        Ok(Err(BatchError::Db(err))) => answer_outage(batches, &err),
        Ok(Err(err)) => {
            debug!(error = %err, stores = batches.len(), "group apply failed; applying each store's batch alone");
            apply_each_alone(db, batches).await
        }
        Err(_) => {
            debug!(
                stores = batches.len(),
                "group apply panicked; applying each store's batch alone"
            );
            apply_each_alone(db, batches).await
        }
    }
}

/// Applies each batch in its own transaction, its panic caught and handed back. Once the
/// database fails one, the rest get the same answer without being tried.
async fn apply_each_alone(db: &DatabaseConnection, batches: Vec<StoreBatch>) -> Vec<BatchDone> {
    let mut done = Vec::with_capacity(batches.len());
    let mut batches = batches.into_iter();
    while let Some(StoreBatch { rows, mut store }) = batches.next() {
        let result = AssertUnwindSafe(apply_batch(db, &rows, &mut store))
            .catch_unwind()
            .await;
        let outage = match &result {
            Ok(Err(BatchError::Db(err))) => Some(err.clone()),
            Ok(Ok(_)) => {
                metrics::apply_group(1);
                None
            }
            _ => None,
        };
        done.push(BatchDone {
            rows,
            store,
            result,
            grouped: 1,
        });
        if let Some(err) = outage {
            done.extend(answer_outage(batches.collect(), &err));
            break;
        }
    }
    done
}

/// Every batch's answer is the database's failure; nothing of them was applied.
fn answer_outage(batches: Vec<StoreBatch>, err: &Arc<DbErr>) -> Vec<BatchDone> {
    batches
        .into_iter()
        .map(|StoreBatch { rows, store }| BatchDone {
            rows,
            store,
            result: Ok(Err(BatchError::Db(err.clone()))),
            grouped: 1,
        })
        .collect()
}

/// One transaction for every batch of the group: the applied events of each, and what
/// each store's rows are after the commit.
async fn group_in_transaction(
    db: &DatabaseConnection,
    batches: &[StoreBatch],
) -> Result<Vec<(Vec<(usize, Outcome)>, StoreState)>, BatchError> {
    committed(db, async |txn| claim_and_apply_group(txn, batches).await).await
}

async fn claim_and_apply_group(
    txn: &DatabaseTransaction,
    batches: &[StoreBatch],
) -> Result<Vec<(Vec<(usize, Outcome)>, StoreState)>, BatchError> {
    let stores: Vec<&str> = batches
        .iter()
        .filter_map(|batch| batch.rows.first())
        .map(|row| row.store_key.as_str())
        .collect();
    let ids: Vec<&str> = batches
        .iter()
        .flat_map(|batch| batch.rows.iter().map(|row| row.id.as_str()))
        .collect();
    // Takes every store's lock too.
    let claimed = inbox::claim(txn, &stores, &ids, true)
        .await
        .map_err(|err| failure(ids[0], WriteError::Db(err)))?;
    let mut results = Vec::with_capacity(batches.len());
    // The decoded payloads of a window are held together: windows bound them.
    for window in windows(batches, MAX_PLANNED) {
        let plans = window
            .iter()
            .map(|batch| plan(&batch.rows, &claimed))
            .collect::<Result<Vec<_>, _>>()?;
        // One read per table for the rows of every store's events of the window.
        let wanted = window
            .iter()
            .zip(&plans)
            .flat_map(|(batch, planned)| wanted(&batch.rows, planned));
        let mut working = WorkingSet::load(txn, wanted)
            .await
            .map_err(|err| failure(ids[0], WriteError::Db(err)))?;
        for (batch, planned) in window.iter().zip(plans) {
            let mut store = batch.store;
            let applied = match batch.rows.first() {
                Some(first) => {
                    let key = &first.store_key;
                    apply_claimed(txn, key, &batch.rows, planned, &mut working, &mut store).await?
                }
                None => Vec::new(),
            };
            results.push((applied, store));
        }
        let first = &window[0].rows.first().map_or(ids[0], |row| row.id.as_str());
        working
            .write(txn)
            .await
            .map_err(|err| failure(first, WriteError::Db(err)))?;
    }
    Ok(results)
}

/// Most events decoded at once in a group (a store's batch may reach it alone).
const MAX_PLANNED: usize = 256;

/// The batches in consecutive windows of at most `limit` events, or one batch.
fn windows(batches: &[StoreBatch], limit: usize) -> Vec<&[StoreBatch]> {
    let mut windows = Vec::new();
    let (mut start, mut events) = (0, 0);
    for (index, batch) in batches.iter().enumerate() {
        if index > start && events + batch.rows.len() > limit {
            windows.push(&batches[start..index]);
            (start, events) = (index, 0);
        }
        events += batch.rows.len();
    }
    if start < batches.len() {
        windows.push(&batches[start..]);
    }
    windows
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
    let mut after = *store;
    let applied = committed(db, async |txn| {
        claim_and_apply(txn, &first.store_key, rows, count, &mut after).await
    })
    .await?;
    *store = after;
    Ok(applied)
}

/// Runs `work` in a transaction: committed if it succeeds, else rolled back at once
/// rather than on drop, so the stores' locks are released without delay.
async fn committed<T>(
    db: &DatabaseConnection,
    work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, BatchError>,
) -> Result<T, BatchError> {
    let txn = db.begin().await.map_err(BatchError::db)?;
    match work(&txn).await {
        Ok(value) => {
            txn.commit().await.map_err(BatchError::db)?;
            Ok(value)
        }
        Err(err) => {
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
    let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
    // Takes the store's lock too.
    let claimed = inbox::claim(txn, &[store_key], &ids, count == Count::OnCommit)
        .await
        .map_err(|err| failure(&rows[0].id, WriteError::Db(err)))?;
    let planned = plan(rows, &claimed)?;
    let mut working = WorkingSet::load(txn, wanted(rows, &planned))
        .await
        .map_err(|err| failure(&rows[0].id, WriteError::Db(err)))?;
    let applied = apply_claimed(txn, store_key, rows, planned, &mut working, store).await?;
    working
        .write(txn)
        .await
        .map_err(|err| failure(&rows[0].id, WriteError::Db(err)))?;
    Ok(applied)
}

/// A claimed event decoded and decided, the first half of applying it: read ahead of the
/// rows, so that the rows of every event can be read at once ([`WorkingSet`]).
struct Planned {
    /// Its place in the batch.
    index: usize,
    payload: Value,
    plan: Plan,
}

enum Plan {
    /// Nothing to apply (with the reason for the event log, when there is one).
    Ignored(Option<&'static str>),
    Apply(Change),
}

/// Decodes the claimed events of a batch and asks the domain what each changes, in order.
fn plan(rows: &[Model], claimed: &HashSet<String>) -> Result<Vec<Planned>, BatchError> {
    rows.iter()
        .enumerate()
        .filter(|(_, row)| claimed.contains(&row.id))
        .map(|(index, row)| {
            let (payload, plan) =
                plan_one(row).map_err(|err| failure(&row.id, WriteError::Domain(err)))?;
            Ok(Planned {
                index,
                payload,
                plan,
            })
        })
        .collect()
}

fn plan_one(row: &Model) -> Result<(Value, Plan), DomainError> {
    let payload = parse_payload(row)?;
    if let Some(reason) = domain::not_applicable(&payload) {
        return Ok((payload, Plan::Ignored(Some(reason))));
    }
    let change = domain::change_of(&event_ref(row, &payload), previous_attributes(&payload))?;
    let plan = change.map_or(Plan::Ignored(None), Plan::Apply);
    Ok((payload, plan))
}

/// The rows the planned events of a batch concern: store key, mode, change.
fn wanted<'a>(
    rows: &'a [Model],
    planned: &'a [Planned],
) -> impl Iterator<Item = (&'a str, bool, &'a Change)> {
    planned.iter().filter_map(|planned| match &planned.plan {
        Plan::Apply(change) => {
            let row = &rows[planned.index];
            Some((row.store_key.as_str(), row.livemode, change))
        }
        Plan::Ignored(_) => None,
    })
}

/// Applies the `planned` events of a store's batch in the caller's transaction, which
/// holds the store's lock: ensure the store row, run the handlers, mark the pages stale,
/// record the outcomes that are not `processed`.
async fn apply_claimed(
    txn: &DatabaseTransaction,
    store_key: &str,
    rows: &[Model],
    planned: Vec<Planned>,
    working: &mut WorkingSet,
    store: &mut StoreState,
) -> Result<Vec<(usize, Outcome)>, BatchError> {
    let db_error = |err: DbErr| failure(&rows[0].id, WriteError::Db(err));
    // The store row once per mode, and only until the actor knows it exists.
    for livemode in [false, true] {
        let mode = usize::from(livemode);
        if !store.exists[mode]
            && planned
                .iter()
                .any(|planned| rows[planned.index].livemode == livemode)
        {
            rows::ensure_store(txn, store_key, livemode)
                .await
                .map_err(db_error)?;
            store.exists[mode] = true;
        }
    }
    let mut touched = [false, false];
    let mut applied = Vec::with_capacity(planned.len());
    let mut reasons = Vec::new();
    for planned in planned {
        let index = planned.index;
        let row = &rows[index];
        let done = apply_planned(txn, working, row, planned)
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
        WriteError::Db(err) if database::is_unavailable(&err) => BatchError::db(err),
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

/// Applies one planned event, with the rows read ahead in `known`.
async fn apply_planned(
    txn: &DatabaseTransaction,
    working: &mut WorkingSet,
    row: &Model,
    planned: Planned,
) -> Result<Done, WriteError> {
    let Planned { payload, plan, .. } = planned;
    let event = event_ref(row, &payload);
    #[cfg(feature = "fault-injection")]
    {
        let object_id = event.object.get("id").and_then(Value::as_str);
        crate::faults::check(object_id);
        crate::faults::pause(object_id).await;
    }
    let change = match plan {
        Plan::Ignored(reason) => {
            return Ok(Done {
                outcome: Outcome::Ignored,
                touches_pages: false,
                reason,
            });
        }
        Plan::Apply(change) => change,
    };
    let touches_pages = change.touches_pages();
    let outcome = changes::apply(txn, working, &event, change).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(events: usize) -> StoreBatch {
        let row = Model {
            id: "evt_window".to_owned(),
            event_type: "customer.created".to_owned(),
            account: None,
            store_key: "acct_window".to_owned(),
            livemode: false,
            api_version: None,
            object_id: None,
            payload: "{}".to_owned(),
            status: EventStatus::Received,
            attempts: 0,
            last_error: None,
            created: 0,
            created_at: chrono::Utc::now(),
            processed_at: None,
            body_conflicts: 0,
        };
        StoreBatch {
            rows: vec![row; events],
            store: StoreState::default(),
        }
    }

    fn sizes(batches: &[StoreBatch], limit: usize) -> Vec<Vec<usize>> {
        windows(batches, limit)
            .iter()
            .map(|window| window.iter().map(|batch| batch.rows.len()).collect())
            .collect()
    }

    #[test]
    fn windows_hold_whole_batches_up_to_the_limit_in_order() {
        let batches: Vec<StoreBatch> = [3, 4, 2, 8, 1].into_iter().map(batch).collect();
        assert_eq!(sizes(&batches, 8), [vec![3, 4], vec![2], vec![8], vec![1]]);
        assert_eq!(sizes(&batches, 100), [vec![3, 4, 2, 8, 1]]);
        // A batch larger than the limit is a window of its own.
        assert_eq!(sizes(&batches, 2), [[3], [4], [2], [8], [1]]);
        assert!(windows(&[], 8).is_empty());
    }
}
