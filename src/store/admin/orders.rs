//! Orders: the filtered list, one order, and the catalogue that resolves their items.

use std::collections::{BTreeSet, HashMap};

use entity::order::{self, Column, Entity};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};
use serde_json::Value;

use super::products::{self, PricedProduct};
use super::{
    Lookup, Page, PageRequest, QueryError, Scope, find_one, page_by_created, page_by_pk, scoped,
};
use crate::store::rows;

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

/// The current catalogue of the orders' items, in the stores where their payments live.
#[derive(Debug, Default)]
pub struct ItemCatalog {
    /// By (store key, livemode, product id).
    products: HashMap<(String, bool, String), PricedProduct>,
    /// The product of each price an item names, by (store key, livemode, price id).
    price_products: HashMap<(String, bool, String), String>,
}

impl ItemCatalog {
    /// The product of an item of `order`: the one it names, else its price's.
    pub fn product_of(
        &self,
        order: &order::Model,
        product: Option<&str>,
        price: Option<&str>,
    ) -> Option<&PricedProduct> {
        // The payment's own store first; a destination charge's items may name the
        // seller's catalogue (a storefront checkout on the platform does).
        let mut stores = vec![&order.source_store];
        if order.store_key != order.source_store {
            stores.push(&order.store_key);
        }
        stores.into_iter().find_map(|store| {
            let key = |id: &str| (store.clone(), order.livemode, id.to_owned());
            let product = match product {
                Some(product) => product.to_owned(),
                None => self.price_products.get(&key(price?))?.clone(),
            };
            self.products.get(&key(&product))
        })
    }
}

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

/// A page of orders, newest first: by Stripe's `created` when a `created` range is given
/// (see [`page_by_created`]), else as stored.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &OrderFilter,
    page: &PageRequest,
) -> Result<Page<order::Model>, QueryError> {
    if filter.created_gte.is_some() || filter.created_lte.is_some() {
        return page_by_created(db, select(filter), page, Column::Created).await;
    }
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

/// The ids of one field (`product` or `price`) of an order's items.
pub fn item_ids<'a>(order: &'a order::Model, field: &'a str) -> impl Iterator<Item = &'a str> {
    order
        .items
        .iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(move |item| item.get(field)?.as_str())
}

/// The current products (with default prices) of every item of `orders`, from the store
/// where the payment's catalogue lives: the fallback for what an item does not say itself.
pub async fn item_catalog(
    db: &impl ConnectionTrait,
    orders: &[order::Model],
) -> Result<ItemCatalog, QueryError> {
    let mut wanted: HashMap<(String, bool), (BTreeSet<String>, BTreeSet<String>)> = HashMap::new();
    for order in orders {
        let mut stores = vec![&order.source_store];
        if order.store_key != order.source_store {
            stores.push(&order.store_key);
        }
        for store in stores {
            let (products, prices) = wanted.entry((store.clone(), order.livemode)).or_default();
            products.extend(item_ids(order, "product").map(str::to_owned));
            prices.extend(item_ids(order, "price").map(str::to_owned));
        }
    }
    let mut catalog = ItemCatalog::default();
    for ((store_key, livemode), (mut products, prices)) in wanted {
        let prices: Vec<String> = prices.into_iter().collect();
        for (id, price) in rows::prices_by_id(db, &store_key, livemode, &prices).await? {
            if let Some(product) = price.product {
                products.insert(product.clone());
                catalog
                    .price_products
                    .insert((store_key.clone(), livemode, id), product);
            }
        }
        if products.is_empty() {
            continue;
        }
        let ids: Vec<String> = products.into_iter().collect();
        for priced in products::by_ids(db, &store_key, livemode, &ids).await? {
            let key = (store_key.clone(), livemode, priced.product.id.clone());
            catalog.products.insert(key, priced);
        }
    }
    Ok(catalog)
}
