//! The stylesheet, embedded in the binary and served under a name that carries a hash of
//! its content: browsers may keep it for a year, and a new build changes the name.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

const CSS: &str = include_str!("../../assets/shop.css");

/// `/assets/shop-<first 12 hex digits of the SHA-256>.css`.
pub static STYLESHEET: LazyLock<String> = LazyLock::new(|| {
    let digest = hex::encode(Sha256::digest(CSS.as_bytes()));
    format!("/assets/shop-{}.css", &digest[..12])
});

/// `GET /assets/{name}`: the stylesheet by its current name; any other name is a 404.
pub fn route() -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("assets" / String)
        .and(warp::get().or(warp::head()).unify())
        .map(|name: String| {
            if STYLESHEET.strip_prefix("/assets/") != Some(name.as_str()) {
                return StatusCode::NOT_FOUND.into_response();
            }
            let mut response = CSS.into_response();
            let headers = response.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            );
            headers.insert(
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            super::headers::secure(response)
        })
}
