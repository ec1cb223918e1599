//! `GET /stores/{id}/contact_messages`: the messages shoppers sent a store with its Contact
//! page's form, newest first. Not one of the generic resources: a message has no Stripe
//! id to look up or walk from, and is read only within its store.

use std::collections::HashMap;
use std::sync::Arc;

use entity::contact_message;
use serde::Serialize;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::{IntoParams, ToSchema};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::list::{DEFAULT_LIMIT, MAX_LIMIT, reply};
use super::params::{Param, Query, names, query_params};
use super::resource::path_with_id;
use super::{AppState, auth};
use crate::error::{ApiError, ErrorBody};
use crate::store::admin::{contact_messages as query, stores};

/// The list's parameters.
#[derive(Default)]
struct Params {
    livemode: Option<bool>,
    limit: Option<u64>,
}

const PARAMS: &[Param<Params>] = query_params! {
    livemode: flag = "Only the messages sent to the live (`true`) or test-mode (`false`) store.",
    limit: count(MAX_LIMIT) = "How many of the newest messages, 1 to 100 (default 10).",
};

/// The parameters, documented.
struct Documented;

impl IntoParams for Documented {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        PARAMS
            .iter()
            .map(|param| param.parameter("contact messages"))
            .collect()
    }
}

/// A message sent with a storefront's contact form.
#[derive(Serialize, ToSchema)]
pub struct ContactMessage {
    pub id: i64,
    /// Always `contact_message`.
    pub object: String,
    /// The store (connected account id) it was sent to.
    pub store: String,
    pub livemode: bool,
    /// The sender's name, e-mail address and message, as they wrote them (trimmed).
    pub name: String,
    pub email: String,
    pub message: String,
    /// When it was received (Unix seconds).
    pub created: i64,
}

/// A store's newest messages.
#[derive(Serialize, ToSchema)]
pub struct ContactMessageList {
    /// Always `list`.
    pub object: String,
    pub data: Vec<ContactMessage>,
    /// Older messages exist past these.
    pub has_more: bool,
}

impl From<contact_message::Model> for ContactMessage {
    fn from(row: contact_message::Model) -> Self {
        Self {
            id: row.id,
            object: "contact_message".to_owned(),
            store: row.store_key,
            livemode: row.livemode,
            name: row.name,
            email: row.email,
            message: row.message,
            created: row.created_at.timestamp(),
        }
    }
}

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    path_with_id("/stores/{id}/contact_messages")
        .and(crate::http::get_or_head())
        .and(auth::require_with_query(state))
        .then(list_contact_messages)
        .boxed()
}

/// List the messages shoppers sent a store with its contact form, newest first.
#[utoipa::path(
    get, path = "/stores/{id}/contact_messages", tag = "stores",
    operation_id = "list_contact_messages",
    params(("id" = String, Path, description = "The store (connected account id)"), Documented),
    responses(
        (status = 200, description = "The store's newest messages", body = ContactMessageList),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
        (status = 404, description = "No such store (`resource_missing`)", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn list_contact_messages(
    id: String,
    state: Arc<AppState>,
    raw: HashMap<String, String>,
) -> Response {
    reply(read(&state, raw, &id).await)
}

async fn read(
    state: &AppState,
    raw: HashMap<String, String>,
    id: &str,
) -> Result<ContactMessageList, ApiError> {
    let params: Params = Query::new(raw, names(PARAMS))?.read(PARAMS)?;
    if !stores::exists(&state.db, id, params.livemode).await? {
        return Err(ApiError::resource_missing("store", id));
    }
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    let mut rows = query::list_in_mode(&state.db, id, params.livemode, limit + 1)
        .await
        .map_err(crate::store::admin::QueryError::from)?;
    let has_more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Ok(ContactMessageList {
        object: "list".to_owned(),
        data: rows.into_iter().map(ContactMessage::from).collect(),
        has_more,
    })
}
