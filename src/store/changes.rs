//! Applying the domain's decisions to the rows, inside the caller's transaction: load the
//! row an event concerns, let [`crate::domain`] compute the next one, save it. Pages are
//! rebuilt separately ([`rebuild_pages`]), once per batch that touched them.

use chrono::{DateTime, Utc};
use entity::{customer, order, price, product, store};
use sea_orm::{ConnectionTrait, DbErr};

use super::rows;
use crate::domain::{
    Change, DomainError, EventRef, Outcome, catalog, customers, orders::Order, pages,
};

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
        Change::Order(observation) => merge_order(db, event, *observation, now).await,
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

/// Merges an order observation into its row (see [`Order::merge`]).
async fn merge_order(
    db: &impl ConnectionTrait,
    event: &EventRef<'_>,
    observation: Order,
    now: DateTime<Utc>,
) -> Result<Outcome, WriteError> {
    let existing = rows::find_order(db, event.store_key, event.livemode, &observation.id).await?;
    let is_new = existing.is_none();
    let (mut row, order) = match existing {
        Some(row) => {
            let merged = Order::from_row(&row).merge(&observation);
            (row, merged)
        }
        None => (
            crate::domain::orders::blank(event, &observation.id, now),
            observation,
        ),
    };
    order.write(&mut row);
    row.updated_at = now;
    rows::save::<order::ActiveModel>(db, row, is_new).await?;
    Ok(Outcome::Processed)
}

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
    let prices =
        rows::prices_by_id(db, store_key, livemode, &pages::shown_price_ids(&products)).await?;
    let Some(mut store) = pages::rebuilt(&store, &products, &prices) else {
        return Ok(());
    };
    store.updated_at = Utc::now();
    rows::save::<store::ActiveModel>(db, store, false).await
}
