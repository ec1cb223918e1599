//! What the server answered: counts, errors by status and code, and ack latencies.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::feed::Delivery;

/// The server's answer to one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 2xx, a new event.
    Accepted,
    /// 2xx, `"duplicate": true`: the event id was already stored.
    Duplicate,
    /// Any other status, with the error code of the JSON error body.
    Refused { status: u16, code: String },
    /// No HTTP answer (connection refused or reset, timeout).
    Transport(&'static str),
}

/// Latency percentiles, in milliseconds.
#[derive(Debug, Serialize, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// Percentiles of a histogram of microseconds; `None` when it is empty.
pub fn percentiles(micros: &Histogram<u64>) -> Option<Percentiles> {
    let ms = |value: u64| value as f64 / 1000.0;
    (!micros.is_empty()).then(|| Percentiles {
        p50: ms(micros.value_at_quantile(0.50)),
        p90: ms(micros.value_at_quantile(0.90)),
        p99: ms(micros.value_at_quantile(0.99)),
        max: ms(micros.max()),
    })
}

/// A histogram of microseconds from 1 µs to 10 minutes, 3 significant digits.
pub fn micros_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

pub fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// Every answer so far.
pub struct Tally {
    pub sent: u64,
    pub accepted: u64,
    pub duplicates: u64,
    /// Deliveries that were redeliveries on purpose (`--duplicates`).
    pub resent: u64,
    /// status (or `transport`) -> error code -> count
    pub errors: BTreeMap<String, BTreeMap<String, u64>>,
    /// Ack latency, µs.
    pub latency: Histogram<u64>,
    /// Ids of the events the server acknowledged (2xx): it promised to have stored them.
    pub acknowledged: HashSet<String>,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            sent: 0,
            accepted: 0,
            duplicates: 0,
            resent: 0,
            errors: BTreeMap::new(),
            latency: micros_histogram(),
            acknowledged: HashSet::new(),
        }
    }
}

impl Tally {
    pub fn record(&mut self, delivery: &Delivery, answer: Answer, latency: Duration) {
        self.sent += 1;
        self.resent += u64::from(delivery.resend);
        self.latency.saturating_record(micros(latency).max(1));
        let (status, code) = match answer {
            Answer::Accepted => {
                self.accepted += 1;
                self.acknowledged.insert(delivery.id.clone());
                return;
            }
            Answer::Duplicate => {
                self.duplicates += 1;
                self.acknowledged.insert(delivery.id.clone());
                return;
            }
            Answer::Refused { status, code } => (status.to_string(), code),
            Answer::Transport(kind) => ("transport".to_owned(), kind.to_owned()),
        };
        *self
            .errors
            .entry(status)
            .or_default()
            .entry(code)
            .or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn delivery(id: &str, resend: bool) -> Delivery {
        Delivery {
            id: id.to_owned(),
            body: Bytes::new(),
            resend,
        }
    }

    #[test]
    fn answers_are_counted_by_kind_and_errors_by_status_and_code() {
        let mut tally = Tally::default();
        let ms = Duration::from_millis;
        tally.record(&delivery("evt_a", false), Answer::Accepted, ms(1));
        tally.record(&delivery("evt_a", true), Answer::Duplicate, ms(2));
        let unavailable = Answer::Refused {
            status: 503,
            code: "unavailable".into(),
        };
        tally.record(&delivery("evt_b", false), unavailable.clone(), ms(3));
        tally.record(&delivery("evt_c", false), unavailable, ms(4));
        tally.record(
            &delivery("evt_d", false),
            Answer::Transport("connect"),
            ms(100),
        );
        assert_eq!((tally.sent, tally.accepted, tally.duplicates), (5, 1, 1));
        assert_eq!(tally.resent, 1);
        assert_eq!(tally.acknowledged, HashSet::from(["evt_a".to_owned()]));
        assert_eq!(tally.errors["503"]["unavailable"], 2);
        assert_eq!(tally.errors["transport"]["connect"], 1);
        let latency = percentiles(&tally.latency).unwrap();
        assert!((latency.p50 - 3.0).abs() < 0.01, "{latency:?}");
        assert!((latency.max - 100.0).abs() < 0.1, "{latency:?}");
        assert_eq!(percentiles(&micros_histogram()), None);
    }
}
