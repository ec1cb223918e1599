//! `order_observations`: the latest known snapshot of each Stripe object an order is
//! derived from (PaymentIntent, charge, refund, dispute, transfer, Checkout Session).
//!
//! An order row is never merged field by field: it is recomputed from all observations of
//! its payment, so values can go down when Stripe says so (a failed refund, a won dispute).

use sea_orm::entity::prelude::*;

/// One Stripe object's latest snapshot, in the store whose events carry it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "order_observations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub pk: i64,
    /// The store key of the events that carry the object: where the payment, its customer
    /// and its catalogue live (`platform` for destination charges).
    pub source_store: String,
    pub livemode: bool,
    /// `payment_intent`, `charge`, `refund`, `dispute`, `transfer`, `checkout.session`, or
    /// `legacy` (an order row written before observations existed).
    pub kind: String,
    /// The object's Stripe id.
    pub source_id: String,
    /// The order it belongs to; `None` for a transfer linked only by its transfer group.
    pub order_id: Option<String>,
    /// The object's `transfer_group`, which links separate transfers to their payment.
    pub transfer_group: Option<String>,
    /// Version guard: Stripe's `created` of the event that carried this snapshot.
    pub version: i64,
    /// Tie-break within one second: how far the object's own lifecycle had advanced.
    pub progress: i64,
    /// Last tie-break: the event id.
    pub version_event: String,
    /// The type of the event that carried the snapshot.
    pub event_type: String,
    /// The API version the snapshot is written in.
    pub api_version: Option<String>,
    /// The object as Stripe sent it.
    pub object: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
