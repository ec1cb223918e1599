//! The five tables of DESIGN.md plus `marketplace_prices`.
//!
//! Every Stripe id is unique only within its store key and livemode, so those two columns
//! lead every natural unique key. `created_at` is always when *we* wrote the row; Stripe's
//! own timestamps are kept as Unix seconds in `created`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_webhook_events(manager).await?;
        create_stores(manager).await?;
        create_customers(manager).await?;
        create_products(manager).await?;
        create_prices(manager).await?;
        create_orders(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Orders::Table.into_iden(),
            Prices::Table.into_iden(),
            Products::Table.into_iden(),
            Customers::Table.into_iden(),
            Stores::Table.into_iden(),
            WebhookEvents::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// The inbox: one row per Stripe event id, the raw bytes exactly as received.
async fn create_webhook_events(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use WebhookEvents as E;
    manager
        .create_table(
            Table::create()
                .table(E::Table)
                .col(text(E::Id).primary_key())
                .col(text(E::Type))
                .col(text_null(E::Account))
                .col(text(E::StoreKey))
                .col(boolean(E::Livemode))
                .col(text_null(E::ApiVersion))
                .col(text_null(E::ObjectId))
                .col(text(E::Payload))
                .col(text(E::Status).default("received"))
                .col(integer(E::Attempts).default(0))
                .col(text_null(E::LastError))
                .col(big_integer(E::Created))
                .col(timestamp_with_time_zone(E::CreatedAt))
                .col(timestamp_with_time_zone_null(E::ProcessedAt))
                .to_owned(),
        )
        .await?;
    index(manager, E::Table, "idx_events_created_at", &[E::CreatedAt]).await?;
    index(
        manager,
        E::Table,
        "idx_events_status",
        &[E::Status, E::CreatedAt],
    )
    .await?;
    index(
        manager,
        E::Table,
        "idx_events_store_status",
        &[E::StoreKey, E::Status, E::CreatedAt],
    )
    .await
}

async fn create_stores(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Stores as S;
    manager
        .create_table(
            Table::create()
                .table(S::Table)
                .col(big_pk_auto(S::Pk))
                .col(text(S::Id))
                .col(boolean(S::Livemode))
                .col(text_null(S::Name))
                .col(text_null(S::Email))
                .col(text_null(S::Phone))
                .col(text_null(S::Country))
                .col(json_binary_null(S::Address))
                .col(text_null(S::Currency))
                .col(text_null(S::Description))
                .col(text_null(S::Website))
                .col(text(S::Status).default("onboarding"))
                .col(boolean(S::ChargesEnabled).default(false))
                .col(boolean(S::PayoutsEnabled).default(false))
                .col(boolean(S::DetailsSubmitted).default(false))
                .col(json_binary_null(S::Capabilities))
                .col(json_binary_null(S::Pages))
                .col(json_binary_null(S::PaymentSettings))
                .col(big_integer(S::Version).default(0))
                .col(text_null(S::VersionEvent))
                .col(timestamp_with_time_zone(S::CreatedAt))
                .col(timestamp_with_time_zone(S::UpdatedAt))
                .to_owned(),
        )
        .await?;
    unique(
        manager,
        S::Table,
        "uq_stores_account",
        &[S::Id, S::Livemode],
    )
    .await
}

async fn create_customers(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Customers as C;
    manager
        .create_table(
            Table::create()
                .table(C::Table)
                .col(big_pk_auto(C::Pk))
                .col(text(C::StoreKey))
                .col(boolean(C::Livemode))
                .col(text(C::Id))
                .col(text_null(C::Email))
                .col(text_null(C::Name))
                .col(text_null(C::Phone))
                .col(json_binary_null(C::Address))
                .col(json_binary_null(C::Shipping))
                .col(json_binary_null(C::Metadata))
                .col(big_integer_null(C::Created))
                .col(timestamp_with_time_zone_null(C::DeletedAt))
                .col(big_integer(C::Version).default(0))
                .col(text_null(C::VersionEvent))
                .col(timestamp_with_time_zone(C::CreatedAt))
                .col(timestamp_with_time_zone(C::UpdatedAt))
                .to_owned(),
        )
        .await?;
    unique(
        manager,
        C::Table,
        "uq_customers_store_id",
        &[C::StoreKey, C::Livemode, C::Id],
    )
    .await
}

async fn create_products(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Products as P;
    manager
        .create_table(
            Table::create()
                .table(P::Table)
                .col(big_pk_auto(P::Pk))
                .col(text(P::StoreKey))
                .col(boolean(P::Livemode))
                .col(text(P::Id))
                .col(text_null(P::Name))
                .col(text_null(P::Description))
                .col(json_binary_null(P::Images))
                .col(boolean(P::Active).default(true))
                .col(text_null(P::Category))
                .col(text_null(P::DefaultPrice))
                .col(json_binary_null(P::Metadata))
                .col(big_integer_null(P::Created))
                .col(timestamp_with_time_zone_null(P::DeletedAt))
                .col(big_integer(P::Version).default(0))
                .col(text_null(P::VersionEvent))
                .col(timestamp_with_time_zone(P::CreatedAt))
                .col(timestamp_with_time_zone(P::UpdatedAt))
                .to_owned(),
        )
        .await?;
    unique(
        manager,
        P::Table,
        "uq_products_store_id",
        &[P::StoreKey, P::Livemode, P::Id],
    )
    .await
}

/// Prices have their own rows: a product's default price is resolved when read, so the
/// product and price events may arrive in either order.
async fn create_prices(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Prices as P;
    manager
        .create_table(
            Table::create()
                .table(P::Table)
                .col(big_pk_auto(P::Pk))
                .col(text(P::StoreKey))
                .col(boolean(P::Livemode))
                .col(text(P::Id))
                .col(text_null(P::Product))
                .col(big_integer_null(P::UnitAmount))
                .col(text_null(P::Currency))
                .col(text_null(P::Type))
                .col(json_binary_null(P::Recurring))
                .col(boolean(P::Active).default(true))
                .col(json_binary_null(P::Metadata))
                .col(big_integer_null(P::Created))
                .col(timestamp_with_time_zone_null(P::DeletedAt))
                .col(big_integer(P::Version).default(0))
                .col(text_null(P::VersionEvent))
                .col(timestamp_with_time_zone(P::CreatedAt))
                .col(timestamp_with_time_zone(P::UpdatedAt))
                .to_owned(),
        )
        .await?;
    unique(
        manager,
        P::Table,
        "uq_prices_store_id",
        &[P::StoreKey, P::Livemode, P::Id],
    )
    .await
}

/// One order per payment: `id` is the PaymentIntent id when there is one, else the charge id.
async fn create_orders(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Orders as O;
    manager
        .create_table(
            Table::create()
                .table(O::Table)
                .col(big_pk_auto(O::Pk))
                .col(text(O::StoreKey))
                .col(boolean(O::Livemode))
                .col(text(O::Id))
                .col(text_null(O::PaymentIntent))
                .col(text_null(O::Charge))
                .col(text_null(O::Customer))
                .col(big_integer(O::Amount).default(0))
                .col(big_integer(O::AmountRefunded).default(0))
                .col(text_null(O::Currency))
                .col(text(O::Status).default("pending"))
                .col(json_binary_null(O::Items))
                .col(text_null(O::ReceiptUrl))
                .col(text_null(O::FailureCode))
                .col(text_null(O::FailureMessage))
                .col(big_integer_null(O::Created))
                .col(timestamp_with_time_zone(O::CreatedAt))
                .col(timestamp_with_time_zone(O::UpdatedAt))
                .to_owned(),
        )
        .await?;
    unique(
        manager,
        O::Table,
        "uq_orders_store_id",
        &[O::StoreKey, O::Livemode, O::Id],
    )
    .await?;
    index(manager, O::Table, "idx_orders_created_at", &[O::CreatedAt]).await
}

pub(crate) async fn index<T: Iden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    name: &str,
    columns: &[T],
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for column in columns {
        stmt.col(*column);
    }
    manager.create_index(stmt.to_owned()).await
}

pub(crate) async fn unique<T: Iden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    name: &str,
    columns: &[T],
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table).unique();
    for column in columns {
        stmt.col(*column);
    }
    manager.create_index(stmt.to_owned()).await
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookEvents {
    #[sea_orm(iden = "stripe_webhook_events")]
    Table,
    Id,
    Type,
    Account,
    StoreKey,
    Livemode,
    ApiVersion,
    ObjectId,
    Payload,
    Status,
    Attempts,
    LastError,
    Created,
    CreatedAt,
    ProcessedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Stores {
    #[sea_orm(iden = "stripe_stores")]
    Table,
    Pk,
    Id,
    Livemode,
    Name,
    Email,
    Phone,
    Country,
    Address,
    Currency,
    Description,
    Website,
    Status,
    ChargesEnabled,
    PayoutsEnabled,
    DetailsSubmitted,
    Capabilities,
    Pages,
    PaymentSettings,
    Version,
    VersionEvent,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Customers {
    #[sea_orm(iden = "marketplace_customers")]
    Table,
    Pk,
    StoreKey,
    Livemode,
    Id,
    Email,
    Name,
    Phone,
    Address,
    Shipping,
    Metadata,
    Created,
    DeletedAt,
    Version,
    VersionEvent,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Products {
    #[sea_orm(iden = "marketplace_products")]
    Table,
    Pk,
    StoreKey,
    Livemode,
    Id,
    Name,
    Description,
    Images,
    Active,
    Category,
    DefaultPrice,
    Metadata,
    Created,
    DeletedAt,
    Version,
    VersionEvent,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Prices {
    #[sea_orm(iden = "marketplace_prices")]
    Table,
    Pk,
    StoreKey,
    Livemode,
    Id,
    Product,
    UnitAmount,
    Currency,
    Type,
    Recurring,
    Active,
    Metadata,
    Created,
    DeletedAt,
    Version,
    VersionEvent,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Orders {
    #[sea_orm(iden = "marketplace_orders")]
    Table,
    Pk,
    StoreKey,
    Livemode,
    Id,
    PaymentIntent,
    Charge,
    Customer,
    Amount,
    AmountRefunded,
    Currency,
    Status,
    Items,
    ReceiptUrl,
    FailureCode,
    FailureMessage,
    Created,
    CreatedAt,
    UpdatedAt,
}
