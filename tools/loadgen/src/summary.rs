//! The one JSON document `loadgen` prints (field meanings are in this crate's README).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::applied::Applied;
use super::driver::Plan;
use super::feed::FeedOptions;
use super::tally::{Percentiles, Tally, percentiles};

/// What a run did and what the server made of it.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// `closed` (fixed concurrency) or `open` (fixed rate).
    pub mode: &'static str,
    pub concurrency: u32,
    /// Open loop: the target rate (deliveries per second).
    pub rate: Option<f64>,
    pub stores: u32,
    pub seed: u64,
    pub duplicates_fraction: f64,
    pub shuffle: bool,
    /// Seconds from the first delivery to the last answer.
    pub elapsed_s: f64,
    /// Deliveries made (each one POST), redeliveries included.
    pub sent: u64,
    /// Answered 2xx as a new event.
    pub accepted: u64,
    /// Answered 2xx as an event already stored.
    pub duplicates: u64,
    /// Deliveries that were redeliveries on purpose.
    pub resent: u64,
    /// Other answers: status (or `transport`) -> error code -> count.
    pub errors: BTreeMap<String, BTreeMap<String, u64>>,
    /// `sent / elapsed_s`.
    pub throughput_per_s: f64,
    /// From the start (open loop: the scheduled start) of a delivery to its answer.
    pub ack_latency_ms: Option<Percentiles>,
    /// With `--database-url`: distinct acknowledged events checked in the database.
    pub acknowledged: Option<u64>,
    /// Their statuses at the end of the wait.
    pub statuses: Option<BTreeMap<String, u64>>,
    /// Acknowledged events still `received` at the end of the wait.
    pub unapplied: Option<u64>,
    /// Acknowledged events dead-lettered (`failed`).
    pub failed: Option<u64>,
    /// Acknowledged events missing from the database.
    pub lost: Option<u64>,
    /// `processed_at - created_at` of the events applied.
    pub apply_lag_ms: Option<Percentiles>,
    /// Seconds spent waiting for the events to be applied after sending.
    pub apply_wait_s: Option<f64>,
    pub server_peak_rss_bytes: Option<u64>,
    /// `vmhwm` (`/proc/PID/status`) or `metrics` (sampled `/metrics`).
    pub server_rss_source: Option<&'static str>,
}

/// What a run measured, for [`Summary::new`].
pub struct Measured<'a> {
    pub tally: &'a Tally,
    pub elapsed: Duration,
    pub applied: Option<&'a Applied>,
    pub peak_rss: Option<(u64, &'static str)>,
}

impl Summary {
    pub fn new(plan: &Plan, feed: &FeedOptions, measured: &Measured<'_>) -> Self {
        let Measured {
            tally,
            elapsed,
            applied,
            peak_rss,
        } = *measured;
        let elapsed_s = elapsed.as_secs_f64();
        Self {
            mode: if plan.rate.is_some() {
                "open"
            } else {
                "closed"
            },
            concurrency: plan.concurrency,
            rate: plan.rate,
            stores: feed.stores,
            seed: feed.seed,
            duplicates_fraction: feed.duplicates,
            shuffle: feed.shuffle,
            elapsed_s: round3(elapsed_s),
            sent: tally.sent,
            accepted: tally.accepted,
            duplicates: tally.duplicates,
            resent: tally.resent,
            errors: tally.errors.clone(),
            throughput_per_s: round3(tally.sent as f64 / elapsed_s.max(1e-9)),
            ack_latency_ms: percentiles(&tally.latency),
            acknowledged: applied.map(|_| tally.acknowledged.len() as u64),
            statuses: applied.map(|applied| applied.statuses.clone()),
            unapplied: applied.map(|applied| applied.unapplied),
            failed: applied.map(Applied::failed),
            lost: applied.map(|applied| applied.lost),
            apply_lag_ms: applied.and_then(|applied| percentiles(&applied.lag)),
            apply_wait_s: applied.map(|applied| round3(applied.waited.as_secs_f64())),
            server_peak_rss_bytes: peak_rss.map(|(bytes, _)| bytes),
            server_rss_source: peak_rss.map(|(_, source)| source),
        }
    }

    /// Whether every acknowledged event is stored and applied (true when not checked).
    pub fn passes(&self) -> bool {
        [self.lost, self.unapplied, self.failed]
            .iter()
            .all(|count| count.unwrap_or(0) == 0)
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}
