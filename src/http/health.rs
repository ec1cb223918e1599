//! `GET /health` (liveness: the process answers) and `GET /ready` (the database answers,
//! every migration is applied, and the actor supervisor runs).

use std::sync::Arc;

use serde_json::json;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};
use warp::{Filter, Rejection};

use super::{AppState, with_state};
use crate::db;
use crate::error::ApiError;

pub fn routes(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let health = warp::path!("health")
        .and(warp::get())
        .map(|| warp::reply::json(&json!({"status": "ok"})).into_response());
    let ready = warp::path!("ready")
        .and(warp::get())
        .and(with_state(state))
        .then(ready);
    health.or(ready).unify()
}

async fn ready(state: Arc<AppState>) -> Response {
    let supervisor = async {
        match state.dispatcher.stats().await {
            Some(_) => Ok(()),
            None => Err("supervisor"),
        }
    };
    match db::readiness(&state.db).await.and(supervisor.await) {
        Ok(()) => warp::reply::json(&json!({"status": "ready"})).into_response(),
        Err(check) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            format!("readiness check `{check}` failed"),
        )
        .into_response(),
    }
}
