//! Writing the messages of the storefronts' contact forms (`marketplace_contact_messages`);
//! the console and the admin API read them through `admin::contact_messages`.

use chrono::Utc;
use entity::contact_message;
use sea_orm::{ActiveValue::NotSet, ConnectionTrait, DbErr, EntityTrait, Set};

/// A message as the form validated it.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub store_key: String,
    pub livemode: bool,
    pub name: String,
    pub email: String,
    pub message: String,
    /// A keyed hash of the sender's address, never the address.
    pub remote_hash: Option<String>,
}

/// Stores `message`, received now.
pub async fn insert(db: &impl ConnectionTrait, message: NewMessage) -> Result<(), DbErr> {
    let row = contact_message::ActiveModel {
        id: NotSet,
        store_key: Set(message.store_key),
        livemode: Set(message.livemode),
        name: Set(message.name),
        email: Set(message.email),
        message: Set(message.message),
        remote_hash: Set(message.remote_hash),
        created_at: Set(Utc::now()),
    };
    contact_message::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}
