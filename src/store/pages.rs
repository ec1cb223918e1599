//! The store's pages and payment settings, rebuilt from its rows.

use chrono::Utc;
use entity::store;
use sea_orm::{ConnectionTrait, DbErr};

use super::rows;
use crate::domain::pages;

/// Recomputes and stores the pages and payment settings of a store; does nothing when the
/// store does not exist or its pages are up to date.
pub async fn rebuild_pages(
    db: &impl ConnectionTrait,
    store_key: &str,
    livemode: bool,
) -> Result<(), DbErr> {
    let Some(store) = rows::find_store(db, store_key, livemode).await? else {
        return Ok(());
    };
    let products = rows::products(db, store_key, livemode).await?;
    let prices = rows::prices_shown(db, &products)
        .await?
        .remove(&(store_key.to_owned(), livemode))
        .unwrap_or_default();
    let Some(mut store) = pages::rebuilt(&store, &products, &prices) else {
        return Ok(());
    };
    store.updated_at = Utc::now();
    rows::save::<store::ActiveModel>(db, store, false).await
}
