//! Sending: a closed loop (N workers, each sends when its last answer came back) or an
//! open loop (deliveries start on a fixed schedule, whatever the answers take).
//!
//! In the open loop each latency is measured from the delivery's *scheduled* start, not
//! from when it actually went out: when the server stalls, the deliveries queued behind
//! the stall are charged for their wait, so the percentiles do not hide it (coordinated
//! omission). Connections are kept alive and reused from reqwest's pool.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::feed::{Delivery, Feed};
use super::tally::{Answer, Tally};
use payments::stripe::signature;

/// How much to send, and how.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Closed loop: the workers. Open loop: the most deliveries in flight.
    pub concurrency: u32,
    /// Open loop: deliveries started per second.
    pub rate: Option<f64>,
    pub duration: Option<Duration>,
    pub events: Option<u64>,
}

/// Posts signed deliveries to the webhook endpoint.
pub struct Sender {
    client: reqwest::Client,
    url: String,
    secret: SecretString,
}

#[derive(Deserialize)]
struct Receipt {
    #[serde(default)]
    duplicate: bool,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorCode,
}

#[derive(Deserialize)]
struct ErrorCode {
    code: String,
}

impl Sender {
    pub fn new(url: String, secret: SecretString, pool: u32) -> anyhow::Result<Self> {
        // reqwest is built without a default TLS provider (see `trigger`).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(pool as usize)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(30))
            .user_agent("payments-loadgen (like Stripe/1.0)")
            .build()?;
        Ok(Self {
            client,
            url,
            secret,
        })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Signs `delivery` now (a redelivery is signed anew, as Stripe does) and posts it.
    pub async fn deliver(&self, delivery: &Delivery) -> Answer {
        let now = chrono::Utc::now().timestamp();
        let header = signature::signature_header(&self.secret, now, &delivery.body);
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json; charset=utf-8")
            .header("stripe-signature", header)
            .body(delivery.body.clone())
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(err) => return Answer::Transport(transport_kind(&err)),
        };
        let status = response.status();
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(err) => return Answer::Transport(transport_kind(&err)),
        };
        answer(status.as_u16(), &body)
    }
}

fn transport_kind(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect"
    } else {
        "request"
    }
}

/// Reads the answer from the status and the JSON body.
fn answer(status: u16, body: &[u8]) -> Answer {
    if (200..300).contains(&status) {
        return match serde_json::from_slice::<Receipt>(body) {
            Ok(receipt) if receipt.duplicate => Answer::Duplicate,
            _ => Answer::Accepted,
        };
    }
    let code = serde_json::from_slice::<ErrorBody>(body)
        .map_or_else(|_| "no_error_code".to_owned(), |body| body.error.code);
    Answer::Refused { status, code }
}

/// When to stop: a deadline, a number of deliveries, or both.
struct Budget {
    deadline: Option<Instant>,
    limit: Option<u64>,
    taken: AtomicU64,
}

impl Budget {
    fn new(plan: &Plan, start: Instant) -> Self {
        Self {
            deadline: plan.duration.map(|duration| start + duration),
            limit: plan.events,
            taken: AtomicU64::new(0),
        }
    }

    /// Takes one delivery starting at `at`, if the budget allows it.
    fn take(&self, at: Instant) -> bool {
        if self.deadline.is_some_and(|deadline| at >= deadline) {
            return false;
        }
        let taken = self.taken.fetch_add(1, Ordering::Relaxed);
        self.limit.is_none_or(|limit| taken < limit)
    }
}

/// Shared by every sending task.
struct Shared {
    sender: Sender,
    feed: Mutex<Feed>,
    tally: Mutex<Tally>,
    budget: Budget,
}

impl Shared {
    fn next(&self) -> Delivery {
        self.feed.lock().expect("feed lock").next_delivery()
    }

    async fn deliver(&self, delivery: Delivery, since: Instant) {
        let answer = self.sender.deliver(&delivery).await;
        let latency = since.elapsed();
        self.tally
            .lock()
            .expect("tally lock")
            .record(&delivery, answer, latency);
    }
}

/// Sends according to `plan`; returns the answers and how long sending took.
pub async fn run(plan: &Plan, sender: Sender, feed: Feed) -> (Tally, Duration) {
    let start = Instant::now();
    let shared = Arc::new(Shared {
        sender,
        feed: Mutex::new(feed),
        tally: Mutex::new(Tally::default()),
        budget: Budget::new(plan, start),
    });
    match plan.rate {
        Some(rate) => open_loop(&shared, rate, plan.concurrency, start).await,
        None => closed_loop(&shared, plan.concurrency).await,
    }
    let elapsed = start.elapsed();
    let tally = std::mem::take(&mut *shared.tally.lock().expect("tally lock"));
    (tally, elapsed)
}

async fn closed_loop(shared: &Arc<Shared>, workers: u32) {
    let mut tasks = JoinSet::new();
    for _ in 0..workers {
        let shared = Arc::clone(shared);
        tasks.spawn(async move {
            while shared.budget.take(Instant::now()) {
                let delivery = shared.next();
                shared.deliver(delivery, Instant::now()).await;
            }
        });
    }
    tasks.join_all().await;
}

async fn open_loop(shared: &Arc<Shared>, rate: f64, in_flight: u32, start: Instant) {
    let permits = Arc::new(Semaphore::new(in_flight as usize));
    let mut tasks = JoinSet::new();
    for index in 0u64.. {
        // From the start, not from the previous tick: no drift when a tick is late.
        let scheduled = start + Duration::from_secs_f64(index as f64 / rate);
        if !shared.budget.take(scheduled) {
            break;
        }
        tokio::time::sleep_until(scheduled).await;
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let delivery = shared.next();
        let shared = Arc::clone(shared);
        tasks.spawn(async move {
            shared.deliver(delivery, scheduled).await;
            drop(permit);
        });
        while tasks.try_join_next().is_some() {}
    }
    tasks.join_all().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_from_status_and_body() {
        let receipt = br#"{"received":true,"duplicate":true,"id":"evt_1"}"#;
        assert_eq!(answer(200, receipt), Answer::Duplicate);
        assert_eq!(answer(200, br#"{"duplicate":false}"#), Answer::Accepted);
        let error = br#"{"error":{"code":"unavailable","message":"try later"}}"#;
        assert_eq!(
            answer(503, error),
            Answer::Refused {
                status: 503,
                code: "unavailable".into()
            }
        );
        assert_eq!(
            answer(502, b"<html>bad gateway</html>"),
            Answer::Refused {
                status: 502,
                code: "no_error_code".into()
            }
        );
    }

    #[test]
    fn the_budget_stops_at_the_deadline_or_the_count() {
        let start = Instant::now();
        let plan = Plan {
            concurrency: 1,
            rate: None,
            duration: Some(Duration::from_secs(1)),
            events: Some(2),
        };
        let budget = Budget::new(&plan, start);
        assert!(!budget.take(start + Duration::from_secs(1)));
        assert!(budget.take(start));
        assert!(budget.take(start));
        assert!(!budget.take(start), "the third delivery is over the count");
    }
}
