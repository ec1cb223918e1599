//! One store, one order, one event: `/admin/stores/{id}`, `/admin/orders/{id}` (with
//! `?store=` when the id is in several stores) and `/admin/events/{id}`.

use std::collections::HashMap;
use std::sync::Arc;

use maud::{Markup, html};
use serde_json::Value;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::lists::{customer_table, event_table, order_table, product_table, store_link};
use super::session::Session;
use super::view::{self, or_dash};
use super::{Web, signed_in, unavailable};
use crate::store::admin::contact_messages;
use crate::store::admin::customers::{self, CustomerFilter};
use crate::store::admin::orders::{self, OrderFilter};
use crate::store::admin::products::{self, ProductFilter};
use crate::store::admin::{Lookup, PageRequest, QueryError, Scope, events, stores};

/// How many of each kind of row a store's page shows (the lists show the rest).
const SHOWN: u64 = 10;
/// How many contact messages a store's page shows.
const MESSAGES: u64 = 50;

pub fn routes(web: Arc<Web>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let one = |name: &'static str| {
        warp::path(name)
            .and(super::id_param())
            .and(warp::path::end())
            .and(crate::web::get_or_head())
            .and(warp::query::<HashMap<String, String>>())
            .and(signed_in(web.clone()))
    };
    one("stores")
        .then(store_page)
        .or(one("orders").then(order_page))
        .unify()
        .or(one("events").then(event_page))
        .unify()
}

fn first(limit: u64) -> PageRequest {
    PageRequest {
        limit,
        cursor: None,
    }
}

async fn store_page(
    id: String,
    _: HashMap<String, String>,
    session: Session,
    web: Arc<Web>,
) -> Response {
    let lookup = Lookup {
        id: &id,
        store: None,
        livemode: None,
    };
    let found = match stores::find(&web.db, lookup).await {
        Ok(found) => found,
        Err(QueryError::NotFound { .. }) => {
            return view::not_found(&session, "/admin/stores", "There is no such store.");
        }
        Err(_) => return unavailable(),
    };
    let store = &found.store;
    let scope = Scope {
        store: Some(store.id.clone()),
        livemode: Some(store.livemode),
    };
    let product_filter = ProductFilter {
        scope: scope.clone(),
        ..ProductFilter::default()
    };
    let customer_filter = CustomerFilter {
        scope: scope.clone(),
        ..CustomerFilter::default()
    };
    let order_filter = OrderFilter {
        scope,
        ..OrderFilter::default()
    };
    let (Ok(products), Ok(customers), Ok(orders), Ok(messages)) = (
        products::list(&web.db, &product_filter, &first(SHOWN)).await,
        customers::list(&web.db, &customer_filter, &first(SHOWN)).await,
        orders::list(&web.db, &order_filter, &first(SHOWN)).await,
        contact_messages::list_in_mode(&web.db, &store.id, Some(store.livemode), MESSAGES).await,
    ) else {
        return unavailable();
    };
    let name = or_dash(store.name.as_deref());
    let encoded = view::encode(&store.id);
    let shop = format!(
        "/shop/{}",
        store.slug.as_deref().map_or(encoded.clone(), view::encode)
    );
    let main = html! {
        h1 { (name) }
        dl {
            dt { "Account" } dd { (store.id) }
            dt { "Status" } dd { (view::status(store.status.as_str())) }
            dt { "Mode" } dd { @if store.livemode { "live" } @else { "test" } }
            dt { "E-mail" } dd { (or_dash(store.email.as_deref())) }
            dt { "Country" } dd { (or_dash(store.country.as_deref())) }
            dt { "Currency" } dd { (or_dash(store.currency.as_deref())) }
            dt { "Storefront" } dd { a href=(shop) { (shop) } }
        }
        p.actions {
            a.button href=(format!("/admin/stores/{encoded}/replay")) { "Replay failed events…" }
            " "
            a.button href=(format!("/admin/stores/{encoded}/import")) { "Import products…" }
        }
        h2 { "Pages" }
        (pages_preview(store.pages.as_ref().unwrap_or(&Value::Null)))
        h2 { "Products (" (found.counts.products) ")" }
        (product_table(&products.data))
        (see_all(products.has_more, "products", &encoded))
        h2 { "Customers (" (found.counts.customers) ")" }
        (customer_table(&customers.data))
        (see_all(customers.has_more, "customers", &encoded))
        h2 { "Orders (" (found.counts.orders) ")" }
        (order_table(&orders.data))
        (see_all(orders.has_more, "orders", &encoded))
        h2 { "Contact messages" }
        (message_list(&messages))
        h2 { "Events" }
        p { a href=(format!("/admin/events?account={encoded}")) { "This store's events" } }
    };
    view::respond(&session, "/admin/stores", name, main)
}

/// The messages shoppers sent with the storefront's contact form, newest first.
fn message_list(messages: &[entity::contact_message::Model]) -> Markup {
    html! {
        @if messages.is_empty() {
            p { "No messages yet." }
        }
        @for message in messages {
            article.message {
                h3 { (message.name) " <" (message.email) ">" }
                p.category { (view::time(message.created_at)) }
                p.body { (message.message) }
            }
        }
    }
}

fn see_all(more: bool, list: &str, store: &str) -> Markup {
    html! {
        @if more {
            p { a href=(format!("/admin/{list}?store={store}")) { "Every one of them" } }
        }
    }
}

/// What the storefront shows: the hero, the featured products and the categories.
fn pages_preview(pages: &Value) -> Markup {
    let home = &pages["home"];
    let featured = home["featured_products"].as_array().map_or(0, Vec::len);
    let categories = pages["products"]["categories"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    html! {
        dl {
            dt { "Home" }
            dd {
                (or_dash(home["hero"]["title"].as_str()))
                ", " (featured) " featured products"
            }
            dt { "Categories" }
            dd {
                @if categories.is_empty() { "—" }
                @for (index, category) in categories.iter().enumerate() {
                    @if index > 0 { ", " }
                    (or_dash(category["name"].as_str()))
                    " (" (category["products"].as_array().map_or(0, Vec::len)) ")"
                }
            }
            dt { "About" }
            dd { (or_dash(pages["about"]["description"].as_str())) }
        }
    }
}

async fn order_page(
    id: String,
    query: HashMap<String, String>,
    session: Session,
    web: Arc<Web>,
) -> Response {
    let lookup = Lookup {
        id: &id,
        store: query.get("store").map(String::as_str),
        livemode: None,
    };
    let order = match orders::find(&web.db, lookup).await {
        Ok(order) => order,
        Err(QueryError::NotFound { .. }) => {
            return view::not_found(&session, "/admin/orders", "There is no such order.");
        }
        Err(QueryError::Ambiguous { stores, .. }) => {
            let text = format!("This id is in several stores: {}.", stores.join(", "));
            return view::not_found(&session, "/admin/orders", &text);
        }
        Err(_) => return unavailable(),
    };
    let objects: Vec<&str> = [Some(order.id.as_str()), order.charge.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let (Ok(catalog), Ok(history)) = (
        orders::item_catalog(&web.db, std::slice::from_ref(&order)).await,
        events::about_objects(&web.db, &order.store_key, &objects, 50).await,
    ) else {
        return unavailable();
    };
    let items = order.items.as_ref().and_then(Value::as_array);
    let items = items.map_or(&[][..], Vec::as_slice);
    let currency = order.currency.as_deref();
    let main = html! {
        h1 { "Order " (order.id) }
        dl {
            dt { "Store" } dd { (store_link(&order.store_key)) }
            dt { "Status" } dd { (view::status(order.status.as_str())) }
            dt { "Amount" } dd { (view::amount(order.amount, currency)) }
            dt { "Captured" } dd { (view::amount(order.amount_captured, currency)) }
            dt { "Refunded" } dd { (view::amount(order.amount_refunded, currency)) }
            @if let Some(dispute) = &order.dispute_status {
                dt { "Dispute" } dd { (dispute) ", " (view::amount(order.amount_disputed, currency)) }
            }
            @if let Some(fee) = order.application_fee_amount {
                dt { "Platform fee" } dd { (view::amount(fee, currency)) }
            }
            dt { "Customer" } dd { (or_dash(order.customer.as_deref())) }
            dt { "Charge" } dd { (or_dash(order.charge.as_deref())) }
            @if let Some(message) = &order.failure_message {
                dt { "Failure" } dd { (message) }
            }
            dt { "Receipt" }
            dd {
                @match order.receipt_url.as_deref().filter(|url| url.starts_with("https://")) {
                    Some(url) => a href=(url) rel="noopener" { "Stripe receipt" },
                    None => "—",
                }
            }
            dt { "Created" } dd { (view::unix_time(order.created)) }
        }
        h2 { "Items" }
        (view::table("Items", &["Product", "Price", "Quantity", "Unit amount"], items, |item| {
            let product = catalog.product_of(&order, item["product"].as_str(), item["price"].as_str());
            let name = product.and_then(|priced| priced.product.name.as_deref());
            let unit = item["unit_amount"].as_i64().map(|unit| {
                view::amount(unit, item["currency"].as_str().or(currency))
            });
            html! {
                td { (or_dash(name.or(item["product"].as_str()))) }
                td { (or_dash(item["price"].as_str())) }
                td.number { (item["quantity"].as_i64().unwrap_or(1)) }
                td.number { (or_dash(unit.as_deref())) }
            }
        }))
        h2 { "Event history" }
        (event_table(&history))
    };
    view::respond(
        &session,
        "/admin/orders",
        &format!("Order {}", order.id),
        main,
    )
}

async fn event_page(
    id: String,
    query: HashMap<String, String>,
    session: Session,
    web: Arc<Web>,
) -> Response {
    let event = match events::find(&web.db, &id).await {
        Ok(event) => event,
        Err(QueryError::NotFound { .. }) => {
            return view::not_found(&session, "/admin/events", "There is no such event.");
        }
        Err(_) => return unavailable(),
    };
    let payload = serde_json::from_str::<Value>(&event.payload)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| event.payload.clone());
    let main = html! {
        h1 { "Event " (event.id) }
        @if query.contains_key("replayed") {
            p.notice role="status" { "The event is queued again; its store's actor applies it now." }
        }
        dl {
            dt { "Type" } dd { (event.event_type) }
            dt { "Account" } dd { (store_link(&event.store_key)) }
            dt { "Status" } dd { (view::status(event.status.as_str())) }
            dt { "Attempts" } dd { (event.attempts) }
            dt { "Object" } dd { (or_dash(event.object_id.as_deref())) }
            dt { "Created by Stripe" } dd { (view::unix_time(Some(event.created))) }
            dt { "Received" } dd { (view::time(event.created_at)) }
            dt { "Finished" } dd { (event.processed_at.map_or_else(|| "—".to_owned(), view::time)) }
            dt { "Last error" } dd { (or_dash(event.last_error.as_deref())) }
        }
        p.actions {
            a.button href=(format!("/admin/events/{}/replay", view::encode(&event.id))) { "Replay…" }
        }
        h2 { "Payload" }
        pre.payload tabindex="0" aria-label="Payload (JSON)" { code { (payload) } }
    };
    view::respond(
        &session,
        "/admin/events",
        &format!("Event {}", event.id),
        main,
    )
}
