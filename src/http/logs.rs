//! `GET /webhooks/stripe/logs` (admin): recent events, newest first.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use tracing::error;
use warp::reply::{Reply, Response};
use warp::{Filter, Rejection};

use super::{AppState, admin};
use crate::error::ApiError;
use crate::inbox::{self, LogFilter, STATUSES};

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

/// One event of the log, without its payload.
#[derive(Serialize)]
struct LogEntry {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    account: String,
    livemode: bool,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    /// Stripe's `created` (Unix seconds).
    created: i64,
    received_at: String,
    processed_at: Option<String>,
}

impl From<entity::webhook_event::Model> for LogEntry {
    fn from(row: entity::webhook_event::Model) -> Self {
        Self {
            id: row.id,
            event_type: row.event_type,
            account: row.store_key,
            livemode: row.livemode,
            status: row.status,
            attempts: row.attempts,
            last_error: row.last_error,
            created: row.created,
            received_at: row.created_at.to_rfc3339(),
            processed_at: row.processed_at.map(|at| at.to_rfc3339()),
        }
    }
}

pub fn route(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("webhooks" / "stripe" / "logs")
        .and(warp::get())
        .and(admin::require(state))
        .and(warp::query::<HashMap<String, String>>())
        .then(list)
}

async fn list(state: Arc<AppState>, params: HashMap<String, String>) -> Response {
    let filter = match parse_filter(&params) {
        Ok(filter) => filter,
        Err(err) => return err.into_response(),
    };
    match inbox::recent(&state.db, &filter).await {
        Ok(rows) => {
            let data: Vec<LogEntry> = rows.into_iter().map(LogEntry::from).collect();
            warp::reply::json(&serde_json::json!({ "data": data })).into_response()
        }
        Err(err) => {
            error!(error = %err, "event log query failed");
            ApiError::unavailable().into_response()
        }
    }
}

fn parse_filter(params: &HashMap<String, String>) -> Result<LogFilter, ApiError> {
    if let Some(unknown) = params
        .keys()
        .find(|k| !["status", "type", "account", "limit"].contains(&k.as_str()))
    {
        return Err(ApiError::invalid_param(unknown, "unknown parameter"));
    }
    let status = params.get("status").cloned();
    if let Some(status) = &status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(ApiError::invalid_param(
            "status",
            &format!("must be one of {}", STATUSES.join(", ")),
        ));
    }
    let limit = match params.get("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::invalid_param(
                    "limit",
                    &format!("must be an integer from 1 to {MAX_LIMIT}"),
                )
            })?,
    };
    Ok(LogFilter {
        status,
        event_type: params.get("type").cloned(),
        account: params.get("account").cloned(),
        limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn limit_defaults_to_50_and_is_bounded() {
        assert_eq!(parse_filter(&params(&[])).unwrap().limit, 50);
        assert_eq!(
            parse_filter(&params(&[("limit", "500")])).unwrap().limit,
            500
        );
        for bad in ["0", "501", "-1", "ten"] {
            let err = parse_filter(&params(&[("limit", bad)])).unwrap_err();
            assert!(err.message.contains("`limit`"), "{}", err.message);
        }
    }

    #[test]
    fn unknown_status_and_parameters_are_named() {
        let err = parse_filter(&params(&[("status", "done")])).unwrap_err();
        assert!(err.message.contains("`status`"));
        let err = parse_filter(&params(&[("colour", "red")])).unwrap_err();
        assert!(err.message.contains("`colour`"));
    }
}
