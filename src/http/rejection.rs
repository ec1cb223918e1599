//! Turns warp rejections (routing, auth, query parsing) into the JSON error shape.

use std::convert::Infallible;

use warp::http::StatusCode;
use warp::reject::{self, Rejection};
use warp::reply::{Reply, Response};

use crate::error::{ApiError, ErrorCode};

pub async fn handle(rejection: Rejection) -> Result<Response, Infallible> {
    Ok(to_api_error(&rejection).into_response())
}

fn to_api_error(rejection: &Rejection) -> ApiError {
    if let Some(err) = rejection.find::<ApiError>() {
        return err.clone();
    }
    if rejection.is_not_found() {
        return ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such route");
    }
    if rejection.find::<reject::MethodNotAllowed>().is_some() {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "this route does not accept that method",
        );
    }
    if rejection.find::<reject::InvalidHeader>().is_some()
        || rejection.find::<reject::InvalidQuery>().is_some()
    {
        return ApiError::bad_request(
            ErrorCode::InvalidRequest,
            "a header or query parameter is invalid",
        );
    }
    tracing::error!(?rejection, "unhandled rejection");
    ApiError::internal()
}
