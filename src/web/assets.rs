//! The stylesheet and the icon, embedded in the binary and served under names that carry a
//! hash of their content: browsers may keep them for a year, and a new build changes the
//! names.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

/// An embedded file: its path and content type.
struct Asset {
    path: String,
    content_type: &'static str,
    body: &'static str,
}

impl Asset {
    /// `/assets/{stem}-<first 12 hex digits of the SHA-256>.{extension}`.
    fn new(stem: &str, extension: &str, content_type: &'static str, body: &'static str) -> Self {
        let digest = hex::encode(Sha256::digest(body.as_bytes()));
        Self {
            path: format!("/assets/{stem}-{}.{extension}", &digest[..12]),
            content_type,
            body,
        }
    }
}

static ASSETS: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        Asset::new(
            "shop",
            "css",
            "text/css; charset=utf-8",
            include_str!("../../assets/shop.css"),
        ),
        Asset::new(
            "favicon",
            "svg",
            "image/svg+xml",
            include_str!("../../assets/favicon.svg"),
        ),
    ]
});

/// The stylesheet's path.
pub fn stylesheet() -> &'static str {
    &ASSETS[0].path
}

/// The icon's path.
pub fn icon() -> &'static str {
    &ASSETS[1].path
}

/// `GET /assets/{name}`: an asset by its current name; any other name is a 404.
pub fn route() -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("assets" / String)
        .and(super::get_or_head())
        .map(|name: String| {
            let Some(asset) = ASSETS
                .iter()
                .find(|asset| asset.path.strip_prefix("/assets/") == Some(name.as_str()))
            else {
                return StatusCode::NOT_FOUND.into_response();
            };
            let mut response = asset.body.into_response();
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
            headers.insert(
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            super::headers::secure(response)
        })
}
