//! The order of a payment, derived from the latest snapshots of its objects.
//!
//! A pure function of the set of snapshots: whatever the order in which they arrived, and
//! however often, the same snapshots give the same order. Values may go down when Stripe
//! says so (a refund that failed, a dispute that was won), which a merge of events could
//! not allow.

use serde_json::Value;

use super::items::{self, Item};
use super::observe::{Snapshot, SourceKind, last_embedded_charge};
use super::{Order, OrderStatus};
use crate::stripe::envelope::PLATFORM_STORE;
use crate::stripe::object::{bool_field, expandable_id, i64_field, str_at, str_field};

/// The snapshots of one payment, and the transfers linked to it only by its transfer group.
pub struct Payment<'a> {
    /// The order id: the PaymentIntent id, else the charge id.
    pub id: &'a str,
    /// The store whose events carry the payment.
    pub source_store: &'a str,
    pub snapshots: &'a [Snapshot],
    pub group_transfers: &'a [Snapshot],
}

impl Payment<'_> {
    fn of_kind(&self, kind: SourceKind) -> impl Iterator<Item = &Snapshot> {
        self.snapshots.iter().filter(move |s| s.kind == kind)
    }

    /// The PaymentIntent (the one with the smallest id, should a payment show two).
    fn intent(&self) -> Option<&Value> {
        let intent = self
            .of_kind(SourceKind::PaymentIntent)
            .min_by_key(|s| &s.id);
        intent.map(|snapshot| &snapshot.object)
    }

    fn legacy(&self) -> Option<&Value> {
        let legacy = self.of_kind(SourceKind::Legacy).min_by_key(|s| &s.id);
        legacy.map(|snapshot| &snapshot.object)
    }

    /// The Checkout Session, when it is all that is known of the payment: a session not
    /// paid yet (Stripe makes the PaymentIntent when the customer pays), or one whose
    /// payment objects have not arrived.
    fn session_alone(
        &self,
        intent: Option<&Value>,
        charge: Option<&Value>,
        legacy: Option<&Value>,
    ) -> Option<&Snapshot> {
        if intent.is_some() || charge.is_some() || legacy.is_some() {
            return None;
        }
        self.of_kind(SourceKind::CheckoutSession)
            .max_by_key(|s| &s.id)
    }

    fn session(&self) -> Option<&Value> {
        let session = self
            .of_kind(SourceKind::CheckoutSession)
            .max_by_key(|s| &s.id);
        session.map(|snapshot| &snapshot.object)
    }

    /// The charge that decides the payment: a succeeded one (the PaymentIntent's latest
    /// charge first: a PaymentIntent snapshot older than its charges may still name a
    /// failed attempt), else the PaymentIntent's latest charge, else the newest attempt.
    fn charge(&self) -> Option<&Snapshot> {
        let latest = self.intent().and_then(|intent| {
            expandable_id(intent, "latest_charge").or_else(|| last_embedded_charge(intent))
        });
        let charges: Vec<&Snapshot> = self.of_kind(SourceKind::Charge).collect();
        let newest = |succeeded: bool| {
            charges
                .iter()
                .filter(|c| !succeeded || is_succeeded(&c.object))
                .max_by_key(|c| {
                    (
                        latest.as_deref() == Some(c.id.as_str()),
                        i64_field(&c.object, "created"),
                        &c.id,
                    )
                })
                .copied()
        };
        newest(true).or_else(|| newest(false))
    }

    /// The transfers to the seller: those naming one of the payment's charges, and those
    /// linked by its transfer group.
    fn transfers(&self) -> impl Iterator<Item = &Value> {
        self.of_kind(SourceKind::Transfer)
            .chain(self.group_transfers)
            .map(|s| &s.object)
    }
}

/// The largest amount taken as is; larger (and negative) values are held to the range, so
/// that no sum of them can overflow.
const AMOUNT_MAX: i64 = 1_000_000_000_000_000;

/// An amount field, held to `0..=AMOUNT_MAX`.
fn amount(object: &Value, key: &str) -> Option<i64> {
    i64_field(object, key).map(|value| value.clamp(0, AMOUNT_MAX))
}

fn sum(amounts: impl Iterator<Item = i64>) -> i64 {
    amounts.fold(0, i64::saturating_add)
}

fn is_succeeded(object: &Value) -> bool {
    str_field(object, "status").as_deref() == Some("succeeded")
}

/// The order of `payment`.
pub fn derive(payment: &Payment<'_>) -> Order {
    let intent = payment.intent();
    let charge_snapshot = payment.charge();
    let charge = charge_snapshot.map(|snapshot| &snapshot.object);
    let legacy = payment.legacy();
    let session = payment.session_alone(intent, charge, legacy);
    let money = Money::of(payment, intent, charge_snapshot, legacy, session);
    let status = match session {
        Some(session) => session_status(session, &money),
        None => status(intent, charge_snapshot, legacy, &money),
    };
    let (failure_code, failure_message) = failure(intent, charge, status);
    let dispute = Dispute::of(payment);
    let transfer = Transfer::of(payment, intent, charge, money.captured);
    // The amount asked for and its currency follow the PaymentIntent, which can change
    // both until it is paid; a charge is one attempt at it.
    let priced = intent.or(charge).or(legacy);
    let session_object = payment.session();
    Order {
        id: payment.id.to_owned(),
        seller: seller(payment, intent, charge, &transfer),
        payment_intent: intent
            .and_then(|i| str_field(i, "id"))
            .or_else(|| charge.and_then(|c| expandable_id(c, "payment_intent")))
            .or_else(|| legacy.and_then(|l| str_field(l, "payment_intent"))),
        charge: charge
            .and_then(|c| str_field(c, "id"))
            .or_else(|| intent.and_then(|i| expandable_id(i, "latest_charge")))
            .or_else(|| intent.and_then(last_embedded_charge))
            .or_else(|| legacy.and_then(|l| str_field(l, "charge"))),
        customer: [intent, charge, payment.session(), legacy]
            .into_iter()
            .flatten()
            .find_map(|object| expandable_id(object, "customer")),
        amount: priced
            .and_then(|o| amount(o, "amount"))
            .or_else(|| session_object.and_then(|s| amount(s, "amount_total")))
            .unwrap_or(0),
        amount_captured: money.captured,
        amount_refunded: money.refunded,
        currency: priced
            .or(session_object)
            .and_then(|o| str_field(o, "currency")),
        status,
        dispute_status: dispute.status,
        amount_disputed: dispute.amount,
        amount_lost: dispute.lost,
        items: line_items(payment, intent, charge, legacy),
        receipt_url: charge
            .and_then(|c| str_field(c, "receipt_url"))
            .or_else(|| legacy.and_then(|l| str_field(l, "receipt_url"))),
        failure_code,
        failure_message,
        application_fee_amount: [charge, intent]
            .into_iter()
            .flatten()
            .find_map(|object| amount(object, "application_fee_amount")),
        transfer_amount: transfer.amount,
        transfer_destination: transfer.destination,
        created: [intent, charge, legacy, session_object]
            .into_iter()
            .flatten()
            .filter_map(|object| i64_field(object, "created"))
            .min(),
    }
}

/// Authorized, captured and refunded amounts.
struct Money {
    /// Authorized and neither captured, released nor expired.
    authorized: bool,
    captured: i64,
    refunded: i64,
}

impl Money {
    fn of(
        payment: &Payment<'_>,
        intent: Option<&Value>,
        charge: Option<&Snapshot>,
        legacy: Option<&Value>,
        session: Option<&Snapshot>,
    ) -> Self {
        let captured = match session {
            Some(session) => session_paid(&session.object),
            None => captured(intent, charge.map(|c| &c.object), legacy),
        };
        let refunded = match charge {
            Some(charge) => refunded(payment, charge),
            // A PaymentIntent (or an order carried forward) without its charge: the refund
            // objects known, or what the old row counted.
            None => legacy
                .and_then(|l| amount(l, "amount_refunded"))
                .unwrap_or(0)
                .max(sum(active_refunds(payment))),
        };
        let charge_authorized = charge.is_some_and(|c| {
            is_succeeded(&c.object)
                && bool_field(&c.object, "captured") == Some(false)
                && !is_released(c)
        });
        let intent_authorized =
            intent.is_some_and(|i| str_field(i, "status").as_deref() == Some("requires_capture"));
        Self {
            authorized: captured == 0 && (charge_authorized || intent_authorized),
            captured,
            refunded: refunded.clamp(0, captured.max(0)),
        }
    }
}

/// Whether an uncaptured charge's authorization was released or expired: older API
/// versions refund it in full; from 2025-03-31 only the `charge.expired` event says so.
fn is_released(charge: &Snapshot) -> bool {
    bool_field(&charge.object, "captured") == Some(false)
        && (charge.event_type == "charge.expired"
            || bool_field(&charge.object, "refunded") == Some(true)
            || amount(&charge.object, "amount_refunded").unwrap_or(0) > 0)
}

/// What was refunded to the customer: the larger of what the charge counts and what the
/// known refund objects add up to, since either can lag (Stripe sends no event when a
/// refund is created from 2022-11-15 on, only `charge.refunded`; and a charge snapshot
/// can predate a refund's failure).
///
/// On API versions before 2025-03-31 a partial capture refunds the uncaptured rest: the
/// charge counts it, and a Refund object of that amount may be known. Neither is a refund
/// to the customer, so both views leave it out.
fn refunded(payment: &Payment<'_>, charge: &Snapshot) -> i64 {
    let rest = if charge.refunds_uncaptured_rest() {
        uncaptured_rest(&charge.object)
    } else {
        0
    };
    let refunds: Vec<&Snapshot> = payment.of_kind(SourceKind::Refund).collect();
    // Refunds that failed or were canceled after the charge snapshot was taken still
    // count in its total. Versions of different objects compare by time alone: within one
    // second the charge is taken to be the later (a failure comes days after a refund).
    let undone_since = sum(refunds
        .iter()
        .filter(|r| !counts(&r.object) && r.version.created > charge.version.created)
        .filter_map(|r| amount(&r.object, "amount")));
    let charge_view = amount(&charge.object, "amount_refunded").unwrap_or(0) - rest - undone_since;
    let mut active: Vec<i64> = active_refunds(payment).collect();
    if rest > 0
        && let Some(index) = active.iter().position(|amount| *amount == rest)
    {
        active.remove(index);
    }
    charge_view.max(sum(active.into_iter()))
}

/// The amounts of the refunds that count.
fn active_refunds<'a>(payment: &'a Payment<'_>) -> impl Iterator<Item = i64> + 'a {
    payment
        .of_kind(SourceKind::Refund)
        .filter(|r| counts(&r.object))
        .filter_map(|r| amount(&r.object, "amount"))
}

/// Whether a refund counts: succeeded, pending, or waiting for the customer; failed and
/// canceled refunds gave the money back to the seller.
fn counts(refund: &Value) -> bool {
    matches!(
        str_field(refund, "status").as_deref(),
        Some("succeeded" | "pending" | "requires_action") | None
    )
}

/// What was captured: the charge's `amount_captured` (its `amount` on API versions
/// without that field), else what the PaymentIntent received.
fn captured(intent: Option<&Value>, charge: Option<&Value>, legacy: Option<&Value>) -> i64 {
    if let Some(charge) = charge {
        let succeeded = str_field(charge, "status").as_deref() == Some("succeeded");
        // Charges before capture existed as an option have no `captured` field.
        if succeeded && bool_field(charge, "captured") != Some(false) {
            return amount(charge, "amount_captured")
                .or_else(|| amount(charge, "amount"))
                .unwrap_or(0);
        }
    }
    if let Some(received) = intent.and_then(|i| amount(i, "amount_received"))
        && received > 0
    {
        return received;
    }
    let paid_legacy = legacy.is_some_and(|l| {
        matches!(
            str_field(l, "status").as_deref(),
            Some("completed" | "partially_refunded" | "refunded")
        )
    });
    if paid_legacy && intent.is_none() && charge.is_none() {
        return legacy.and_then(|l| amount(l, "amount")).unwrap_or(0);
    }
    0
}

/// The uncaptured rest of a partially captured charge.
fn uncaptured_rest(charge: &Value) -> i64 {
    if bool_field(charge, "captured") != Some(true) {
        return 0;
    }
    match (amount(charge, "amount"), amount(charge, "amount_captured")) {
        (Some(amount), Some(captured)) => (amount - captured).max(0),
        _ => 0,
    }
}

fn status(
    intent: Option<&Value>,
    charge_snapshot: Option<&Snapshot>,
    legacy: Option<&Value>,
    money: &Money,
) -> OrderStatus {
    let charge = charge_snapshot.map(|snapshot| &snapshot.object);
    if money.captured > 0 {
        return if money.refunded >= money.captured {
            OrderStatus::Refunded
        } else if money.refunded > 0 {
            OrderStatus::PartiallyRefunded
        } else {
            OrderStatus::Completed
        };
    }
    let intent_status = intent.and_then(|i| str_field(i, "status"));
    if intent_status.as_deref() == Some("canceled") {
        return OrderStatus::Canceled;
    }
    if money.authorized {
        return OrderStatus::Authorized;
    }
    let charge_status = charge.and_then(|c| str_field(c, "status"));
    // An authorization that expired or was released.
    let released = charge_snapshot.is_some_and(|c| is_succeeded(&c.object) && is_released(c));
    match intent_status.as_deref() {
        Some("requires_action") => return OrderStatus::RequiresAction,
        Some("requires_payment_method") if has_error(intent) => return OrderStatus::Failed,
        Some("processing") => return OrderStatus::Pending,
        _ => {}
    }
    if released {
        return OrderStatus::Canceled;
    }
    if charge_status.as_deref() == Some("failed") && intent.is_none() {
        return OrderStatus::Failed;
    }
    if intent.is_none()
        && charge.is_none()
        && let Some(status) = legacy.and_then(|l| str_field(l, "status"))
    {
        return OrderStatus::parse(&status).unwrap_or(OrderStatus::Pending);
    }
    OrderStatus::Pending
}

/// What a session alone says was paid: its total, once `payment_status` is `paid`.
fn session_paid(session: &Value) -> i64 {
    match str_field(session, "payment_status").as_deref() {
        Some("paid") => amount(session, "amount_total").unwrap_or(0),
        _ => 0,
    }
}

/// The status of a payment known only by its Checkout Session.
fn session_status(session: &Snapshot, money: &Money) -> OrderStatus {
    // A free session (`no_payment_required`) is completed without a payment.
    let field = |key| str_field(&session.object, key);
    let free = field("payment_status").as_deref() == Some("no_payment_required");
    if money.captured > 0 || (free && field("status").as_deref() == Some("complete")) {
        return OrderStatus::Completed;
    }
    if session.event_type == "checkout.session.async_payment_failed" {
        return OrderStatus::Failed;
    }
    match str_field(&session.object, "status").as_deref() {
        Some("expired") => OrderStatus::Canceled,
        _ => OrderStatus::Pending,
    }
}

fn has_error(intent: Option<&Value>) -> bool {
    intent
        .and_then(|i| i.get("last_payment_error"))
        .is_some_and(|error| !error.is_null())
}

/// Failure code and message, from one failure: the PaymentIntent's `last_payment_error`
/// (which Stripe clears when a later attempt succeeds), else a failed charge's. None once
/// the payment went through.
fn failure(
    intent: Option<&Value>,
    charge: Option<&Value>,
    status: OrderStatus,
) -> (Option<String>, Option<String>) {
    if !matches!(
        status,
        OrderStatus::Failed | OrderStatus::Pending | OrderStatus::RequiresAction
    ) {
        return (None, None);
    }
    if let Some(intent) = intent {
        return (
            str_at(intent, "/last_payment_error/code"),
            str_at(intent, "/last_payment_error/message"),
        );
    }
    match charge {
        Some(charge) if str_field(charge, "status").as_deref() == Some("failed") => (
            str_field(charge, "failure_code"),
            str_field(charge, "failure_message"),
        ),
        _ => (None, None),
    }
}

/// The state of the payment's disputes.
#[derive(Default)]
struct Dispute {
    status: Option<String>,
    amount: i64,
    lost: i64,
}

impl Dispute {
    fn of(payment: &Payment<'_>) -> Self {
        let disputes: Vec<&Value> = payment
            .of_kind(SourceKind::Dispute)
            .map(|s| &s.object)
            .collect();
        let latest = disputes
            .iter()
            .max_by_key(|d| (i64_field(d, "created"), str_field(d, "id")));
        let Some(latest) = latest else {
            return Self::default();
        };
        let lost = sum(disputes
            .iter()
            .filter(|d| str_field(d, "status").as_deref() == Some("lost"))
            .filter_map(|d| amount(d, "amount")));
        Self {
            status: str_field(latest, "status"),
            amount: amount(latest, "amount").unwrap_or(0),
            lost,
        }
    }
}

/// What goes to the seller of a marketplace charge.
#[derive(Default)]
struct Transfer {
    amount: Option<i64>,
    destination: Option<String>,
}

impl Transfer {
    /// The transfers made when they are known (less reversals), else what the charge's
    /// `transfer_data` promises: its `amount`, or for a destination charge without one,
    /// what was captured (else asked for) less the application fee.
    fn of(
        payment: &Payment<'_>,
        intent: Option<&Value>,
        charge: Option<&Value>,
        captured: i64,
    ) -> Self {
        let made: Vec<&Value> = payment.transfers().collect();
        if !made.is_empty() {
            let net = |t: &&Value| {
                amount(t, "amount").unwrap_or(0) - amount(t, "amount_reversed").unwrap_or(0)
            };
            // The seller of a cart split between sellers is the one who received most.
            let main = made
                .iter()
                .max_by_key(|t| (net(t), std::cmp::Reverse(expandable_id(t, "destination"))));
            return Self {
                amount: Some(sum(made.iter().map(net))),
                destination: main.and_then(|t| expandable_id(t, "destination")),
            };
        }
        let promised = [charge, intent]
            .into_iter()
            .flatten()
            .find(|o| o.get("transfer_data").is_some_and(|data| !data.is_null()));
        let Some(promised) = promised else {
            return Self::default();
        };
        let destination = promised
            .get("transfer_data")
            .and_then(|data| expandable_id(data, "destination"));
        let amount = promised
            .get("transfer_data")
            .and_then(|data| amount(data, "amount"))
            .or_else(|| {
                // What a partial capture took, once captured.
                let total = Some(captured)
                    .filter(|captured| *captured > 0)
                    .or_else(|| amount(promised, "amount"))?;
                Some(total - amount(promised, "application_fee_amount").unwrap_or(0))
            });
        Self {
            amount,
            destination,
        }
    }
}

/// The seller: the transfer destination, else the `on_behalf_of` account, else the store
/// whose events carry the payment.
fn seller(
    payment: &Payment<'_>,
    intent: Option<&Value>,
    charge: Option<&Value>,
    transfer: &Transfer,
) -> String {
    transfer
        .destination
        .clone()
        .or_else(|| {
            [charge, intent]
                .into_iter()
                .flatten()
                .find_map(|o| expandable_id(o, "on_behalf_of"))
        })
        .or_else(|| platform_session_seller(payment))
        .filter(|seller| !seller.is_empty())
        .unwrap_or_else(|| payment.source_store.to_owned())
}

/// The seller a platform's Checkout Session names in `metadata.seller_account`: a
/// destination charge's seller before its PaymentIntent (which names the destination) is
/// known. Only the platform's own sessions are trusted to name another store.
fn platform_session_seller(payment: &Payment<'_>) -> Option<String> {
    if payment.source_store != PLATFORM_STORE {
        return None;
    }
    let seller = payment
        .session()?
        .pointer("/metadata/seller_account")?
        .as_str()?;
    seller.starts_with("acct_").then(|| seller.to_owned())
}

/// The lines as paid: a Checkout Session's expanded `line_items`, else the `metadata.items`
/// of the session, the PaymentIntent or the charge, else what a legacy row held.
fn line_items(
    payment: &Payment<'_>,
    intent: Option<&Value>,
    charge: Option<&Value>,
    legacy: Option<&Value>,
) -> Option<Value> {
    let session = payment.session();
    let lines: Option<Vec<Item>> = session
        .and_then(items::from_line_items)
        .or_else(|| {
            [session, intent, charge]
                .into_iter()
                .flatten()
                .find_map(items::from_metadata)
        })
        .or_else(|| {
            legacy
                .and_then(|l| l.get("items"))
                .and_then(items::from_list)
        });
    lines.map(items::to_json)
}
