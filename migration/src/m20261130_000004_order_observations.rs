//! Orders derived from observations: the `order_observations` table, the order columns the
//! marketplace flows need, and existing orders carried forward.
//!
//! Every existing order keeps its fields as one `legacy` observation, so the first new
//! event about it derives the order from what was known plus the new snapshot, instead of
//! from the new snapshot alone.

use sea_orm_migration::sea_orm::ConnectionTrait;
use sea_orm_migration::{prelude::*, schema::*};
use serde_json::{Value, json};

use crate::m20261126_000001_create_tables::{index, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Rows of existing orders read per statement while carrying them forward.
const BATCH: u64 = 1_000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_observations(manager).await?;
        add_order_columns(manager).await?;
        file_platform_payments_under_the_platform(manager).await?;
        // An order is now keyed where its payment lives; its seller (`store_key`) is
        // derived and may change as the payment's objects arrive.
        unique(
            manager,
            Orders::Table,
            "uq_orders_source_id",
            &[Orders::SourceStore, Orders::Livemode, Orders::Id],
        )
        .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("uq_orders_store_id")
                    .table(Orders::Table)
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            Orders::Table,
            "idx_orders_store_id",
            &[Orders::StoreKey, Orders::Livemode, Orders::Id],
        )
        .await?;
        index(
            manager,
            Orders::Table,
            "idx_orders_source_customer",
            &[Orders::SourceStore, Orders::Livemode, Orders::Customer],
        )
        .await?;
        carry_orders_forward(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The previous release knows neither status.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE marketplace_orders SET status = 'pending' \
                 WHERE status IN ('authorized', 'requires_action')",
            )
            .await?;
        for name in [
            "uq_orders_source_id",
            "idx_orders_source_customer",
            "idx_orders_store_id",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Orders::Table).to_owned())
                .await?;
        }
        unique(
            manager,
            Orders::Table,
            "uq_orders_store_id",
            &[Orders::StoreKey, Orders::Livemode, Orders::Id],
        )
        .await?;
        for column in new_order_columns() {
            let name = column.get_column_name();
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .drop_column(Alias::new(name))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Observations::Table).to_owned())
            .await
    }
}

async fn create_observations(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Observations as O;
    manager
        .create_table(
            Table::create()
                .table(O::Table)
                .col(big_pk_auto(O::Pk))
                .col(text(O::SourceStore))
                .col(boolean(O::Livemode))
                .col(text(O::Kind))
                .col(text(O::SourceId))
                .col(text_null(O::OrderId))
                .col(text_null(O::TransferGroup))
                .col(big_integer(O::Version))
                .col(big_integer(O::Progress))
                .col(text(O::VersionEvent))
                .col(text(O::EventType))
                .col(text_null(O::ApiVersion))
                .col(json_binary(O::Object))
                .col(timestamp_with_time_zone(O::CreatedAt))
                .col(timestamp_with_time_zone(O::UpdatedAt))
                .to_owned(),
        )
        .await?;
    unique(
        manager,
        O::Table,
        "uq_observations_source",
        &[O::SourceStore, O::Livemode, O::Kind, O::SourceId],
    )
    .await?;
    index(
        manager,
        O::Table,
        "idx_observations_order",
        &[O::SourceStore, O::Livemode, O::OrderId],
    )
    .await?;
    index(
        manager,
        O::Table,
        "idx_observations_transfer_group",
        &[O::SourceStore, O::Livemode, O::TransferGroup],
    )
    .await
}

fn new_order_columns() -> Vec<ColumnDef> {
    use Orders as O;
    vec![
        text(O::SourceStore).default("").take(),
        big_integer(O::AmountCaptured).default(0).take(),
        text_null(O::DisputeStatus),
        big_integer(O::AmountDisputed).default(0).take(),
        big_integer(O::AmountLost).default(0).take(),
        big_integer_null(O::ApplicationFeeAmount),
        big_integer_null(O::TransferAmount),
        text_null(O::TransferDestination),
    ]
}

async fn add_order_columns(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    // SQLite adds one column per ALTER TABLE.
    for mut column in new_order_columns() {
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
    }
    // What was paid of an order already completed or refunded is its amount.
    manager
        .get_connection()
        .execute_unprepared(
            "UPDATE marketplace_orders SET amount_captured = amount \
             WHERE status IN ('completed', 'partially_refunded', 'refunded')",
        )
        .await?;
    Ok(())
}

/// Payment events that came without `account` (destination and `on_behalf_of` charges)
/// used to be keyed by their seller, and their orders filed under it; they now belong to
/// the platform's actor, with the order still naming the seller. An order whose events are
/// gone from the log (retention) cannot be told apart and stays where it was.
async fn file_platform_payments_under_the_platform(
    manager: &SchemaManager<'_>,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared("UPDATE marketplace_orders SET source_store = store_key")
        .await?;
    db.execute_unprepared(
        "UPDATE marketplace_orders SET source_store = 'platform' \
         WHERE store_key <> 'platform' AND EXISTS (\
             SELECT 1 FROM stripe_webhook_events e \
             WHERE e.account IS NULL AND e.store_key = marketplace_orders.store_key \
             AND e.livemode = marketplace_orders.livemode \
             AND (e.object_id = marketplace_orders.id OR e.object_id = marketplace_orders.charge))",
    )
    .await?;
    db.execute_unprepared(
        "UPDATE stripe_webhook_events SET store_key = 'platform' \
         WHERE account IS NULL AND store_key <> 'platform'",
    )
    .await?;
    Ok(())
}

/// Writes one `legacy` observation per existing order, a page of rows at a time.
async fn carry_orders_forward(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let mut after = 0_i64;
    loop {
        let select = Query::select()
            .columns(LEGACY_COLUMNS.iter().map(|name| Alias::new(*name)))
            .from(Orders::Table)
            .and_where(Expr::col(Orders::Pk).gt(after))
            .order_by(Orders::Pk, Order::Asc)
            .limit(BATCH)
            .to_owned();
        let rows = db.query_all(&select).await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.try_get("", "pk")?;
        let mut insert = Query::insert()
            .into_table(Observations::Table)
            .columns([
                Observations::SourceStore,
                Observations::Livemode,
                Observations::Kind,
                Observations::SourceId,
                Observations::OrderId,
                Observations::Version,
                Observations::Progress,
                Observations::VersionEvent,
                Observations::EventType,
                Observations::Object,
                Observations::CreatedAt,
                Observations::UpdatedAt,
            ])
            .to_owned();
        for row in &rows {
            let id: String = row.try_get("", "id")?;
            insert.values_panic([
                row.try_get::<String>("", "source_store")?.into(),
                row.try_get::<bool>("", "livemode")?.into(),
                "legacy".into(),
                id.clone().into(),
                id.into(),
                0_i64.into(),
                0_i64.into(),
                "".into(),
                "".into(),
                legacy_object(row)?.into(),
                Expr::current_timestamp(),
                Expr::current_timestamp(),
            ]);
        }
        db.execute(&insert).await?;
        if (rows.len() as u64) < BATCH {
            return Ok(());
        }
    }
}

/// The order columns a `legacy` observation keeps.
const LEGACY_COLUMNS: &[&str] = &[
    "pk",
    "source_store",
    "livemode",
    "id",
    "payment_intent",
    "charge",
    "customer",
    "amount",
    "amount_refunded",
    "currency",
    "status",
    "items",
    "receipt_url",
    "failure_code",
    "failure_message",
    "created",
];

/// An order row as the JSON object its `legacy` observation holds.
fn legacy_object(row: &sea_orm_migration::sea_orm::QueryResult) -> Result<Value, DbErr> {
    let text = |name: &str| row.try_get::<Option<String>>("", name);
    let number = |name: &str| row.try_get::<Option<i64>>("", name);
    Ok(json!({
        "object": "legacy",
        "id": row.try_get::<String>("", "id")?,
        "payment_intent": text("payment_intent")?,
        "charge": text("charge")?,
        "customer": text("customer")?,
        "amount": number("amount")?,
        "amount_refunded": number("amount_refunded")?,
        "currency": text("currency")?,
        "status": text("status")?,
        "items": row.try_get::<Option<Value>>("", "items")?,
        "receipt_url": text("receipt_url")?,
        "failure_code": text("failure_code")?,
        "failure_message": text("failure_message")?,
        "created": number("created")?,
    }))
}

#[derive(DeriveIden, Clone, Copy)]
enum Observations {
    #[sea_orm(iden = "order_observations")]
    Table,
    Pk,
    SourceStore,
    Livemode,
    Kind,
    SourceId,
    OrderId,
    TransferGroup,
    Version,
    Progress,
    VersionEvent,
    EventType,
    ApiVersion,
    Object,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Orders {
    #[sea_orm(iden = "marketplace_orders")]
    Table,
    Pk,
    StoreKey,
    SourceStore,
    Livemode,
    Id,
    Customer,
    AmountCaptured,
    DisputeStatus,
    AmountDisputed,
    AmountLost,
    ApplicationFeeAmount,
    TransferAmount,
    TransferDestination,
}
