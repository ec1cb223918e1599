//! `AccountSupervisor`: keeps a map store key → `AccountActor`, spawns children linked on
//! the first event of a store, forwards notifications, and replaces children that stop.
//!
//! It never waits on the database: it only spawns and forwards. A child that panicked is
//! replaced at once by a fresh actor that resumes the store from the inbox after a
//! backoff. Idle children are retired here, not by themselves: a child reports idleness
//! with the number of messages it handled, and only when that equals what the supervisor
//! forwarded is it removed from the map and drained. Nothing is then in flight to it, so a
//! store never has two actors at once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use entity::webhook_event::Model;
use ractor::{
    Actor, ActorId, ActorProcessingErr, ActorRef, MessagingErr, RpcReplyPort, SupervisionEvent,
};
use sea_orm::DatabaseConnection;
use tracing::{error, warn};

use super::ApplySettings;
use super::account::{AccountActor, AccountArgs, AccountMsg};
use super::admission::{Admission, Held, PayloadBudget, WriteLock};
use super::apply::{self, Applier};
use super::outage::OutageLog;

/// Messages of the supervisor.
#[derive(Debug)]
pub enum SupervisorMsg {
    /// A new event of `store_key` is stored and waiting; it holds `held` of the memory
    /// budget.
    Dispatch {
        event: Box<Model>,
        held: Option<Held>,
    },
    /// Apply whatever `store_key` has waiting in the inbox (recovery).
    Resume { store_key: String },
    /// A child had nothing to do for the idle period, having handled `handled` messages.
    Idle {
        store_key: String,
        actor: ActorId,
        handled: u64,
    },
    /// Counters, for probes, metrics and tests.
    Stats(RpcReplyPort<SupervisorStats>),
}

/// What the supervisor is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SupervisorStats {
    /// Live account actors (retiring ones included).
    pub actors: usize,
    /// Account actors that crashed and were replaced.
    pub restarts: u64,
}

/// Start-up arguments of the supervisor.
pub struct SupervisorArgs {
    pub db: DatabaseConnection,
    pub settings: Arc<ApplySettings>,
    pub admission: Admission,
    /// The group commit of the actors' batches.
    pub applier: Applier,
    pub outages: Arc<OutageLog>,
}

/// A registered child and how many messages it was sent.
struct Child {
    actor: ActorRef<AccountMsg>,
    forwarded: u64,
}

/// The supervisor's state.
pub struct SupervisorState {
    db: DatabaseConnection,
    settings: Arc<ApplySettings>,
    admission: Admission,
    applier: Applier,
    outages: Arc<OutageLog>,
    children: HashMap<String, Child>,
    /// Store key of every live child, registered or retiring.
    keys: HashMap<ActorId, String>,
    /// Consecutive crashes per store, for the restart backoff; cleared when it idles.
    crashes: HashMap<String, i32>,
    /// Stores with events waiting for an actor while the live actors are at their bound,
    /// first come first served; `queued` is the same set, for lookups.
    waiting: VecDeque<String>,
    queued: HashSet<String>,
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
            admission: args.admission,
            applier: args.applier,
            outages: args.outages,
            children: HashMap::new(),
            keys: HashMap::new(),
            crashes: HashMap::new(),
            waiting: VecDeque::new(),
            queued: HashSet::new(),
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
            SupervisorMsg::Dispatch { event, held } => {
                let store_key = event.store_key.clone();
                forward(&myself, state, store_key, AccountMsg::Apply { event, held }).await
            }
            SupervisorMsg::Resume { store_key } => {
                forward(&myself, state, store_key, AccountMsg::Resume).await
            }
            SupervisorMsg::Idle {
                store_key,
                actor,
                handled,
            } => retire_if_idle(state, &store_key, actor, handled),
            SupervisorMsg::Stats(reply) => {
                let _ = reply.send(SupervisorStats {
                    actors: state.keys.len(),
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
                if let Some((store_key, was_registered)) = forget(state, cell.get_id()) {
                    state.restarts += 1;
                    crate::metrics::actor_restarted();
                    error!(account = %store_key, error = %err, "account actor crashed; restarting it");
                    restart(&myself, state, store_key, was_registered, err.to_string()).await;
                }
            }
            _ => {}
        }
        admit_waiting(&myself, state).await;
        Ok(())
    }
}

/// Gives actors to waiting stores while the bound allows; each reads its events back from
/// the inbox.
async fn admit_waiting(myself: &ActorRef<SupervisorMsg>, state: &mut SupervisorState) {
    while state.keys.len() < state.settings.max_actors {
        let Some(store_key) = state.waiting.pop_front() else {
            break;
        };
        state.queued.remove(&store_key);
        forward(myself, state, store_key, AccountMsg::Resume).await;
    }
    state.admission.set_crowded(!state.waiting.is_empty());
}

/// Puts a store in line for an actor. What it was sent is dropped: its events are in the
/// inbox, and its actor resumes from there.
fn wait_for_actor(state: &mut SupervisorState, store_key: String) {
    if state.queued.insert(store_key.clone()) {
        state.waiting.push_back(store_key);
    }
    state.admission.set_crowded(true);
}

/// Replaces a crashed child: a fresh actor resumes the store after a backoff that grows
/// with the store's consecutive crashes. If another child already took over (a message
/// raced the crash), that one resumes instead.
async fn restart(
    myself: &ActorRef<SupervisorMsg>,
    state: &mut SupervisorState,
    store_key: String,
    was_registered: bool,
    cause: String,
) {
    let crashes = state.crashes.entry(store_key.clone()).or_insert(0);
    *crashes += 1;
    let backoff = state.settings.backoff(*crashes);
    let current = match state.children.get(&store_key) {
        Some(child) if !was_registered => Ok(child.actor.clone()),
        _ => spawn_child(myself, state, &store_key, Some(cause)).await,
    };
    match current {
        Ok(child) => {
            child.send_after(backoff, || AccountMsg::Resume);
            if let Some(child) = state.children.get_mut(&store_key) {
                child.forwarded += 1;
            }
        }
        Err(err) => error!(account = %store_key, error = %err, "could not restart account actor"),
    }
}

/// Retires a child that reported idleness, unless a message was forwarded since.
fn retire_if_idle(state: &mut SupervisorState, store_key: &str, actor: ActorId, handled: u64) {
    let idle = state
        .children
        .get(store_key)
        .is_some_and(|child| child.actor.get_id() == actor && child.forwarded == handled);
    if let Some(child) = idle.then(|| state.children.remove(store_key)).flatten() {
        state.crashes.remove(store_key);
        // drain, not stop: a message queued by a timer is still handled.
        let _ = child.actor.drain();
    }
}

/// Sends `message` to the store's actor, spawning one if there is none or the current one
/// is stopping (it hands the message back).
async fn forward(
    myself: &ActorRef<SupervisorMsg>,
    state: &mut SupervisorState,
    store_key: String,
    message: AccountMsg,
) {
    let message = match state.children.get_mut(&store_key) {
        Some(child) => match child.actor.send_message(message) {
            Ok(()) => {
                child.forwarded += 1;
                return;
            }
            Err(MessagingErr::SendErr(message)) => message,
            Err(_) => AccountMsg::Resume,
        },
        None => message,
    };
    if state.keys.len() >= state.settings.max_actors {
        wait_for_actor(state, store_key);
        return;
    }
    match spawn_child(myself, state, &store_key, None).await {
        Ok(child) => {
            if child.send_message(message).is_ok()
                && let Some(child) = state.children.get_mut(&store_key)
            {
                child.forwarded += 1;
            }
        }
        // The event stays `received`: the periodic recovery sweep dispatches it again.
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
        supervisor: myself.clone(),
        crash,
        admission: state.admission.clone(),
        applier: state.applier.clone(),
        outages: state.outages.clone(),
    };
    let (actor, _) = Actor::spawn_linked(None, AccountActor, args, myself.get_cell()).await?;
    state.keys.insert(actor.get_id(), store_key.to_owned());
    let child = Child {
        actor: actor.clone(),
        forwarded: 0,
    };
    state.children.insert(store_key.to_owned(), child);
    Ok(actor)
}

/// Drops a stopped child: returns its store key and whether it was still the registered
/// child of that store.
fn forget(state: &mut SupervisorState, id: ActorId) -> Option<(String, bool)> {
    let store_key = state.keys.remove(&id)?;
    let registered = state
        .children
        .get(&store_key)
        .is_some_and(|child| child.actor.get_id() == id);
    if registered {
        state.children.remove(&store_key);
    }
    Some((store_key, registered))
}

/// The handle the HTTP layer and start-up use to reach the supervisor.
#[derive(Clone)]
pub struct Dispatcher {
    supervisor: ActorRef<SupervisorMsg>,
    budget: PayloadBudget,
    outages: Arc<OutageLog>,
    writer: WriteLock,
}

impl Dispatcher {
    /// Starts the supervisor.
    pub async fn start(
        db: DatabaseConnection,
        settings: ApplySettings,
    ) -> Result<(Self, tokio::task::JoinHandle<()>), ractor::SpawnErr> {
        let budget = PayloadBudget::new(settings.memory_queue_bytes);
        let outages = Arc::new(OutageLog::default());
        let writer = match settings.single_writer {
            true => WriteLock::single_writer(),
            false => WriteLock::default(),
        };
        let applier = apply::start_applier(db.clone(), settings.writers, writer.clone());
        let args = SupervisorArgs {
            db,
            admission: Admission::new(settings.concurrency, writer.clone()),
            applier,
            outages: outages.clone(),
            settings: Arc::new(settings),
        };
        let (supervisor, handle) = Actor::spawn(None, AccountSupervisor, args).await?;
        let dispatcher = Self {
            supervisor,
            budget,
            outages,
            writer,
        };
        Ok((dispatcher, handle))
    }

    /// Hands a newly stored (committed) event to its store's actor: with its payload while
    /// the memory budget allows, else as a notification that the actor reads back from
    /// the inbox, in order. Never fails the caller: an event that cannot be handed over
    /// stays `received` and is recovered.
    pub fn dispatch(&self, event: Model) {
        let message = match self.budget.hold(event.payload.len()) {
            Some(held) => SupervisorMsg::Dispatch {
                event: Box::new(event),
                held: Some(held),
            },
            None => SupervisorMsg::Resume {
                store_key: event.store_key,
            },
        };
        if self.supervisor.send_message(message).is_err() {
            warn!("supervisor is not running; the event waits for recovery");
        }
    }

    /// The database's writer lock, for the intake to share with the actors.
    pub fn writer(&self) -> WriteLock {
        self.writer.clone()
    }

    /// Payload bytes held in memory for the actors.
    pub fn held_bytes(&self) -> usize {
        self.budget.held()
    }

    /// Apply steps that found the database unavailable since start-up.
    pub fn unavailable_steps(&self) -> u64 {
        self.outages.failed_steps()
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

    /// Drains every account actor, waiting at most `timeout`, then stops the supervisor.
    /// The messages already in their mailboxes are handled; events an actor still holds
    /// for a linger or a retry stay `received` and are applied at the next start.
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
