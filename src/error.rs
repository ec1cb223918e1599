//! The one place errors become HTTP responses: `{"error":{"code","message"}}`.
//!
//! 4xx messages are specific; 5xx messages are opaque, and their cause is logged where it
//! happened.

use serde::Serialize;
use utoipa::ToSchema;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use crate::store::admin::QueryError;

/// An error answered to an HTTP client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The stores an ambiguous id was found in (`409 ambiguous_id`).
    pub stores: Option<Vec<String>>,
}

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable `code` to branch on and a message for people.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Such as `invalid_request`, `resource_missing`, `unauthorized`.
    pub code: String,
    pub message: String,
    /// With `ambiguous_id`: the stores holding the id; repeat the request with `?store=`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stores: Option<Vec<String>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            stores: None,
        }
    }

    /// `404 resource_missing`: no object of that kind has the id.
    pub fn resource_missing(kind: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "resource_missing",
            format!("no such {kind}: `{id}`"),
        )
    }

    /// `409 ambiguous_id`: the id exists in several stores; `?store=` picks one.
    pub fn ambiguous(id: &str, stores: Vec<String>) -> Self {
        let mut err = Self::new(
            StatusCode::CONFLICT,
            "ambiguous_id",
            format!(
                "`{id}` exists in several stores ({}); add `?store=` to choose one",
                stores.join(", ")
            ),
        );
        err.stores = Some(stores);
        err
    }

    /// A database failure: `503 unavailable` when the database cannot be reached (retry),
    /// else an opaque `500`. The cause is logged here, once.
    pub fn database(err: &sea_orm::DbErr) -> Self {
        tracing::error!(error = %err, "database query failed");
        if crate::store::db::is_unavailable(err) {
            Self::unavailable()
        } else {
            Self::internal()
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// `400 invalid_request` naming the offending parameter.
    pub fn invalid_param(name: &str, problem: &str) -> Self {
        Self::bad_request("invalid_request", format!("invalid `{name}`: {problem}"))
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid `Authorization: Bearer <ADMIN_TOKEN>` header is required",
        )
    }

    /// The database could not be reached: the client should retry (Stripe does).
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service cannot reach its database; retry later",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the server failed to handle the request",
        )
    }
}

impl warp::reject::Reject for ApiError {}

impl Reply for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                stores: self.stores,
            },
        };
        warp::reply::with_status(warp::reply::json(&body), self.status).into_response()
    }
}

impl From<QueryError> for ApiError {
    fn from(err: QueryError) -> Self {
        match err {
            QueryError::Db(err) => Self::database(&err),
            QueryError::UnknownCursor { param, id } => {
                Self::invalid_param(param, &format!("no object `{id}` in this list"))
            }
            QueryError::NotFound { kind, id } => Self::resource_missing(kind, &id),
            QueryError::Ambiguous { id, stores } => Self::ambiguous(&id, stores),
        }
    }
}
