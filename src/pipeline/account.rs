//! `AccountActor`: applies one store's events strictly in series.
//!
//! What to apply next and how (batch or one counted attempt) is the [`Backlog`]'s decision;
//! the actor runs each step against the database and schedules its waits as messages
//! (the batch linger, the backoff after a failure), so `handle` never sleeps and a store's
//! later events wait behind its failed one. A database outage does not use up attempts:
//! the actor waits and tries again. A domain panic kills the actor (the applier catches a
//! panic of a batch it applies and hands it back, for the actor to die of): the
//! supervisor counts the restart, and a fresh actor resumes the store from the inbox table.

use std::sync::Arc;

use entity::webhook_event::Model;
use ractor::{Actor, ActorProcessingErr, ActorRef, ActorStatus};
use sea_orm::{DatabaseConnection, DbErr};
use tracing::{debug, error, info, warn};

use super::ApplySettings;
use super::admission::{Admission, Held};
use super::apply::{
    self, Applied, Applier, ApplyError, BatchDone, BatchError, StoreBatch, StoreState,
};
use super::backlog::{Backlog, MAX_BATCH, Step};
use super::outage::OutageLog;
use super::supervisor::SupervisorMsg;
use crate::store::{db as database, inbox};

/// The pause before trying again after the pool was busy with the service's own work:
/// short and not growing, since nothing is wrong.
const CONTENDED_RETRY: std::time::Duration = std::time::Duration::from_millis(20);

/// Messages of an account actor.
#[derive(Debug)]
pub enum AccountMsg {
    /// Apply this stored event (from the supervisor). It carries the row, so the apply
    /// needs no read, and its payload's share of the memory budget.
    Apply {
        event: Box<Model>,
        held: Option<Held>,
    },
    /// Apply the events gathered since the last flush (from the actor itself).
    Flush,
    /// Apply every event of the store still waiting in the inbox (from the supervisor).
    Resume,
    /// The wait after a failure is over (from the actor itself).
    Retry,
    /// Rebuild the store's stale pages (from the actor itself, a moment after the change).
    RebuildPages,
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
    /// The queue for a turn at the database, shared by every actor.
    pub admission: Admission,
    /// The group commit that applies the batches of every actor.
    pub applier: Applier,
    /// The shared account of database outages.
    pub outages: Arc<OutageLog>,
}

/// The actor's state.
pub struct AccountState {
    store_key: String,
    db: DatabaseConnection,
    settings: Arc<ApplySettings>,
    supervisor: ActorRef<SupervisorMsg>,
    admission: Admission,
    applier: Applier,
    outages: Arc<OutageLog>,
    /// Messages handled that the supervisor sent; it retires the actor only when this
    /// equals what it forwarded, so nothing is ever in flight to a retiring actor.
    handled: u64,
    /// Bumped by every message, so a stale idle check is recognised.
    generation: u64,
    /// The previous actor's panic, recorded on its interrupted event at the first resume
    /// (pre_start must not wait on the database: the supervisor waits on pre_start). Its
    /// presence also makes that resume careful.
    crash: Option<String>,
    backlog: Backlog,
    /// A `Flush` is in the mailbox or scheduled: every `Apply` before it joins its batch.
    flush_scheduled: bool,
    /// The last flush held several events: the store is busy, so gather before applying.
    busy: bool,
    /// The pending `Flush` already waited its linger.
    lingered: bool,
    /// What the committed batches made true of the store's rows (its row exists, its
    /// pages are stale).
    store: StoreState,
    /// A `RebuildPages` is scheduled.
    pages_scheduled: bool,
    /// The next rebuild also reads whether the pages are stale (after a restart or a
    /// recovery: a previous actor or another replica may have left them so).
    check_pages: bool,
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
        let mut backlog = Backlog::default();
        if args.crash.is_some() {
            // The store's waiting events come back from the inbox, one at a time, once the
            // supervisor's `Resume` ends the restart backoff; until then nothing is
            // applied, so events handed over meanwhile cannot pass the older ones.
            backlog.resume(true);
            backlog.wait();
        }
        Ok(AccountState {
            store_key: args.store_key,
            db: args.db,
            settings: args.settings,
            supervisor: args.supervisor,
            admission: args.admission,
            applier: args.applier,
            outages: args.outages,
            handled: 0,
            generation: 0,
            crash: args.crash,
            backlog,
            flush_scheduled: false,
            busy: false,
            lingered: false,
            store: StoreState::default(),
            pages_scheduled: false,
            check_pages: false,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // Boxed: the apply path's future is tens of kilobytes, and inline it would be part
        // of every actor's task even while the actor idles (20,000 idle actors held 700 MB).
        Box::pin(on_message(myself, message, state)).await;
        Ok(())
    }
}

/// Handles one message.
async fn on_message(myself: ActorRef<AccountMsg>, message: AccountMsg, state: &mut AccountState) {
    if let AccountMsg::IdleCheck { generation } = message {
        report_if_idle(&myself, state, generation);
        return;
    }
    state.generation += 1;
    match message {
        AccountMsg::Apply { event, held } => {
            state.handled += 1;
            state.backlog.push(*event, held);
            schedule_flush(&myself, state).await;
        }
        AccountMsg::Flush => flush(&myself, state).await,
        AccountMsg::Resume => {
            state.handled += 1;
            if let Some(cause) = state.crash.take() {
                let _turn = state.admission.turn().await;
                record_crash(state, &cause).await;
                state.backlog.resume(true);
                // The restart backoff is over.
                state.backlog.retry_due();
            } else if !state.backlog.is_resuming() {
                // (A resume in progress reads this store's newer events anyway.)
                state.backlog.resume(false);
            }
            work(&myself, state).await;
            state.check_pages = true;
            schedule_pages(&myself, state);
        }
        AccountMsg::Retry => {
            state.backlog.retry_due();
            work(&myself, state).await;
        }
        AccountMsg::RebuildPages => {
            state.pages_scheduled = false;
            // (Done already if the actor had to make room for other stores.)
            if pages_due(state) {
                rebuild_pages(&myself, state).await;
            }
        }
        AccountMsg::IdleCheck { .. } => {}
    }
    let generation = state.generation;
    if state.admission.is_crowded() {
        // Other stores wait for an actor: retire as soon as this store has nothing left,
        // its pages rebuilt now rather than after the delay.
        if state.pages_scheduled && state.backlog.is_idle() {
            state.pages_scheduled = false;
            rebuild_pages(&myself, state).await;
        }
        report_if_idle(&myself, state, generation);
    }
    myself.send_after(state.settings.idle_timeout, move || AccountMsg::IdleCheck {
        generation,
    });
}

/// Tells the supervisor the actor may retire: nothing came since the check was scheduled
/// and nothing is held, waiting or scheduled.
fn report_if_idle(myself: &ActorRef<AccountMsg>, state: &AccountState, generation: u64) {
    if generation != state.generation
        || !state.backlog.is_idle()
        || state.flush_scheduled
        || state.pages_scheduled
    {
        return;
    }
    let _ = state.supervisor.send_message(SupervisorMsg::Idle {
        store_key: state.store_key.clone(),
        actor: myself.get_id(),
        handled: state.handled,
    });
}

/// A draining actor refuses new messages, its own scheduled ones included.
fn is_draining(myself: &ActorRef<AccountMsg>) -> bool {
    myself.get_status() == ActorStatus::Draining
}

/// Gathers events into one batch: the `Flush` goes behind every message already in the
/// mailbox. The busier the store, the bigger its batches; an idle store's event is applied
/// at once. A draining actor cannot send to itself, so it applies at once instead.
async fn schedule_flush(myself: &ActorRef<AccountMsg>, state: &mut AccountState) {
    if state.flush_scheduled || state.backlog.is_waiting() {
        return;
    }
    if myself.send_message(AccountMsg::Flush).is_ok() {
        state.flush_scheduled = true;
    } else {
        work(myself, state).await;
    }
}

/// For a busy store, the first `Flush` is put off by the linger (scheduled again behind the
/// events that arrive meanwhile); then the gathered events are applied.
async fn flush(myself: &ActorRef<AccountMsg>, state: &mut AccountState) {
    let linger = state.settings.batch_linger;
    if state.busy && !state.lingered && !linger.is_zero() && !is_draining(myself) {
        state.lingered = true;
        myself.send_after(linger, || AccountMsg::Flush);
        return;
    }
    state.flush_scheduled = false;
    state.lingered = false;
    state.busy = state.backlog.held() > 1;
    work(myself, state).await;
}

/// Takes the backlog's steps until it is empty or waits for a retry, each in a turn at
/// the database ([`Admission`]). A page read back from the inbox is applied in the same
/// turn, so at most one page per turn is held in memory.
async fn work(myself: &ActorRef<AccountMsg>, state: &mut AccountState) {
    while state.backlog.has_step() {
        let _turn = state.admission.turn().await;
        loop {
            match state.backlog.next() {
                Step::Idle => return,
                Step::Batch(rows) => apply_batch(myself, state, rows).await,
                Step::Single(event_id) => attempt(myself, state, &event_id).await,
                Step::Load => {
                    load(myself, state).await;
                    continue;
                }
            }
            break;
        }
    }
}

/// Applies a batch of events that never failed, in one transaction: the applier's, with
/// the batches of other stores ready at the same moment (group commit). The actor waits
/// for the answer, so its next batch cannot pass this one.
async fn apply_batch(myself: &ActorRef<AccountMsg>, state: &mut AccountState, rows: Vec<Model>) {
    let batch = StoreBatch {
        rows,
        store: state.store,
    };
    let Some(BatchDone {
        rows,
        store,
        result,
        ..
    }) = state.applier.submit(batch).await
    else {
        // Only if the applier's own task died: the actor dies too, and its next actor
        // resumes the store from the inbox.
        panic!("the applier stopped before answering");
    };
    state.store = store;
    // A handler's panic, caught by the applier: the actor dies of it, as if it had applied
    // the batch itself, and its next actor resumes the store with care.
    let result = result.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    match result {
        Ok(applied) => {
            for (index, outcome) in applied {
                info!(event_id = %rows[index].id, account = %state.store_key, status = %outcome.status(), "event applied");
            }
            state.backlog.batch_applied(rows.len());
            state.outages.recovered();
            schedule_pages(myself, state);
        }
        Err(BatchError::Db(err)) => database_failed(myself, state, &err),
        Err(BatchError::Domain { event_id, source }) => {
            warn!(account = %state.store_key, %event_id, error = %source, "batch failed; applying its events one by one");
            state.backlog.batch_failed(rows.len());
        }
    }
}

/// Makes one counted attempt at the head event.
async fn attempt(myself: &ActorRef<AccountMsg>, state: &mut AccountState, event_id: &str) {
    let max_attempts = state.settings.max_attempts;
    let writer = state.admission.writer().hold().await;
    let attempted = apply::attempt(&state.db, event_id, max_attempts, &mut state.store).await;
    drop(writer);
    match attempted {
        Ok(Applied::Done(outcome)) => {
            info!(event_id, account = %state.store_key, status = %outcome.status(), "event applied");
            state.backlog.single_done();
            state.outages.recovered();
            schedule_pages(myself, state);
        }
        Ok(Applied::AlreadyDone) => state.backlog.single_done(),
        Ok(Applied::DeadLettered) => {
            error!(event_id, account = %state.store_key, "event failed after every attempt");
            state.backlog.single_done();
        }
        Err(ApplyError::Domain { attempts, source }) => {
            warn!(event_id, account = %state.store_key, attempts, error = %source, "event attempt failed");
            state.backlog.single_failed();
            // The last attempt failed: the next one dead-letters it at once.
            if attempts < max_attempts {
                retry_after(myself, state, state.settings.backoff(attempts));
            }
        }
        // Not the event's fault: the attempt was given back.
        Err(ApplyError::Db(err)) => database_failed(myself, state, &err),
    }
}

/// Schedules the rebuild of the store's pages, if they are stale, `pages_delay` from now:
/// the changes of that moment are rebuilt once. Always as a message, never here: the
/// caller may hold a turn at the database, and the rebuild takes one. A draining actor
/// cannot send to itself: its stale pages are left to recovery (the flag is in the row).
fn schedule_pages(myself: &ActorRef<AccountMsg>, state: &mut AccountState) {
    if !pages_due(state) || state.pages_scheduled {
        return;
    }
    let delay = state.settings.pages_delay;
    let scheduled = if delay.is_zero() {
        myself.send_message(AccountMsg::RebuildPages).is_ok()
    } else {
        !is_draining(myself) && {
            myself.send_after(delay, || AccountMsg::RebuildPages);
            true
        }
    };
    if scheduled {
        state.pages_scheduled = true;
    } else {
        debug!(account = %state.store_key, "stopping; the stale pages are left for recovery");
    }
}

/// Whether the actor marked the store's pages stale, or must look whether they are.
fn pages_due(state: &AccountState) -> bool {
    state.check_pages || state.store.pages_stale.contains(&true)
}

/// Rebuilds the store's stale pages in a turn at the database. On failure the flag stays
/// in the row, and the rebuild is tried again later (by recovery if the actor is stopping).
async fn rebuild_pages(myself: &ActorRef<AccountMsg>, state: &mut AccountState) {
    let rebuilt = {
        let _turn = state.admission.turn().await;
        let _writer = state.admission.writer().hold().await;
        apply::rebuild_pages(
            &state.db,
            &state.store_key,
            &mut state.store,
            state.check_pages,
        )
        .await
    };
    match rebuilt {
        Ok(()) => state.check_pages = false,
        Err(err) if is_draining(myself) => {
            warn!(account = %state.store_key, error = %err, "stopping; the stale pages are left for recovery");
        }
        Err(err) => {
            let delay = if database::is_pool_contention(&err, &state.db) {
                CONTENDED_RETRY
            } else {
                state.outages.failed(&err);
                state.settings.backoff(2)
            };
            state.pages_scheduled = true;
            myself.send_after(delay, || AccountMsg::RebuildPages);
        }
    }
}

/// Reads the next page of the store's waiting events for a resume.
async fn load(myself: &ActorRef<AccountMsg>, state: &mut AccountState) {
    match inbox::pending_for_store(&state.db, &state.store_key, MAX_BATCH as u64).await {
        Ok(rows) => {
            state.backlog.loaded(rows);
            state.outages.recovered();
        }
        Err(err) => database_failed(myself, state, &err),
    }
}

/// A step could not reach the database. A pool busy with the service's own work is
/// contention: the step is taken again shortly, with no backoff and no outage reported.
/// Otherwise the outage is reported once for all actors ([`OutageLog`]) and waited out
/// with a growing backoff; either way no attempt is used up.
fn database_failed(myself: &ActorRef<AccountMsg>, state: &mut AccountState, err: &DbErr) {
    if database::is_pool_contention(err, &state.db) {
        debug!(account = %state.store_key, "database pool busy; taking the step again");
        retry_after(myself, state, CONTENDED_RETRY);
        return;
    }
    state.outages.failed(err);
    let outages = state.backlog.db_failed();
    retry_after(myself, state, state.settings.backoff(outages));
}

/// Waits `delay` before the next step, as a scheduled message. A stopping actor cannot
/// receive it: it lets go of its events instead, which stay `received` for the next actor.
fn retry_after(
    myself: &ActorRef<AccountMsg>,
    state: &mut AccountState,
    delay: std::time::Duration,
) {
    if is_draining(myself) {
        warn!(account = %state.store_key, "stopping; waiting events are left for recovery");
        state.backlog.abandon();
        return;
    }
    state.backlog.wait();
    myself.send_after(delay, || AccountMsg::Retry);
}

async fn record_crash(state: &AccountState, cause: &str) {
    let cause = format!("actor panicked: {cause}");
    if let Err(err) = inbox::explain_interruption(&state.db, &state.store_key, &cause).await {
        warn!(account = %state.store_key, error = %err, "could not record the crash cause");
    }
}
