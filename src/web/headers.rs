//! The security headers every page and asset carries.

use warp::http::{HeaderName, HeaderValue};
use warp::reply::Response;

/// No script runs on these pages, nothing is framed, forms post only here, images come from
/// the sellers' HTTPS URLs (Stripe product images) or from here.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Stripe's hosted payment page, where a checkout form's answer redirects.
pub const STRIPE_CHECKOUT: &str = "https://checkout.stripe.com";

/// `response` (already [`secure`]) whose forms may also lead to `origins`: a checkout
/// form's answer redirects to Stripe's payment page, and `form-action` governs the
/// redirects after a form is sent, not only its own action.
pub fn forms_may_leave_for(mut response: Response, origins: &[String]) -> Response {
    if origins.is_empty() {
        return response;
    }
    let csp = CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {}", origins.join(" ")),
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("content-security-policy"), value);
    }
    response
}

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
