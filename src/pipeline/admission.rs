//! Two bounds that keep an overload orderly.
//!
//! - [`Admission`]: at most as many apply steps use the database at once as the pool can
//!   serve. Thousands of busy stores then wait their turn in a fair (FIFO) queue instead of
//!   all asking the pool at once, timing out, and taking their own contention for an
//!   outage.
//!   The live actors are bounded too (`MAX_ACCOUNT_ACTORS`): while stores wait for an
//!   actor the admission is [`Admission::is_crowded`], and an actor retires as soon as its
//!   store has nothing left, instead of idling for a while.
//! - [`WriteLock`]: on SQLite, its one writer is taken in turn inside the process, by the
//!   intake, the applier and the actors alike.
//! - [`PayloadBudget`]: at most so many bytes of event payloads wait in memory for their
//!   actor. Beyond it an event is not handed over with its payload: the actor is only told
//!   to read its store's waiting events back from the inbox table, in order, when its turn
//!   comes. Memory stays flat whatever the backlog; the inbox holds the rest.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::{Mutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

/// The fair queue in front of the database for apply steps.
#[derive(Debug, Clone)]
pub struct Admission {
    slots: Arc<Semaphore>,
    crowded: Arc<AtomicBool>,
    writer: WriteLock,
}

/// A turn at the database; the next waiting actor gets it when this is dropped.
pub type Turn = OwnedSemaphorePermit;

/// SQLite's single writer, taken in turn inside the process. SQLite makes a second writer
/// poll its file lock with growing sleeps (1 ms up to 100 ms); with the intake and the
/// actors all writing, those sleeps were most of the time of a spike. A waiter here is
/// woken the moment the writer is free. Empty on PostgreSQL, which has no such limit.
#[derive(Debug, Clone, Default)]
pub struct WriteLock(Option<Arc<Mutex<()>>>);

impl WriteLock {
    /// A lock for a database that allows one writer at a time.
    pub fn single_writer() -> Self {
        Self(Some(Arc::new(Mutex::new(()))))
    }

    /// Waits until this process's writer is free (at once without a lock).
    pub async fn hold(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.0 {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        }
    }
}

impl Admission {
    /// `slots` apply steps at once (at least one); their write transactions take `writer`.
    pub fn new(slots: usize, writer: WriteLock) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots.max(1))),
            crowded: Arc::new(AtomicBool::new(false)),
            writer,
        }
    }

    /// The writer lock of write transactions, shared by the actors and the intake.
    pub fn writer(&self) -> WriteLock {
        self.writer.clone()
    }

    /// Whether stores are waiting for an actor (the live actors are at their bound).
    pub fn is_crowded(&self) -> bool {
        self.crowded.load(Ordering::Relaxed)
    }

    /// Set by the supervisor as stores start and stop waiting for an actor.
    pub fn set_crowded(&self, crowded: bool) {
        self.crowded.store(crowded, Ordering::Relaxed);
    }

    /// Waits for a turn, behind those who asked first.
    pub async fn turn(&self) -> Turn {
        self.slots
            .clone()
            .acquire_owned()
            .await
            .expect("the admission semaphore is never closed")
    }
}

/// Bytes of payloads held in memory between the intake and the actors.
#[derive(Debug, Clone)]
pub struct PayloadBudget {
    limit: usize,
    held: Arc<AtomicUsize>,
}

/// `bytes` of the budget, given back when dropped (the event was applied or let go).
#[derive(Debug)]
pub struct Held {
    bytes: usize,
    held: Arc<AtomicUsize>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.held.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

impl PayloadBudget {
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            held: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Takes `bytes` of the budget, or `None` if they do not fit.
    pub fn hold(&self, bytes: usize) -> Option<Held> {
        let taken = self
            .held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                held.checked_add(bytes).filter(|total| *total <= self.limit)
            });
        taken.ok().map(|_| Held {
            bytes,
            held: self.held.clone(),
        })
    }

    /// Bytes held now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refuses_what_does_not_fit_and_takes_back_what_is_dropped() {
        let budget = PayloadBudget::new(100);
        let first = budget.hold(60).expect("fits");
        assert!(budget.hold(50).is_none(), "60 + 50 > 100");
        let second = budget.hold(40).expect("exactly fits");
        assert_eq!(budget.held(), 100);
        drop(first);
        assert_eq!(budget.held(), 40);
        drop(second);
        assert_eq!(budget.held(), 0);
        assert!(budget.hold(101).is_none(), "never more than the limit");
    }

    #[tokio::test]
    async fn turns_are_handed_out_in_order_and_at_most_slots_at_once() {
        let admission = Admission::new(2, WriteLock::default());
        let first = admission.turn().await;
        let _second = admission.turn().await;
        let waiting = tokio::spawn({
            let admission = admission.clone();
            async move { admission.turn().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "a third waits");
        drop(first);
        drop(waiting.await.unwrap());
    }
}
