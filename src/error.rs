//! The one place errors become HTTP responses: `{"error":{"code","message"}}`.
//!
//! 4xx messages are specific; 5xx messages are opaque, and their cause is logged where it
//! happened.

use serde::Serialize;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

/// An error answered to an HTTP client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
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
        let body = Body {
            error: Detail {
                code: self.code,
                message: &self.message,
            },
        };
        warp::reply::with_status(warp::reply::json(&body), self.status).into_response()
    }
}
