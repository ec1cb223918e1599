//! `AccountActor`: applies one store's events strictly one at a time.
//!
//! Each event gets up to `max_attempts` attempts with exponential backoff; meanwhile later
//! events of the store wait, so a store's events are applied in the order its actor got
//! them. A database outage does not use up attempts: the actor waits and tries again. A
//! domain panic is not caught here: the actor dies, the supervisor counts the restart, and
//! a fresh actor resumes the store from the inbox table.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use sea_orm::DatabaseConnection;
use tracing::{error, info, warn};

use super::ApplySettings;
use super::supervisor::SupervisorMsg;
use crate::apply::{self, Applied, ApplyError};
use crate::inbox;

/// Messages of an account actor.
#[derive(Debug)]
pub enum AccountMsg {
    /// Apply this stored event (from the supervisor).
    Apply { event_id: String },
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
            crash: args.crash,
            db_failures: 0,
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
            AccountMsg::Apply { event_id } => {
                state.handled += 1;
                apply_with_retries(state, &event_id).await;
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

async fn resume(myself: &ActorRef<AccountMsg>, state: &mut AccountState) {
    if let Some(cause) = state.crash.take() {
        record_crash(state, &cause).await;
    }
    match inbox::pending_for_store(&state.db, &state.store_key).await {
        Ok(ids) => {
            for id in ids {
                apply_with_retries(state, &id).await;
            }
        }
        Err(err) => {
            warn!(account = %state.store_key, error = %err, "could not list pending events; retrying");
            myself.send_after(state.settings.backoff(1), || AccountMsg::RetryResume);
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
