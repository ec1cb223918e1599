//! Stores: the list, one store, and how many products, customers and orders each has.

use std::collections::HashMap;

use entity::{customer, order, product, store};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Select};

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
    Ok(Page {
        data: with_counts(db, page.data).await?,
        has_more: page.has_more,
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

type CountKey = (String, bool);

async fn with_counts(
    db: &impl ConnectionTrait,
    stores: Vec<store::Model>,
) -> Result<Vec<StoreWithCounts>, QueryError> {
    let keys: Vec<String> = stores.iter().map(|store| store.id.clone()).collect();
    let products = count_by_store::<product::Entity>(
        db,
        &keys,
        product::Column::StoreKey,
        product::Column::Livemode,
        Some(product::Column::DeletedAt),
    )
    .await?;
    let customers = count_by_store::<customer::Entity>(
        db,
        &keys,
        customer::Column::StoreKey,
        customer::Column::Livemode,
        Some(customer::Column::DeletedAt),
    )
    .await?;
    let orders = count_by_store::<order::Entity>(
        db,
        &keys,
        order::Column::StoreKey,
        order::Column::Livemode,
        None,
    )
    .await?;
    Ok(stores
        .into_iter()
        .map(|store| {
            let key = (store.id.clone(), store.livemode);
            let count = |counts: &HashMap<CountKey, i64>| counts.get(&key).copied().unwrap_or(0);
            let counts = Counts {
                products: count(&products),
                customers: count(&customers),
                orders: count(&orders),
            };
            StoreWithCounts { store, counts }
        })
        .collect())
}

/// Rows per (store key, livemode) among `keys`, tombstones left out when `deleted_at` is
/// given: one grouped query per table, whatever the page size.
async fn count_by_store<E: EntityTrait>(
    db: &impl ConnectionTrait,
    keys: &[String],
    store_key: E::Column,
    livemode: E::Column,
    deleted_at: Option<E::Column>,
) -> Result<HashMap<CountKey, i64>, DbErr> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let mut select = E::find()
        .select_only()
        .column(store_key)
        .column(livemode)
        .column_as(Expr::col(store_key).count(), "n")
        .filter(store_key.is_in(keys.iter().map(String::as_str)))
        .group_by(store_key)
        .group_by(livemode);
    if let Some(deleted_at) = deleted_at {
        select = select.filter(deleted_at.is_null());
    }
    let rows: Vec<(String, bool, i64)> = select.into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(key, livemode, n)| ((key, livemode), n))
        .collect())
}
