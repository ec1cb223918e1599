//! Store columns the event handlers need beside the account fields: the support e-mail for
//! the Contact page, why Stripe disabled the account, and the Connect authorization state
//! (its own version, since `account.application.*` events carry no account object).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            text_null(Stores::SupportEmail),
            text_null(Stores::DisabledReason),
            boolean(Stores::Disconnected).default(false).take(),
            big_integer(Stores::ConnectionVersion).default(0).take(),
            text_null(Stores::ConnectionEvent),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Stores::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Stores::SupportEmail,
            Stores::DisabledReason,
            Stores::Disconnected,
            Stores::ConnectionVersion,
            Stores::ConnectionEvent,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Stores::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Stores {
    #[sea_orm(iden = "stripe_stores")]
    Table,
    SupportEmail,
    DisabledReason,
    Disconnected,
    ConnectionVersion,
    ConnectionEvent,
}
