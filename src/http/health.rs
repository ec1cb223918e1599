//! `GET /health` (liveness: the process answers) and `GET /ready` (the database answers,
//! every migration is applied, and the actor supervisor runs).

use std::sync::Arc;

use serde_json::json;
use utoipa::ToSchema;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};
use warp::{Filter, Rejection};

use super::{AppState, with_state};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::store::db;

pub fn routes(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let health = warp::path!("health")
        .and(crate::http::get_or_head())
        .map(health);
    let ready = warp::path!("ready")
        .and(crate::http::get_or_head())
        .and(with_state(state))
        .then(ready);
    health.or(ready).unify()
}

/// What the probes answer when all is well.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ProbeStatus {
    /// `ok` (health) or `ready`.
    status: String,
    /// Readiness only: each check and its state (`database`, `migrations`, `supervisor`:
    /// `ok`); with `STRIPE_API_KEY` set, `stripe_api_key`: what the start-up check found
    /// (`ok`, `restricted: ...` for a key lacking a permission, `unchecked: ...` when
    /// Stripe could not be reached), which does not make the service unready.
    checks: Option<std::collections::BTreeMap<String, String>>,
    /// Readiness only: the configured webhook secrets by fingerprint (`sha256:` and 8 hex
    /// digits of the secret's SHA-256), to tell which secrets a replica runs with.
    webhook_secrets: Option<Vec<String>>,
}

/// Liveness: the process answers.
#[utoipa::path(
    get, path = "/health", tag = "probes",
    responses((status = 200, description = "`{\"status\":\"ok\"}`", body = ProbeStatus))
)]
pub(crate) fn health() -> Response {
    warp::reply::json(&json!({"status": "ok"})).into_response()
}

/// Readiness: the database answers, every migration is applied, the supervisor runs.
#[utoipa::path(
    get, path = "/ready", tag = "probes",
    responses(
        (status = 200, description = "`ready`, with each check and the webhook secrets' fingerprints", body = ProbeStatus),
        (status = 503, description = "`not_ready`, naming the failing check (`database: connecting` while start-up waits for the database)", body = ErrorBody),
    )
)]
pub(crate) async fn ready(state: Arc<AppState>) -> Response {
    let supervisor = async {
        match state.dispatcher.stats().await {
            Some(_) => Ok(()),
            None => Err("supervisor"),
        }
    };
    match db::readiness(&state.db).await.and(supervisor.await) {
        Ok(()) => {
            let mut checks = json!({"database": "ok", "migrations": "ok", "supervisor": "ok"});
            // A key lacking a permission, or unchecked, is a detail: webhooks need no key.
            if let Some(stripe) = state.stripe_key.get() {
                checks["stripe_api_key"] = json!(stripe);
            }
            warp::reply::json(&json!({
                "status": "ready",
                "checks": checks,
                "webhook_secrets": state.secret_fingerprints,
            }))
            .into_response()
        }
        Err(check) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::NotReady,
            format!("readiness check `{check}` failed"),
        )
        .into_response(),
    }
}
