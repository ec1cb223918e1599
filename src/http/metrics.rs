//! `GET /metrics`: the Prometheus exposition text.
//!
//! Open by default, like most exporters: it carries counts and latencies, never an id or
//! customer data, and Prometheus usually scrapes over a private network. With
//! `METRICS_REQUIRE_TOKEN=true` it takes the admin bearer token (Prometheus can send one
//! with `authorization: {credentials: ...}` in its scrape config).

use std::sync::Arc;
use std::time::Duration;

use tracing::warn;
use warp::http::header;
use warp::reply::{Reply, Response};
use warp::{Filter, Rejection};

use super::{AppState, with_state};
use crate::error::ApiError;
use crate::metrics;
use crate::store::inbox;

pub fn route(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("metrics")
        .and(crate::http::get_or_head())
        .and(with_state(state))
        .and(warp::header::optional::<String>("authorization"))
        .and_then(
            |state: Arc<AppState>, authorization: Option<String>| async move {
                if !state.metrics_require_token || state.admin.allows(authorization.as_deref()) {
                    Ok(state)
                } else {
                    warn!(path = "/metrics", "metrics request refused");
                    Err(warp::reject::custom(ApiError::unauthorized()))
                }
            },
        )
        .then(render)
}

/// The Prometheus text exposition.
#[utoipa::path(
    get, path = "/metrics", tag = "probes",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain"),
        (status = 401, description = "`unauthorized`, only with `METRICS_REQUIRE_TOKEN=true`", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn render(state: Arc<AppState>) -> Response {
    match inbox::pending_summary(&state.db).await {
        Ok((pending, oldest)) => {
            let age = oldest
                .and_then(|at| (chrono::Utc::now() - at).to_std().ok())
                .unwrap_or(Duration::ZERO);
            let actors = state.dispatcher.stats().await.map_or(0, |s| s.actors);
            metrics::set_scrape_gauges(pending, age, actors);
        }
        // Keep serving the rest: the inbox gauges keep their last values.
        Err(err) => warn!(error = %err, "metrics could not read the inbox"),
    }
    metrics::set_queued_payload_bytes(state.dispatcher.held_bytes());
    let body = metrics::render();
    warp::reply::with_header(
        body,
        header::CONTENT_TYPE,
        "text/plain; version=0.0.4; charset=utf-8",
    )
    .into_response()
}
