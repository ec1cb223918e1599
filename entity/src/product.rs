//! `marketplace_products`: a store's catalogue. The default price lives in
//! `marketplace_prices` and is resolved when read.

use sea_orm::entity::prelude::*;

/// A product of one store.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "marketplace_products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub pk: i64,
    pub store_key: String,
    pub livemode: bool,
    /// Stripe's `prod_` id (or a custom id, unique only within the store).
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub images: Option<Json>,
    pub active: bool,
    /// `metadata.category`.
    pub category: Option<String>,
    /// The `price_` id of the default price.
    pub default_price: Option<String>,
    pub metadata: Option<Json>,
    /// Stripe's `created` (Unix seconds).
    pub created: Option<i64>,
    pub deleted_at: Option<DateTimeUtc>,
    pub version: i64,
    pub version_event: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
