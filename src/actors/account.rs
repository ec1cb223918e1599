//! `AccountActor`: applies one store's events strictly one at a time.
//!
//! Each event gets up to `max_attempts` attempts with exponential backoff; meanwhile later
//! events of the store wait, so a store's events are applied in the order its actor got
//! them. A domain panic is not caught here: the actor dies, the supervisor counts the
//! restart, and a fresh actor resumes from the inbox table.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use sea_orm::DatabaseConnection;
use tracing::{error, info, warn};

use super::ApplySettings;
use crate::apply::{self, Applied, ApplyError};
use crate::inbox;

/// Messages of an account actor.
#[derive(Debug)]
pub enum AccountMsg {
    /// Apply this stored event.
    Apply { event_id: String },
    /// Apply every event of the store still waiting in the inbox.
    Resume,
    /// Sent to itself after each message; drains the actor if nothing came since.
    IdleCheck { generation: u64 },
}

/// Start-up arguments of an account actor.
pub struct AccountArgs {
    pub store_key: String,
    pub db: DatabaseConnection,
    pub settings: Arc<ApplySettings>,
    /// Why the previous actor of this store died, when it did.
    pub crash: Option<String>,
}

/// The actor's state.
pub struct AccountState {
    store_key: String,
    db: DatabaseConnection,
    settings: Arc<ApplySettings>,
    /// Bumped by every message, so a stale idle check is recognised.
    generation: u64,
    /// The previous actor's panic, recorded on its interrupted event at the first resume
    /// (pre_start must not wait on the database: the supervisor waits on pre_start).
    crash: Option<String>,
}

/// Applies one store's events in series.
pub struct AccountActor;

impl Actor for AccountActor {
    type Msg = AccountMsg;
    type State = AccountState;
    type Arguments = AccountArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: AccountArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        if args.crash.is_some() {
            // Resume after a backoff, so a poison event does not spin.
            myself.send_after(args.settings.backoff(1), || AccountMsg::Resume);
        }
        Ok(AccountState {
            store_key: args.store_key,
            db: args.db,
            settings: args.settings,
            generation: 0,
            crash: args.crash,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            AccountMsg::Apply { event_id } => {
                state.generation += 1;
                apply_with_retries(state, &event_id).await;
            }
            AccountMsg::Resume => {
                state.generation += 1;
                if let Some(cause) = state.crash.take() {
                    record_crash(state, &cause).await;
                }
                resume(state).await;
            }
            AccountMsg::IdleCheck { generation } => {
                if generation == state.generation {
                    // drain, not stop: anything already queued is still applied.
                    let _ = myself.drain();
                }
                return Ok(());
            }
        }
        let generation = state.generation;
        myself.send_after(state.settings.idle_timeout, move || AccountMsg::IdleCheck {
            generation,
        });
        Ok(())
    }
}

async fn record_crash(state: &AccountState, cause: &str) {
    let cause = format!("actor panicked: {cause}");
    if let Err(err) = inbox::explain_interruption(&state.db, &state.store_key, &cause).await {
        warn!(account = %state.store_key, error = %err, "could not record the crash cause");
    }
}

async fn resume(state: &AccountState) {
    match inbox::pending_for_store(&state.db, &state.store_key).await {
        Ok(ids) => {
            for id in ids {
                apply_with_retries(state, &id).await;
            }
        }
        Err(err) => {
            // The events stay `received`; start-up recovery or the next resume gets them.
            warn!(account = %state.store_key, error = %err, "could not list pending events");
        }
    }
}

/// Attempts `event_id` until it is applied, dead-lettered, or out of attempts.
async fn apply_with_retries(state: &AccountState, event_id: &str) {
    let settings = &state.settings;
    loop {
        match apply::attempt(&state.db, event_id, settings.max_attempts).await {
            Ok(Applied::Done(outcome)) => {
                info!(event_id, account = %state.store_key, status = outcome.status(), "event applied");
                return;
            }
            Ok(Applied::AlreadyDone) => return,
            Ok(Applied::DeadLettered) => {
                error!(event_id, account = %state.store_key, "event failed after every attempt");
                return;
            }
            Err(ApplyError::Domain { attempts, source }) => {
                warn!(event_id, account = %state.store_key, attempts, error = %source, "event attempt failed");
                tokio::time::sleep(settings.backoff(attempts)).await;
            }
            Err(ApplyError::Db(err)) => {
                warn!(event_id, account = %state.store_key, error = %err, "event attempt failed on the database");
                tokio::time::sleep(settings.backoff(1)).await;
            }
        }
    }
}
