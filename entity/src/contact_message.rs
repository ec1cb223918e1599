//! `marketplace_contact_messages`: what shoppers wrote to a store through its Contact page.

use sea_orm::entity::prelude::*;

/// A message sent with a storefront's contact form.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "marketplace_contact_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The store key: the connected account id.
    pub store_key: String,
    pub livemode: bool,
    /// The sender's name, e-mail and message, trimmed as validated.
    pub name: String,
    pub email: String,
    pub message: String,
    /// A keyed hash of the sender's IP address (to spot one source of many messages); the
    /// address itself is never stored.
    pub remote_hash: Option<String>,
    /// When the message was received.
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
