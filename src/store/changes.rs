//! Applying the domain's decisions to the rows, inside the caller's transaction: load the
//! row an event concerns, let [`crate::domain`] compute the next one, save it. The rows of
//! a whole group of events are read ahead in one statement per table ([`Prefetched`]), so
//! an event's load is a lookup. Pages are rebuilt separately
//! ([`super::pages::rebuild_stale_pages`]), shortly after a batch that touched them.

use std::collections::{HashMap, HashSet};

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

/// The key of a row of a store's table: store key, mode, Stripe id.
type RowKey = (String, bool, String);

/// The rows a group of events concerns, read ahead in one statement per table
/// ([`Prefetched::load`]) and kept current as the events write them.
#[derive(Default)]
pub struct Prefetched {
    customers: Known<customer::Model>,
    products: Known<product::Model>,
    prices: Known<price::Model>,
}

impl Prefetched {
    /// Reads the customers, products and prices that `changes` (each with its event's
    /// store key and mode) concern: one statement per table that any of them names.
    pub async fn load<'a>(
        db: &impl ConnectionTrait,
        changes: impl IntoIterator<Item = (&'a str, bool, &'a Change)>,
    ) -> Result<Self, DbErr> {
        let mut wanted: [HashSet<RowKey>; 3] = Default::default();
        for (store_key, livemode, change) in changes {
            let (table, id) = match change {
                Change::Customer(id) => (0, id),
                Change::Product(id) => (1, id),
                Change::Price(id) => (2, id),
                Change::Account(_) | Change::Payment(_) => continue,
            };
            wanted[table].insert((store_key.to_owned(), livemode, id.clone()));
        }
        let [customers, products, prices] = wanted;
        Ok(Self {
            customers: Known::from_rows(
                rows::customers_with_ids(db, &ids(&customers)).await?,
                customers,
                |row| (row.store_key.clone(), row.livemode, row.id.clone()),
            ),
            products: Known::from_rows(
                rows::products_with_ids(db, &ids(&products)).await?,
                products,
                |row| (row.store_key.clone(), row.livemode, row.id.clone()),
            ),
            prices: Known::from_rows(
                rows::prices_with_ids(db, &ids(&prices)).await?,
                prices,
                |row| (row.store_key.clone(), row.livemode, row.id.clone()),
            ),
        })
    }
}

/// The distinct ids of `keys`.
fn ids(keys: &HashSet<RowKey>) -> Vec<&str> {
    let ids: HashSet<&str> = keys.iter().map(|(_, _, id)| id.as_str()).collect();
    ids.into_iter().collect()
}

/// Rows of one table read ahead, by key: `Some(None)` is a row known not to exist.
struct Known<M>(HashMap<RowKey, Option<M>>);

impl<M> Default for Known<M> {
    fn default() -> Self {
        Self(HashMap::new())
    }
}

impl<M> Known<M> {
    /// The rows of the `wanted` keys among `found` (rows with their ids, of any store);
    /// the other wanted keys are known not to exist.
    fn from_rows(found: Vec<M>, wanted: HashSet<RowKey>, key: impl Fn(&M) -> RowKey) -> Self {
        let mut rows: HashMap<RowKey, Option<M>> = HashMap::with_capacity(wanted.len());
        for row in found {
            let key = key(&row);
            if wanted.contains(&key) {
                rows.insert(key, Some(row));
            }
        }
        for key in wanted {
            rows.entry(key).or_insert(None);
        }
        Self(rows)
    }

    /// The row of `key` as read ahead, taken out (the domain consumes it); `None` when it
    /// was not read ahead, or a write since made it stale (an insert: its `pk` is the
    /// database's).
    fn take(&mut self, key: &RowKey) -> Option<Option<M>> {
        self.0.remove(key)
    }

    /// The row of `key` as an update just wrote it.
    fn updated(&mut self, key: RowKey, row: M) {
        self.0.insert(key, Some(row));
    }
}

/// Applies `change`, which `event` asked for, to the rows of the event's store; the rows
/// it concerns come from `known` when they were read ahead. The store row must exist
/// ([`rows::ensure_store`]).
pub async fn apply(
    db: &impl ConnectionTrait,
    known: &mut Prefetched,
    event: &EventRef<'_>,
    change: Change,
) -> Result<Outcome, WriteError> {
    let now = Utc::now();
    let key = |id: &str| (event.store_key.to_owned(), event.livemode, id.to_owned());
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
            let key = key(&id);
            let existing = match known.customers.take(&key) {
                Some(existing) => existing,
                None => rows::find_customer(db, event.store_key, event.livemode, &id).await?,
            };
            let next = |row| customers::next_row(row, event);
            let blank = || customers::blank(event, id, now);
            let (outcome, updated) =
                guarded::<customer::ActiveModel>(db, existing, blank, next, now).await?;
            if let Some(row) = updated {
                known.customers.updated(key, row);
            }
            Ok(outcome)
        }
        Change::Product(id) => {
            let key = key(&id);
            let existing = match known.products.take(&key) {
                Some(existing) => existing,
                None => rows::find_product(db, event.store_key, event.livemode, &id).await?,
            };
            let next = |row| catalog::next_product(row, event);
            let blank = || catalog::blank_product(event, id, now);
            let (outcome, updated) =
                guarded::<product::ActiveModel>(db, existing, blank, next, now).await?;
            if let Some(row) = updated {
                known.products.updated(key, row);
            }
            Ok(outcome)
        }
        Change::Price(id) => {
            let key = key(&id);
            let existing = match known.prices.take(&key) {
                Some(existing) => existing,
                None => rows::find_price(db, event.store_key, event.livemode, &id).await?,
            };
            let next = |row| catalog::next_price(row, event);
            let blank = || catalog::blank_price(event, id, now);
            let (outcome, updated) =
                guarded::<price::ActiveModel>(db, existing, blank, next, now).await?;
            if let Some(row) = updated {
                known.prices.updated(key, row);
            }
            Ok(outcome)
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
/// when the row holds a newer version. Answers the row as updated, when it was (not when
/// inserted: the database assigns an inserted row's `pk`).
async fn guarded<A>(
    db: &impl ConnectionTrait,
    existing: Option<<A::Entity as sea_orm::EntityTrait>::Model>,
    blank: impl FnOnce() -> <A::Entity as sea_orm::EntityTrait>::Model,
    next: impl FnOnce(
        <A::Entity as sea_orm::EntityTrait>::Model,
    ) -> Result<Option<<A::Entity as sea_orm::EntityTrait>::Model>, DomainError>,
    now: DateTime<Utc>,
) -> Result<(Outcome, Option<<A::Entity as sea_orm::EntityTrait>::Model>), WriteError>
where
    A: sea_orm::ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    <A::Entity as sea_orm::EntityTrait>::Model: sea_orm::IntoActiveModel<A> + Touched,
{
    let is_new = existing.is_none();
    let Some(mut row) = next(existing.unwrap_or_else(blank))? else {
        return Ok((Outcome::Skipped, None));
    };
    row.touch(now);
    let updated = (!is_new).then(|| row.clone());
    rows::save::<A>(db, row, is_new).await?;
    Ok((Outcome::Processed, updated))
}
