//! The event log and replays (admin): `GET /webhooks/stripe/logs`,
//! `GET /webhooks/stripe/events/{id}`, `POST /webhooks/stripe/events/{id}/replay` and
//! `POST /webhooks/stripe/replay`.
//!
//! A replay puts events back in the inbox queue (`received`, no attempts, no error) and
//! wakes their stores' actors, which apply them as if they had just arrived: in order,
//! one at a time, under the version guards, so replaying a processed event changes nothing.

use std::collections::HashMap;
use std::sync::Arc;

use entity::webhook_event;
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::list::{List, PageParams, Params, reply};
use super::{AppState, admin};
use crate::error::{ApiError, ErrorBody};
use crate::queries::events::{self as query, EventFilter};
use entity::status::EventStatus;

/// A stored webhook event and where it stands.
#[derive(Serialize, ToSchema)]
pub struct Event {
    /// `evt_...`
    pub id: String,
    /// Always `event`.
    pub object: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// The store the event belongs to (connected account id, or `platform`).
    pub account: String,
    pub livemode: bool,
    /// `received`, `processed`, `skipped`, `ignored` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// `data.object.id`, when the object has one.
    pub object_id: Option<String>,
    /// Stripe's `created` (Unix seconds).
    pub created: i64,
    /// When the service stored the event (Unix seconds).
    pub received_at: i64,
    /// When it was applied or dead-lettered (Unix seconds).
    pub processed_at: Option<i64>,
    /// Retrieve only: the request body exactly as Stripe sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Box<RawValue>>,
}

impl Event {
    fn from_row(row: webhook_event::Model, with_payload: bool) -> Self {
        let payload = with_payload.then(|| raw_json(row.payload)).flatten();
        Self {
            object: "event".to_owned(),
            event_type: row.event_type,
            account: row.store_key,
            livemode: row.livemode,
            status: row.status.to_string(),
            attempts: row.attempts,
            last_error: row.last_error,
            object_id: row.object_id,
            created: row.created,
            received_at: row.created_at.timestamp(),
            processed_at: row.processed_at.map(|at| at.timestamp()),
            payload,
            id: row.id,
        }
    }
}

/// The stored body as JSON, unchanged (the receiver only stores bodies that parsed).
fn raw_json(payload: String) -> Option<Box<RawValue>> {
    RawValue::from_string(payload).ok()
}

/// The answer of a bulk replay.
#[derive(Serialize, ToSchema)]
pub struct Replay {
    /// Always `replay`.
    pub object: String,
    /// How many events were put back in the queue.
    pub replayed: u64,
}

/// Filters of the event log.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct EventFilters {
    /// `received`, `processed`, `skipped`, `ignored` or `failed`.
    status: Option<String>,
    /// The event type, such as `charge.succeeded`.
    #[param(rename = "type")]
    event_type: Option<String>,
    /// The store (connected account id, or `platform`).
    account: Option<String>,
    /// Stripe's `created` at or after this Unix time.
    #[param(rename = "created[gte]")]
    created_gte: Option<i64>,
    /// Stripe's `created` at or before this Unix time.
    #[param(rename = "created[lte]")]
    created_lte: Option<i64>,
}

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let logs = warp::path!("webhooks" / "stripe" / "logs")
        .and(warp::get())
        .and(admin::require_with_query(state.clone()))
        .then(list);
    let one = warp::path!("webhooks" / "stripe" / "events" / String)
        .and(warp::get())
        .and(admin::require_with_query(state.clone()))
        .then(get);
    let replay_one = warp::path!("webhooks" / "stripe" / "events" / String / "replay")
        .and(warp::post())
        .and(admin::require_with_query(state.clone()))
        .then(replay);
    let replay_many = warp::path!("webhooks" / "stripe" / "replay")
        .and(warp::post())
        .and(admin::require_with_query(state))
        .then(replay_bulk);
    logs.or(one)
        .unify()
        .or(replay_one)
        .unify()
        .or(replay_many)
        .unify()
        .boxed()
}

/// List stored events, newest received first, without their payloads.
#[utoipa::path(
    get, path = "/webhooks/stripe/logs", tag = "events",
    params(EventFilters, PageParams),
    responses(
        (status = 200, description = "A page of events", body = List<Event>),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn list(state: Arc<AppState>, raw: HashMap<String, String>) -> Response {
    reply(list_events(&state, raw).await)
}

/// Retrieve a stored event with its status, attempts, last error and raw payload.
#[utoipa::path(
    get, path = "/webhooks/stripe/events/{id}", tag = "events",
    params(("id" = String, Path, description = "`evt_...`")),
    responses(
        (status = 200, description = "The event, with `payload`", body = Event),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
        (status = 404, description = "No such event (`resource_missing`)", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn get(
    id: String,
    state: Arc<AppState>,
    raw: HashMap<String, String>,
) -> Response {
    let result = async {
        Params::new::<NoParams>(raw, false)?;
        Ok(Event::from_row(query::find(&state.db, &id).await?, true))
    };
    reply(result.await)
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
        Params::new::<NoParams>(raw, false)?;
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
    let result = async {
        let params = Params::new::<EventFilters>(raw, false)?;
        let filter = event_filter(&params)?;
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
    };
    reply(result.await)
}

async fn list_events(
    state: &AppState,
    raw: HashMap<String, String>,
) -> Result<List<Event>, ApiError> {
    let params = Params::new::<EventFilters>(raw, true)?;
    let filter = event_filter(&params)?;
    let page = query::list(&state.db, &filter, &params.page()?).await?;
    Ok(List::of(page, |row| Event::from_row(row, false)))
}

fn event_filter(params: &Params) -> Result<EventFilter, ApiError> {
    Ok(EventFilter {
        status: params.one_of("status", EventStatus::NAMES)?,
        event_type: params.string("type")?,
        account: params.string("account")?,
        created_gte: params.integer("created[gte]")?,
        created_lte: params.integer("created[lte]")?,
    })
}

/// Routes that take no query parameter.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct NoParams {}
