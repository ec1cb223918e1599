//! The account's creation time at Stripe (`account.created`, Unix seconds) on the store:
//! the store's own `created_at` is only when the service first saw the account.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Nullable: existing stores learn it from their next account event.
        manager
            .alter_table(
                Table::alter()
                    .table(Stores::Table)
                    .add_column(big_integer_null(Stores::AccountCreated))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Stores::Table)
                    .drop_column(Stores::AccountCreated)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Stores {
    #[sea_orm(iden = "stripe_stores")]
    Table,
    AccountCreated,
}
