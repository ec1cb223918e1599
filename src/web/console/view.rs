//! The console's frame and the pieces its pages share: tables of rows, filters, paging
//! links, dates and amounts.

use chrono::{DateTime, Utc};
use maud::{Markup, html};
use warp::http::StatusCode;
use warp::reply::Response;

use super::session::Session;
use crate::store::admin::Page;
use crate::web::money;
use crate::web::page::{self, Nav};

pub use crate::web::page::encode;

/// The console's sections: (path, label).
const SECTIONS: [(&str, &str); 6] = [
    ("/admin", "Overview"),
    ("/admin/stores", "Stores"),
    ("/admin/orders", "Orders"),
    ("/admin/customers", "Customers"),
    ("/admin/products", "Products"),
    ("/admin/events", "Events"),
];

/// A console page: the navigation with `section` current, a sign-out button, and `main`.
pub fn respond(session: &Session, section: &str, title: &str, main: Markup) -> Response {
    respond_with(StatusCode::OK, session, section, title, main)
}

/// [`respond`] with another status (a form refused, a service missing).
pub fn respond_with(
    status: StatusCode,
    session: &Session,
    section: &str,
    title: &str,
    main: Markup,
) -> Response {
    private(page::respond(status, frame(session, section, title, main)))
}

/// Kept by no cache, the browser's included: the console's pages show customers' data and
/// the session's form token.
pub fn private(mut response: Response) -> Response {
    response.headers_mut().insert(
        warp::http::header::CACHE_CONTROL,
        warp::http::HeaderValue::from_static("private, no-store"),
    );
    response
}

fn frame(session: &Session, section: &str, title: &str, main: Markup) -> Markup {
    let nav: Vec<Nav<'_>> = SECTIONS
        .iter()
        .map(|(path, label)| Nav {
            href: (*path).to_owned(),
            label,
            current: *path == section,
        })
        .collect();
    let header = html! {
        p.brand { "Payments console" }
        (page::navigation("Console", &nav))
        form.inline method="post" action="/admin/sign-out" {
            (csrf(session))
            button type="submit" { "Sign out" }
        }
    };
    page::document(&format!("{title} · Payments console"), header, main)
}

/// The hidden CSRF field of a form.
pub fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// A console page that says what is missing (an unknown store, order or event).
pub fn not_found(session: &Session, section: &str, what: &str) -> Response {
    let main = html! {
        h1 { "Not found" }
        p { (what) }
    };
    page::respond(
        StatusCode::NOT_FOUND,
        frame(session, section, "Not found", main),
    )
}

/// A table: the column headings and one row of cells per item; a sentence when empty.
pub fn table<T>(
    caption: &str,
    headings: &[&str],
    rows: &[T],
    cells: impl Fn(&T) -> Markup,
) -> Markup {
    html! {
        @if rows.is_empty() {
            p { "No " (caption.to_lowercase()) " yet." }
        } @else {
            div.scroll role="region" aria-label=(caption) tabindex="0" {
                table {
                    caption { (caption) }
                    thead { tr { @for heading in headings { th scope="col" { (heading) } } } }
                    tbody { @for row in rows { tr { (cells(row)) } } }
                }
            }
        }
    }
}

/// A filter of a list: a text field or a choice.
pub enum Field<'a> {
    Text {
        name: &'a str,
        label: &'a str,
        value: Option<&'a str>,
    },
    Choice {
        name: &'a str,
        label: &'a str,
        options: &'a [&'a str],
        value: Option<&'a str>,
    },
}

/// The filter form of a list (GET, so a filtered list has an address).
pub fn filters(action: &str, fields: &[Field<'_>]) -> Markup {
    html! {
        form.filters method="get" action=(action) role="search" {
            @for field in fields {
                @match field {
                    Field::Text { name, label, value } => {
                        label {
                            (label)
                            input type="text" name=(name) value=[*value];
                        }
                    }
                    Field::Choice { name, label, options, value } => {
                        label {
                            (label)
                            select name=(name) {
                                option value="" selected[value.is_none()] { "Any" }
                                @for option in options.iter() {
                                    option value=(option) selected[*value == Some(*option)] {
                                        (option)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
    }
}

/// The link to the next page of a list, keeping its filters.
pub fn more<T>(page: &Page<T>, action: &str, query: &[(&str, Option<&str>)]) -> Markup {
    let Some(next) = page.next.as_ref().filter(|_| page.has_more) else {
        return html! {};
    };
    let mut pairs: Vec<(&str, String)> = query
        .iter()
        .filter_map(|(name, value)| Some((*name, (*value)?.to_owned())))
        .collect();
    pairs.push(("page", next.encode()));
    let href = format!("{action}?{}", encode_query(&pairs));
    html! { p { a href=(href) rel="next" { "Older →" } } }
}

/// A query string of name and value pairs.
pub fn encode_query(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A time, to the second, in UTC.
pub fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Stripe's `created` (Unix seconds), as [`time`].
pub fn unix_time(seconds: Option<i64>) -> String {
    seconds
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
        .map_or_else(|| "—".to_owned(), time)
}

/// An amount in its currency, or the bare minor units when the currency is unknown.
pub fn amount(minor_units: i64, currency: Option<&str>) -> String {
    match currency {
        Some(currency) => money::amount(minor_units, currency),
        None => minor_units.to_string(),
    }
}

/// A status, styled by its kind.
pub fn status(text: &str) -> Markup {
    html! { span.status data-status=(text) { (text) } }
}

/// An optional text, or a dash.
pub fn or_dash(text: Option<&str>) -> &str {
    text.filter(|text| !text.is_empty()).unwrap_or("—")
}
