//! Stores: the list, one store, and how many products, customers and orders each has.

use std::collections::HashMap;

use entity::{store, store_count};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};

use super::{Lookup, Page, PageRequest, QueryError, Scope, find_one, page_by_pk, scoped};

/// Filters of `GET /stores` (all optional).
#[derive(Debug, Default, Clone)]
pub struct StoreFilter {
    /// The mode (stores are not narrowed to a store).
    pub scope: Scope,
    pub status: Option<String>,
}

/// How many live (not deleted) products and customers, and how many orders, a store has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub products: i64,
    pub customers: i64,
    pub orders: i64,
}

/// A store with its counts.
#[derive(Debug, Clone)]
pub struct StoreWithCounts {
    pub store: store::Model,
    pub counts: Counts,
}

fn select(filter: &StoreFilter) -> Select<store::Entity> {
    let mut select = scoped(store::Entity::find(), None, filter.scope.livemode);
    if let Some(status) = &filter.status {
        select = select.filter(store::Column::Status.eq(status.as_str()));
    }
    select
}

/// A page of stores, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &StoreFilter,
    page: &PageRequest,
) -> Result<Page<StoreWithCounts>, QueryError> {
    let page = page_by_pk(db, select(filter), page).await?;
    let Page {
        data,
        has_more,
        next,
    } = page;
    Ok(Page {
        data: with_counts(db, data).await?,
        has_more,
        next,
    })
}

/// The store `lookup` names (its id is the store key; live wins without `livemode`).
pub async fn find(
    db: &impl ConnectionTrait,
    lookup: Lookup<'_>,
) -> Result<StoreWithCounts, QueryError> {
    let store = find_one::<store::Entity>(db, lookup).await?;
    let mut stores = with_counts(db, vec![store]).await?;
    Ok(stores.remove(0))
}

/// Whether any store (either mode unless given) has key `id`: the per-store lists answer
/// 404 for a store that does not exist rather than an empty list.
pub async fn exists(
    db: &impl ConnectionTrait,
    id: &str,
    livemode: Option<bool>,
) -> Result<bool, QueryError> {
    let select = scoped(store::Entity::find(), Some(id), livemode);
    Ok(select.one(db).await?.is_some())
}

/// The store whose readable address is `slug` (live wins over test), if any.
pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<store::Model>, QueryError> {
    let rows = store::Entity::find()
        .filter(store::Column::Slug.eq(slug))
        .all(db)
        .await?;
    Ok(rows.into_iter().max_by_key(|row| row.livemode))
}

/// Pairs each store with its counts, read from the summary the database maintains (one
/// query per page, whatever the size of the stores).
async fn with_counts(
    db: &impl ConnectionTrait,
    stores: Vec<store::Model>,
) -> Result<Vec<StoreWithCounts>, QueryError> {
    let keys = stores.iter().map(|store| store.id.as_str());
    let counts: HashMap<(String, bool), Counts> = store_count::Entity::find()
        .filter(store_count::Column::StoreKey.is_in(keys))
        .all(db)
        .await?
        .into_iter()
        .map(|row| {
            let counts = Counts {
                products: row.products,
                customers: row.customers,
                orders: row.orders,
            };
            ((row.store_key, row.livemode), counts)
        })
        .collect();
    Ok(stores
        .into_iter()
        .map(|store| {
            let key = (store.id.clone(), store.livemode);
            let counts = counts.get(&key).copied().unwrap_or_default();
            StoreWithCounts { store, counts }
        })
        .collect())
}
