//! The security headers every page and asset carries.

use warp::http::{HeaderName, HeaderValue};
use warp::reply::Response;

/// No script runs on these pages, nothing is framed, forms post only here, images come from
/// the sellers' HTTPS URLs (Stripe product images) or from here.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers of an HTML page (and of its assets).
pub fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("x-frame-options", "DENY"),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}
