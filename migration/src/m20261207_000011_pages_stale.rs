//! `stripe_stores.pages_stale`: the store's pages wait for a rebuild. An apply batch that
//! changed what the pages show sets it in its own transaction; the store's actor rebuilds
//! the pages a moment later, once for every change that came meanwhile, and clears it. A
//! flag in the row rather than in the actor's memory, so that a crash between the two
//! leaves the rebuild to recovery instead of losing it. The partial index lets recovery
//! find the few stale stores among all of them.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261130_000006_lookup_indexes::{Index, create_index, drop_index, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STALE_PAGES: Index = Index {
    only: Some("pages_stale"),
    ..index("idx_stores_pages_stale", "stripe_stores", "id")
};

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(false)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column("stripe_stores", "pages_stale").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Stores::Table)
                        .add_column(boolean(Stores::PagesStale).default(false))
                        .to_owned(),
                )
                .await?;
        }
        create_index(manager.get_connection(), STALE_PAGES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager.get_connection(), STALE_PAGES).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Stores::Table)
                    .drop_column(Stores::PagesStale)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Stores {
    #[sea_orm(iden = "stripe_stores")]
    Table,
    PagesStale,
}
