//! `marketplace_customers`: a store's customers; deletions leave a tombstone.

use sea_orm::entity::prelude::*;

/// A customer of one store.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "marketplace_customers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub pk: i64,
    pub store_key: String,
    pub livemode: bool,
    /// Stripe's `cus_` id.
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<Json>,
    pub shipping: Option<Json>,
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
