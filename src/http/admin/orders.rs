//! `GET /orders`, `GET /orders/{id}` and `GET /stores/{id}/orders`.

use entity::order;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;

use super::list::{LOOKUP, List, SCOPE};
use super::params::{Kind, Param};
use super::resource::{AdminResource, Docs, Paths};
use crate::domain::orders::OrderStatus;
use crate::error::ApiError;
use crate::store::admin::orders::{self as query, ItemCatalog, OrderFilter};
use crate::store::admin::{Lookup, PageRequest, Scope};

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

/// The orders.
pub struct Orders;

impl AdminResource for Orders {
    type Object = Order;
    type Filter = OrderFilter;
    const DOCS: Docs = Docs {
        name: "order",
        list: "List orders, newest first.",
        get: (
            "Retrieve an order by its PaymentIntent or charge id.",
            "The order",
        ),
        id: "`pi_...` or `ch_...`",
    };
    const SCOPE: &[Param<Scope>] = SCOPE;
    const FILTERS: &[Param<OrderFilter>] = &[
        Param::new(
            "status",
            "`pending`, `failed`, `canceled`, `completed`, `partially_refunded` or `refunded`.",
            Kind::OneOf(OrderStatus::NAMES, |filter, status| {
                filter.status = Some(status)
            }),
        ),
        Param::new(
            "customer",
            "Only this customer's orders (`cus_...`).",
            Kind::Text(|filter, id| filter.customer = Some(id)),
        ),
        Param::new(
            "payment_intent",
            "The order of this PaymentIntent (`pi_...`).",
            Kind::Text(|filter, id| filter.payment_intent = Some(id)),
        ),
        Param::new(
            "created[gte]",
            "Created at or after this Unix time.",
            Kind::Integer(|filter, at| filter.created_gte = Some(at)),
        ),
        Param::new(
            "created[lte]",
            "Created at or before this Unix time.",
            Kind::Integer(|filter, at| filter.created_lte = Some(at)),
        ),
    ];
    const LOOKUP: &[Param<Scope>] = LOOKUP;
    const PATHS: Paths = Paths {
        list: "/orders",
        get: "/orders/{id}",
        of_store: Some("/stores/{id}/orders"),
    };

    /// Each page resolves its items against the current catalogue.
    async fn list(
        db: &DatabaseConnection,
        filter: OrderFilter,
        page: PageRequest,
    ) -> Result<List<Order>, ApiError> {
        let page = query::list(db, &filter, &page).await?;
        let catalog = query::item_catalog(db, &page.data).await?;
        Ok(List::of(page, |row| Order::from_row(row, &catalog)))
    }

    async fn find(db: &DatabaseConnection, lookup: Lookup<'_>) -> Result<Order, ApiError> {
        let row = query::find(db, lookup).await?;
        let catalog = query::item_catalog(db, std::slice::from_ref(&row)).await?;
        Ok(Order::from_row(row, &catalog))
    }
}
