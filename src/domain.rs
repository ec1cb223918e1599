//! What each event means for the marketplace rows: pure decisions, no database, no I/O.
//!
//! Every decision must give the same final rows whatever the order of the events and
//! however often each is applied (DESIGN.md, "Ordering and duplicates"):
//! - [`change_of`] reads an event and says which row it concerns ([`Change`]), or that the
//!   service does not handle it;
//! - [`version`]: the version guard of versioned objects (store, customer, product, price);
//! - [`stores`], [`customers`] and [`catalog`] (products and prices): the next row from the
//!   current one;
//! - [`orders`]: snapshots of a payment's objects, and the order derived from all of them;
//! - [`pages`]: the store's pages and payment settings, built from its rows;
//! - [`slugs`]: a shop's readable address, from the store's name;
//! - [`currency`]: how Stripe counts each currency's amounts.
//!
//! `crate::store` loads the rows these functions need and saves what they return.

pub mod catalog;
pub mod currency;
pub mod customers;
pub mod orders;
pub mod pages;
pub mod slugs;
pub mod stores;
pub mod version;

use entity::status::EventStatus;
use serde_json::Value;

use crate::stripe::{envelope, object};

/// The event log's reason for a thin (v2) notification: it names no object snapshot to
/// apply, and fetching the object from Stripe is not this service's way.
pub const THIN_EVENT_IGNORED: &str = "thin (v2) event notification: not handled; the service \
     needs a snapshot (v1) event destination";

/// The event being applied, as its actor read it from the inbox.
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    pub id: &'a str,
    pub event_type: &'a str,
    pub store_key: &'a str,
    pub livemode: bool,
    /// Stripe's `created` (Unix seconds).
    pub created: i64,
    /// The API version the payload is written in (the endpoint's), such as `2024-06-20`.
    pub api_version: Option<&'a str>,
    /// `data.object`.
    pub object: &'a Value,
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
    pub fn status(self) -> EventStatus {
        match self {
            Self::Processed => EventStatus::Processed,
            Self::Skipped => EventStatus::Skipped,
            Self::Ignored => EventStatus::Ignored,
        }
    }
}

/// Why an event cannot be applied. Retried by the actor, then dead-lettered.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("invalid {object} object: {reason}")]
    InvalidObject {
        object: &'static str,
        reason: String,
    },
}

/// The row an event concerns, and what it tells about it.
#[derive(Debug, Clone)]
pub enum Change {
    /// The store row of the event's store key.
    Account(stores::AccountChange),
    /// The customer with this id.
    Customer(String),
    /// The product with this id.
    Product(String),
    /// The price with this id.
    Price(String),
    /// Snapshots of the objects of a payment (never empty).
    Payment(Vec<orders::observe::Snapshot>),
}

impl Change {
    /// Whether applying this change can alter the store's pages (its account fields or
    /// its catalogue).
    pub fn touches_pages(&self) -> bool {
        matches!(self, Self::Account(_) | Self::Product(_) | Self::Price(_))
    }
}

/// Why a stored event cannot be applied whatever its type (it is then `ignored`, with
/// this reason in the event log): a thin (v2) notification carries no snapshot.
pub fn not_applicable(payload: &Value) -> Option<&'static str> {
    envelope::is_thin(payload).then_some(THIN_EVENT_IGNORED)
}

/// What `event` asks of the rows; `None` when the service does not handle it (an event
/// type outside the handled families, or one of them carrying another kind of object).
/// `previous` is the event's `data.previous_attributes`, which orders same-second account
/// updates (see [`stores`]).
pub fn change_of(
    event: &EventRef<'_>,
    previous: Option<&Value>,
) -> Result<Option<Change>, DomainError> {
    let family = event.event_type.split('.').next().unwrap_or_default();
    let change = match family {
        "account" => stores::change_of(event, previous).map(Change::Account),
        "customer" if object::is_kind(event.object, "customer") => {
            // The short form of a deleted customer has nothing else, so the id is all we
            // rely on.
            Some(Change::Customer(object_id(event.object, "customer")?))
        }
        "product" if object::is_kind(event.object, "product") => {
            Some(Change::Product(object_id(event.object, "product")?))
        }
        "price" if object::is_kind(event.object, "price") => {
            Some(Change::Price(object_id(event.object, "price")?))
        }
        "charge" | "payment_intent" | "refund" | "transfer" | "checkout" => {
            let snapshots = orders::observe::observe(event)?;
            (!snapshots.is_empty()).then_some(Change::Payment(snapshots))
        }
        _ => None,
    };
    Ok(change)
}

/// The object's `id`, which every handled object must have.
pub fn object_id(object: &Value, kind: &'static str) -> Result<String, DomainError> {
    object::str_field(object, "id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| DomainError::InvalidObject {
            object: kind,
            reason: "missing id".to_owned(),
        })
}
