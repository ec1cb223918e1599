//! The messages shoppers sent a store with its contact form, newest first (index
//! `idx_contact_messages_store`: store, `created_at`, `id`).

use entity::contact_message::{self, Column, Entity};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// The newest `limit` messages of store `store_key`, both modes.
pub async fn list(
    db: &impl ConnectionTrait,
    store_key: &str,
    limit: u64,
) -> Result<Vec<contact_message::Model>, DbErr> {
    list_in_mode(db, store_key, None, limit).await
}

/// The newest `limit` messages of store `store_key`, of one mode when `livemode` is given.
pub async fn list_in_mode(
    db: &impl ConnectionTrait,
    store_key: &str,
    livemode: Option<bool>,
    limit: u64,
) -> Result<Vec<contact_message::Model>, DbErr> {
    let mut select = Entity::find().filter(Column::StoreKey.eq(store_key));
    if let Some(livemode) = livemode {
        select = select.filter(Column::Livemode.eq(livemode));
    }
    select
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}
