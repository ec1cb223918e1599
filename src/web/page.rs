//! The frame every page shares, and HTML answers.

use maud::{DOCTYPE, Markup, html};
use warp::Reply;
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;

use super::assets;
use super::headers::secure;

/// An HTML answer: the page, its status, the security headers, and no caching by shared
/// caches (the pages change when the store's events arrive).
pub fn respond(status: StatusCode, page: Markup) -> Response {
    let mut response = warp::reply::with_status(page.into_string(), status).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    secure(response)
}

/// `response`, kept in no cache, not even the browser's history: a page whose form holds
/// a one-time attempt id is drawn again when the shopper comes back to it.
pub fn not_stored(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

/// A link of the site's navigation.
pub struct Nav<'a> {
    pub href: String,
    pub label: &'a str,
    pub current: bool,
}

/// The document around `main`: title, stylesheet, a header with the store's name and
/// navigation, a skip link for keyboard users.
pub fn frame(title: &str, site: &str, nav: &[Nav<'_>], main: Markup) -> Markup {
    let header = html! {
        p.brand { (site) }
        @if !nav.is_empty() {
            (navigation("Store", nav))
        }
    };
    document(title, header, main)
}

/// A navigation list, the current page marked for assistive technology.
pub fn navigation(label: &str, nav: &[Nav<'_>]) -> Markup {
    html! {
        nav aria-label=(label) {
            ul {
                @for link in nav {
                    li {
                        a href=(link.href) aria-current=[link.current.then_some("page")] {
                            (link.label)
                        }
                    }
                }
            }
        }
    }
}

/// Every page's document: head, skip link, the site header and the main content.
pub fn document(title: &str, header: Markup, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href=(assets::stylesheet());
                link rel="icon" type="image/svg+xml" href=(assets::icon());
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site { (header) }
                main #main { (main) }
            }
        }
    }
}

/// A page that says what is wrong in a sentence: an unknown store, a product not for sale,
/// a database that does not answer.
pub fn message(status: StatusCode, heading: &str, text: &str) -> Response {
    let main = html! {
        h1 { (heading) }
        p { (text) }
    };
    respond(status, frame(heading, "Marketplace", &[], main))
}

/// What [`encode`] escapes: everything but RFC 3986's unreserved characters.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A value as one component of a path or a query string.
pub fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, COMPONENT).to_string()
}

/// A path segment as the id it names (`acct%5F1` is `acct_1`).
pub fn decoded(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}
