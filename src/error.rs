//! The one place errors become HTTP responses: `{"error":{"code","message"}}`.
//!
//! 4xx messages are specific; 5xx messages are opaque, and their cause is logged where it
//! happened.

use serde::Serialize;
use utoipa::ToSchema;
use warp::http::StatusCode;
use warp::http::header::{self, HeaderValue};
use warp::reply::{Reply, Response};

use crate::store::admin::QueryError;
use crate::stripe::envelope::EnvelopeError;
use crate::stripe::signature::SignatureError;
pub use crate::telemetry::one_line;

/// The stable `code` of an error answer: clients branch on it, so each is written once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    ResourceMissing,
    AmbiguousId,
    Unauthorized,
    Unavailable,
    InternalError,
    NotReady,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    PayloadTooLarge,
    UriTooLong,
    HeadersTooLarge,
    UnsupportedMediaType,
    InvalidPayload,
    MissingSignature,
    MalformedSignature,
    NoMatchingSignature,
    TimestampOutsideTolerance,
    SyncRunning,
    StripeNotConfigured,
    StripeUnavailable,
}

impl ErrorCode {
    /// The code as clients see it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::ResourceMissing => "resource_missing",
            Self::AmbiguousId => "ambiguous_id",
            Self::Unauthorized => "unauthorized",
            Self::Unavailable => "unavailable",
            Self::InternalError => "internal_error",
            Self::NotReady => "not_ready",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::RequestTimeout => "request_timeout",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UriTooLong => "uri_too_long",
            Self::HeadersTooLarge => "headers_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::InvalidPayload => "invalid_payload",
            Self::MissingSignature => "missing_signature",
            Self::MalformedSignature => "malformed_signature",
            Self::NoMatchingSignature => "no_matching_signature",
            Self::TimestampOutsideTolerance => "timestamp_outside_tolerance",
            Self::SyncRunning => "sync_running",
            Self::StripeNotConfigured => "stripe_not_configured",
            Self::StripeUnavailable => "stripe_unavailable",
        }
    }

    /// Whether the code says the signature was refused.
    pub fn is_signature(self) -> bool {
        matches!(
            self,
            Self::MissingSignature
                | Self::MalformedSignature
                | Self::NoMatchingSignature
                | Self::TimestampOutsideTolerance
        )
    }
}

impl From<&SignatureError> for ErrorCode {
    fn from(err: &SignatureError) -> Self {
        match err {
            SignatureError::Missing => Self::MissingSignature,
            SignatureError::Malformed => Self::MalformedSignature,
            SignatureError::NoMatch => Self::NoMatchingSignature,
            SignatureError::TimestampOutsideTolerance { .. } => Self::TimestampOutsideTolerance,
        }
    }
}

impl From<&EnvelopeError> for ErrorCode {
    fn from(err: &EnvelopeError) -> Self {
        match err {
            EnvelopeError::Invalid(_) => Self::InvalidPayload,
        }
    }
}

/// An error answered to an HTTP client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// The stores an ambiguous id was found in (`409 ambiguous_id`).
    pub stores: Option<Vec<String>>,
    /// The methods the path takes (`405`), sent as `Allow`.
    pub allow: Option<String>,
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
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            stores: None,
            allow: None,
        }
    }

    /// `405 method_not_allowed`: the path exists and takes only `allow`.
    pub fn method_not_allowed(allow: String) -> Self {
        let message = format!("this route takes {allow} only");
        let err = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            message,
        );
        Self {
            allow: Some(allow),
            ..err
        }
    }

    /// `404 resource_missing`: no object of that kind has the id.
    pub fn resource_missing(kind: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::ResourceMissing,
            format!("no such {kind}: `{id}`"),
        )
    }

    /// `409 ambiguous_id`: the id exists in several stores; `?store=` picks one.
    pub fn ambiguous(id: &str, stores: Vec<String>) -> Self {
        let mut err = Self::new(
            StatusCode::CONFLICT,
            ErrorCode::AmbiguousId,
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

    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// `400 invalid_request` naming the offending parameter.
    pub fn invalid_param(name: &str, problem: &str) -> Self {
        Self::bad_request(
            ErrorCode::InvalidRequest,
            format!("invalid `{name}`: {problem}"),
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "a valid `Authorization: Bearer <ADMIN_TOKEN>` header is required",
        )
    }

    /// The database could not be reached: the client should retry (Stripe does).
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "the service cannot reach its database; retry later",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalError,
            "the server failed to handle the request",
        )
    }
}

impl warp::reject::Reject for ApiError {}

impl Reply for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.as_str().to_owned(),
                message: self.message,
                stores: self.stores,
            },
        };
        let mut response =
            warp::reply::with_status(warp::reply::json(&body), self.status).into_response();
        let headers = response.headers_mut();
        if let Some(allow) = self
            .allow
            .and_then(|allow| HeaderValue::from_str(&allow).ok())
        {
            headers.insert(header::ALLOW, allow);
        }
        if self.code == ErrorCode::Unauthorized {
            // RFC 9110 asks a 401 to name the scheme it wants.
            let challenge = HeaderValue::from_static("Bearer realm=\"payments admin\"");
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

impl From<QueryError> for ApiError {
    fn from(err: QueryError) -> Self {
        match err {
            QueryError::Db(err) => Self::database(&err),
            // As Stripe answers a cursor naming nothing: the object is missing (from the list).
            QueryError::UnknownCursor { param, id } => Self::new(
                StatusCode::NOT_FOUND,
                ErrorCode::ResourceMissing,
                format!("invalid `{param}`: no object `{id}` in this list"),
            ),
            QueryError::NotFound { kind, id } => Self::resource_missing(kind, &id),
            QueryError::Ambiguous { id, stores } => Self::ambiguous(&id, stores),
            QueryError::AmbiguousCursor { param, id } => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::AmbiguousId,
                format!(
                    "`{param}`: `{id}` names objects of several stores in this list; walk with \
                     `page` (each answer's `next_page`), or narrow the list with `store`"
                ),
            ),
        }
    }
}
