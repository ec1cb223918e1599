//! Reading a page's form: `application/x-www-form-urlencoded`, under a byte cap and within
//! the body read timeout (as the webhook's body, [`crate::body`]), so a client trickling a
//! form cannot hold a connection. A form that cannot be read is a [`Unreadable`] rejection,
//! answered as a page by [`answer_unreadable`].

use std::collections::HashMap;
use std::time::Duration;

use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::page;

/// Why a form was not read.
#[derive(Debug)]
pub struct Unreadable {
    status: StatusCode,
    message: String,
}

impl warp::reject::Reject for Unreadable {}

/// The fields of the request's form (the last value of a repeated name).
pub fn form(
    cap: u64,
    timeout: Duration,
) -> impl Filter<Extract = (HashMap<String, String>,), Error = Rejection> + Clone {
    warp::header::headers_cloned()
        .and(warp::body::stream())
        .and_then(move |headers: HeaderMap, body| async move {
            let bytes = crate::body::read_capped(&headers, body, cap, timeout)
                .await
                .map_err(|err| {
                    warp::reject::custom(Unreadable {
                        status: err.status,
                        message: err.message,
                    })
                })?;
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                .map(|pairs| pairs.into_iter().collect())
                .map_err(|_| {
                    warp::reject::custom(Unreadable {
                        status: StatusCode::BAD_REQUEST,
                        message: "the form could not be read".to_owned(),
                    })
                })
        })
}

/// The page of an [`Unreadable`] form; other rejections go on.
pub async fn answer_unreadable(rejection: Rejection) -> Result<Response, Rejection> {
    match rejection.find::<Unreadable>() {
        Some(unreadable) => Ok(page::message(
            unreadable.status,
            "Form not sent",
            &format!(
                "The form could not be sent: {}. Go back and try again.",
                unreadable.message
            ),
        )),
        None => Err(rejection),
    }
}
