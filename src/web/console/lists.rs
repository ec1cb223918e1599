//! The console's lists: stores, orders, customers, products and events, newest first,
//! each with the admin API's filters (as a GET form) and its cursor paging.
//!
//! A filter's field has the API parameter's name; its value fills the same filter struct
//! of `store::admin` the API fills, so both answer with the same rows. A status that is not
//! one is ignored (the form offers only real ones).

use std::collections::HashMap;
use std::sync::Arc;

use entity::status::{EventStatus, OrderStatus, StoreStatus};
use maud::{Markup, html};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::session::Session;
use super::view::{self, Field, or_dash};
use super::{Web, signed_in, unavailable};
use crate::domain::pages::price_summary;
use crate::store::admin::customers::{self, CustomerFilter};
use crate::store::admin::events::{self, EventFilter};
use crate::store::admin::orders::{self, OrderFilter};
use crate::store::admin::products::{self, ProductFilter};
use crate::store::admin::stores::{self, StoreFilter};
use crate::store::admin::{PageRequest, PageToken, Scope};

/// Rows per page.
const PAGE_SIZE: u64 = 25;

type Query = HashMap<String, String>;

pub fn routes(web: Arc<Web>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let list = |name: &'static str| {
        warp::path(name)
            .and(warp::path::end())
            .and(crate::web::get_or_head())
            .and(warp::query::<Query>())
            .and(signed_in(web.clone()))
    };
    list("stores")
        .then(store_list)
        .or(list("orders").then(order_list))
        .unify()
        .or(list("customers").then(customer_list))
        .unify()
        .or(list("products").then(product_list))
        .unify()
        .or(list("events").then(event_list))
        .unify()
}

/// A filter's value: trimmed, `None` when empty.
fn param<'a>(query: &'a Query, name: &str) -> Option<&'a str> {
    query
        .get(name)
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
}

/// A filter's value when it is one of `names`.
fn choice<'a>(query: &'a Query, name: &str, names: &[&str]) -> Option<&'a str> {
    param(query, name).filter(|value| names.contains(value))
}

fn page_request(query: &Query) -> PageRequest {
    PageRequest {
        limit: PAGE_SIZE,
        cursor: param(query, "page").and_then(PageToken::decode),
    }
}

fn scope(query: &Query) -> Scope {
    Scope {
        store: param(query, "store").map(str::to_owned),
        livemode: None,
    }
}

fn owned(value: Option<&str>) -> Option<String> {
    value.map(str::to_owned)
}

/// A link to a store's page in the console.
pub fn store_link(id: &str) -> Markup {
    html! { a href=(format!("/admin/stores/{}", view::encode(id))) { (id) } }
}

/// A link to an order's page in the console.
pub fn order_link(order: &entity::order::Model) -> Markup {
    let href = format!(
        "/admin/orders/{}?store={}",
        view::encode(&order.id),
        view::encode(&order.store_key)
    );
    html! { a href=(href) { (order.id) } }
}

/// A link to an event's page in the console.
pub fn event_link(id: &str) -> Markup {
    html! { a href=(format!("/admin/events/{}", view::encode(id))) { (id) } }
}

async fn store_list(query: Query, session: Session, web: Arc<Web>) -> Response {
    let status = choice(&query, "status", StoreStatus::NAMES);
    let filter = StoreFilter {
        scope: Scope::default(),
        status: owned(status),
    };
    let Ok(page) = stores::list(&web.db, &filter, &page_request(&query)).await else {
        return unavailable();
    };
    let fields = [Field::Choice {
        name: "status",
        label: "Status",
        options: StoreStatus::NAMES,
        value: status,
    }];
    let main = html! {
        h1 { "Stores" }
        (view::filters("/admin/stores", &fields))
        (view::table("Stores", &["Store", "Account", "Status", "Products", "Customers", "Orders"], &page.data, |row| html! {
            td { a href=(format!("/admin/stores/{}", view::encode(&row.store.id))) { (or_dash(row.store.name.as_deref())) } }
            td { (row.store.id) }
            td { (view::status(row.store.status.as_str())) }
            td.number { (row.counts.products) }
            td.number { (row.counts.customers) }
            td.number { (row.counts.orders) }
        }))
        (view::more(&page, "/admin/stores", &[("status", status)]))
    };
    view::respond(&session, "/admin/stores", "Stores", main)
}

/// The orders table, for the list and a store's page.
pub fn order_table(orders: &[entity::order::Model]) -> Markup {
    view::table(
        "Orders",
        &["Order", "Store", "Customer", "Amount", "Status", "Created"],
        orders,
        |order| {
            html! {
                td { (order_link(order)) }
                td { (store_link(&order.store_key)) }
                td { (or_dash(order.customer.as_deref())) }
                td.number { (view::amount(order.amount, order.currency.as_deref())) }
                td { (view::status(order.status.as_str())) }
                td { (view::unix_time(order.created)) }
            }
        },
    )
}

async fn order_list(query: Query, session: Session, web: Arc<Web>) -> Response {
    let status = choice(&query, "status", OrderStatus::NAMES);
    let (store, customer) = (param(&query, "store"), param(&query, "customer"));
    let filter = OrderFilter {
        scope: scope(&query),
        status: owned(status),
        customer: owned(customer),
        ..OrderFilter::default()
    };
    let Ok(page) = orders::list(&web.db, &filter, &page_request(&query)).await else {
        return unavailable();
    };
    let fields = [
        Field::Choice {
            name: "status",
            label: "Status",
            options: OrderStatus::NAMES,
            value: status,
        },
        Field::Text {
            name: "store",
            label: "Store",
            value: store,
        },
        Field::Text {
            name: "customer",
            label: "Customer",
            value: customer,
        },
    ];
    let kept = [("status", status), ("store", store), ("customer", customer)];
    let main = html! {
        h1 { "Orders" }
        (view::filters("/admin/orders", &fields))
        (order_table(&page.data))
        (view::more(&page, "/admin/orders", &kept))
    };
    view::respond(&session, "/admin/orders", "Orders", main)
}

/// The customers table, for the list and a store's page.
pub fn customer_table(customers: &[entity::customer::Model]) -> Markup {
    view::table(
        "Customers",
        &["Customer", "Name", "E-mail", "Store", "Created"],
        customers,
        |customer| {
            html! {
                td { (customer.id) }
                td { (or_dash(customer.name.as_deref())) }
                td { (or_dash(customer.email.as_deref())) }
                td { (store_link(&customer.store_key)) }
                td { (view::unix_time(customer.created)) }
            }
        },
    )
}

async fn customer_list(query: Query, session: Session, web: Arc<Web>) -> Response {
    let (store, email) = (param(&query, "store"), param(&query, "email"));
    let filter = CustomerFilter {
        scope: scope(&query),
        email: owned(email),
    };
    let Ok(page) = customers::list(&web.db, &filter, &page_request(&query)).await else {
        return unavailable();
    };
    let fields = [
        Field::Text {
            name: "store",
            label: "Store",
            value: store,
        },
        Field::Text {
            name: "email",
            label: "E-mail",
            value: email,
        },
    ];
    let main = html! {
        h1 { "Customers" }
        (view::filters("/admin/customers", &fields))
        (customer_table(&page.data))
        (view::more(&page, "/admin/customers", &[("store", store), ("email", email)]))
    };
    view::respond(&session, "/admin/customers", "Customers", main)
}

/// The products table, for the list and a store's page.
pub fn product_table(products: &[products::PricedProduct]) -> Markup {
    view::table(
        "Products",
        &["Product", "Name", "Category", "Price", "Store", "For sale"],
        products,
        |priced| {
            let product = &priced.product;
            let price = priced.price.as_ref().map(price_summary);
            let price = price.as_ref().and_then(|price| {
                Some(view::amount(
                    price["amount"].as_i64()?,
                    price["currency"].as_str(),
                ))
            });
            let for_sale = product.active && product.deleted_at.is_none();
            html! {
                td { (product.id) }
                td { (or_dash(product.name.as_deref())) }
                td { (or_dash(product.category.as_deref())) }
                td.number { (or_dash(price.as_deref())) }
                td { (store_link(&product.store_key)) }
                td { @if for_sale { "yes" } @else { "no" } }
            }
        },
    )
}

async fn product_list(query: Query, session: Session, web: Arc<Web>) -> Response {
    let (store, category) = (param(&query, "store"), param(&query, "category"));
    let active = choice(&query, "active", &["true", "false"]);
    let filter = ProductFilter {
        scope: scope(&query),
        active: active.map(|active| active == "true"),
        category: owned(category),
    };
    let Ok(page) = products::list(&web.db, &filter, &page_request(&query)).await else {
        return unavailable();
    };
    let fields = [
        Field::Text {
            name: "store",
            label: "Store",
            value: store,
        },
        Field::Text {
            name: "category",
            label: "Category",
            value: category,
        },
        Field::Choice {
            name: "active",
            label: "Active",
            options: &["true", "false"],
            value: active,
        },
    ];
    let kept = [("store", store), ("category", category), ("active", active)];
    let main = html! {
        h1 { "Products" }
        (view::filters("/admin/products", &fields))
        (product_table(&page.data))
        (view::more(&page, "/admin/products", &kept))
    };
    view::respond(&session, "/admin/products", "Products", main)
}

/// The events table, for the list and the pages of a store and an order.
pub fn event_table(events: &[entity::webhook_event::Model]) -> Markup {
    view::table(
        "Events",
        &["Event", "Type", "Account", "Status", "Attempts", "Received"],
        events,
        |event| {
            html! {
                td { (event_link(&event.id)) }
                td { (event.event_type) }
                td { (event.store_key) }
                td { (view::status(event.status.as_str())) }
                td.number { (event.attempts) }
                td { (view::time(event.created_at)) }
            }
        },
    )
}

async fn event_list(query: Query, session: Session, web: Arc<Web>) -> Response {
    let status = choice(&query, "status", EventStatus::NAMES);
    let (event_type, account) = (param(&query, "type"), param(&query, "account"));
    let filter = EventFilter {
        status: owned(status),
        event_type: owned(event_type),
        account: owned(account),
        ..EventFilter::default()
    };
    let Ok(page) = events::list(&web.db, &filter, &page_request(&query)).await else {
        return unavailable();
    };
    let fields = [
        Field::Choice {
            name: "status",
            label: "Status",
            options: EventStatus::NAMES,
            value: status,
        },
        Field::Text {
            name: "type",
            label: "Type",
            value: event_type,
        },
        Field::Text {
            name: "account",
            label: "Account",
            value: account,
        },
    ];
    let kept = [
        ("status", status),
        ("type", event_type),
        ("account", account),
    ];
    let main = html! {
        h1 { "Events" }
        @if let Some(replayed) = param(&query, "replayed") {
            p.notice role="status" { (replayed) " failed events are queued again; their stores' actors apply them now." }
        }
        (view::filters("/admin/events", &fields))
        (event_table(&page.data))
        (view::more(&page, "/admin/events", &kept))
    };
    view::respond(&session, "/admin/events", "Events", main)
}
