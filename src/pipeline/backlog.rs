//! The life of a store's events inside its actor: which to apply next, and how.
//!
//! A [`Backlog`] holds the events an actor has been handed, oldest first, and answers
//! [`Backlog::next`] with one [`Step`]: apply a batch, make one counted attempt, load the
//! store's waiting events from the inbox, or nothing. The actor runs the step and reports
//! back. The rules, in one place:
//! - events that never failed are applied together, up to [`MAX_BATCH`] per transaction;
//! - an event that failed before, every event of a batch that failed, and every event
//!   loaded after a crash are applied one at a time, each attempt counted before it
//!   starts, so a poison event is isolated and dead-lettered;
//! - a failure is followed by a wait (the actor schedules a message; it never sleeps):
//!   nothing is applied until it ends, so a store's events keep their order.
//!
//! Nothing here is durable: whatever a backlog holds is also `received` in the inbox, and a
//! resume reads it back from there.

use std::collections::VecDeque;

use entity::webhook_event::Model;

use super::admission::Held;

/// Largest batch applied in one transaction.
pub const MAX_BATCH: usize = 256;

/// What the actor should do next.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// Apply these events in one transaction.
    Batch(Vec<Model>),
    /// Make one counted attempt at the event with this id.
    Single(String),
    /// Read the next page of the store's waiting events from the inbox.
    Load,
    /// Nothing to do: empty, or waiting for a scheduled retry.
    Idle,
}

#[derive(Debug)]
struct Entry {
    event: Model,
    /// Applied alone, with its attempt counted first.
    single: bool,
    /// Its payload's share of the memory budget, given back when the entry goes.
    _held: Option<Held>,
}

/// A resume in progress: the store's waiting events are read back page by page.
#[derive(Debug)]
struct Resume {
    /// Loaded events are applied one at a time (the previous actor crashed).
    careful: bool,
    /// The first event of the last page, to stop if a page makes no progress.
    previous_first: Option<String>,
}

/// The events an actor holds and the state of their attempts.
#[derive(Debug, Default)]
pub struct Backlog {
    entries: VecDeque<Entry>,
    resume: Option<Resume>,
    /// A retry is scheduled: nothing is applied until [`Backlog::retry_due`].
    waiting: bool,
    /// Consecutive database failures, for the backoff of outages.
    db_failures: i32,
    /// The actor is stopping: it applies nothing more, and every event it is handed stays
    /// `received` for the next actor (applying a later one now would break the order).
    stopped: bool,
}

impl Backlog {
    /// Adds an event the supervisor handed over. During a resume it is left to a later
    /// page of the inbox instead, so that it cannot pass older events still waiting there.
    pub fn push(&mut self, event: Model, held: Option<Held>) {
        if self.resume.is_some() || self.stopped {
            return;
        }
        let single = event.attempts > 0;
        self.entries.push_back(Entry {
            event,
            single,
            _held: held,
        });
    }

    /// Whether a resume is reading the store's waiting events back: an event committed
    /// before now is among them.
    pub fn is_resuming(&self) -> bool {
        self.resume.is_some()
    }

    /// Whether [`Backlog::next`] has a step to take (without building it).
    pub fn has_step(&self) -> bool {
        !self.waiting && !self.stopped && (!self.entries.is_empty() || self.resume.is_some())
    }

    /// Forgets what is held and reads the store's waiting events back from the inbox
    /// (they include everything held). After a crash, `careful` applies them one by one.
    pub fn resume(&mut self, careful: bool) {
        if self.stopped {
            return;
        }
        self.entries.clear();
        let careful = careful || self.resume.as_ref().is_some_and(|resume| resume.careful);
        self.resume = Some(Resume {
            careful,
            previous_first: None,
        });
    }

    /// The next step, without taking it.
    pub fn next(&self) -> Step {
        if self.waiting || self.stopped {
            return Step::Idle;
        }
        let Some(head) = self.entries.front() else {
            return if self.resume.is_some() {
                Step::Load
            } else {
                Step::Idle
            };
        };
        if head.single {
            return Step::Single(head.event.id.clone());
        }
        let batch: Vec<Model> = self
            .entries
            .iter()
            .take(MAX_BATCH)
            .take_while(|entry| !entry.single)
            .map(|entry| entry.event.clone())
            .collect();
        Step::Batch(batch)
    }

    /// The batch of the first `len` events was applied.
    pub fn batch_applied(&mut self, len: usize) {
        self.entries.drain(..len.min(self.entries.len()));
        self.db_failures = 0;
    }

    /// The batch of the first `len` events failed on one of them: each is applied alone.
    pub fn batch_failed(&mut self, len: usize) {
        for entry in self.entries.iter_mut().take(len) {
            entry.single = true;
        }
    }

    /// The single attempt at the head event ended it (applied, dead-lettered, or already
    /// done elsewhere).
    pub fn single_done(&mut self) {
        self.entries.pop_front();
        self.db_failures = 0;
    }

    /// The head event's attempt failed; it stays at the head for its next attempt.
    pub fn single_failed(&mut self) {
        self.db_failures = 0;
    }

    /// The database was unavailable: the step is to be taken again. Returns how many
    /// outages in a row, for the backoff.
    pub fn db_failed(&mut self) -> i32 {
        self.db_failures = self.db_failures.saturating_add(1);
        self.db_failures
    }

    /// A page of the store's waiting events, oldest first, as read for a resume. The
    /// resume ends with a short page, an empty one, or one that made no progress.
    pub fn loaded(&mut self, rows: Vec<Model>) {
        self.db_failures = 0;
        let Some(resume) = self.resume.as_mut() else {
            return;
        };
        let first = rows.first().map(|row| row.id.clone());
        if first.is_none() || first == resume.previous_first {
            self.resume = None;
            return;
        }
        let last_page = rows.len() < MAX_BATCH;
        let careful = resume.careful;
        resume.previous_first = first;
        for event in rows {
            let single = careful || event.attempts > 0;
            self.entries.push_back(Entry {
                event,
                single,
                _held: None,
            });
        }
        if last_page {
            self.resume = None;
        }
    }

    /// A retry was scheduled: apply nothing until it is due.
    pub fn wait(&mut self) {
        self.waiting = true;
    }

    /// The scheduled retry is due.
    pub fn retry_due(&mut self) {
        self.waiting = false;
    }

    /// Whether a retry is scheduled.
    pub fn is_waiting(&self) -> bool {
        self.waiting
    }

    /// How many events are held.
    pub fn held(&self) -> usize {
        self.entries.len()
    }

    /// Nothing held, nothing to load, no retry scheduled: the actor may retire.
    pub fn is_idle(&self) -> bool {
        self.entries.is_empty() && self.resume.is_none() && !self.waiting
    }

    /// Drops everything held and applies nothing more (it is all still `received` in the
    /// inbox), for an actor that cannot schedule its retry because it is stopping.
    pub fn abandon(&mut self) {
        self.entries.clear();
        self.resume = None;
        self.waiting = false;
        self.stopped = true;
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use entity::status::EventStatus;

    use super::*;

    fn event(id: &str, attempts: i32) -> Model {
        Model {
            id: id.to_owned(),
            event_type: "customer.created".to_owned(),
            account: None,
            store_key: "acct_1".to_owned(),
            livemode: false,
            api_version: None,
            object_id: None,
            payload: "{}".to_owned(),
            status: EventStatus::Received,
            attempts,
            last_error: None,
            created: 0,
            created_at: DateTime::UNIX_EPOCH,
            processed_at: None,
            body_conflicts: 0,
        }
    }

    fn ids(step: Step) -> Vec<String> {
        match step {
            Step::Batch(rows) => rows.into_iter().map(|row| row.id).collect(),
            Step::Single(id) => vec![format!("single {id}")],
            Step::Load => vec!["load".to_owned()],
            Step::Idle => vec![],
        }
    }

    #[test]
    fn fresh_events_go_in_one_batch_up_to_an_event_that_failed_before() {
        let mut backlog = Backlog::default();
        backlog.push(event("a", 0), None);
        backlog.push(event("b", 0), None);
        backlog.push(event("c", 1), None);
        backlog.push(event("d", 0), None);
        assert_eq!(ids(backlog.next()), ["a", "b"]);
        backlog.batch_applied(2);
        assert_eq!(ids(backlog.next()), ["single c"]);
        backlog.single_done();
        assert_eq!(ids(backlog.next()), ["d"]);
        backlog.batch_applied(1);
        assert!(backlog.is_idle());
    }

    #[test]
    fn a_failed_batch_is_applied_one_event_at_a_time() {
        let mut backlog = Backlog::default();
        for id in ["a", "b", "c"] {
            backlog.push(event(id, 0), None);
        }
        backlog.batch_failed(2);
        assert_eq!(ids(backlog.next()), ["single a"]);
        backlog.single_done();
        assert_eq!(ids(backlog.next()), ["single b"]);
        backlog.single_done();
        assert_eq!(ids(backlog.next()), ["c"]);
    }

    #[test]
    fn nothing_is_applied_while_a_retry_is_scheduled() {
        let mut backlog = Backlog::default();
        backlog.push(event("a", 1), None);
        backlog.single_failed();
        backlog.wait();
        backlog.push(event("b", 0), None);
        assert_eq!(backlog.next(), Step::Idle);
        assert!(!backlog.is_idle());
        backlog.retry_due();
        assert_eq!(ids(backlog.next()), ["single a"]);
    }

    #[test]
    fn batches_hold_at_most_max_batch_events() {
        let mut backlog = Backlog::default();
        for n in 0..MAX_BATCH + 3 {
            backlog.push(event(&format!("e{n}"), 0), None);
        }
        assert_eq!(ids(backlog.next()).len(), MAX_BATCH);
    }

    #[test]
    fn a_resume_reads_pages_until_a_short_one() {
        let mut backlog = Backlog::default();
        backlog.push(event("held", 0), None);
        backlog.resume(false);
        assert_eq!(backlog.next(), Step::Load);
        let page: Vec<Model> = (0..MAX_BATCH).map(|n| event(&format!("e{n}"), 0)).collect();
        backlog.loaded(page);
        assert_eq!(ids(backlog.next()).len(), MAX_BATCH);
        backlog.batch_applied(MAX_BATCH);
        assert_eq!(backlog.next(), Step::Load);
        backlog.loaded(vec![event("last", 0)]);
        assert_eq!(ids(backlog.next()), ["last"]);
        backlog.batch_applied(1);
        assert!(backlog.is_idle());
    }

    #[test]
    fn a_resume_after_a_crash_applies_one_at_a_time_and_stops_without_progress() {
        let mut backlog = Backlog::default();
        backlog.resume(true);
        let page: Vec<Model> = (0..MAX_BATCH).map(|n| event(&format!("e{n}"), 0)).collect();
        backlog.loaded(page.clone());
        assert_eq!(ids(backlog.next()), ["single e0"]);
        backlog.abandon();
        backlog.resume(true);
        backlog.loaded(page.clone());
        for _ in 0..MAX_BATCH {
            backlog.single_done();
        }
        // The same first event again: a page that made no progress ends the resume.
        backlog.loaded(page);
        assert!(backlog.is_idle());
    }

    #[test]
    fn events_handed_over_during_a_resume_are_left_to_its_later_pages() {
        let mut backlog = Backlog::default();
        backlog.resume(false);
        backlog.db_failed();
        backlog.wait();
        backlog.push(event("newer", 0), None);
        backlog.retry_due();
        assert_eq!(
            backlog.next(),
            Step::Load,
            "older waiting events come first"
        );
        backlog.loaded(vec![event("older", 0), event("newer", 0)]);
        assert_eq!(ids(backlog.next()), ["older", "newer"]);
    }

    #[test]
    fn a_stopped_backlog_applies_nothing_more() {
        let mut backlog = Backlog::default();
        backlog.push(event("failed", 1), None);
        backlog.abandon();
        backlog.push(event("later", 0), None);
        backlog.resume(false);
        assert_eq!(backlog.next(), Step::Idle);
        assert!(backlog.is_idle());
    }

    #[test]
    fn outages_in_a_row_are_counted_until_a_step_succeeds() {
        let mut backlog = Backlog::default();
        backlog.push(event("a", 0), None);
        assert_eq!(backlog.db_failed(), 1);
        assert_eq!(backlog.db_failed(), 2);
        backlog.batch_applied(1);
        assert_eq!(backlog.db_failed(), 1);
    }
}
