//! The `stripe_sync_cursors` table: each Stripe list's sync position, read at the start of
//! a listing and written after every page it stores.

use entity::sync_cursor::{ActiveModel, Column, Entity, Model};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

/// The position of `kind` for `store_key`, if a sync has ever read that list.
pub async fn load(
    db: &impl ConnectionTrait,
    store_key: &str,
    kind: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id((store_key.to_owned(), kind.to_owned()))
        .one(db)
        .await
}

/// Writes the position (inserted the first time, replaced after).
pub async fn save(db: &impl ConnectionTrait, cursor: &Model) -> Result<(), DbErr> {
    let rest = [
        Column::State,
        Column::ListingSince,
        Column::StartingAfter,
        Column::ListingNewest,
        Column::SyncedThrough,
        Column::Seen,
        Column::New,
        Column::Skipped,
        Column::LastError,
        Column::StartedAt,
        Column::FinishedAt,
        Column::UpdatedAt,
    ];
    Entity::insert(ActiveModel::from(cursor.clone()))
        .on_conflict(
            OnConflict::columns([Column::StoreKey, Column::Kind])
                .update_columns(rest)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The connected accounts the database has a store of: the stores a sync covers beside
/// the platform.
pub async fn connected_accounts(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    use entity::store::{Column, Entity};
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Id.starts_with("acct_"))
        .distinct()
        .order_by_asc(Column::Id)
        .into_tuple()
        .all(db)
        .await
}
