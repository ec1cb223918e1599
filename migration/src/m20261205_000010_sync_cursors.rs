//! `stripe_sync_cursors`: how far `payments sync`, the admin API's syncs and the periodic
//! gap-fill have read each Stripe list, per store and kind of list (`events`, `customers`,
//! `products`, `prices`, `payment_intents`, `accounts`).
//!
//! A listing stores its position after every page, so an interrupted one (killed, or Stripe
//! failing after the client's retries) resumes from `starting_after` at its next run, and a
//! finished events listing next time asks only for what is newer than `synced_through`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SyncCursors as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(text(C::StoreKey))
                    .col(text(C::Kind))
                    // `running`, `finished` or `failed`; a killed run stays `running`.
                    .col(text(C::State))
                    // The listing in progress: its `created[gte]` (events only), the last id
                    // stored (the next page's `starting_after`) and the newest `created`
                    // it has seen.
                    .col(big_integer_null(C::ListingSince))
                    .col(text_null(C::StartingAfter))
                    .col(big_integer_null(C::ListingNewest))
                    // Every event created up to this time was listed by a finished listing.
                    .col(big_integer_null(C::SyncedThrough))
                    .col(big_integer(C::Seen).default(0))
                    .col(big_integer(C::New).default(0))
                    .col(big_integer(C::Skipped).default(0))
                    .col(text_null(C::LastError))
                    .col(timestamp_with_time_zone(C::StartedAt))
                    .col(timestamp_with_time_zone_null(C::FinishedAt))
                    .col(timestamp_with_time_zone(C::UpdatedAt))
                    .primary_key(Index::create().col(C::StoreKey).col(C::Kind))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SyncCursors::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SyncCursors {
    #[sea_orm(iden = "stripe_sync_cursors")]
    Table,
    StoreKey,
    Kind,
    State,
    ListingSince,
    StartingAfter,
    ListingNewest,
    SyncedThrough,
    Seen,
    New,
    Skipped,
    LastError,
    StartedAt,
    FinishedAt,
    UpdatedAt,
}
