//! The storefront's contact form and readable shop addresses: `marketplace_contact_messages`
//! (what shoppers wrote to a store, newest first per store) and `stripe_stores.slug`, the
//! name a shop answers at (`/shop/{slug}`), assigned once when the store first has a name.
//!
//! A slug is unique per mode: the live and test rows of one account share theirs, and the
//! service gives another account's store a suffixed slug before the index could refuse one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ContactMessages as M;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .col(big_pk_auto(M::Id))
                    .col(text(M::StoreKey))
                    .col(boolean(M::Livemode))
                    .col(text(M::Name))
                    .col(text(M::Email))
                    .col(text(M::Message))
                    // A keyed hash of the sender's address, never the address itself.
                    .col(text_null(M::RemoteHash))
                    .col(timestamp_with_time_zone(M::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // A store's messages, newest first (`store::admin::contact_messages`).
        manager
            .create_index(
                Index::create()
                    .name("idx_contact_messages_store")
                    .table(M::Table)
                    .col(M::StoreKey)
                    .col(M::CreatedAt)
                    .col(M::Id)
                    .to_owned(),
            )
            .await?;
        // Nullable, without a default: PostgreSQL adds it without rewriting the table.
        manager
            .alter_table(
                Table::alter()
                    .table(Stores::Table)
                    .add_column(text_null(Stores::Slug))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_stores_slug")
                    .table(Stores::Table)
                    .col(Stores::Slug)
                    .col(Stores::Livemode)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("uq_stores_slug")
                    .table(Stores::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Stores::Table)
                    .drop_column(Stores::Slug)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ContactMessages::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ContactMessages {
    #[sea_orm(iden = "marketplace_contact_messages")]
    Table,
    Id,
    StoreKey,
    Livemode,
    Name,
    Email,
    Message,
    RemoteHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Stores {
    #[sea_orm(iden = "stripe_stores")]
    Table,
    Livemode,
    Slug,
}
