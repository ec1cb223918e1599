//! `GET /orders`, `GET /orders/{id}` and `GET /stores/{id}/orders`.

use entity::order;
use serde::Serialize;
use utoipa::ToSchema;

use super::list::List;
use super::params::{Param, query_params};
use super::resource::{AdminResource, Db, Docs, ListOf};
use crate::domain::orders::OrderStatus;
use crate::error::ApiError;
use crate::store::admin::orders::{self as query, ItemCatalog, OrderFilter};
use crate::store::admin::{Lookup, PageRequest};

impl AdminResource for Order {
    const FILTERS: &[Param<OrderFilter>] = query_params! {
        status: one_of(OrderStatus::NAMES) = "`pending`, `requires_action`, `authorized`, `failed`, \
            `canceled`, `completed`, `partially_refunded` or `refunded`.",
        customer: text = "Only this customer's orders (`cus_...`).",
        payment_intent: text = "The order of this PaymentIntent (`pi_...`).",
        created_gte as "created[gte]": integer = "Created at or after this Unix time (the list \
            is then ordered by `created`).",
        created_lte as "created[lte]": integer = "Created at or before this Unix time (the list \
            is then ordered by `created`).",
    };
    type Filter = OrderFilter;
    const DOCS: Docs = Docs::of("order", "`pi_...` or `ch_...`")
        .get("Retrieve an order by its PaymentIntent or charge id.");

    /// Each page resolves its items against the current catalogue.
    async fn list(db: &Db, filter: OrderFilter, page: PageRequest) -> ListOf<Self> {
        let page = query::list(db, &filter, &page).await?;
        let catalog = query::item_catalog(db, &page.data).await?;
        Ok(List::of(page, |row| Order::from_row(row, &catalog)))
    }

    async fn find(db: &Db, lookup: Lookup<'_>) -> Result<Order, ApiError> {
        let row = query::find(db, lookup).await?;
        let catalog = query::item_catalog(db, std::slice::from_ref(&row)).await?;
        Ok(Order::from_row(row, &catalog))
    }
}

/// One payment of a store: a PaymentIntent, or a charge made without one.
#[derive(Serialize, ToSchema)]
pub struct Order {
    /// The PaymentIntent id (`pi_...`), else the charge id (`ch_...`).
    pub id: String,
    /// Always `order`.
    pub object: String,
    /// The seller's store: the transfer destination or `on_behalf_of` account of a
    /// marketplace charge, else `source_store`.
    pub store: String,
    /// The store whose events carry the payment, where its customer and catalogue live
    /// (`platform` for destination charges).
    pub source_store: String,
    pub livemode: bool,
    /// `pending`, `requires_action`, `authorized`, `failed`, `canceled`, `completed`,
    /// `partially_refunded` or `refunded` (see docs/API.md for the events that move it).
    pub status: String,
    /// The amount asked for (authorized), smallest currency unit.
    pub amount: i64,
    /// What was captured; 0 until captured.
    pub amount_captured: i64,
    /// Succeeded and pending refunds; failed and canceled refunds do not count.
    pub amount_refunded: i64,
    pub currency: Option<String>,
    pub customer: Option<String>,
    pub payment_intent: Option<String>,
    pub charge: Option<String>,
    pub receipt_url: Option<String>,
    /// The last failed attempt's code; cleared once the payment goes through.
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    /// The payment's latest dispute, if any.
    pub dispute: Option<OrderDispute>,
    /// The platform's fee on a marketplace charge.
    pub application_fee_amount: Option<i64>,
    /// What goes to the seller: the transfers made less reversals, else what the charge's
    /// `transfer_data` promises.
    pub transfer_amount: Option<i64>,
    /// The connected account that receives the transfer.
    pub transfer_destination: Option<String>,
    /// From the payment's line items or `metadata.items`, as paid; the current catalogue
    /// fills in what a line does not say.
    pub items: Vec<OrderItem>,
    /// Stripe's `created` of the payment (Unix seconds).
    pub created: Option<i64>,
    /// When the service last changed the order (Unix seconds).
    pub updated_at: i64,
}

/// A dispute of an order's payment.
#[derive(Serialize, ToSchema)]
pub struct OrderDispute {
    /// Stripe's dispute status: `warning_needs_response`, `needs_response`,
    /// `under_review`, `won`, `lost`, ...
    pub status: String,
    /// The disputed amount.
    pub amount: i64,
    /// What was lost to disputes (withdrawn for good).
    pub amount_lost: i64,
}

/// One line of an order. `unit_amount` and `currency` are as paid when the payment said
/// them, else the product's current default price; `name` is the line's description, else
/// the product's current name; null when unknown.
#[derive(Serialize, ToSchema)]
pub struct OrderItem {
    pub product: Option<String>,
    pub price: Option<String>,
    pub quantity: i64,
    pub name: Option<String>,
    pub unit_amount: Option<i64>,
    pub currency: Option<String>,
}

impl Order {
    fn from_row(row: order::Model, catalog: &ItemCatalog) -> Self {
        let items = items(&row, catalog);
        let dispute = row.dispute_status.map(|status| OrderDispute {
            status,
            amount: row.amount_disputed,
            amount_lost: row.amount_lost,
        });
        Self {
            object: "order".to_owned(),
            store: row.store_key,
            source_store: row.source_store,
            livemode: row.livemode,
            status: row.status.to_string(),
            amount: row.amount,
            amount_captured: row.amount_captured,
            amount_refunded: row.amount_refunded,
            currency: row.currency,
            customer: row.customer,
            payment_intent: row.payment_intent,
            charge: row.charge,
            receipt_url: row.receipt_url,
            failure_code: row.failure_code,
            failure_message: row.failure_message,
            dispute,
            application_fee_amount: row.application_fee_amount,
            transfer_amount: row.transfer_amount,
            transfer_destination: row.transfer_destination,
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
            let text = |key: &str| item.get(key).and_then(|v| v.as_str()).map(str::to_owned);
            let product = text("product");
            let quantity = item.get("quantity")?.as_i64()?;
            let price = text("price");
            let known = catalog.product_of(row, product.as_deref(), price.as_deref());
            let current = known.and_then(|known| known.price.as_ref());
            let paid = item.get("unit_amount").and_then(|v| v.as_i64());
            Some(OrderItem {
                name: text("name").or_else(|| known.and_then(|k| k.product.name.clone())),
                unit_amount: paid.or_else(|| current.and_then(|price| price.unit_amount)),
                currency: match paid {
                    // A line paid in the payment's currency may leave it unsaid.
                    Some(_) => text("currency").or_else(|| row.currency.clone()),
                    None => current.and_then(|price| price.currency.clone()),
                },
                product: product.or_else(|| known.map(|k| k.product.id.clone())),
                price,
                quantity,
            })
        })
        .collect()
}
