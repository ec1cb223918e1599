//! `marketplace_prices`: prices of a store's products.

use sea_orm::entity::prelude::*;

/// A price of one store.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "marketplace_prices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub pk: i64,
    pub store_key: String,
    pub livemode: bool,
    /// Stripe's `price_` id.
    pub id: String,
    /// The `prod_` id the price belongs to.
    pub product: Option<String>,
    /// Smallest currency unit; `None` for tiered prices.
    pub unit_amount: Option<i64>,
    pub currency: Option<String>,
    /// `one_time` or `recurring`.
    #[sea_orm(column_name = "type")]
    pub price_type: Option<String>,
    pub recurring: Option<Json>,
    pub active: bool,
    pub metadata: Option<Json>,
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
