//! `marketplace_customer_totals`: per customer and currency, how many of its orders were
//! paid and what they kept (captured less refunds and lost disputes). Kept by the
//! database's triggers (see migration `m20261130_000005_maintained_summaries`); never
//! written by the service.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "marketplace_customer_totals")]
pub struct Model {
    /// The store where the customer lives.
    #[sea_orm(primary_key, auto_increment = false)]
    pub source_store: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub livemode: bool,
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer: String,
    /// '' for paid orders whose currency is unknown: counted, in no total.
    #[sea_orm(primary_key, auto_increment = false)]
    pub currency: String,
    pub paid_orders: i64,
    pub kept: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
