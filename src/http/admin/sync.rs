//! Syncs from Stripe's API ([`crate::sync`]): `POST /sync` starts one in the background
//! (202 with its run), `GET /sync` lists the runs of this process and `GET /sync/{id}`
//! shows one: its state, each list's counts and cursor, its times and its error. One sync
//! at a time: a second start while one runs is `409 sync_running`; without
//! `STRIPE_API_KEY` nothing can be synced (`503 stripe_not_configured`).

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Buf;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, StatusCode};
use warp::reply::{Reply, Response};

use super::list::reply;
use super::params::Query;
use super::resource::path_with_id;
use super::{AppState, auth};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::sync::Options;
use crate::sync::runner::{Run, StartError, Trigger};

/// The most bytes of a start request's body.
const BODY_CAP: u64 = 4 * 1024;

/// What to sync; every field is optional (an empty body syncs every store's events).
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartSync {
    /// Only this connected account.
    #[schema(pattern = "^acct_[A-Za-z0-9]+$", max_length = 255)]
    pub store: Option<String>,
    /// How far back to list events: a number and `d`, `h`, `m` or `s` (`12h`; a bare
    /// number is seconds), at most 30 days. Without it each store's events are listed from
    /// its last sync (less 5 minutes), or 30 days back for a store never synced; an
    /// interrupted sync always resumes first.
    #[schema(pattern = "^[0-9]{1,15}[dhms]?$")]
    pub since: Option<String>,
    /// Also list the accounts, customers, products, prices and PaymentIntents, to rebuild
    /// rows older than Stripe's 30 days of events (default `false`).
    #[serde(default)]
    pub objects: bool,
}

/// The runs of this process, newest first (the last 20).
#[derive(Serialize, ToSchema)]
pub struct SyncRuns {
    /// Always `list`.
    pub object: String,
    pub data: Vec<Run>,
    /// Always `false`: every kept run is in `data`.
    pub has_more: bool,
}

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let start = warp::path!("sync")
        .and(warp::post())
        .and(auth::require_with_query(state.clone()))
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .then(start_sync);
    let list = warp::path!("sync")
        .and(crate::http::get_or_head())
        .and(auth::require_with_query(state.clone()))
        .then(sync_runs);
    let one = path_with_id("/sync/{id}")
        .and(crate::http::get_or_head())
        .and(auth::require_with_query(state))
        .then(get_sync);
    start.or(list).unify().or(one).unify().boxed()
}

/// Start a sync from Stripe's API in the background.
#[utoipa::path(
    post, path = "/sync", tag = "sync",
    request_body(content = StartSync, description = "What to sync (optional: an empty body syncs every store's events)"),
    responses(
        (status = 202, description = "Started: the run, `running`; follow it with `GET /sync/{id}`", body = Run),
        (status = 400, description = "A bad body or parameter (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 409, description = "A sync is running (`sync_running`, naming it)", body = ErrorBody),
        (status = 413, description = "The body is over 4 KiB", body = ErrorBody),
        (status = 503, description = "No `STRIPE_API_KEY` is configured (`stripe_not_configured`), or the database cannot be reached (`unavailable`)", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn start_sync<S, B>(
    state: Arc<AppState>,
    raw: HashMap<String, String>,
    headers: HeaderMap,
    body: S,
) -> Response
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let result = async {
        Query::new(raw, [])?;
        let body =
            crate::body::read_capped(&headers, body, BODY_CAP, state.body_read_timeout).await?;
        let options = options(&body)?;
        state.sync.start(options, Trigger::Api).map_err(refused)
    };
    match result.await {
        Ok(run) => {
            tracing::info!(run = %run.id, "sync started");
            warp::reply::with_status(warp::reply::json(&run), StatusCode::ACCEPTED).into_response()
        }
        Err(err) => err.into_response(),
    }
}

/// The sync's options from the body (empty: the defaults).
fn options(body: &[u8]) -> Result<Options, ApiError> {
    let start: StartSync = match body.iter().all(u8::is_ascii_whitespace) {
        true => StartSync::default(),
        false => serde_json::from_slice(body).map_err(|err| {
            let message = format!("the body is not a sync request: {err}");
            ApiError::bad_request(ErrorCode::InvalidRequest, message)
        })?,
    };
    if let Some(store) = &start.store {
        let valid = store.strip_prefix("acct_").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !valid || store.len() > 255 {
            return Err(ApiError::invalid_param(
                "store",
                "expected `acct_` followed by letters and digits",
            ));
        }
    }
    let since = match &start.since {
        None => None,
        Some(since) if since_is_valid(since) => Some(
            crate::sync::parse_since(since)
                .map_err(|err| ApiError::invalid_param("since", &err))?,
        ),
        Some(_) => {
            return Err(ApiError::invalid_param(
                "since",
                "expected up to 15 digits and d, h, m or s, such as 30d or 12h",
            ));
        }
    };
    Ok(Options {
        store: start.store,
        since,
        objects: start.objects,
    })
}

/// `since` as documented: 1 to 15 digits, then at most one unit.
fn since_is_valid(since: &str) -> bool {
    let digits = since.bytes().take_while(u8::is_ascii_digit).count();
    let unit = &since[digits..];
    (1..=15).contains(&digits) && matches!(unit, "" | "d" | "h" | "m" | "s")
}

fn refused(err: StartError) -> ApiError {
    match err {
        StartError::NotConfigured => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::StripeNotConfigured,
            "STRIPE_API_KEY is not set: a sync reads Stripe's API",
        ),
        StartError::Running(id) => ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::SyncRunning,
            format!("sync `{id}` is running; one sync runs at a time"),
        ),
    }
}

/// The sync runs of this process, newest first.
#[utoipa::path(
    get, path = "/sync", tag = "sync",
    responses(
        (status = 200, description = "The runs", body = SyncRuns),
        (status = 400, description = "An unknown parameter", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn sync_runs(state: Arc<AppState>, raw: HashMap<String, String>) -> Response {
    reply(Query::new(raw, []).map(|_| SyncRuns {
        object: "list".to_owned(),
        data: state.sync.runs(),
        has_more: false,
    }))
}

/// One sync run: its state, each list's counts and cursor, its times and its error.
#[utoipa::path(
    get, path = "/sync/{id}", tag = "sync",
    params(("id" = String, Path, description = "`syncrun_...`")),
    responses(
        (status = 200, description = "The run", body = Run),
        (status = 400, description = "An unknown parameter", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
        (status = 404, description = "No such run in this process (`resource_missing`)", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn get_sync(
    id: String,
    state: Arc<AppState>,
    raw: HashMap<String, String>,
) -> Response {
    reply(Query::new(raw, []).and_then(|_| {
        state
            .sync
            .run(&id)
            .ok_or_else(|| ApiError::resource_missing("sync run", &id))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_request_is_read_strictly() {
        assert_eq!(options(b"").unwrap(), Options::default());
        let all = options(br#"{"store":"acct_1A","since":"12h","objects":true}"#).unwrap();
        assert_eq!(all.store.as_deref(), Some("acct_1A"));
        assert_eq!(all.since, Some(std::time::Duration::from_secs(12 * 3600)));
        assert!(all.objects);
        for bad in [
            &br#"{"store":"cus_1"}"#[..],
            br#"{"since":" 12h"}"#,
            br#"{"since":"1w"}"#,
            br#"{"since":"1234567890123456"}"#,
            br#"{"objects":"yes"}"#,
            br#"{"colour":"red"}"#,
            b"[]",
        ] {
            assert!(options(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
