//! Products with their default prices: the filtered list, one product, and products by id.

use std::collections::HashMap;

use entity::{price, product};
use product::{Column, Entity};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};

use super::{Lookup, Page, PageRequest, QueryError, Scope, find_one, page_by_pk, scoped};
use crate::domain::catalog;
use crate::store::rows;

/// A product and its default price (known and not deleted), resolved when read.
#[derive(Debug, Clone)]
pub struct PricedProduct {
    pub product: product::Model,
    pub price: Option<price::Model>,
}

/// Filters of `GET /products` (all optional).
#[derive(Debug, Default, Clone)]
pub struct ProductFilter {
    /// The store and mode.
    pub scope: Scope,
    pub active: Option<bool>,
    pub category: Option<String>,
}

fn select(filter: &ProductFilter) -> Select<Entity> {
    let mut select = scoped(
        Entity::find(),
        filter.scope.store.as_deref(),
        filter.scope.livemode,
    );
    if let Some(active) = filter.active {
        select = select.filter(Column::Active.eq(active));
    }
    if let Some(category) = &filter.category {
        select = select.filter(Column::Category.eq(category.as_str()));
    }
    select
}

/// A page of products, newest first, deleted ones included (they show `deleted: true`).
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &ProductFilter,
    page: &PageRequest,
) -> Result<Page<PricedProduct>, QueryError> {
    let page = page_by_pk(db, select(filter), page).await?;
    let Page {
        data,
        has_more,
        next,
    } = page;
    Ok(Page {
        data: with_prices(db, data).await?,
        has_more,
        next,
    })
}

/// The product `lookup` names, with its default price.
pub async fn find(
    db: &impl ConnectionTrait,
    lookup: Lookup<'_>,
) -> Result<PricedProduct, QueryError> {
    let product = find_one::<Entity>(db, lookup).await?;
    let mut priced = with_prices(db, vec![product]).await?;
    Ok(priced.remove(0))
}

/// The products of one store and mode with the given ids.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    store_key: &str,
    livemode: bool,
    ids: &[String],
) -> Result<Vec<PricedProduct>, QueryError> {
    let products = Entity::find()
        .filter(Column::StoreKey.eq(store_key))
        .filter(Column::Livemode.eq(livemode))
        .filter(Column::Id.is_in(ids.iter().map(String::as_str)))
        .all(db)
        .await?;
    with_prices(db, products).await
}

/// Pairs each product with its default price (see [`catalog::default_price_in`]): the
/// prices of each store on the page read together.
pub async fn with_prices(
    db: &impl ConnectionTrait,
    products: Vec<product::Model>,
) -> Result<Vec<PricedProduct>, QueryError> {
    let prices = rows::prices_shown(db, &products).await?;
    let none = HashMap::new();
    Ok(products
        .into_iter()
        .map(|product| {
            let store_prices = prices
                .get(&(product.store_key.clone(), product.livemode))
                .unwrap_or(&none);
            let price = catalog::default_price_in(&product, store_prices).cloned();
            PricedProduct { product, price }
        })
        .collect())
}
