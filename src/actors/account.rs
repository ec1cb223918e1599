//! `AccountActor`: applies one store's events strictly one at a time.
//!
//! Each event gets up to `max_attempts` attempts with exponential backoff; meanwhile later
//! events of the store wait, so a store's events are applied in the order its actor got
//! them. A database outage does not use up attempts: the actor waits and tries again. A
//! domain panic is not caught here: the actor dies, the supervisor counts the restart, and
//! a fresh actor resumes the store from the inbox table.

use std::sync::Arc;

use entity::webhook_event::Model;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use sea_orm::DatabaseConnection;
use tracing::{error, info, warn};

use super::ApplySettings;
use super::supervisor::SupervisorMsg;
use crate::apply::{self, Applied, ApplyError, BatchError};
use crate::domain::DomainError;
use crate::inbox;

/// Messages of an account actor.
#[derive(Debug)]
pub enum AccountMsg {
    /// Apply this stored event (from the supervisor). It carries the row, so the apply
    /// needs no read.
    Apply { event: Box<Model> },
    /// Apply the events gathered since the last flush (from the actor itself).
    Flush,
    /// Apply every event of the store still waiting in the inbox (from the supervisor).
    Resume,
    /// A resume that failed to list the waiting events, tried again (from the actor itself).
    RetryResume,
    /// Sent to itself after each message; reports idleness to the supervisor if nothing
    /// came since.
    IdleCheck { generation: u64 },
}

/// Start-up arguments of an account actor.
pub struct AccountArgs {
    pub store_key: String,
    pub db: DatabaseConnection,
    pub settings: Arc<ApplySettings>,
    pub supervisor: ActorRef<SupervisorMsg>,
    /// Why the previous actor of this store died, when it did.
    pub crash: Option<String>,
}

/// The actor's state.
pub struct AccountState {
    store_key: String,
    db: DatabaseConnection,
    settings: Arc<ApplySettings>,
    supervisor: ActorRef<SupervisorMsg>,
    /// Messages handled that the supervisor sent; it retires the actor only when this
    /// equals what it forwarded, so nothing is ever in flight to a retiring actor.
    handled: u64,
    /// Bumped by every message, so a stale idle check is recognised.
    generation: u64,
    /// The previous actor's panic, recorded on its interrupted event at the first resume
    /// (pre_start must not wait on the database: the supervisor waits on pre_start).
    crash: Option<String>,
    /// Consecutive attempts that failed on the database, for their backoff.
    db_failures: i32,
    /// Events received since the last flush, oldest first.
    queue: Vec<Model>,
    /// A `Flush` is in the mailbox: every `Apply` queued before it joins its batch.
    flush_scheduled: bool,
    /// The last batch held several events: the store is busy, so gather before applying.
    busy: bool,
    /// The pending `Flush` already waited its linger.
    lingered: bool,
    /// Apply one event at a time, counting each attempt before it starts: set after a
    /// crash (a batch does not count attempts, so a poison event must be isolated).
    careful: bool,
}

/// Applies one store's events in series.
pub struct AccountActor;

impl Actor for AccountActor {
    type Msg = AccountMsg;
    type State = AccountState;
    type Arguments = AccountArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: AccountArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(AccountState {
            store_key: args.store_key,
            db: args.db,
            settings: args.settings,
            supervisor: args.supervisor,
            handled: 0,
            generation: 0,
            careful: args.crash.is_some(),
            crash: args.crash,
            db_failures: 0,
            queue: Vec::new(),
            flush_scheduled: false,
            busy: false,
            lingered: false,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let AccountMsg::IdleCheck { generation } = message {
            if generation == state.generation {
                let _ = state.supervisor.send_message(SupervisorMsg::Idle {
                    store_key: state.store_key.clone(),
                    actor: myself.get_id(),
                    handled: state.handled,
                });
            }
            return Ok(());
        }
        state.generation += 1;
        match message {
            AccountMsg::Apply { event } => {
                state.handled += 1;
                state.queue.push(*event);
                schedule_flush(&myself, state).await;
            }
            AccountMsg::Flush => {
                if linger(&myself, state).await {
                    return Ok(());
                }
                state.flush_scheduled = false;
                state.lingered = false;
                flush(state).await;
            }
            AccountMsg::Resume => {
                state.handled += 1;
                resume(&myself, state).await;
            }
            AccountMsg::RetryResume => resume(&myself, state).await,
            AccountMsg::IdleCheck { .. } => {}
        }
        let generation = state.generation;
        myself.send_after(state.settings.idle_timeout, move || AccountMsg::IdleCheck {
            generation,
        });
        Ok(())
    }
}

/// Gathers events into one batch: the `Flush` goes behind every message already in the
/// mailbox. The busier the store, the bigger its batches; an idle store's event is applied
/// at once. A draining actor refuses new messages, so it flushes at once instead.
async fn schedule_flush(myself: &ActorRef<AccountMsg>, state: &mut AccountState) {
    if state.flush_scheduled {
        return;
    }
    if myself.send_message(AccountMsg::Flush).is_ok() {
        state.flush_scheduled = true;
    } else {
        flush(state).await;
    }
}

/// For a busy store, waits the linger once, then sends the `Flush` behind the events that
/// arrived meanwhile. `true` if the flush was put off. (A draining actor cannot send to
/// itself, so it applies at once.)
async fn linger(myself: &ActorRef<AccountMsg>, state: &mut AccountState) -> bool {
    let linger = state.settings.batch_linger;
    if !state.busy || state.lingered || linger.is_zero() {
        return false;
    }
    tokio::time::sleep(linger).await;
    state.lingered = true;
    myself.send_message(AccountMsg::Flush).is_ok()
}

async fn flush(state: &mut AccountState) {
    let events = std::mem::take(&mut state.queue);
    state.busy = events.len() > 1;
    for batch in events.chunks(MAX_BATCH) {
        apply_events(state, batch).await;
    }
}

/// Largest batch applied in one transaction.
const MAX_BATCH: usize = 256;

/// Applies the store's waiting events from the inbox, page by page.
async fn resume(myself: &ActorRef<AccountMsg>, state: &mut AccountState) {
    if let Some(cause) = state.crash.take() {
        record_crash(state, &cause).await;
    }
    // Whatever was gathered is in the inbox too, and is read again below.
    state.queue.clear();
    let mut previous_first = None;
    loop {
        let rows = match inbox::pending_for_store(&state.db, &state.store_key, MAX_BATCH as u64)
            .await
        {
            Ok(rows) => rows,
            Err(err) => {
                warn!(account = %state.store_key, error = %err, "could not list pending events; retrying");
                myself.send_after(state.settings.backoff(1), || AccountMsg::RetryResume);
                return;
            }
        };
        let first = rows.first().map(|row| row.id.clone());
        if first.is_none() || first == previous_first {
            break;
        }
        apply_events(state, &rows).await;
        if rows.len() < MAX_BATCH {
            break;
        }
        previous_first = first;
    }
    state.careful = false;
}

/// Applies events in order: as one batch when none of them failed before, else (and
/// after a batch failed) one at a time with counted attempts and retries.
async fn apply_events(state: &mut AccountState, rows: &[Model]) {
    if !state.careful && rows.iter().all(|row| row.attempts == 0) {
        match apply_batch_until_stored(state, rows).await {
            Ok(()) => return,
            Err((event_id, source)) => {
                warn!(account = %state.store_key, %event_id, error = %source, "batch failed; applying its events one by one");
            }
        }
    }
    for row in rows {
        apply_with_retries(state, &row.id).await;
    }
}

/// Applies a batch, waiting out database outages. Fails with the event that failed it.
async fn apply_batch_until_stored(
    state: &mut AccountState,
    rows: &[Model],
) -> Result<(), (String, DomainError)> {
    loop {
        match apply::apply_batch(&state.db, rows).await {
            Ok(applied) => {
                state.db_failures = 0;
                for (index, outcome) in applied {
                    info!(event_id = %rows[index].id, account = %state.store_key, status = outcome.status(), "event applied");
                }
                return Ok(());
            }
            Err(BatchError::Db(err)) => {
                state.db_failures = state.db_failures.saturating_add(1);
                warn!(account = %state.store_key, error = %err, "database unavailable; will retry");
                tokio::time::sleep(state.settings.backoff(state.db_failures)).await;
            }
            Err(BatchError::Domain { event_id, source }) => return Err((event_id, source)),
        }
    }
}

async fn record_crash(state: &AccountState, cause: &str) {
    let cause = format!("actor panicked: {cause}");
    if let Err(err) = inbox::explain_interruption(&state.db, &state.store_key, &cause).await {
        warn!(account = %state.store_key, error = %err, "could not record the crash cause");
    }
}

/// Attempts `event_id` until it is applied, dead-lettered, or out of attempts.
async fn apply_with_retries(state: &mut AccountState, event_id: &str) {
    let settings = state.settings.clone();
    loop {
        match apply::attempt(&state.db, event_id, settings.max_attempts).await {
            Ok(Applied::Done(outcome)) => {
                state.db_failures = 0;
                info!(event_id, account = %state.store_key, status = outcome.status(), "event applied");
                return;
            }
            Ok(Applied::AlreadyDone) => return,
            Ok(Applied::DeadLettered) => {
                error!(event_id, account = %state.store_key, "event failed after every attempt");
                return;
            }
            Err(ApplyError::Domain { attempts, source }) => {
                state.db_failures = 0;
                warn!(event_id, account = %state.store_key, attempts, error = %source, "event attempt failed");
                if attempts < settings.max_attempts {
                    tokio::time::sleep(settings.backoff(attempts)).await;
                }
            }
            Err(ApplyError::Db(err)) => {
                // Not the event's fault: the attempt was given back; wait out the outage.
                state.db_failures = state.db_failures.saturating_add(1);
                warn!(event_id, account = %state.store_key, error = %err, "database unavailable; will retry");
                tokio::time::sleep(settings.backoff(state.db_failures)).await;
            }
        }
    }
}
