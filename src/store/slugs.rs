//! Giving a store its readable address once it has a name (`domain::slugs`): inside the
//! apply transaction that first writes the name, so that a rename keeps it.
//!
//! A slug names one account: the live and test rows of an account share theirs, and a
//! store whose name's slug another account holds takes a suffixed one. Assignments are
//! serialized across stores (PostgreSQL: a transaction-scoped advisory lock; SQLite has one
//! writer), so the check sees every slug already taken and the unique index on
//! (`slug`, `livemode`) never has to refuse one; a store left without a free candidate
//! stays without a slug rather than failing its event.

use entity::store;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QuerySelect,
    Statement,
};

use crate::domain::slugs;

/// Gives `row` a slug if it has a name and none yet.
pub async fn assign(db: &impl ConnectionTrait, row: &mut store::Model) -> Result<(), DbErr> {
    // The platform's own store has no shop.
    if row.slug.is_some() || row.id == crate::stripe::envelope::PLATFORM_STORE {
        return Ok(());
    }
    let Some(name) = row.name.as_deref() else {
        return Ok(());
    };
    lock_slugs(db).await?;
    // The account's other mode may have one: one address per account.
    if let Some(slug) = held_by(db, &row.id).await? {
        row.slug = Some(slug);
        return Ok(());
    }
    let base = slugs::slugify(name).unwrap_or_else(|| "shop".to_owned());
    for candidate in slugs::candidates(&base, &row.id) {
        // `/shop/platform` is the platform's address, never a shop's.
        if candidate == crate::stripe::envelope::PLATFORM_STORE {
            continue;
        }
        if !taken(db, &candidate, &row.id).await? {
            row.slug = Some(candidate);
            return Ok(());
        }
    }
    tracing::warn!(store = %row.id, "no free slug for the store; it keeps its id address");
    Ok(())
}

/// The slug of either mode's row of account `id`, if one has it.
async fn held_by(db: &impl ConnectionTrait, id: &str) -> Result<Option<String>, DbErr> {
    let slug: Option<Option<String>> = store::Entity::find()
        .select_only()
        .column(store::Column::Slug)
        .filter(store::Column::Id.eq(id))
        .filter(store::Column::Slug.is_not_null())
        .into_tuple()
        .one(db)
        .await?;
    Ok(slug.flatten())
}

/// Whether another account's store holds `slug` (in either mode).
async fn taken(db: &impl ConnectionTrait, slug: &str, id: &str) -> Result<bool, DbErr> {
    let found: Option<i64> = store::Entity::find()
        .select_only()
        .column(store::Column::Pk)
        .filter(store::Column::Slug.eq(slug))
        .filter(store::Column::Id.ne(id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Waits until no other transaction is assigning a slug (PostgreSQL; held to the end of
/// the transaction, taken after the store's own lock, so always in the same order).
async fn lock_slugs(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_string(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(hashtextextended('payments: store slugs', 0))",
    ))
    .await
    .map(drop)
}
