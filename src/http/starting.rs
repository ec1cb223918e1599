//! What the service answers while start-up waits for its database: `/health` 200 (the
//! process is alive, do not restart it), `/ready` 503 `database: connecting`, and every
//! other route 503 `unavailable` with `Retry-After`, so Stripe delivers again later and
//! nothing is accepted that could not be kept.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use warp::Filter;
use warp::http::StatusCode;
use warp::http::header::{HeaderValue, RETRY_AFTER};
use warp::reply::{Reply, Response};

use super::health;
use crate::error::{ApiError, ErrorCode};

/// How far start-up has come, as the probes report it.
#[derive(Debug, Default)]
pub struct Progress {
    failed_attempts: AtomicU32,
}

impl Progress {
    /// Notes that connection attempt `attempt` failed and will be retried.
    pub fn attempt_failed(&self, attempt: u32) {
        self.failed_attempts.store(attempt, Ordering::Relaxed);
    }
}

/// The routes served until the database is connected and migrated.
pub fn routes(
    progress: Arc<Progress>,
) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    let health = warp::path!("health")
        .and(crate::http::get_or_head())
        .map(health::health);
    let ready = warp::path!("ready")
        .and(crate::http::get_or_head())
        .map(move || not_ready(&progress));
    health
        .or(ready)
        .unify()
        .or(warp::any().map(starting))
        .unify()
}

fn not_ready(progress: &Progress) -> Response {
    let failed = progress.failed_attempts.load(Ordering::Relaxed);
    let message = match failed {
        0 => "readiness check `database` failed: connecting".to_owned(),
        n => format!("readiness check `database` failed: connecting ({n} attempts failed so far)"),
    };
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::NotReady,
        message,
    )
    .into_response()
}

/// Any other request: not now, come back shortly.
fn starting() -> Response {
    let mut response = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Unavailable,
        "the service is starting and its database is not connected yet; retry shortly",
    )
    .into_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("5"));
    response
}
