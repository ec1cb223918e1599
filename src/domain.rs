//! What each event does to the marketplace rows.
//!
//! Every handler runs inside the caller's transaction (the apply transaction of the
//! store's actor) and must give the same final rows whatever the order of the events and
//! however often each is applied (DESIGN.md, "Ordering and duplicates"):
//! - [`version`]: the version guard of versioned objects (store, customer, product, price);
//! - [`stores`]: `account.*` events and stub stores;
//! - [`customers`], [`catalog`] (products and prices), [`orders`] (charges and
//!   PaymentIntents, merged monotonically);
//! - [`pages`]: the store's pages and payment settings, rebuilt from the current rows.

pub mod catalog;
pub mod customers;
pub mod orders;
pub mod pages;
pub mod stores;
pub mod version;

use sea_orm::{ConnectionTrait, DbErr};
use serde_json::Value;

/// The event being applied, as its actor read it from the inbox.
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    pub id: &'a str,
    pub event_type: &'a str,
    pub store_key: &'a str,
    pub livemode: bool,
    /// Stripe's `created` (Unix seconds).
    pub created: i64,
    /// `data.object`.
    pub object: &'a Value,
    /// The store row exists: the caller ensured it earlier in this transaction.
    pub store_known: bool,
}

/// What applying an event did; becomes the event row's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The rows now reflect the event.
    Processed,
    /// The rows already held newer data; nothing changed.
    Skipped,
    /// The service does not handle this event type.
    Ignored,
}

impl Outcome {
    /// The event status this outcome is recorded as.
    pub fn status(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Skipped => "skipped",
            Self::Ignored => "ignored",
        }
    }
}

/// Why an event could not be applied. Retried by the actor, then dead-lettered.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("invalid {object} object: {reason}")]
    InvalidObject {
        object: &'static str,
        reason: String,
    },
}

/// Applies one event to the rows of its store.
pub async fn apply(
    db: &impl ConnectionTrait,
    event: &EventRef<'_>,
) -> Result<Outcome, DomainError> {
    let family = event.event_type.split('.').next().unwrap_or_default();
    let outcome = match family {
        "account" => stores::apply(db, event).await?,
        "customer" => customers::apply(db, event).await?,
        "product" | "price" => catalog::apply(db, event).await?,
        "charge" | "payment_intent" => orders::apply(db, event).await?,
        _ => return Ok(Outcome::Ignored),
    };
    Ok(outcome)
}
