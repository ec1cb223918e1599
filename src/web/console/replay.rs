//! Replays from the console: one event, or every failed event of a store. A link leads to
//! a page that says what will happen; its button posts the form (with the session's CSRF
//! token), which re-queues the events and wakes their stores' actors, as the admin API's
//! replay routes do.

use std::collections::HashMap;
use std::sync::Arc;

use maud::html;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::session::{self, FORM_LIMIT, Session, form_is_genuine, redirect};
use super::view;
use super::{Web, signed_in, unavailable};
use crate::store::admin::events::{self, EventFilter};
use crate::store::admin::{PageRequest, QueryError};

/// How many failed events the confirmation counts exactly; past it, "more than".
const COUNTED: u64 = 1000;

type Form = HashMap<String, String>;

pub fn routes(web: Arc<Web>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let path = |kind: &'static str| {
        warp::path(kind)
            .and(super::id_param())
            .and(warp::path("replay"))
            .and(warp::path::end())
    };
    let form = crate::web::forms::form(FORM_LIMIT, web.body_read_timeout);
    let confirm_event = path("events")
        .and(crate::web::get_or_head())
        .and(signed_in(web.clone()))
        .then(confirm_event);
    let replay_event = path("events")
        .and(warp::post())
        .and(form.clone())
        .and(signed_in(web.clone()))
        .then(replay_event);
    let confirm_store = path("stores")
        .and(crate::web::get_or_head())
        .and(signed_in(web.clone()))
        .then(confirm_store);
    let replay_store = path("stores")
        .and(warp::post())
        .and(form)
        .and(signed_in(web))
        .then(replay_store);
    confirm_event
        .or(replay_event)
        .unify()
        .or(confirm_store)
        .unify()
        .or(replay_store)
        .unify()
}

fn forged() -> Response {
    session::refused(
        StatusCode::FORBIDDEN,
        "Form expired",
        "This form is not from your current session. Open the page again and repeat.",
    )
}

/// A confirmation page: what will happen, a button to do it, and a way back.
fn confirm(session: &Session, section: &str, what: &str, action: &str, back: &str) -> Response {
    let main = html! {
        h1 { "Replay" }
        p { (what) }
        form method="post" action=(action) {
            (view::csrf(session))
            button type="submit" { "Replay" }
            " "
            a href=(back) { "Cancel" }
        }
    };
    view::respond(session, section, "Replay", main)
}

async fn confirm_event(id: String, session: Session, web: Arc<Web>) -> Response {
    let event = match events::find(&web.db, &id).await {
        Ok(event) => event,
        Err(QueryError::NotFound { .. }) => {
            return view::not_found(&session, "/admin/events", "There is no such event.");
        }
        Err(_) => return unavailable(),
    };
    let encoded = view::encode(&event.id);
    let what = format!(
        "Apply event {} ({}, now {}) again? Its store's actor applies it in order; an event \
         already applied changes nothing.",
        event.id,
        event.event_type,
        event.status.as_str()
    );
    confirm(
        &session,
        "/admin/events",
        &what,
        &format!("/admin/events/{encoded}/replay"),
        &format!("/admin/events/{encoded}"),
    )
}

async fn replay_event(id: String, form: Form, session: Session, web: Arc<Web>) -> Response {
    if !form_is_genuine(&session, &form) {
        return forged();
    }
    match events::requeue_one(&web.db, &id).await {
        Ok(row) => {
            tracing::info!(event_id = %row.id, account = %row.store_key, "event replayed from the console");
            web.dispatcher.dispatch(row);
            redirect(&format!("/admin/events/{}?replayed=1", view::encode(&id)))
        }
        Err(QueryError::NotFound { .. }) => {
            view::not_found(&session, "/admin/events", "There is no such event.")
        }
        Err(_) => unavailable(),
    }
}

fn failed_of(store: &str) -> EventFilter {
    EventFilter {
        status: Some("failed".to_owned()),
        account: Some(store.to_owned()),
        ..EventFilter::default()
    }
}

async fn confirm_store(id: String, session: Session, web: Arc<Web>) -> Response {
    // No check that the store exists: the events of an account whose first event failed
    // are all the store there is.
    let page = PageRequest {
        limit: COUNTED,
        cursor: None,
    };
    let Ok(failed) = events::list(&web.db, &failed_of(&id), &page).await else {
        return unavailable();
    };
    let encoded = view::encode(&id);
    let back = format!("/admin/stores/{encoded}");
    if failed.data.is_empty() {
        let main = html! {
            h1 { "Replay" }
            p { "Store " (id) " has no failed events." }
            p { a href=(back) { "Back to the store" } }
        };
        return view::respond(&session, "/admin/stores", "Replay", main);
    }
    let count = match failed.has_more {
        true => format!("more than {COUNTED}"),
        false => failed.data.len().to_string(),
    };
    let what = format!(
        "Apply the {count} failed events of store {id} again? Its actor applies them in order."
    );
    confirm(
        &session,
        "/admin/stores",
        &what,
        &format!("/admin/stores/{encoded}/replay"),
        &back,
    )
}

async fn replay_store(id: String, form: Form, session: Session, web: Arc<Web>) -> Response {
    if !form_is_genuine(&session, &form) {
        return forged();
    }
    let Ok((replayed, stores)) = events::requeue(&web.db, &failed_of(&id)).await else {
        return unavailable();
    };
    for store_key in &stores {
        web.dispatcher.resume(store_key);
    }
    tracing::info!(replayed, account = %id, "failed events replayed from the console");
    redirect(&format!(
        "/admin/events?account={}&replayed={replayed}",
        view::encode(&id)
    ))
}
