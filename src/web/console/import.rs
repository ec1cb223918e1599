//! Importing a store's products from the console: a page with a text area for CSV or JSON
//! rows, whose form (with the session's CSRF token) uploads them to the store's connected
//! account on Stripe ([`crate::catalog_import`]), as the admin API's
//! `POST /stores/{id}/products` does, and answers with each row's outcome.

use std::collections::HashMap;
use std::sync::Arc;

use maud::{Markup, html};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::session::{self, Session, form_is_genuine};
use super::view;
use super::{Web, signed_in, unavailable};
use crate::catalog_import::{self, Format, ImportError, Report, RowResult, Status};
use crate::store::admin::stores;

/// The largest form: a catalogue of some thousand rows (the admin API takes as much).
const IMPORT_FORM_LIMIT: u64 = 1024 * 1024;

const SECTION: &str = "/admin/stores";

type Form = HashMap<String, String>;

pub fn routes(web: Arc<Web>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let path = || {
        warp::path("stores")
            .and(super::id_param())
            .and(warp::path("import"))
            .and(warp::path::end())
    };
    let form = crate::web::forms::form(IMPORT_FORM_LIMIT, web.body_read_timeout);
    let page = path()
        .and(crate::web::get_or_head())
        .and(signed_in(web.clone()))
        .then(import_page);
    let submit = path()
        .and(warp::post())
        .and(form)
        .and(signed_in(web))
        .then(import);
    page.or(submit).unify()
}

async fn import_page(id: String, session: Session, web: Arc<Web>) -> Response {
    match stores::exists(&web.db, &id, None).await {
        Ok(true) => {}
        Ok(false) => return view::not_found(&session, SECTION, "There is no such store."),
        Err(_) => return unavailable(),
    }
    let main = html! {
        h1 { "Import products" }
        (explanation(&id, web.stripe.is_some()))
        (form(&session, &id, "", Format::Csv))
    };
    view::respond(&session, SECTION, "Import products", main)
}

/// What the import does, and what it needs.
fn explanation(id: &str, configured: bool) -> Markup {
    html! {
        p {
            "Creates or updates store " (id) "'s products and their default prices on Stripe. \
             A CSV header names the columns (JSON: an array of objects with the same names): \
             name, price and currency (required), description, images (http(s) URLs \
             separated by | or spaces), category, interval (day, week, month or year) and \
             sku. Importing again updates only what changed. The store shows the products \
             once Stripe's webhooks arrive."
        }
        @if !configured {
            p.notice { "STRIPE_API_KEY is not set: nothing can be imported." }
        }
    }
}

/// The form, holding `rows` (kept when it is answered with an error).
fn form(session: &Session, id: &str, rows: &str, format: Format) -> Markup {
    let action = format!("/admin/stores/{}/import", view::encode(id));
    html! {
        form.import method="post" action=(action) {
            (view::csrf(session))
            p {
                label for="import-format" { "Format" }
                " "
                select #import-format name="format" {
                    option value="csv" selected[format == Format::Csv] { "CSV" }
                    option value="json" selected[format == Format::Json] { "JSON" }
                }
            }
            p {
                label for="import-rows" { "Products" }
                textarea #import-rows name="rows" rows="12" cols="80" required
                    placeholder="name,price,currency,category\nBlue mug,12.50,usd,Kitchen" { (rows) }
            }
            button type="submit" { "Import" }
            " "
            a href=(format!("/admin/stores/{}", view::encode(id))) { "Cancel" }
        }
    }
}

async fn import(id: String, form: Form, session: Session, web: Arc<Web>) -> Response {
    if !form_is_genuine(&session, &form) {
        return session::refused(
            StatusCode::FORBIDDEN,
            "Form expired",
            "This form is not from your current session. Open the page again and repeat.",
        );
    }
    match stores::exists(&web.db, &id, None).await {
        Ok(true) => {}
        Ok(false) => return view::not_found(&session, SECTION, "There is no such store."),
        Err(_) => return unavailable(),
    }
    let format = match form.get("format").map(String::as_str) {
        Some("json") => Format::Json,
        _ => Format::Csv,
    };
    let rows = form.get("rows").map(String::as_str).unwrap_or_default();
    let Some(client) = web.stripe.as_ref() else {
        let problem = "STRIPE_API_KEY is not set: nothing can be imported.";
        return refused(
            StatusCode::SERVICE_UNAVAILABLE,
            &session,
            &id,
            rows,
            format,
            problem,
        );
    };
    match catalog_import::import(client, &id, rows.as_bytes(), format, |_, _| {}).await {
        Ok(report) => {
            tracing::info!(account = %id, summary = %report.summary(), "products imported from the console");
            results(&session, &id, &report)
        }
        Err(ImportError::File(err)) => {
            let problem = format!("These are not product rows: {err}.");
            refused(
                StatusCode::BAD_REQUEST,
                &session,
                &id,
                rows,
                format,
                &problem,
            )
        }
        Err(ImportError::Stopped(stopped)) => {
            let problem = format!(
                "Stripe could not be used ({}); {} rows were sent before it stopped.",
                stopped.error,
                stopped.done.results.len()
            );
            refused(
                StatusCode::BAD_GATEWAY,
                &session,
                &id,
                rows,
                format,
                &problem,
            )
        }
    }
}

/// The form again, with what went wrong above it.
fn refused(
    status: StatusCode,
    session: &Session,
    id: &str,
    rows: &str,
    format: Format,
    problem: &str,
) -> Response {
    let main = html! {
        h1 { "Import products" }
        p.notice role="alert" { (problem) }
        (form(session, id, rows, format))
    };
    view::respond_with(status, session, SECTION, "Import products", main)
}

/// Each row's outcome.
fn results(session: &Session, id: &str, report: &Report) -> Response {
    let place = report.format.place();
    let heading = format!("{}{}", place[..1].to_uppercase(), &place[1..]);
    let main = html! {
        h1 { "Import products" }
        p { "Store " (id) ": " (report.summary()) "." }
        (view::table("Rows", &[heading.as_str(), "Outcome", "Product", "Price", "Reason"], &report.results, row_cells))
        p { a href=(format!("/admin/stores/{}", view::encode(id))) { "Back to the store" } }
    };
    view::respond(session, SECTION, "Import products", main)
}

fn row_cells(row: &RowResult) -> Markup {
    let outcome = match row.status {
        Status::Created => "created",
        Status::Updated => "updated",
        Status::Unchanged => "unchanged",
        Status::Failed => "failed",
    };
    html! {
        td { (row.line) }
        td { (outcome) }
        td { (row.product.as_deref().unwrap_or("—")) }
        td { (row.price.as_deref().unwrap_or("—")) }
        td { (row.error.as_deref().unwrap_or("")) }
    }
}
