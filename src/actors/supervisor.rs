//! `AccountSupervisor`: keeps a map store key → `AccountActor`, spawns children linked on
//! the first event of a store, forwards notifications, and replaces children that stop.
//!
//! It never waits on the database: it only spawns and forwards. A child that panicked is
//! replaced at once by a fresh actor that resumes the store from the inbox; a child that
//! drained itself after an idle period is simply forgotten, and the next event of the
//! store spawns a new one.

use std::collections::HashMap;
use std::sync::Arc;

use ractor::{
    Actor, ActorId, ActorProcessingErr, ActorRef, MessagingErr, RpcReplyPort, SupervisionEvent,
};
use sea_orm::DatabaseConnection;
use tracing::{error, warn};

use super::ApplySettings;
use super::account::{AccountActor, AccountArgs, AccountMsg};

/// Messages of the supervisor.
#[derive(Debug)]
pub enum SupervisorMsg {
    /// A new event of `store_key` is stored and waiting.
    Dispatch { store_key: String, event_id: String },
    /// Apply whatever `store_key` has waiting in the inbox (recovery).
    Resume { store_key: String },
    /// Counters, for probes, metrics and tests.
    Stats(RpcReplyPort<SupervisorStats>),
}

/// What the supervisor is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SupervisorStats {
    /// Live account actors.
    pub actors: usize,
    /// Account actors that crashed and were replaced.
    pub restarts: u64,
}

/// Start-up arguments of the supervisor.
pub struct SupervisorArgs {
    pub db: DatabaseConnection,
    pub settings: Arc<ApplySettings>,
}

/// The supervisor's state.
pub struct SupervisorState {
    db: DatabaseConnection,
    settings: Arc<ApplySettings>,
    children: HashMap<String, ActorRef<AccountMsg>>,
    keys: HashMap<ActorId, String>,
    restarts: u64,
}

/// Supervises one account actor per store key.
pub struct AccountSupervisor;

impl Actor for AccountSupervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = SupervisorArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: SupervisorArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(SupervisorState {
            db: args.db,
            settings: args.settings,
            children: HashMap::new(),
            keys: HashMap::new(),
            restarts: 0,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            SupervisorMsg::Dispatch {
                store_key,
                event_id,
            } => forward(&myself, state, store_key, AccountMsg::Apply { event_id }).await,
            SupervisorMsg::Resume { store_key } => {
                forward(&myself, state, store_key, AccountMsg::Resume).await
            }
            SupervisorMsg::Stats(reply) => {
                let _ = reply.send(SupervisorStats {
                    actors: state.children.len(),
                    restarts: state.restarts,
                });
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // The default would stop the supervisor when any child stops.
        match event {
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                forget(state, cell.get_id());
            }
            SupervisionEvent::ActorFailed(cell, err) => {
                if let Some(store_key) = forget(state, cell.get_id()) {
                    state.restarts += 1;
                    error!(account = %store_key, error = %err, "account actor crashed; restarting it");
                    let crash = Some(err.to_string());
                    if let Err(err) = spawn_child(&myself, state, &store_key, crash).await {
                        error!(account = %store_key, error = %err, "could not restart account actor");
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Sends `message` to the store's actor, spawning one if there is none or the current one
/// is draining (it hands the message back).
async fn forward(
    myself: &ActorRef<SupervisorMsg>,
    state: &mut SupervisorState,
    store_key: String,
    message: AccountMsg,
) {
    let message = match state.children.get(&store_key) {
        Some(child) => match child.send_message(message) {
            Ok(()) => return,
            Err(MessagingErr::SendErr(message)) => message,
            Err(_) => return,
        },
        None => message,
    };
    match spawn_child(myself, state, &store_key, None).await {
        Ok(child) => {
            if child.send_message(message).is_err() {
                // Still stored as `received`: the next resume or start-up applies it.
                warn!(account = %store_key, "fresh account actor refused a message");
            }
        }
        Err(err) => error!(account = %store_key, error = %err, "could not spawn account actor"),
    }
}

async fn spawn_child(
    myself: &ActorRef<SupervisorMsg>,
    state: &mut SupervisorState,
    store_key: &str,
    crash: Option<String>,
) -> Result<ActorRef<AccountMsg>, ractor::SpawnErr> {
    let args = AccountArgs {
        store_key: store_key.to_owned(),
        db: state.db.clone(),
        settings: state.settings.clone(),
        crash,
    };
    let (child, _) = Actor::spawn_linked(None, AccountActor, args, myself.get_cell()).await?;
    state.keys.insert(child.get_id(), store_key.to_owned());
    state.children.insert(store_key.to_owned(), child.clone());
    Ok(child)
}

/// Drops a stopped child from the registry, if it is still the registered one.
fn forget(state: &mut SupervisorState, id: ActorId) -> Option<String> {
    let store_key = state.keys.remove(&id)?;
    if state
        .children
        .get(&store_key)
        .is_some_and(|child| child.get_id() == id)
    {
        state.children.remove(&store_key);
    }
    Some(store_key)
}

/// The handle the HTTP layer and start-up use to reach the supervisor.
#[derive(Clone)]
pub struct Dispatcher {
    supervisor: ActorRef<SupervisorMsg>,
}

impl Dispatcher {
    /// Starts the supervisor.
    pub async fn start(
        db: DatabaseConnection,
        settings: ApplySettings,
    ) -> Result<(Self, tokio::task::JoinHandle<()>), ractor::SpawnErr> {
        let args = SupervisorArgs {
            db,
            settings: Arc::new(settings),
        };
        let (supervisor, handle) = Actor::spawn(None, AccountSupervisor, args).await?;
        Ok((Self { supervisor }, handle))
    }

    /// Notifies the store's actor of a newly stored event. Never fails the caller: an
    /// event that cannot be handed over stays `received` and is recovered.
    pub fn dispatch(&self, store_key: &str, event_id: &str) {
        let message = SupervisorMsg::Dispatch {
            store_key: store_key.to_owned(),
            event_id: event_id.to_owned(),
        };
        if self.supervisor.send_message(message).is_err() {
            warn!(
                event_id,
                "supervisor is not running; the event waits for recovery"
            );
        }
    }

    /// Asks the store's actor to apply everything it has waiting.
    pub fn resume(&self, store_key: &str) {
        let message = SupervisorMsg::Resume {
            store_key: store_key.to_owned(),
        };
        let _ = self.supervisor.send_message(message);
    }

    /// The supervisor's counters, or `None` if it is not running.
    pub async fn stats(&self) -> Option<SupervisorStats> {
        ractor::call!(self.supervisor, SupervisorMsg::Stats).ok()
    }

    /// Drains every account actor (their queued events are applied), waiting at most
    /// `timeout`, then stops the supervisor.
    pub async fn shutdown(&self, timeout: std::time::Duration) {
        self.supervisor.drain_children();
        let deadline = tokio::time::Instant::now() + timeout;
        while let Some(stats) = self.stats().await {
            if stats.actors == 0 || tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let _ = self.supervisor.stop_and_wait(None, Some(timeout)).await;
    }
}
