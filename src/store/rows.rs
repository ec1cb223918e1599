//! Reading and writing the marketplace rows by key: one store's customers, products,
//! prices and orders (each keyed by store key, mode and Stripe id), and the store itself.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use entity::{customer, price, product, store};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, Iterable, PrimaryKeyToColumn, QueryFilter, QuerySelect, TryInsertResult,
};

use crate::domain::{catalog, pages, stores};

/// Writes a whole row: inserted when `is_new` (the database assigns `pk`), else updated.
///
/// The domain computes the next row as a plain `Model`; writing every column here means
/// none is forgotten.
pub async fn save<A>(
    db: &impl ConnectionTrait,
    row: <A::Entity as EntityTrait>::Model,
    is_new: bool,
) -> Result<(), DbErr>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let mut row = row.into_active_model().reset_all();
    if is_new {
        for key in <A::Entity as EntityTrait>::PrimaryKey::iter() {
            row.not_set(key.into_column());
        }
        <A::Entity as EntityTrait>::insert(row)
            .exec_without_returning(db)
            .await?;
    } else {
        row.update_without_returning(db).await?;
    }
    Ok(())
}

/// The store row of `store_key`, if any.
pub async fn find_store(
    db: &impl ConnectionTrait,
    store_key: &str,
    livemode: bool,
) -> Result<Option<store::Model>, DbErr> {
    store::Entity::find()
        .filter(store::Column::Id.eq(store_key))
        .filter(store::Column::Livemode.eq(livemode))
        .one(db)
        .await
}

/// Creates the stub store of `store_key` if it does not exist yet (status `onboarding`,
/// every account field empty, no version), with the pages of a store without products.
/// `true` when it did.
pub async fn ensure_store(
    db: &impl ConnectionTrait,
    store_key: &str,
    livemode: bool,
) -> Result<bool, DbErr> {
    let mut stub = pages::with_empty_catalogue(stores::stub(store_key, livemode, Utc::now()))
        .into_active_model()
        .reset_all();
    stub.not_set(store::Column::Pk);
    // The unique key rather than a select first: correct even without the caller's lock.
    let inserted = store::Entity::insert(stub)
        .on_conflict_do_nothing_on([store::Column::Id, store::Column::Livemode])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(inserted, TryInsertResult::Inserted(rows) if rows > 0))
}

/// Marks the pages of the store stale, in the caller's transaction: a change they show was
/// applied. One statement, and no write when they are stale already.
pub async fn mark_pages_stale(
    db: &impl ConnectionTrait,
    store_key: &str,
    livemode: bool,
) -> Result<(), DbErr> {
    store::Entity::update_many()
        .col_expr(store::Column::PagesStale, Expr::value(true))
        .filter(store::Column::Id.eq(store_key))
        .filter(store::Column::Livemode.eq(livemode))
        .filter(store::Column::PagesStale.eq(false))
        .exec(db)
        .await
        .map(drop)
}

/// The stores whose pages wait for a rebuild. The condition is the partial index's own,
/// written out: PostgreSQL cannot use that index for a bound `pages_stale = $1`.
pub async fn stores_with_stale_pages(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    store::Entity::find()
        .select_only()
        .column(store::Column::Id)
        .distinct()
        .filter(Expr::cust("\"pages_stale\""))
        .into_tuple()
        .all(db)
        .await
}

/// The modes of the store whose pages wait for a rebuild.
pub async fn modes_with_stale_pages(
    db: &impl ConnectionTrait,
    store_key: &str,
) -> Result<Vec<bool>, DbErr> {
    store::Entity::find()
        .select_only()
        .column(store::Column::Livemode)
        .filter(store::Column::Id.eq(store_key))
        .filter(Expr::cust("\"pages_stale\""))
        .into_tuple()
        .all(db)
        .await
}

/// Declares `find_*(db, store_key, livemode, id)` for a table keyed by store, mode and id.
macro_rules! find_in_store {
    ($(#[$doc:meta])* $name:ident, $table:ident) => {
        $(#[$doc])*
        pub async fn $name(
            db: &impl ConnectionTrait,
            store_key: &str,
            livemode: bool,
            id: &str,
        ) -> Result<Option<$table::Model>, DbErr> {
            $table::Entity::find()
                .filter($table::Column::StoreKey.eq(store_key))
                .filter($table::Column::Livemode.eq(livemode))
                .filter($table::Column::Id.eq(id))
                .one(db)
                .await
        }
    };
}

find_in_store!(
    /// A customer of the store, if known (tombstones included).
    find_customer,
    customer
);
find_in_store!(
    /// A product of the store, if known (tombstones included).
    find_product,
    product
);
find_in_store!(
    /// A price of the store, if known (tombstones included).
    find_price,
    price
);

/// Declares `$name(db, ids)`: the rows of a store table with any of these Stripe ids, in
/// any store (one statement; the natural key leads with the id); none without ids.
macro_rules! with_ids {
    ($(#[$doc:meta])* $name:ident, $table:ident) => {
        $(#[$doc])*
        pub async fn $name(
            db: &impl ConnectionTrait,
            ids: &[&str],
        ) -> Result<Vec<$table::Model>, DbErr> {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            $table::Entity::find()
                .filter($table::Column::Id.is_in(ids.iter().copied()))
                .all(db)
                .await
        }
    };
}

with_ids!(
    /// The customers with these ids, in any store (tombstones included).
    customers_with_ids,
    customer
);
with_ids!(
    /// The products with these ids, in any store (tombstones included).
    products_with_ids,
    product
);
with_ids!(
    /// The prices with these ids, in any store (tombstones included).
    prices_with_ids,
    price
);

/// Declares `$name(db, rows)`: writes rows of a store table in one statement, each
/// inserted or, when its key (store key, mode, id) exists, replacing every column but the
/// keys and `created_at`; nothing without rows. `$statement(rows)` is that statement
/// (public for the apply path's benchmarks).
macro_rules! upsert_in_store {
    ($(#[$doc:meta])* $name:ident, $statement:ident, $table:ident) => {
        $(#[$doc])*
        pub async fn $name(
            db: &impl ConnectionTrait,
            rows: Vec<$table::Model>,
        ) -> Result<(), DbErr> {
            if rows.is_empty() {
                return Ok(());
            }
            $statement(rows).exec_without_returning(db).await.map(drop)
        }

        /// The statement of
        #[doc = concat!("[`", stringify!($name), "`].")]
        pub fn $statement(rows: Vec<$table::Model>) -> sea_orm::InsertMany<$table::ActiveModel> {
            use $table::Column;
            let rows = rows.into_iter().map(|row| {
                let mut row = row.into_active_model().reset_all();
                row.not_set(Column::Pk);
                row
            });
            let key = [Column::StoreKey, Column::Livemode, Column::Id];
            let replaced = Column::iter().filter(|column| {
                !matches!(
                    column,
                    Column::Pk | Column::CreatedAt | Column::StoreKey | Column::Livemode | Column::Id
                )
            });
            $table::Entity::insert_many(rows)
                .on_conflict(OnConflict::columns(key).update_columns(replaced).to_owned())
        }
    };
}

upsert_in_store!(
    /// Writes customers (see [`crate::store::changes::WorkingSet`]).
    upsert_customers,
    customers_upsert,
    customer
);
upsert_in_store!(
    /// Writes products (see [`crate::store::changes::WorkingSet`]).
    upsert_products,
    products_upsert,
    product
);
upsert_in_store!(
    /// Writes prices (see [`crate::store::changes::WorkingSet`]).
    upsert_prices,
    prices_upsert,
    price
);

/// The live (not deleted) products of a store.
pub async fn products(
    db: &impl ConnectionTrait,
    store_key: &str,
    livemode: bool,
) -> Result<Vec<product::Model>, DbErr> {
    product::Entity::find()
        .filter(product::Column::StoreKey.eq(store_key))
        .filter(product::Column::Livemode.eq(livemode))
        .filter(product::Column::DeletedAt.is_null())
        .all(db)
        .await
}

/// The prices of a store with the given ids, by id (tombstones included; see
/// [`catalog::default_price_in`] for which count).
pub async fn prices_by_id(
    db: &impl ConnectionTrait,
    store_key: &str,
    livemode: bool,
    ids: &[String],
) -> Result<HashMap<String, price::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let prices = price::Entity::find()
        .filter(price::Column::StoreKey.eq(store_key))
        .filter(price::Column::Livemode.eq(livemode))
        .filter(price::Column::Id.is_in(ids.iter().map(String::as_str)))
        .all(db)
        .await?;
    Ok(prices
        .into_iter()
        .map(|price| (price.id.clone(), price))
        .collect())
}

/// Prices by store and mode, then by price id.
pub type PricesByStore = HashMap<(String, bool), HashMap<String, price::Model>>;

/// The prices `products` show, by store and mode: their default prices, and every price of
/// a product that names none (see [`catalog::default_price_in`]). Two statements per store
/// and mode, each on its own index: one `OR` over both, or over every store of a page,
/// measured 2-6 times slower on PostgreSQL (its plan reads the store's prices).
pub async fn prices_shown(
    db: &impl ConnectionTrait,
    products: &[product::Model],
) -> Result<PricesByStore, DbErr> {
    use price::Column;
    let mut by_store: BTreeMap<(&str, bool), Vec<&product::Model>> = BTreeMap::new();
    for product in products {
        let key = (product.store_key.as_str(), product.livemode);
        by_store.entry(key).or_default().push(product);
    }
    let mut prices = PricesByStore::new();
    for ((store_key, livemode), products) in by_store {
        let defaults: Vec<String> = products
            .iter()
            .filter_map(|product| product.default_price.clone())
            .collect();
        let mut found = prices_by_id(db, store_key, livemode, &defaults).await?;
        let without = catalog::without_default_price(products);
        if !without.is_empty() {
            let by_product = price::Entity::find()
                .filter(Column::StoreKey.eq(store_key))
                .filter(Column::Livemode.eq(livemode))
                .filter(Column::Product.is_in(without))
                .all(db)
                .await?;
            found.extend(
                by_product
                    .into_iter()
                    .map(|price| (price.id.clone(), price)),
            );
        }
        prices.insert((store_key.to_owned(), livemode), found);
    }
    Ok(prices)
}
