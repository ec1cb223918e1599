//! Applying the domain's decisions to the rows, inside the caller's transaction: load the
//! row an event concerns, let [`crate::domain`] compute the next one, save it. The
//! customers, products and prices of a whole group of events are read in one statement
//! per table, changed in memory and written back in one statement per table
//! ([`WorkingSet`]). Pages are rebuilt separately ([`super::pages::rebuild_stale_pages`]),
//! shortly after a batch that touched them.

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

/// The customers, products and prices a group of events concerns: read in one statement
/// per table ([`WorkingSet::load`]), changed in memory event after event, in order, and
/// written back in one statement per table ([`WorkingSet::write`]) before the commit.
#[derive(Default)]
pub struct WorkingSet {
    customers: Known<customer::Model>,
    products: Known<product::Model>,
    prices: Known<price::Model>,
}

impl WorkingSet {
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

    /// Writes every row the events changed, one statement per table (each row once, as
    /// the last of its events left it). Nothing else of the transaction reads these
    /// tables before this.
    pub async fn write(self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        rows::upsert_customers(db, self.customers.changed()).await?;
        rows::upsert_products(db, self.products.changed()).await?;
        rows::upsert_prices(db, self.prices.changed()).await
    }
}

/// The distinct ids of `keys`.
fn ids(keys: &HashSet<RowKey>) -> Vec<&str> {
    let ids: HashSet<&str> = keys.iter().map(|(_, _, id)| id.as_str()).collect();
    ids.into_iter().collect()
}

/// Rows of one table by key: `None` is a row that does not exist (yet); `changed` says
/// whether an event changed it since it was read.
struct Known<M>(HashMap<RowKey, (Option<M>, bool)>);

impl<M> Default for Known<M> {
    fn default() -> Self {
        Self(HashMap::new())
    }
}

impl<M: Clone> Known<M> {
    /// The rows of the `wanted` keys among `found` (rows with their ids, of any store);
    /// the other wanted keys are known not to exist.
    fn from_rows(found: Vec<M>, wanted: HashSet<RowKey>, key: impl Fn(&M) -> RowKey) -> Self {
        let mut rows = HashMap::with_capacity(wanted.len());
        for row in found {
            let key = key(&row);
            if wanted.contains(&key) {
                rows.insert(key, (Some(row), false));
            }
        }
        for key in wanted {
            rows.entry(key).or_insert((None, false));
        }
        Self(rows)
    }

    /// The row of `key` as it stands now (a copy: the domain consumes it); `None` when it
    /// was not read.
    fn get(&self, key: &RowKey) -> Option<Option<M>> {
        self.0.get(key).map(|(row, _)| row.clone())
    }

    /// An event changed the row of `key` to `row`.
    fn set(&mut self, key: RowKey, row: M) {
        self.0.insert(key, (Some(row), true));
    }

    /// The rows events changed.
    fn changed(self) -> Vec<M> {
        self.0
            .into_values()
            .filter_map(|(row, changed)| row.filter(|_| changed))
            .collect()
    }
}

/// Applies `change`, which `event` asked for, to the rows of the event's store. Customers,
/// products and prices are read from and changed in `working` (the caller writes them
/// back);
/// the store and orders are written at once. The store row must exist
/// ([`rows::ensure_store`]).
pub async fn apply(
    db: &impl ConnectionTrait,
    working: &mut WorkingSet,
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
            let existing = match working.customers.get(&key) {
                Some(existing) => existing,
                None => rows::find_customer(db, event.store_key, event.livemode, &id).await?,
            };
            let next = |row| customers::next_row(row, event);
            let blank = || customers::blank(event, id, now);
            Ok(match guarded(existing, blank, next, now)? {
                Some(row) => {
                    working.customers.set(key, row);
                    Outcome::Processed
                }
                None => Outcome::Skipped,
            })
        }
        Change::Product(id) => {
            let key = key(&id);
            let existing = match working.products.get(&key) {
                Some(existing) => existing,
                None => rows::find_product(db, event.store_key, event.livemode, &id).await?,
            };
            let next = |row| catalog::next_product(row, event);
            let blank = || catalog::blank_product(event, id, now);
            Ok(match guarded(existing, blank, next, now)? {
                Some(row) => {
                    working.products.set(key, row);
                    Outcome::Processed
                }
                None => Outcome::Skipped,
            })
        }
        Change::Price(id) => {
            let key = key(&id);
            let existing = match working.prices.get(&key) {
                Some(existing) => existing,
                None => rows::find_price(db, event.store_key, event.livemode, &id).await?,
            };
            let next = |row| catalog::next_price(row, event);
            let blank = || catalog::blank_price(event, id, now);
            Ok(match guarded(existing, blank, next, now)? {
                Some(row) => {
                    working.prices.set(key, row);
                    Outcome::Processed
                }
                None => Outcome::Skipped,
            })
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

/// Decides a version-guarded row: `next` is the domain's transition from the row as it
/// stands (a blank one when there is none), `None` when the row holds a newer version.
fn guarded<M: Touched>(
    existing: Option<M>,
    blank: impl FnOnce() -> M,
    next: impl FnOnce(M) -> Result<Option<M>, DomainError>,
    now: DateTime<Utc>,
) -> Result<Option<M>, DomainError> {
    let Some(mut row) = next(existing.unwrap_or_else(blank))? else {
        return Ok(None);
    };
    row.touch(now);
    Ok(Some(row))
}
