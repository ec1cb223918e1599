//! `marketplace_orders`: one order per payment, derived from the observations of its
//! Stripe objects (see [`crate::order_observation`]).

use sea_orm::entity::prelude::*;

/// An order of one store.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "marketplace_orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub pk: i64,
    /// The seller's store: the transfer destination or `on_behalf_of` account of a
    /// marketplace charge, else `source_store`.
    pub store_key: String,
    /// The store whose events carry the payment, where its customer and catalogue live.
    pub source_store: String,
    pub livemode: bool,
    /// The PaymentIntent id when the payment has one, else the charge id.
    pub id: String,
    pub payment_intent: Option<String>,
    pub charge: Option<String>,
    pub customer: Option<String>,
    /// The amount asked for (authorized), smallest currency unit.
    pub amount: i64,
    /// What was captured; 0 until the payment is captured.
    pub amount_captured: i64,
    /// Succeeded and pending refunds (failed and canceled ones do not count).
    pub amount_refunded: i64,
    pub currency: Option<String>,
    pub status: crate::status::OrderStatus,
    /// Stripe's status of the payment's latest dispute, if any.
    pub dispute_status: Option<String>,
    /// The amount under dispute.
    pub amount_disputed: i64,
    /// The amount of lost disputes: withdrawn for good.
    pub amount_lost: i64,
    /// The platform's fee on a marketplace charge.
    pub application_fee_amount: Option<i64>,
    /// What was (or will be) transferred to the seller, less reversals.
    pub transfer_amount: Option<i64>,
    /// The connected account that receives the transfer.
    pub transfer_destination: Option<String>,
    /// `[{"product", "price", "quantity", "unit_amount", "currency", "name"}]`, each line as
    /// paid; see `docs/API.md`.
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
