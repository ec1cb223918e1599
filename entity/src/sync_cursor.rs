//! `stripe_sync_cursors`: how far each Stripe list has been read by a sync, per store and
//! kind of list, so that an interrupted sync resumes and a finished one asks only for what
//! is newer.

use sea_orm::entity::prelude::*;

/// One list's sync position.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "stripe_sync_cursors")]
pub struct Model {
    /// The store key: a connected account id, or `platform`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub store_key: String,
    /// `events`, `accounts`, `customers`, `products`, `prices` or `payment_intents`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    /// `running`, `finished` or `failed` (a killed sync leaves `running`).
    pub state: String,
    /// The listing in progress: its `created[gte]` (events only).
    pub listing_since: Option<i64>,
    /// The last id the listing in progress stored: the next page's `starting_after`.
    pub starting_after: Option<String>,
    /// The newest `created` the listing in progress has seen.
    pub listing_newest: Option<i64>,
    /// Every event created up to this time was listed by a finished listing.
    pub synced_through: Option<i64>,
    /// The counts of the last (or current) listing.
    pub seen: i64,
    pub new: i64,
    pub skipped: i64,
    pub last_error: Option<String>,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
