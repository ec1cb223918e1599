//! Syncs inside the service: started from the admin API (`POST /sync`) or every
//! `SYNC_INTERVAL_SECS` (the gap-fill), one at a time, each a [`Run`] the admin API shows
//! while it goes and after it ends. New events are handed to their stores' actors as they
//! are stored. On shutdown a run stops at its next page; its cursors stay, so the next run
//! resumes.
//!
//! Runs are kept in memory (the last [`KEPT_RUNS`] of this process); what must survive a
//! restart, each list's position, is in `stripe_sync_cursors`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use tokio::task::JoinHandle;

use super::{Listing, Observer, Options, State, Sync, Tally};
use crate::config::Settings;
use crate::pipeline::Dispatcher;
use crate::stripe::api::Client;

/// Runs kept for the admin API.
pub const KEPT_RUNS: usize = 20;

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// `POST /sync`.
    Api,
    /// The periodic gap-fill (`SYNC_INTERVAL_SECS`).
    Interval,
}

/// One sync run of this process.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Run {
    /// `syncrun_...`.
    pub id: String,
    /// Always `sync_run`.
    pub object: String,
    pub state: State,
    pub trigger: Trigger,
    /// The one store asked for, if any.
    pub store: Option<String>,
    /// How far back events were asked for, in seconds (`null`: from each list's cursor).
    pub since: Option<u64>,
    /// Whether objects were listed too.
    pub objects: bool,
    /// When it started (Unix seconds).
    pub created: i64,
    /// When it ended.
    pub finished: Option<i64>,
    /// The sums of its listings.
    pub totals: Tally,
    /// Each list of each store, as far as the run has read it.
    pub listings: Vec<Listing>,
    /// The first failed listing's error.
    pub last_error: Option<String>,
}

/// Why a run did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// No `STRIPE_API_KEY`.
    NotConfigured,
    /// The run already going.
    Running(String),
}

/// The service's syncs.
pub struct Runner {
    client: Option<Client>,
    db: DatabaseConnection,
    dispatcher: Dispatcher,
    runs: Mutex<VecDeque<Run>>,
    stop: AtomicBool,
}

impl Runner {
    pub fn new(settings: &Settings, db: DatabaseConnection, dispatcher: Dispatcher) -> Self {
        Self {
            client: Client::from_settings(settings),
            db,
            dispatcher,
            runs: Mutex::new(VecDeque::new()),
            stop: AtomicBool::new(false),
        }
    }

    /// Whether a key is configured (without one nothing can be synced).
    pub fn configured(&self) -> bool {
        self.client.is_some()
    }

    /// Starts a run in the background; answers it as it starts.
    pub fn start(self: &Arc<Self>, options: Options, trigger: Trigger) -> Result<Run, StartError> {
        let run = self.reserve(&options, trigger)?;
        tokio::spawn(self.clone().supervise(run.id.clone(), options));
        Ok(run)
    }

    /// The runs of this process, newest first.
    pub fn runs(&self) -> Vec<Run> {
        self.lock().iter().cloned().collect()
    }

    /// One run of this process.
    pub fn run(&self, id: &str) -> Option<Run> {
        self.lock().iter().find(|run| run.id == id).cloned()
    }

    /// Stops the run going, if any, at its next page, waiting up to `timeout` for it.
    pub async fn shutdown(&self, timeout: Duration) {
        self.stop.store(true, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + timeout;
        while self.running().is_some() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The gap-fill: every `interval`, the events of every store since its cursor. A
    /// failure is logged and the next interval tries again; an interval that finds a run
    /// going skips its turn.
    pub fn every(self: &Arc<Self>, interval: Duration) -> Option<JoinHandle<()>> {
        if !self.configured() {
            tracing::warn!(
                "SYNC_INTERVAL_SECS is set but STRIPE_API_KEY is not: no periodic gap-fill"
            );
            return None;
        }
        let runner = self.clone();
        Some(tokio::spawn(async move {
            let start = tokio::time::Instant::now() + interval;
            let mut ticks = tokio::time::interval_at(start, interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if runner.stop.load(Ordering::SeqCst) {
                    return;
                }
                match runner.reserve(&Options::default(), Trigger::Interval) {
                    Ok(run) => runner.clone().supervise(run.id, Options::default()).await,
                    Err(StartError::Running(id)) => {
                        tracing::info!(running = %id, "gap-fill skipped: a sync is running")
                    }
                    Err(StartError::NotConfigured) => return,
                }
            }
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Run>> {
        // A panic while holding the lock leaves plain data, still readable.
        self.runs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn running(&self) -> Option<String> {
        self.lock()
            .iter()
            .find(|run| run.state == State::Running)
            .map(|run| run.id.clone())
    }

    /// Records a new run, unless one is going.
    fn reserve(&self, options: &Options, trigger: Trigger) -> Result<Run, StartError> {
        if !self.configured() {
            return Err(StartError::NotConfigured);
        }
        let mut runs = self.lock();
        if let Some(going) = runs.iter().find(|run| run.state == State::Running) {
            return Err(StartError::Running(going.id.clone()));
        }
        let run = Run {
            id: format!("syncrun_{:016x}", rand::rng().random::<u64>()),
            object: "sync_run".to_owned(),
            state: State::Running,
            trigger,
            store: options.store.clone(),
            since: options.since.map(|since| since.as_secs()),
            objects: options.objects,
            created: chrono::Utc::now().timestamp(),
            finished: None,
            totals: Tally::default(),
            listings: Vec::new(),
            last_error: None,
        };
        runs.push_front(run.clone());
        runs.truncate(KEPT_RUNS);
        Ok(run)
    }

    /// Runs the sync on a task of its own and ends its run whatever happens, so that a
    /// panic cannot leave it `running` and refuse every later start.
    async fn supervise(self: Arc<Self>, id: String, options: Options) {
        let task = tokio::spawn(self.clone().execute(id.clone(), options));
        let result = match task.await {
            Ok(result) => result,
            Err(err) => Err(format!("the sync task ended abnormally: {err}")),
        };
        self.finish(&id, result);
    }

    async fn execute(
        self: Arc<Self>,
        id: String,
        options: Options,
    ) -> Result<Vec<Listing>, String> {
        let Some(client) = &self.client else {
            return Err("STRIPE_API_KEY is not set".to_owned());
        };
        let observer = RunObserver {
            runner: &self,
            id: &id,
        };
        let sync = Sync {
            client,
            db: &self.db,
            observer: &observer,
        };
        let result = sync.run(&options).await;
        result.map_err(|err| crate::telemetry::one_line(&err))
    }

    /// Ends the run and logs it in one line.
    fn finish(&self, id: &str, result: Result<Vec<Listing>, String>) {
        let mut runs = self.lock();
        let Some(run) = runs.iter_mut().find(|run| run.id == id) else {
            return;
        };
        match result {
            Ok(listings) => run.listings = listings,
            Err(err) => run.last_error = Some(err),
        }
        run.totals = Tally::default();
        for listing in &run.listings {
            run.totals.add(listing.tally);
        }
        let failed = run.listings.iter().filter(|l| l.state == State::Failed);
        let (failures, first) = (failed.clone().count(), failed.clone().next());
        if run.last_error.is_none() {
            run.last_error = first.and_then(|l| {
                let error = l.error.as_deref()?;
                Some(format!("{} {}: {error}", l.store, l.kind.as_str()))
            });
        }
        run.state = match run.last_error {
            Some(_) => State::Failed,
            None => State::Finished,
        };
        run.finished = Some(chrono::Utc::now().timestamp());
        let Tally { seen, new, skipped } = run.totals;
        let (trigger, lists) = (run.trigger, run.listings.len());
        match &run.last_error {
            None => tracing::info!(run = %id, ?trigger, lists, seen, new, skipped, "sync finished"),
            Some(error) => tracing::warn!(
                run = %id, ?trigger, lists, seen, new, skipped, failures, %error,
                "sync failed; the next run resumes from the stored cursors"
            ),
        }
    }
}

/// Keeps a run's listings up to date and wakes the actors of stores with new events.
struct RunObserver<'a> {
    runner: &'a Runner,
    id: &'a str,
}

impl Observer for RunObserver<'_> {
    fn progress(&self, listing: &Listing) {
        let mut runs = self.runner.lock();
        let Some(run) = runs.iter_mut().find(|run| run.id == self.id) else {
            return;
        };
        let same = |l: &&mut Listing| l.store == listing.store && l.kind == listing.kind;
        match run.listings.iter_mut().find(same) {
            Some(known) => *known = listing.clone(),
            None => run.listings.push(listing.clone()),
        }
        run.totals = Tally::default();
        for listing in &run.listings {
            run.totals.add(listing.tally);
        }
    }

    fn stored(&self, store_key: &str) {
        self.runner.dispatcher.resume(store_key);
    }

    fn stopped(&self) -> bool {
        self.runner.stop.load(Ordering::SeqCst)
    }
}
