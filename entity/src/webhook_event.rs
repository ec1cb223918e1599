//! `stripe_webhook_events`: the inbox. One row per Stripe event id, holding the raw bytes
//! exactly as received; it doubles as the queue the account actors work from.

use sea_orm::entity::prelude::*;

/// A stored webhook delivery.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stripe_webhook_events")]
pub struct Model {
    /// Stripe's event id (`evt_...`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Event type, such as `charge.succeeded`.
    #[sea_orm(column_name = "type")]
    pub event_type: String,
    /// `event.account`: set on Connect events.
    pub account: Option<String>,
    /// The store the event belongs to (see `payments::stripe::envelope::store_key`).
    pub store_key: String,
    pub livemode: bool,
    pub api_version: Option<String>,
    /// `data.object.id`, when the object has one.
    pub object_id: Option<String>,
    /// The request body, byte for byte.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// `received`, `processed`, `skipped`, `ignored` or `failed`.
    pub status: crate::status::EventStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// Stripe's `created` (Unix seconds, one-second resolution).
    pub created: i64,
    /// When this service received and stored the event.
    pub created_at: DateTimeUtc,
    pub processed_at: Option<DateTimeUtc>,
    /// Deliveries of this id with a different body since the first (which is kept).
    pub body_conflicts: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
