//! The event pipeline, in the order an event goes through it:
//! - [`intake`]: verified deliveries are stored in the inbox by group commit, then
//!   acknowledged;
//! - [`supervisor`]: one [`AccountActor`](account::AccountActor) per store key, spawned on a
//!   store's first event, replaced when it crashes, retired when idle;
//! - [`account`] and [`backlog`]: an actor applies its store's events in series; the
//!   backlog decides batch or single attempt, and when to wait and retry;
//! - [`admission`]: a fair queue for a turn at the database, and the memory budget
//!   beyond which events wait in the inbox table only; [`outage`]: an outage logged once;
//! - [`apply`]: the applier puts the batches of the stores ready together in one
//!   transaction ([`group_commit`], as the intake does its deliveries): lock the stores and
//!   claim the events, apply the domain's decisions, mark the pages stale, record the
//!   outcomes; the actor rebuilds stale pages a moment later;
//! - [`recovery`]: events left `received` (a crash, a lost notification, another replica)
//!   are dispatched again;
//! - [`retention`]: applied events past their age are deleted.
//!
//! The inbox table is the queue; mailboxes only carry notifications. Whatever an actor
//! loses (a panic, an idle drain racing a send, a process crash) is still `received` in
//! the table and is picked up again by the next actor of that store.

pub mod account;
pub mod admission;
pub mod apply;
pub mod backlog;
pub mod group_commit;
pub mod intake;
pub mod outage;
pub mod recovery;
pub mod retention;
pub mod supervisor;

pub use supervisor::{AccountSupervisor, Dispatcher, SupervisorStats};

pub use crate::config::ApplySettings;
