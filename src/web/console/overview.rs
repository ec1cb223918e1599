//! `GET /admin`: stores by status, orders and revenue per currency, events per status,
//! the inbox's backlog, and the latest failed events.

use std::sync::Arc;

use maud::html;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::session::Session;
use super::view::{self, or_dash};
use super::{Web, signed_in, unavailable};
use crate::store::admin::events::{self, EventFilter};
use crate::store::admin::{PageRequest, overview};

/// How many failed events the overview lists.
const FAILED_SHOWN: u64 = 10;

pub fn route(web: Arc<Web>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path::end()
        .and(crate::web::get_or_head())
        .and(signed_in(web))
        .then(page)
}

async fn page(session: Session, web: Arc<Web>) -> Response {
    let failed = EventFilter {
        status: Some("failed".to_owned()),
        ..EventFilter::default()
    };
    let latest = PageRequest {
        limit: FAILED_SHOWN,
        cursor: None,
    };
    let (Ok(summary), Ok(failed)) = (
        overview::read(&web.db).await,
        events::list(&web.db, &failed, &latest).await,
    ) else {
        return unavailable();
    };
    let main = html! {
        h1 { "Overview" }
        div.cards {
            section.card aria-labelledby="stores-heading" {
                h2 #stores-heading { "Stores" }
                (counts(&summary.stores, "/admin/stores"))
            }
            section.card aria-labelledby="revenue-heading" {
                h2 #revenue-heading { "Orders and revenue" }
                @if summary.revenue.is_empty() {
                    p { "No orders yet." }
                } @else {
                    dl {
                        @for ((livemode, currency), revenue) in &summary.revenue {
                            dt { (currency.to_uppercase()) (mode(*livemode)) }
                            dd {
                                (view::amount(revenue.kept, Some(currency)))
                                " kept, from " (revenue.orders) " orders"
                            }
                        }
                    }
                }
            }
            section.card aria-labelledby="events-heading" {
                h2 #events-heading { "Events" }
                (counts(&summary.events, "/admin/events"))
                p {
                    (summary.pending) " waiting to be applied"
                    @if let Some(oldest) = summary.oldest_pending {
                        "; the oldest arrived " (view::time(oldest))
                    }
                    "."
                }
            }
        }
        h2 { "Latest failed events" }
        (view::table("Failed events", &["Event", "Type", "Account", "Last error"], &failed.data, |event| html! {
            td { a href=(format!("/admin/events/{}", view::encode(&event.id))) { (event.id) } }
            td { (event.event_type) }
            td { (event.store_key) }
            td { (or_dash(event.last_error.as_deref())) }
        }))
        @if !failed.data.is_empty() {
            p { a href="/admin/events?status=failed" { "Every failed event" } }
        }
    };
    view::respond(&session, "/admin", "Overview", main)
}

/// Counts by mode and status, each status linking to the list filtered by it.
fn counts(counts: &std::collections::BTreeMap<(bool, String), i64>, list: &str) -> maud::Markup {
    html! {
        @if counts.is_empty() {
            p { "None yet." }
        } @else {
            dl {
                @for ((livemode, status), count) in counts {
                    dt {
                        a href=(format!("{list}?status={}", view::encode(status))) { (status) }
                        (mode(*livemode))
                    }
                    dd { (count) }
                }
            }
        }
    }
}

/// How a row of the test mode is marked (live rows are not).
fn mode(livemode: bool) -> &'static str {
    if livemode { "" } else { " (test)" }
}
