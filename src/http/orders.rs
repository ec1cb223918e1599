//! `GET /orders`, `GET /orders/{id}` and `GET /stores/{id}/orders` (admin).

use std::collections::HashMap;
use std::sync::Arc;

use entity::order;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::list::{List, LookupParams, PageParams, Params, reply};
use super::{AppState, admin};
use crate::domain::orders::OrderStatus;
use crate::error::{ApiError, ErrorBody};
use crate::queries::orders::{self as query, ItemCatalog, OrderFilter};

/// One payment of a store: a PaymentIntent, or a charge made without one.
#[derive(Serialize, ToSchema)]
pub struct Order {
    /// The PaymentIntent id (`pi_...`), else the charge id (`ch_...`).
    pub id: String,
    /// Always `order`.
    pub object: String,
    /// The store (connected account id, or `platform`).
    pub store: String,
    pub livemode: bool,
    /// `pending`, `failed`, `canceled`, `completed`, `partially_refunded` or `refunded`.
    pub status: String,
    /// Smallest currency unit.
    pub amount: i64,
    pub amount_refunded: i64,
    pub currency: Option<String>,
    pub customer: Option<String>,
    pub payment_intent: Option<String>,
    pub charge: Option<String>,
    pub receipt_url: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    /// From the payment's `metadata.items`, with each product's current name and price.
    pub items: Vec<OrderItem>,
    /// Stripe's `created` of the payment (Unix seconds).
    pub created: Option<i64>,
    /// When the service last changed the order (Unix seconds).
    pub updated_at: i64,
}

/// One line of an order; `name`, `unit_amount` and `currency` are null when the product
/// (or its default price) is not known to the store.
#[derive(Serialize, ToSchema)]
pub struct OrderItem {
    pub product: String,
    pub quantity: i64,
    pub name: Option<String>,
    pub unit_amount: Option<i64>,
    pub currency: Option<String>,
}

impl Order {
    fn from_row(row: order::Model, catalog: &ItemCatalog) -> Self {
        let items = items(&row, catalog);
        Self {
            object: "order".to_owned(),
            store: row.store_key,
            livemode: row.livemode,
            status: row.status.to_string(),
            amount: row.amount,
            amount_refunded: row.amount_refunded,
            currency: row.currency,
            customer: row.customer,
            payment_intent: row.payment_intent,
            charge: row.charge,
            receipt_url: row.receipt_url,
            failure_code: row.failure_code,
            failure_message: row.failure_message,
            items,
            created: row.created,
            updated_at: row.updated_at.timestamp(),
            id: row.id,
        }
    }
}

fn items(row: &order::Model, catalog: &ItemCatalog) -> Vec<OrderItem> {
    let entries = row.items.as_ref().and_then(|items| items.as_array());
    entries
        .into_iter()
        .flatten()
        .filter_map(|item| {
            let product = item.get("product")?.as_str()?.to_owned();
            let quantity = item.get("quantity")?.as_i64()?;
            let key = (row.store_key.clone(), row.livemode, product.clone());
            let known = catalog.get(&key);
            let price = known.and_then(|known| known.price.as_ref());
            Some(OrderItem {
                name: known.and_then(|known| known.product.name.clone()),
                unit_amount: price.and_then(|price| price.unit_amount),
                currency: price.and_then(|price| price.currency.clone()),
                product,
                quantity,
            })
        })
        .collect()
}

/// Filters of the order lists.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct OrderFilters {
    /// Only this store's orders.
    store: Option<String>,
    /// Only live (`true`) or test-mode (`false`) orders.
    livemode: Option<bool>,
    /// `pending`, `failed`, `canceled`, `completed`, `partially_refunded` or `refunded`.
    status: Option<String>,
    /// Only this customer's orders (`cus_...`).
    customer: Option<String>,
    /// The order of this PaymentIntent (`pi_...`).
    payment_intent: Option<String>,
    /// Created at or after this Unix time.
    #[param(rename = "created[gte]")]
    created_gte: Option<i64>,
    /// Created at or before this Unix time.
    #[param(rename = "created[lte]")]
    created_lte: Option<i64>,
}

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let list = warp::path!("orders")
        .and(warp::get())
        .and(admin::require_with_query(state.clone()))
        .then(list);
    let one = warp::path!("orders" / String)
        .and(warp::get())
        .and(admin::require_with_query(state.clone()))
        .then(get);
    let of_store = warp::path!("stores" / String / "orders")
        .and(warp::get())
        .and(admin::require_with_query(state))
        .then(list_of_store);
    list.or(one).unify().or(of_store).unify().boxed()
}

/// List orders, newest first.
#[utoipa::path(
    get, path = "/orders", tag = "orders",
    params(OrderFilters, PageParams),
    responses(
        (status = 200, description = "A page of orders", body = List<Order>),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn list(state: Arc<AppState>, raw: HashMap<String, String>) -> Response {
    reply(list_orders(&state, raw, None).await)
}

/// List one store's orders, newest first.
#[utoipa::path(
    get, path = "/stores/{id}/orders", tag = "orders",
    params(("id" = String, Path, description = "The store (connected account id)"), OrderFilters, PageParams),
    responses(
        (status = 200, description = "A page of the store's orders", body = List<Order>),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
        (status = 404, description = "No such store (`resource_missing`)", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn list_of_store(
    id: String,
    state: Arc<AppState>,
    raw: HashMap<String, String>,
) -> Response {
    reply(list_orders(&state, raw, Some(id)).await)
}

/// Retrieve an order by its PaymentIntent or charge id.
#[utoipa::path(
    get, path = "/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "`pi_...` or `ch_...`"), LookupParams),
    responses(
        (status = 200, description = "The order", body = Order),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
        (status = 404, description = "No such order (`resource_missing`)", body = ErrorBody),
        (status = 409, description = "The id exists in several stores (`ambiguous_id`)", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn get(
    id: String,
    state: Arc<AppState>,
    raw: HashMap<String, String>,
) -> Response {
    reply(get_order(&state, raw, &id).await)
}

async fn list_orders(
    state: &AppState,
    raw: HashMap<String, String>,
    path_store: Option<String>,
) -> Result<List<Order>, ApiError> {
    let params = Params::new::<OrderFilters>(raw, true)?;
    let filter = OrderFilter {
        store: super::stores::store_scope(state, &params, path_store).await?,
        livemode: params.boolean("livemode")?,
        status: params.one_of("status", &OrderStatus::NAMES)?,
        customer: params.string("customer")?,
        payment_intent: params.string("payment_intent")?,
        created_gte: params.integer("created[gte]")?,
        created_lte: params.integer("created[lte]")?,
    };
    let page = query::list(&state.db, &filter, &params.page()?).await?;
    let catalog = query::item_catalog(&state.db, &page.data).await?;
    Ok(List::of(page, |row| Order::from_row(row, &catalog)))
}

async fn get_order(
    state: &AppState,
    raw: HashMap<String, String>,
    id: &str,
) -> Result<Order, ApiError> {
    let params = Params::new::<LookupParams>(raw, false)?;
    let row = query::find(&state.db, params.lookup(id)?).await?;
    let catalog = query::item_catalog(&state.db, std::slice::from_ref(&row)).await?;
    Ok(Order::from_row(row, &catalog))
}
