//! The store's pages and payment settings, rebuilt from its rows when they are stale.

use chrono::Utc;
use entity::store;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::rows;
use crate::domain::pages;

/// Recomputes and stores the pages and payment settings of a store whose pages are stale
/// ([`rows::mark_pages_stale`]), in the caller's transaction, which holds the store's lock.
/// Does nothing when the store does not exist or, unless `always`, its pages are not
/// stale. An actor that marked them itself rebuilds them `always`: another replica may
/// have rebuilt them since and cleared the flag that this actor's later changes, knowing
/// it set, did not set again.
pub async fn rebuild_stale_pages(
    db: &impl ConnectionTrait,
    store_key: &str,
    livemode: bool,
    always: bool,
) -> Result<(), DbErr> {
    let Some(store) = rows::find_store(db, store_key, livemode).await? else {
        return Ok(());
    };
    if !store.pages_stale && !always {
        return Ok(());
    }
    let products = rows::products(db, store_key, livemode).await?;
    let prices = rows::prices_shown(db, &products)
        .await?
        .remove(&(store_key.to_owned(), livemode))
        .unwrap_or_default();
    let Some(mut store) = pages::rebuilt(&store, &products, &prices) else {
        return clear_stale(db, store.pk).await;
    };
    store.updated_at = Utc::now();
    rows::save::<store::ActiveModel>(db, store, false).await
}

/// The pages were up to date after all: only the flag changes.
async fn clear_stale(db: &impl ConnectionTrait, pk: i64) -> Result<(), DbErr> {
    store::Entity::update_many()
        .col_expr(store::Column::PagesStale, Expr::value(false))
        .filter(store::Column::Pk.eq(pk))
        .exec(db)
        .await
        .map(drop)
}
