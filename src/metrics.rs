//! Prometheus metrics: every name is defined once here, with its description and buckets.
//!
//! Labels never carry an account, event or customer id: `type` is one of the event types
//! the service knows (`stripe::event_types`), or `other`, so the series count stays bounded
//! whatever Stripe sends.
//! Histograms have explicit buckets so they aggregate across replicas.

use std::sync::OnceLock;
use std::time::Duration;

use ::metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::domain::Outcome;
use crate::stripe::event_types;

pub const WEBHOOK_REQUESTS: &str = "payments_webhook_requests_total";
pub const SIGNATURES_REFUSED: &str = "payments_webhook_signatures_refused_total";
pub const WEBHOOK_ACK_SECONDS: &str = "payments_webhook_ack_seconds";
pub const EVENTS_APPLIED: &str = "payments_events_applied_total";
pub const EVENT_APPLY_SECONDS: &str = "payments_event_apply_seconds";
pub const EVENT_LAG_SECONDS: &str = "payments_event_lag_seconds";
pub const INBOX_PENDING: &str = "payments_inbox_pending";
pub const INBOX_OLDEST_PENDING_SECONDS: &str = "payments_inbox_oldest_pending_seconds";
pub const ACCOUNT_ACTORS: &str = "payments_account_actors";
pub const ACCOUNT_ACTOR_RESTARTS: &str = "payments_account_actor_restarts_total";
pub const EVENTS_DEAD_LETTERED: &str = "payments_events_dead_lettered_total";
pub const BUILD_INFO: &str = "payments_build_info";
pub const INTAKE_BATCH_SIZE: &str = "payments_intake_batch_size";
pub const APPLY_BATCH_SIZE: &str = "payments_apply_batch_size";
pub const APPLY_GROUP_SIZE: &str = "payments_apply_group_size";
pub const EVENTS_PRUNED: &str = "payments_events_pruned_total";
pub const PAGE_REBUILDS: &str = "payments_page_rebuilds_total";
pub const DATABASE_UNAVAILABLE: &str = "payments_database_unavailable_total";
pub const QUEUED_PAYLOAD_BYTES: &str = "payments_queued_payload_bytes";

/// Every metric name the service exports (the process collector's `process_*` aside).
pub const NAMES: &[&str] = &[
    WEBHOOK_REQUESTS,
    SIGNATURES_REFUSED,
    WEBHOOK_ACK_SECONDS,
    EVENTS_APPLIED,
    EVENT_APPLY_SECONDS,
    EVENT_LAG_SECONDS,
    INBOX_PENDING,
    INBOX_OLDEST_PENDING_SECONDS,
    ACCOUNT_ACTORS,
    ACCOUNT_ACTOR_RESTARTS,
    EVENTS_DEAD_LETTERED,
    BUILD_INFO,
    INTAKE_BATCH_SIZE,
    APPLY_BATCH_SIZE,
    APPLY_GROUP_SIZE,
    EVENTS_PRUNED,
    PAGE_REBUILDS,
    DATABASE_UNAVAILABLE,
    QUEUED_PAYLOAD_BYTES,
];

/// Fast webhook acknowledgements: Stripe times out after seconds, we aim for milliseconds.
const ACK_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Applying and lag span milliseconds (normal) to minutes (retries, outages).
const APPLY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 900.0,
];

/// Batches hold one event when the service is quiet and up to a few hundred under load.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0];

/// Why a webhook request ended as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    Accepted,
    /// Stored, but a thin (v2) notification: it will be `ignored` (the endpoint should send
    /// snapshot events).
    ThinEvent,
    Duplicate,
    /// A stored event id with a different body: answered as a duplicate, the first body
    /// kept.
    Conflict,
    InvalidSignature,
    InvalidPayload,
    TooLarge,
    /// The body did not arrive within `BODY_READ_TIMEOUT_SECS`.
    TimedOut,
    Unavailable,
}

impl WebhookOutcome {
    const ALL: [Self; 9] = [
        Self::Accepted,
        Self::ThinEvent,
        Self::Duplicate,
        Self::Conflict,
        Self::InvalidSignature,
        Self::InvalidPayload,
        Self::TooLarge,
        Self::TimedOut,
        Self::Unavailable,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::ThinEvent => "thin_event",
            Self::Duplicate => "duplicate",
            Self::Conflict => "conflict",
            Self::InvalidSignature => "invalid_signature",
            Self::InvalidPayload => "invalid_payload",
            Self::TooLarge => "too_large",
            Self::TimedOut => "timeout",
            Self::Unavailable => "unavailable",
        }
    }
}

/// The process's metrics handle, installed on first use (a recorder is process-wide, and
/// tests start the service many times in one process).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(install)
}

fn install() -> PrometheusHandle {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(WEBHOOK_ACK_SECONDS.into()), ACK_BUCKETS)
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Full(EVENT_APPLY_SECONDS.into()), APPLY_BUCKETS)
        })
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Full(EVENT_LAG_SECONDS.into()), APPLY_BUCKETS)
        })
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Full(INTAKE_BATCH_SIZE.into()), BATCH_BUCKETS)
        })
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Full(APPLY_BATCH_SIZE.into()), BATCH_BUCKETS)
        })
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Full(APPLY_GROUP_SIZE.into()), BATCH_BUCKETS)
        })
        .expect("bucket lists are non-empty");
    let handle = match builder.install_recorder() {
        Ok(handle) => handle,
        // Another recorder is installed (an embedding program's): keep a private one so
        // `/metrics` still renders something coherent.
        Err(_) => PrometheusBuilder::new().build_recorder().handle(),
    };
    describe();
    process_collector().describe();
    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    // Series that exist from the start, so rates and alerts see 0 rather than nothing.
    for outcome in WebhookOutcome::ALL {
        counter!(WEBHOOK_REQUESTS, "outcome" => outcome.label()).absolute(0);
    }
    for reason in SIGNATURE_REASONS {
        counter!(SIGNATURES_REFUSED, "reason" => *reason).absolute(0);
    }
    counter!(ACCOUNT_ACTOR_RESTARTS).absolute(0);
    counter!(EVENTS_PRUNED).absolute(0);
    counter!(PAGE_REBUILDS).absolute(0);
    counter!(DATABASE_UNAVAILABLE).absolute(0);
    handle
}

fn process_collector() -> &'static metrics_process::Collector {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR.get_or_init(metrics_process::Collector::default)
}

fn describe() {
    describe_counter!(WEBHOOK_REQUESTS, "Webhook deliveries received, by outcome.");
    describe_counter!(
        SIGNATURES_REFUSED,
        "Deliveries refused for their signature, by the check that failed."
    );
    describe_histogram!(
        WEBHOOK_ACK_SECONDS,
        Unit::Seconds,
        "Time from a webhook request to its response."
    );
    describe_counter!(
        EVENTS_APPLIED,
        "Attempts at applying stored events, by event type and result."
    );
    describe_histogram!(
        EVENT_APPLY_SECONDS,
        Unit::Seconds,
        "Time one apply transaction took, by event type."
    );
    describe_histogram!(
        EVENT_LAG_SECONDS,
        Unit::Seconds,
        "Time from receiving an event to having applied it."
    );
    describe_gauge!(INBOX_PENDING, "Stored events not applied yet.");
    describe_gauge!(
        INBOX_OLDEST_PENDING_SECONDS,
        Unit::Seconds,
        "Age of the oldest stored event not applied yet (0 when none)."
    );
    describe_gauge!(ACCOUNT_ACTORS, "Live account actors.");
    describe_counter!(
        ACCOUNT_ACTOR_RESTARTS,
        "Account actors that crashed and were replaced."
    );
    describe_counter!(
        EVENTS_DEAD_LETTERED,
        "Events marked failed after their last attempt, by event type."
    );
    describe_histogram!(
        INTAKE_BATCH_SIZE,
        "Deliveries stored per intake commit (group commit)."
    );
    describe_histogram!(
        APPLY_BATCH_SIZE,
        "Events of one store applied together (one batch)."
    );
    describe_histogram!(
        APPLY_GROUP_SIZE,
        "Stores' batches applied per apply transaction (group commit)."
    );
    describe_counter!(
        EVENTS_PRUNED,
        "Applied events deleted from the event log by retention."
    );
    describe_counter!(
        PAGE_REBUILDS,
        "Rebuilds of a store's stale pages (one for every catalogue or account change of \
         the moment before)."
    );
    describe_counter!(
        DATABASE_UNAVAILABLE,
        "Apply steps that could not reach the database (an outage; waiting for a pooled \
         connection under the service's own load is not counted)."
    );
    describe_gauge!(
        QUEUED_PAYLOAD_BYTES,
        "Bytes of event payloads waiting in memory for the account actors (bounded by \
         MEMORY_QUEUE_BYTES; beyond, events wait in the inbox table only)."
    );
    describe_gauge!(
        BUILD_INFO,
        "Always 1; the `version` label is the running build."
    );
}

/// The `type` label of an event type: its own name if the service knows it
/// ([`event_types::KNOWN`]), else `other`.
pub fn type_label(event_type: &str) -> &'static str {
    event_types::known(event_type).unwrap_or("other")
}

/// The `reason` labels of [`SIGNATURES_REFUSED`]: the error codes of a refused signature.
const SIGNATURE_REASONS: &[&str] = &[
    "missing_signature",
    "malformed_signature",
    "no_matching_signature",
    "timestamp_outside_tolerance",
];

/// One delivery refused for its signature; `reason` is the error code.
pub fn signature_refused(reason: &'static str) {
    counter!(SIGNATURES_REFUSED, "reason" => reason).increment(1);
}

/// One webhook request answered.
pub fn webhook_answered(outcome: WebhookOutcome, elapsed: Duration) {
    counter!(WEBHOOK_REQUESTS, "outcome" => outcome.label()).increment(1);
    histogram!(WEBHOOK_ACK_SECONDS).record(elapsed.as_secs_f64());
}

/// How one apply attempt ended: the `result` label of [`EVENTS_APPLIED`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyResult {
    Processed,
    Skipped,
    Ignored,
    /// The attempt failed; the event will be tried again.
    Retried,
    /// The last attempt failed; the event is dead-lettered.
    Failed,
}

impl ApplyResult {
    fn label(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Skipped => "skipped",
            Self::Ignored => "ignored",
            Self::Retried => "retried",
            Self::Failed => "failed",
        }
    }
}

impl From<Outcome> for ApplyResult {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Processed => Self::Processed,
            Outcome::Skipped => Self::Skipped,
            Outcome::Ignored => Self::Ignored,
        }
    }
}

/// One apply attempt ended with `result`.
pub fn event_attempted(event_type: &str, result: ApplyResult, took: Duration) {
    let label = type_label(event_type);
    counter!(EVENTS_APPLIED, "type" => label, "result" => result.label()).increment(1);
    histogram!(EVENT_APPLY_SECONDS, "type" => label).record(took.as_secs_f64());
}

/// One intake commit stored `deliveries` deliveries.
pub fn intake_batch(deliveries: usize) {
    histogram!(INTAKE_BATCH_SIZE).record(deliveries as f64);
}

/// A batch of `events` events of a store was applied.
pub fn apply_batch(events: usize) {
    histogram!(APPLY_BATCH_SIZE).record(events as f64);
}

/// One apply transaction took the batches of `stores` stores.
pub fn apply_group(stores: usize) {
    histogram!(APPLY_GROUP_SIZE).record(stores as f64);
}

/// An actor rebuilt a store's stale pages.
pub fn pages_rebuilt() {
    counter!(PAGE_REBUILDS).increment(1);
}

/// Retention deleted `events` applied events.
pub fn events_pruned(events: u64) {
    counter!(EVENTS_PRUNED).increment(events);
}

/// An event was applied `lag` after it was received.
pub fn event_lag(lag: Duration) {
    histogram!(EVENT_LAG_SECONDS).record(lag.as_secs_f64());
}

/// An event used up its attempts.
pub fn event_dead_lettered(event_type: &str) {
    let label = type_label(event_type);
    counter!(EVENTS_APPLIED, "type" => label, "result" => ApplyResult::Failed.label()).increment(1);
    counter!(EVENTS_DEAD_LETTERED, "type" => label).increment(1);
}

/// An account actor crashed and was replaced.
pub fn actor_restarted() {
    counter!(ACCOUNT_ACTOR_RESTARTS).increment(1);
}

/// Values read at scrape time.
pub fn set_scrape_gauges(pending: u64, oldest_pending: Duration, actors: usize) {
    gauge!(INBOX_PENDING).set(pending as f64);
    gauge!(INBOX_OLDEST_PENDING_SECONDS).set(oldest_pending.as_secs_f64());
    gauge!(ACCOUNT_ACTORS).set(actors as f64);
}

/// Payload bytes waiting in memory for the actors, read at scrape time.
pub fn set_queued_payload_bytes(bytes: usize) {
    gauge!(QUEUED_PAYLOAD_BYTES).set(bytes as f64);
}

/// An apply step found the database unavailable.
pub fn database_unavailable() {
    counter!(DATABASE_UNAVAILABLE).increment(1);
}

/// Renders the exposition text, refreshing the process metrics first.
pub fn render() -> String {
    let handle = handle();
    process_collector().collect();
    handle.run_upkeep();
    handle.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_event_types_share_one_label() {
        assert_eq!(type_label("charge.succeeded"), "charge.succeeded");
        assert_eq!(type_label("issuing_card.created"), "other");
        assert_eq!(type_label("acct_123"), "other");
    }

    #[test]
    fn every_name_is_prefixed_and_counters_end_in_total() {
        for name in NAMES {
            assert!(name.starts_with("payments_"), "{name}");
        }
        for counter in [
            WEBHOOK_REQUESTS,
            EVENTS_APPLIED,
            ACCOUNT_ACTOR_RESTARTS,
            EVENTS_DEAD_LETTERED,
        ] {
            assert!(counter.ends_with("_total"), "{counter}");
        }
    }
}
