//! `marketplace_orders`: one order per payment, merged monotonically from charge and
//! PaymentIntent events.

use sea_orm::entity::prelude::*;

/// An order of one store.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "marketplace_orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub pk: i64,
    pub store_key: String,
    pub livemode: bool,
    /// The PaymentIntent id when the payment has one, else the charge id.
    pub id: String,
    pub payment_intent: Option<String>,
    pub charge: Option<String>,
    pub customer: Option<String>,
    /// Smallest currency unit.
    pub amount: i64,
    pub amount_refunded: i64,
    pub currency: Option<String>,
    /// `pending`, `failed`, `canceled`, `completed`, `partially_refunded` or `refunded`.
    pub status: crate::status::OrderStatus,
    /// `[{"product": "prod_...", "quantity": N}]`
    pub items: Option<Json>,
    pub receipt_url: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    /// Stripe's `created` of the payment (Unix seconds).
    pub created: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
