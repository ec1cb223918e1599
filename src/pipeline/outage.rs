//! A database outage as the operator should read it: one line when it starts, a summary a
//! minute while it lasts, one line when it ends; the metric counts every failed step.
//! Thousands of actors waiting out the same outage must not write a line each.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tracing::{info, warn};

/// How often a lasting outage is summed up.
const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// The actors' shared view of the database's availability.
#[derive(Debug, Default)]
pub struct OutageLog {
    /// Fast path for [`OutageLog::recovered`], called after every successful step.
    down: AtomicBool,
    outage: Mutex<Option<Outage>>,
    /// Failed steps since start-up.
    failed_steps: AtomicU64,
}

#[derive(Debug)]
struct Outage {
    since: Instant,
    last_line: Instant,
    /// Failed steps since the last line.
    failures: u64,
    total: u64,
}

impl OutageLog {
    /// A step failed because the database could not be reached.
    pub fn failed(&self, error: &dyn std::fmt::Display) {
        crate::metrics::database_unavailable();
        self.failed_steps.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut outage = self.outage.lock().unwrap_or_else(|p| p.into_inner());
        match outage.as_mut() {
            None => {
                warn!(error = %error, "database unavailable: events stay in the inbox and are applied once it is back");
                *outage = Some(Outage {
                    since: now,
                    last_line: now,
                    failures: 1,
                    total: 1,
                });
                self.down.store(true, Ordering::Relaxed);
            }
            Some(outage) => {
                outage.failures += 1;
                outage.total += 1;
                if now.duration_since(outage.last_line) >= SUMMARY_EVERY {
                    warn!(
                        error = %error,
                        down_secs = now.duration_since(outage.since).as_secs(),
                        failed_steps = outage.failures,
                        "database still unavailable"
                    );
                    outage.last_line = now;
                    outage.failures = 0;
                }
            }
        }
    }

    /// A step reached the database: ends the outage, if there was one.
    pub fn recovered(&self) {
        if !self.down.load(Ordering::Relaxed) {
            return;
        }
        let mut outage = self.outage.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(outage) = outage.take() {
            info!(
                down_secs = outage.since.elapsed().as_secs(),
                failed_steps = outage.total,
                "database available again"
            );
        }
        self.down.store(false, Ordering::Relaxed);
    }

    /// Steps that found the database unavailable since start-up.
    pub fn failed_steps(&self) -> u64 {
        self.failed_steps.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_starts_once_and_ends_once() {
        let log = OutageLog::default();
        assert!(!log.down.load(Ordering::Relaxed));
        for _ in 0..1000 {
            log.failed(&"connection refused");
        }
        assert!(log.down.load(Ordering::Relaxed));
        assert_eq!(log.failed_steps(), 1000);
        log.recovered();
        assert!(!log.down.load(Ordering::Relaxed));
        log.recovered();
        assert!(log.outage.lock().unwrap().is_none());
    }
}
