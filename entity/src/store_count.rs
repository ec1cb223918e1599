//! `marketplace_store_counts`: how many live products and customers, and how many orders,
//! each store has. Kept by the database's triggers (see migration
//! `m20261130_000005_maintained_summaries`); never written by the service.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "marketplace_store_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub store_key: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub livemode: bool,
    pub products: i64,
    pub customers: i64,
    pub orders: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
