//! Applying the domain's decisions to the rows, inside the caller's transaction: load the
//! row an event concerns, let [`crate::domain`] compute the next one, save it. Pages are
//! rebuilt separately ([`super::pages::rebuild_stale_pages`]), shortly after a batch that
//! touched them.

use chrono::{DateTime, Utc};
use entity::{customer, price, product, store};
use sea_orm::{ConnectionTrait, DbErr};

use super::rows;
use crate::domain::{Change, DomainError, EventRef, Outcome, catalog, customers};

/// Why an event's change could not be written; the caller's transaction rolls back.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The event says something the domain refuses.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A statement failed (an outage, or a statement that cannot succeed).
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// Applies `change`, which `event` asked for, to the rows of the event's store. The store
/// row must exist ([`rows::ensure_store`]).
pub async fn apply(
    db: &impl ConnectionTrait,
    event: &EventRef<'_>,
    change: Change,
) -> Result<Outcome, WriteError> {
    let now = Utc::now();
    match change {
        Change::Account(change) => {
            let row = rows::find_store(db, event.store_key, event.livemode)
                .await?
                .ok_or_else(|| DbErr::RecordNotFound(format!("store {}", event.store_key)))?;
            let Some(mut row) = change.apply(row, event) else {
                return Ok(Outcome::Skipped);
            };
            row.updated_at = now;
            // The pages show the account: rebuilt shortly, like a catalogue change's.
            row.pages_stale = true;
            super::slugs::assign(db, &mut row).await?;
            rows::save::<store::ActiveModel>(db, row, false).await?;
            Ok(Outcome::Processed)
        }
        Change::Customer(id) => {
            let existing = rows::find_customer(db, event.store_key, event.livemode, &id).await?;
            let next = |row| customers::next_row(row, event);
            guarded::<customer::ActiveModel>(
                db,
                existing,
                || customers::blank(event, id, now),
                next,
                now,
            )
            .await
        }
        Change::Product(id) => {
            let existing = rows::find_product(db, event.store_key, event.livemode, &id).await?;
            let next = |row| catalog::next_product(row, event);
            guarded::<product::ActiveModel>(
                db,
                existing,
                || catalog::blank_product(event, id, now),
                next,
                now,
            )
            .await
        }
        Change::Price(id) => {
            let existing = rows::find_price(db, event.store_key, event.livemode, &id).await?;
            let next = |row| catalog::next_price(row, event);
            guarded::<price::ActiveModel>(
                db,
                existing,
                || catalog::blank_price(event, id, now),
                next,
                now,
            )
            .await
        }
        Change::Payment(snapshots) => Ok(super::payments::apply(db, event, snapshots).await?),
    }
}

/// A row with an `updated_at` column, written by this layer.
trait Touched {
    fn touch(&mut self, now: DateTime<Utc>);
}

macro_rules! impl_touched {
    ($($model:ty),+) => {
        $(impl Touched for $model {
            fn touch(&mut self, now: DateTime<Utc>) {
                self.updated_at = now;
            }
        })+
    };
}
impl_touched!(customer::Model, product::Model, price::Model);

/// Loads-decides-saves for a version-guarded row: `next` is the domain's transition, `None`
/// when the row holds a newer version.
async fn guarded<A>(
    db: &impl ConnectionTrait,
    existing: Option<<A::Entity as sea_orm::EntityTrait>::Model>,
    blank: impl FnOnce() -> <A::Entity as sea_orm::EntityTrait>::Model,
    next: impl FnOnce(
        <A::Entity as sea_orm::EntityTrait>::Model,
    ) -> Result<Option<<A::Entity as sea_orm::EntityTrait>::Model>, DomainError>,
    now: DateTime<Utc>,
) -> Result<Outcome, WriteError>
where
    A: sea_orm::ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    <A::Entity as sea_orm::EntityTrait>::Model: sea_orm::IntoActiveModel<A> + Touched,
{
    let is_new = existing.is_none();
    let Some(mut row) = next(existing.unwrap_or_else(blank))? else {
        return Ok(Outcome::Skipped);
    };
    row.touch(now);
    rows::save::<A>(db, row, is_new).await?;
    Ok(Outcome::Processed)
}
