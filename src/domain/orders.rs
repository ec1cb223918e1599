//! Payment events (`charge.*`, `payment_intent.*`, `refund.*`, `charge.dispute.*`,
//! `transfer.*`, `checkout.session.*`): the `marketplace_orders` rows.
//!
//! One order per payment, keyed by the PaymentIntent id (or the charge id of a charge
//! without one). Each event gives [`observe::Snapshot`]s of the Stripe objects it carries;
//! the latest snapshot of every object of a payment is kept, and the order is derived from
//! all of them by [`derive::derive`], a pure function of that set. The row is then the same
//! for any delivery order and any number of duplicates, and amounts can go down when
//! Stripe says so (a failed refund, a won dispute).

pub mod derive;
pub mod items;
pub mod observe;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use entity::order;
pub use entity::status::OrderStatus;
use serde_json::Value;

/// An order's fields, as derived from its payment's snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// The PaymentIntent id when there is one, else the charge id.
    pub id: String,
    /// The seller's store key.
    pub seller: String,
    pub payment_intent: Option<String>,
    pub charge: Option<String>,
    pub customer: Option<String>,
    /// Asked for (authorized).
    pub amount: i64,
    pub amount_captured: i64,
    /// Succeeded and pending refunds, at most the captured amount.
    pub amount_refunded: i64,
    pub currency: Option<String>,
    pub status: OrderStatus,
    pub dispute_status: Option<String>,
    pub amount_disputed: i64,
    pub amount_lost: i64,
    /// See [`items`].
    pub items: Option<Value>,
    pub receipt_url: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub application_fee_amount: Option<i64>,
    pub transfer_amount: Option<i64>,
    pub transfer_destination: Option<String>,
    pub created: Option<i64>,
}

impl Order {
    /// Writes the order's fields into its row.
    pub fn write(self, row: &mut order::Model) {
        row.store_key = self.seller;
        row.payment_intent = self.payment_intent;
        row.charge = self.charge;
        row.customer = self.customer;
        row.amount = self.amount;
        row.amount_captured = self.amount_captured;
        row.amount_refunded = self.amount_refunded;
        row.currency = self.currency;
        row.status = self.status;
        row.dispute_status = self.dispute_status;
        row.amount_disputed = self.amount_disputed;
        row.amount_lost = self.amount_lost;
        row.items = self.items;
        row.receipt_url = self.receipt_url;
        row.failure_code = self.failure_code;
        row.failure_message = self.failure_message;
        row.application_fee_amount = self.application_fee_amount;
        row.transfer_amount = self.transfer_amount;
        row.transfer_destination = self.transfer_destination;
        row.created = self.created;
    }
}

/// An order row holding only its key: the start of every new row.
pub fn blank(source_store: &str, livemode: bool, id: &str, now: DateTime<Utc>) -> order::Model {
    order::Model {
        pk: 0,
        store_key: source_store.to_owned(),
        source_store: source_store.to_owned(),
        livemode,
        id: id.to_owned(),
        payment_intent: None,
        charge: None,
        customer: None,
        amount: 0,
        amount_captured: 0,
        amount_refunded: 0,
        currency: None,
        status: OrderStatus::Pending,
        dispute_status: None,
        amount_disputed: 0,
        amount_lost: 0,
        items: None,
        receipt_url: None,
        failure_code: None,
        failure_message: None,
        application_fee_amount: None,
        transfer_amount: None,
        transfer_destination: None,
        created: None,
        created_at: now,
        updated_at: now,
    }
}
