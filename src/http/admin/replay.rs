//! Replays: `POST /webhooks/stripe/events/{id}/replay` and `POST /webhooks/stripe/replay`.
//!
//! A replay puts events back in the inbox queue (`received`, no attempts, no error) and
//! wakes their stores' actors, which apply them as if they had just arrived: in order,
//! one at a time, under the version guards, so replaying a processed event changes nothing.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::{IntoParams, ToSchema};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::events::{Event, FILTERS};
use super::list::reply;
use super::params::{Query, names};
use super::resource::path_with_id;
use super::{AppState, auth};
use crate::error::{ApiError, ErrorBody};
use crate::store::admin::events as query;

/// The answer of a bulk replay.
#[derive(Serialize, ToSchema)]
pub struct Replay {
    /// Always `replay`.
    pub object: String,
    /// How many events were put back in the queue.
    pub replayed: u64,
}

/// The event log's filters, documented for the bulk replay.
struct EventFilters;

impl IntoParams for EventFilters {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        FILTERS
            .iter()
            .map(|param| param.parameter("events"))
            .collect()
    }
}

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let replay_one = path_with_id("/webhooks/stripe/events/{id}/replay")
        .and(warp::post())
        .and(auth::require_with_query(state.clone()))
        .then(replay);
    let replay_many = warp::path!("webhooks" / "stripe" / "replay")
        .and(warp::post())
        .and(auth::require_with_query(state))
        .then(replay_bulk);
    replay_one.or(replay_many).unify().boxed()
}

/// Re-apply one stored event through its store's actor, whatever its status.
#[utoipa::path(
    post, path = "/webhooks/stripe/events/{id}/replay", tag = "events",
    params(("id" = String, Path, description = "`evt_...`")),
    responses(
        (status = 200, description = "The event, back to `received` and queued", body = Event),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
        (status = 404, description = "No such event (`resource_missing`)", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn replay(
    id: String,
    state: Arc<AppState>,
    raw: HashMap<String, String>,
) -> Response {
    let result = async {
        Query::new(raw, [])?;
        let row = query::requeue_one(&state.db, &id).await?;
        tracing::info!(event_id = %row.id, account = %row.store_key, "event replayed");
        state.dispatcher.dispatch(row.clone());
        Ok(Event::from_row(row, false))
    };
    reply(result.await)
}

/// Re-queue every event matching the filters (at least one is required).
#[utoipa::path(
    post, path = "/webhooks/stripe/replay", tag = "events",
    params(EventFilters),
    responses(
        (status = 200, description = "How many events were re-queued", body = Replay),
        (status = 400, description = "No filter, or a bad one (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn replay_bulk(state: Arc<AppState>, raw: HashMap<String, String>) -> Response {
    reply(requeue(&state, raw).await)
}

async fn requeue(state: &AppState, raw: HashMap<String, String>) -> Result<Replay, ApiError> {
    let filter = Query::new(raw, names(FILTERS))?.read(FILTERS)?;
    if filter.is_empty() {
        return Err(ApiError::invalid_param(
            "status",
            "a bulk replay needs at least one filter: status, type, account, created[gte] or created[lte]",
        ));
    }
    let (replayed, stores) = query::requeue(&state.db, &filter).await?;
    for store_key in &stores {
        state.dispatcher.resume(store_key);
    }
    tracing::info!(replayed, stores = stores.len(), "events replayed");
    Ok(Replay {
        object: "replay".to_owned(),
        replayed,
    })
}
