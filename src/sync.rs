//! Backfill and gap-fill from Stripe's API, shared by `payments sync`, the admin API's
//! `POST /sync` and the periodic gap-fill (`SYNC_INTERVAL_SECS`).
//!
//! - [`events`]: `/v1/events` (Stripe keeps 30 days) of the platform and each connected
//!   account, every event not stored yet put in the inbox as a webhook delivery is;
//! - [`objects`]: with `objects`, the accounts, customers, products, prices and
//!   PaymentIntents themselves, each stored as a synthetic event so that rows older than
//!   Stripe's 30 days of events are rebuilt through the same apply path;
//! - [`runner`]: one sync at a time inside the service, observable from the admin API.
//!
//! Every listing reads one page at a time and stores it before asking for the next, and
//! keeps its position in `stripe_sync_cursors` ([`crate::store::sync_cursors`]) after each
//! page: an interrupted listing (killed, or Stripe failing after the client's retries)
//! resumes from its `starting_after` at the next run, and a finished events listing next
//! time asks only for events newer than what it has listed, less [`OVERLAP`]. Nothing is
//! applied here: stored events wait in the inbox, as a delivery does, and the service's
//! actors apply them (at once when the service runs the sync, else within
//! `RECOVERY_INTERVAL_SECS`). Pages come newest first, so a store's events may be applied
//! out of Stripe's order; the version rules make the rows the same in any order.

pub mod events;
pub mod objects;
pub mod runner;

use std::time::Duration;

use chrono::Utc;
use entity::sync_cursor::Model as Cursor;
use entity::webhook_event;
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;

use crate::store::inbox::Stored;
use crate::store::{inbox, sync_cursors};
use crate::stripe::api::{Client, StripeError};
use crate::stripe::envelope::PLATFORM_STORE;

/// How far back Stripe keeps events.
pub const MAX_SINCE: Duration = Duration::from_secs(30 * 86_400);
/// How far before the newest event already listed a finished store's next listing starts:
/// Stripe's `created` has one-second resolution and an event may become listable a little
/// after its `created`; the inbox drops what is listed twice.
pub const OVERLAP: i64 = 300;

/// What to sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Only this connected account [default: the platform and every connected account
    /// with a store, and with `objects` every connected account Stripe lists].
    pub store: Option<String>,
    /// How far back to list events; `None`: from where the last finished listing
    /// stopped (less [`OVERLAP`]), or 30 days for a store never synced.
    pub since: Option<Duration>,
    /// Also list the objects themselves (accounts, customers, products, prices and
    /// PaymentIntents) to rebuild rows older than Stripe's 30 days of events.
    pub objects: bool,
}

/// What one listing found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Tally {
    /// Items listed.
    pub seen: u64,
    /// Events stored that were not stored yet.
    pub new: u64,
    /// Items already stored, or unreadable.
    pub skipped: u64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.seen += other.seen;
        self.new += other.new;
        self.skipped += other.skipped;
    }

    /// Counts what storing a page did.
    fn count(&mut self, stored: &[Stored]) {
        for stored in stored {
            match stored {
                Stored::New => self.new += 1,
                Stored::Duplicate | Stored::Conflict => self.skipped += 1,
            }
        }
    }
}

/// The lists a sync reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Events,
    Accounts,
    Customers,
    Products,
    Prices,
    PaymentIntents,
}

impl Kind {
    /// The objects of a connected account (or of the platform) listed with `objects`.
    pub const OBJECTS: [Self; 4] = [
        Self::Customers,
        Self::Products,
        Self::Prices,
        Self::PaymentIntents,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Events => "events",
            Self::Accounts => "accounts",
            Self::Customers => "customers",
            Self::Products => "products",
            Self::Prices => "prices",
            Self::PaymentIntents => "payment_intents",
        }
    }

    /// The list's path.
    pub fn path(self) -> String {
        format!("/v1/{}", self.as_str())
    }
}

/// How a listing ended, or that it is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Running,
    Finished,
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Finished => "finished",
            Self::Failed => "failed",
        }
    }
}

/// One list of one store, as far as a sync has read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Listing {
    /// The store key: a connected account id, or `platform`.
    pub store: String,
    pub kind: Kind,
    pub state: State,
    /// What it found.
    #[serde(rename = "counts")]
    pub tally: Tally,
    /// The last id stored: where an interrupted listing resumes (`starting_after`).
    pub cursor: Option<String>,
    /// Whether the listing resumed an interrupted one.
    pub resumed: bool,
    /// Why it failed.
    pub error: Option<String>,
}

/// Hears a sync's progress, and may stop it.
pub trait Observer: Send + std::marker::Sync {
    /// A listing stored a page (or ended).
    fn progress(&self, _listing: &Listing) {}
    /// New events of `store_key` are in the inbox (the service wakes its actor).
    fn stored(&self, _store_key: &str) {}
    /// Whether to stop at the next page (the service is shutting down): the listing keeps
    /// its cursor and resumes at the next run.
    fn stopped(&self) -> bool {
        false
    }
}

/// An observer that hears nothing.
pub struct Quiet;

impl Observer for Quiet {}

/// Why a listing stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("Stripe: {0}")]
    Stripe(#[from] StripeError),
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("stopped: the service is shutting down (the next run resumes)")]
    Stopped,
}

/// What a sync shares with its listings.
pub struct Sync<'a> {
    pub client: &'a Client,
    pub db: &'a DatabaseConnection,
    pub observer: &'a dyn Observer,
}

/// `30d`, `12h`, `90m` or `3600s` (a bare number is seconds), capped at 30 days.
pub fn parse_since(value: &str) -> Result<Duration, String> {
    const EXPECTED: &str = "expected a number and d, h, m or s, such as 30d or 12h";
    let value = value.trim();
    let (number, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => value.split_at(at),
        None => (value, "s"),
    };
    let scale = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => return Err(EXPECTED.into()),
    };
    let number: u64 = number.parse().map_err(|_| EXPECTED.to_owned())?;
    Ok(Duration::from_secs(number.saturating_mul(scale)).min(MAX_SINCE))
}

impl Sync<'_> {
    /// Runs every listing `options` asks for, store after store; a failed listing is
    /// reported in its [`Listing`] and the others still run.
    pub async fn run(&self, options: &Options) -> Result<Vec<Listing>, DbErr> {
        let mut listings = Vec::new();
        let mut stores = match &options.store {
            Some(store) => vec![store.clone()],
            None => std::iter::once(PLATFORM_STORE.to_owned())
                .chain(sync_cursors::connected_accounts(self.db).await?)
                .collect(),
        };
        if options.objects {
            let (accounts, listed) = objects::accounts(self, options.store.as_deref()).await;
            for account in listed {
                if !stores.contains(&account) {
                    stores.push(account);
                }
            }
            listings.push(accounts);
        }
        for store in &stores {
            if self.observer.stopped() {
                break;
            }
            listings.push(events::list(self, store, options.since).await);
            if options.objects {
                for kind in Kind::OBJECTS {
                    listings.push(objects::list(self, store, kind).await);
                }
            }
        }
        Ok(listings)
    }

    /// Stores a page's rows, tells the observer of new ones, and counts them.
    async fn store_page(
        &self,
        store: &str,
        rows: &[webhook_event::Model],
        snapshots: bool,
        tally: &mut Tally,
    ) -> Result<(), DbErr> {
        let stored = match snapshots {
            true => inbox::store_absent(self.db, rows).await?,
            false => inbox::store_batch(self.db, rows).await?,
        };
        tally.count(&stored);
        if stored.contains(&Stored::New) {
            self.observer.stored(store);
        }
        Ok(())
    }
}

/// The `Stripe-Account` of a store: none for the platform.
pub fn account_of(store: &str) -> Option<&str> {
    (store != PLATFORM_STORE).then_some(store)
}

/// The totals of each store's listings, in the order first listed.
pub fn per_store(listings: &[Listing]) -> Vec<(String, Tally, Option<String>)> {
    let mut out: Vec<(String, Tally, Option<String>)> = Vec::new();
    for listing in listings {
        let at = match out.iter().position(|(store, ..)| *store == listing.store) {
            Some(at) => at,
            None => {
                out.push((listing.store.clone(), Tally::default(), None));
                out.len() - 1
            }
        };
        out[at].1.add(listing.tally);
        if let (None, Some(error)) = (&out[at].2, &listing.error) {
            out[at].2 = Some(format!("{}: {error}", listing.kind.as_str()));
        }
    }
    out
}

/// A listing's position at its start: the interrupted one's, which it resumes, or a
/// new one. `since` is the new listing's `created[gte]` given what was listed before.
fn begin(
    previous: Option<Cursor>,
    store: &str,
    kind: Kind,
    since: impl FnOnce(Option<i64>) -> Option<i64>,
) -> (Cursor, bool) {
    let now = Utc::now();
    let interrupted = previous
        .as_ref()
        .is_some_and(|cursor| cursor.starting_after.is_some());
    let mut cursor = previous.unwrap_or_else(|| Cursor {
        store_key: store.to_owned(),
        kind: kind.as_str().to_owned(),
        state: String::new(),
        listing_since: None,
        starting_after: None,
        listing_newest: None,
        synced_through: None,
        seen: 0,
        new: 0,
        skipped: 0,
        last_error: None,
        started_at: now,
        finished_at: None,
        updated_at: now,
    });
    if !interrupted {
        cursor.listing_since = since(cursor.synced_through);
        cursor.listing_newest = None;
    }
    cursor.state = State::Running.as_str().to_owned();
    (cursor.seen, cursor.new, cursor.skipped) = (0, 0, 0);
    cursor.last_error = None;
    cursor.started_at = now;
    cursor.finished_at = None;
    cursor.updated_at = now;
    (cursor, interrupted)
}

/// Records a stored page (`next`: where the listing goes on; `None`, it is finished) and
/// tells the observer.
async fn advance(
    sync: &Sync<'_>,
    cursor: &mut Cursor,
    listing: &mut Listing,
    next: Option<String>,
) -> Result<(), DbErr> {
    let now = Utc::now();
    (cursor.seen, cursor.new, cursor.skipped) = (
        listing.tally.seen as i64,
        listing.tally.new as i64,
        listing.tally.skipped as i64,
    );
    cursor.updated_at = now;
    cursor.starting_after = next;
    if cursor.starting_after.is_none() {
        cursor.state = State::Finished.as_str().to_owned();
        cursor.finished_at = Some(now);
        cursor.synced_through = cursor.synced_through.max(cursor.listing_newest);
        cursor.listing_since = None;
        cursor.listing_newest = None;
        listing.state = State::Finished;
    }
    listing.cursor = cursor.starting_after.clone();
    sync_cursors::save(sync.db, cursor).await?;
    sync.observer.progress(listing);
    Ok(())
}

/// Records why a listing stopped; its cursor stays for the next run.
async fn fail(sync: &Sync<'_>, cursor: &mut Cursor, listing: &mut Listing, err: SyncError) {
    let message = crate::telemetry::one_line(&err);
    cursor.state = State::Failed.as_str().to_owned();
    cursor.last_error = Some(message.clone());
    cursor.updated_at = Utc::now();
    listing.state = State::Failed;
    listing.error = Some(message);
    if let Err(err) = sync_cursors::save(sync.db, cursor).await {
        tracing::warn!(error = %err, store = %listing.store, "the sync cursor could not be saved");
    }
    sync.observer.progress(listing);
}

/// The next page of `path` from the listing's position. When Stripe no longer has the
/// object a resumed listing stopped at (an event past its 30 days, an object deleted
/// since), the listing starts over from the top (what was stored is deduplicated) rather
/// than fail there at every run.
async fn next_page<T: serde::de::DeserializeOwned + crate::stripe::api::ListItem>(
    sync: &Sync<'_>,
    path: &str,
    params: &[(&str, String)],
    account: Option<&str>,
    cursor: &mut Cursor,
    listing: &mut Listing,
) -> Result<(Vec<T>, Option<String>), SyncError> {
    let after = cursor.starting_after.clone();
    match sync
        .client
        .list_page(path, params, account, after.as_deref())
        .await
    {
        Err(err) if after.is_some() && events::is_gone(&err) => {
            cursor.starting_after = None;
            listing.resumed = false;
            Ok(sync.client.list_page(path, params, account, None).await?)
        }
        page => Ok(page?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_units_and_is_capped_at_thirty_days() {
        assert_eq!(parse_since("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_since("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_since("600"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_since("30d"), Ok(MAX_SINCE));
        assert_eq!(parse_since("90d"), Ok(MAX_SINCE));
        assert!(parse_since("1w").is_err() && parse_since("d").is_err());
    }

    #[test]
    fn an_interrupted_listing_resumes_and_a_finished_one_starts_after_it() {
        let (mut cursor, resumed) = begin(None, "acct_1", Kind::Events, |_| Some(100));
        assert!(!resumed);
        assert_eq!(cursor.listing_since, Some(100));
        cursor.starting_after = Some("evt_9".into());
        cursor.listing_newest = Some(500);
        let (again, resumed) = begin(Some(cursor.clone()), "acct_1", Kind::Events, |_| {
            panic!("an interrupted listing keeps its window")
        });
        assert!(resumed);
        assert_eq!(
            (again.listing_since, again.starting_after.as_deref()),
            (Some(100), Some("evt_9"))
        );
        cursor.starting_after = None;
        cursor.synced_through = Some(500);
        let (next, resumed) = begin(Some(cursor), "acct_1", Kind::Events, |through| {
            through.map(|t| t - OVERLAP)
        });
        assert!(!resumed);
        assert_eq!(next.listing_since, Some(500 - OVERLAP));
        assert_eq!(next.listing_newest, None);
    }

    #[test]
    fn per_store_totals_add_the_kinds_and_keep_the_first_error() {
        let listing = |store: &str, kind, seen, error: Option<&str>| Listing {
            store: store.into(),
            kind,
            state: State::Finished,
            tally: Tally {
                seen,
                new: 1,
                skipped: seen - 1,
            },
            cursor: None,
            resumed: false,
            error: error.map(Into::into),
        };
        let totals = per_store(&[
            listing("platform", Kind::Events, 3, None),
            listing("acct_1", Kind::Events, 5, None),
            listing("acct_1", Kind::Customers, 2, Some("HTTP 500")),
        ]);
        assert_eq!(totals.len(), 2);
        assert_eq!(
            totals[1],
            (
                "acct_1".to_owned(),
                Tally {
                    seen: 7,
                    new: 2,
                    skipped: 5
                },
                Some("customers: HTTP 500".to_owned())
            )
        );
    }
}
