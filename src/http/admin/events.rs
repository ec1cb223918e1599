//! The event log: `GET /webhooks/stripe/logs` and `GET /webhooks/stripe/events/{id}`
//! (the replays are in [`super::replay`]).

use entity::webhook_event;
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::list::List;
use super::params::{Param, query_params};
use super::resource::{AdminResource, Db, Docs, ListOf, Place};
use crate::error::ApiError;
use crate::store::admin::events::{self as query, EventFilter};
use crate::store::admin::{Lookup, PageRequest};
use entity::status::EventStatus;

impl AdminResource for Event {
    const FILTERS: &[Param<EventFilter>] = FILTERS;
    type Filter = EventFilter;
    const DOCS: Docs = Docs::of("event", "`evt_...`")
        .get("Retrieve a stored event with its status, attempts, last error and raw payload.")
        .list("List stored events, newest received first, without their payloads.")
        .found("The event, with `payload`");
    const PLACE: Place = Place::Log {
        list: "/webhooks/stripe/logs",
        get: "/webhooks/stripe/events/{id}",
    };

    async fn list(db: &Db, filter: EventFilter, page: PageRequest) -> ListOf<Self> {
        let page = query::list(db, &filter, &page).await?;
        Ok(List::of(page, |row| Event::from_row(row, false)))
    }

    /// One event comes with its payload.
    async fn find(db: &Db, lookup: Lookup<'_>) -> Result<Event, ApiError> {
        Ok(Event::from_row(query::find(db, lookup.id).await?, true))
    }
}

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
    /// Deliveries of this id with a different body (a replay or a forgery: Stripe never
    /// does this); the first body is the one kept.
    pub body_conflicts: i32,
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
    /// The API object of `row`, with its payload when `with_payload`.
    pub fn from_row(row: webhook_event::Model, with_payload: bool) -> Self {
        let payload = with_payload.then(|| raw_json(row.payload)).flatten();
        Self {
            object: "event".to_owned(),
            event_type: row.event_type,
            account: row.store_key,
            livemode: row.livemode,
            status: row.status.to_string(),
            attempts: row.attempts,
            last_error: row.last_error,
            body_conflicts: row.body_conflicts,
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

/// Filters of the event log and of bulk replays.
pub const FILTERS: &[Param<EventFilter>] = query_params! {
    status: one_of(EventStatus::NAMES) = "`received`, `processed`, `skipped`, `ignored` or `failed`.",
    event_type as "type": text = "The event type, such as `charge.succeeded`.",
    account: text = "The store (connected account id, or `platform`).",
    created_gte as "created[gte]": integer = "Stripe's `created` at or after this Unix time \
        (the list is then ordered by `created`).",
    created_lte as "created[lte]": integer = "Stripe's `created` at or before this Unix time \
        (the list is then ordered by `created`).",
};
