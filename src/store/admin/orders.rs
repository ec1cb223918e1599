//! Orders: the filtered list, one order, and the catalogue that resolves their items.

use std::collections::{BTreeSet, HashMap};

use entity::order::{self, Column, Entity};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};
use serde_json::Value;

use super::products::{self, PricedProduct};
use super::{Lookup, Page, PageRequest, QueryError, Scope, find_one, page_by_pk, scoped};

/// Filters of `GET /orders` (all optional).
#[derive(Debug, Default, Clone)]
pub struct OrderFilter {
    /// The store and mode.
    pub scope: Scope,
    pub status: Option<String>,
    pub customer: Option<String>,
    pub payment_intent: Option<String>,
    /// Stripe's `created` at or after (Unix seconds).
    pub created_gte: Option<i64>,
    pub created_lte: Option<i64>,
}

/// Products of the orders' items, by (store key, livemode, product id).
pub type ItemCatalog = HashMap<(String, bool, String), PricedProduct>;

fn select(filter: &OrderFilter) -> Select<Entity> {
    let mut select = scoped(
        Entity::find(),
        filter.scope.store.as_deref(),
        filter.scope.livemode,
    );
    let equal = [
        (Column::Status, &filter.status),
        (Column::Customer, &filter.customer),
        (Column::PaymentIntent, &filter.payment_intent),
    ];
    for (column, value) in equal {
        if let Some(value) = value {
            select = select.filter(column.eq(value.as_str()));
        }
    }
    if let Some(gte) = filter.created_gte {
        select = select.filter(Column::Created.gte(gte));
    }
    if let Some(lte) = filter.created_lte {
        select = select.filter(Column::Created.lte(lte));
    }
    select
}

/// A page of orders, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &OrderFilter,
    page: &PageRequest,
) -> Result<Page<order::Model>, QueryError> {
    page_by_pk(db, select(filter), page).await
}

/// The order `lookup` names (a PaymentIntent id, or a charge id for a payment without one).
pub async fn find(
    db: &impl ConnectionTrait,
    lookup: Lookup<'_>,
) -> Result<order::Model, QueryError> {
    match find_one::<Entity>(db, lookup).await {
        // An order is keyed by its PaymentIntent; its charge id finds it too.
        Err(QueryError::NotFound { .. }) if lookup.id.starts_with("ch_") => {
            let select = Entity::find().filter(Column::Charge.eq(lookup.id));
            let rows = scoped(select, lookup.store, lookup.livemode)
                .all(db)
                .await?;
            one_of(rows, lookup.id)
        }
        other => other,
    }
}

fn one_of(rows: Vec<order::Model>, id: &str) -> Result<order::Model, QueryError> {
    let stores: BTreeSet<String> = rows.iter().map(|row| row.store_key.clone()).collect();
    if stores.len() > 1 {
        return Err(QueryError::Ambiguous {
            id: id.to_owned(),
            stores: stores.into_iter().collect(),
        });
    }
    rows.into_iter()
        .max_by_key(|row| row.livemode)
        .ok_or_else(|| QueryError::NotFound {
            kind: "order",
            id: id.to_owned(),
        })
}

/// The product ids an order's items name.
pub fn item_products(order: &order::Model) -> impl Iterator<Item = &str> {
    order
        .items
        .iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|item| item.get("product")?.as_str())
}

/// The current products (with default prices) of every item of `orders`: names and prices
/// are resolved when read, never frozen when the payment happened to arrive.
pub async fn item_catalog(
    db: &impl ConnectionTrait,
    orders: &[order::Model],
) -> Result<ItemCatalog, QueryError> {
    let mut wanted: HashMap<(String, bool), BTreeSet<String>> = HashMap::new();
    for order in orders {
        let ids = wanted
            .entry((order.store_key.clone(), order.livemode))
            .or_default();
        ids.extend(item_products(order).map(str::to_owned));
    }
    let mut catalog = ItemCatalog::new();
    for ((store_key, livemode), ids) in wanted {
        if ids.is_empty() {
            continue;
        }
        let ids: Vec<String> = ids.into_iter().collect();
        for priced in products::by_ids(db, &store_key, livemode, &ids).await? {
            let key = (store_key.clone(), livemode, priced.product.id.clone());
            catalog.insert(key, priced);
        }
    }
    Ok(catalog)
}
