//! What one event tells about a payment: a [`Snapshot`] of each Stripe object it carries.
//!
//! An order is derived from the latest snapshot of every object of its payment
//! (PaymentIntent, charges, refunds, disputes, transfers, Checkout Session). Each object has
//! its own version, so a later snapshot of one object replaces only that object's
//! earlier one; see [`SnapshotVersion`] for how "later" is decided.

use serde_json::Value;

use super::super::{DomainError, EventRef, object_id};
use crate::stripe::object::{bool_field, expandable_id, i64_field, str_field};

/// The kinds of Stripe object an order is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    PaymentIntent,
    Charge,
    Refund,
    Dispute,
    Transfer,
    CheckoutSession,
    /// An order row written before observations existed, carried forward by a migration.
    Legacy,
}

impl SourceKind {
    pub const ALL: [Self; 7] = [
        Self::PaymentIntent,
        Self::Charge,
        Self::Refund,
        Self::Dispute,
        Self::Transfer,
        Self::CheckoutSession,
        Self::Legacy,
    ];

    /// Stripe's `object` value (and the stored `kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PaymentIntent => "payment_intent",
            Self::Charge => "charge",
            Self::Refund => "refund",
            Self::Dispute => "dispute",
            Self::Transfer => "transfer",
            Self::CheckoutSession => "checkout.session",
            Self::Legacy => "legacy",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// The kind an event's object is: its `object` field, else what the event type says
    /// (`charge.dispute.created` carries a dispute, `charge.refund.updated` a refund).
    fn of_event(event: &EventRef<'_>) -> Option<Self> {
        if let Some(declared) = event.object.get("object").and_then(Value::as_str) {
            return Self::parse(declared).filter(|kind| *kind != Self::Legacy);
        }
        let prefixes = [
            ("charge.dispute.", Self::Dispute),
            ("charge.refund.", Self::Refund),
            ("refund.", Self::Refund),
            ("charge.", Self::Charge),
            ("payment_intent.", Self::PaymentIntent),
            ("transfer.", Self::Transfer),
            ("checkout.session.", Self::CheckoutSession),
        ];
        prefixes
            .into_iter()
            .find(|(prefix, _)| event.event_type.starts_with(prefix))
            .map(|(_, kind)| kind)
    }
}

/// Where a snapshot stands among the snapshots of the same object: ordered by the event's
/// `created`, then by how far the object's lifecycle had advanced (`progress`), then by
/// event id, so two different events never compare equal.
///
/// `created` has one-second resolution and Stripe often sends several events about one
/// object within a second (`charge.succeeded` and `charge.captured`, two partial refunds).
/// Within a second the object that has moved further along its lifecycle is the later one:
/// a charge's status, capture and refunded amount, a refund's or dispute's status only
/// move forward. What stays undecidable is two same-second snapshots at the same progress
/// (say, two metadata edits): the event id decides, which is arbitrary but the same for
/// every delivery order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SnapshotVersion {
    pub created: i64,
    pub progress: i64,
    pub event_id: String,
}

/// The latest known state of one Stripe object of a payment.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub kind: SourceKind,
    pub id: String,
    pub version: SnapshotVersion,
    /// The type of the event that carried it: `charge.expired` says what the charge
    /// alone does not on newer API versions.
    pub event_type: String,
    /// The API version the object is written in.
    pub api_version: Option<String>,
    pub object: Value,
}

/// The snapshots `event` carries: its object's, and those of the charges and refunds that
/// older API versions embed in it (`charges.data` of a PaymentIntent before 2022-11-15,
/// `refunds.data` of a charge). Empty when the event is not about a payment object.
pub fn observe(event: &EventRef<'_>) -> Result<Vec<Snapshot>, DomainError> {
    let Some(kind) = SourceKind::of_event(event) else {
        return Ok(Vec::new());
    };
    let main = Snapshot::new(kind, event.object, event)?;
    if kind == SourceKind::CheckoutSession && !is_sale(&main.object) {
        // A setup session saves a card and a subscription's are paid through invoices:
        // neither is an order of its own.
        return Ok(Vec::new());
    }
    let embedded = match kind {
        SourceKind::PaymentIntent => embedded(event, &main.id, "charges", SourceKind::Charge),
        SourceKind::Charge => embedded(event, &main.id, "refunds", SourceKind::Refund),
        _ => Vec::new(),
    };
    let mut snapshots = vec![main];
    snapshots.extend(embedded);
    Ok(snapshots)
}

/// Whether a Checkout Session sells something at once (`mode=payment`). Until it has a
/// PaymentIntent (Stripe makes one when the customer pays) it is an order of its own, keyed
/// by the session: pending while open, canceled once expired.
fn is_sale(session: &Value) -> bool {
    session
        .get("mode")
        .and_then(Value::as_str)
        .is_none_or(|mode| mode == "payment")
}

/// The most objects read from one embedded list: Stripe embeds one page of at most 10.
/// A larger list is not Stripe's, and must not turn one event into unbounded work.
const EMBEDDED_MAX: usize = 10;

/// The objects of an embedded list (`{"data": [...]}`) that have an id and belong to the
/// parent object `parent`.
fn embedded(event: &EventRef<'_>, parent: &str, field: &str, kind: SourceKind) -> Vec<Snapshot> {
    let list = event
        .object
        .get(field)
        .and_then(|list| list.get("data"))
        .and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .take(EMBEDDED_MAX)
        .filter(|object| object.is_object())
        .filter_map(|object| Snapshot::new(kind, object, event).ok())
        .filter(|snapshot| match kind {
            SourceKind::Charge => snapshot.payment_intent().as_deref() == Some(parent),
            _ => snapshot.charge().as_deref() == Some(parent),
        })
        .collect()
}

impl Snapshot {
    fn new(kind: SourceKind, object: &Value, event: &EventRef<'_>) -> Result<Self, DomainError> {
        Ok(Self {
            kind,
            id: object_id(object, kind.as_str())?,
            version: SnapshotVersion {
                created: event.created,
                progress: progress(kind, object),
                event_id: event.id.to_owned(),
            },
            event_type: event.event_type.to_owned(),
            api_version: event.api_version.map(str::to_owned),
            object: object.clone(),
        })
    }

    /// The PaymentIntent the object belongs to, as far as the object itself says.
    pub fn payment_intent(&self) -> Option<String> {
        match self.kind {
            SourceKind::PaymentIntent => Some(self.id.clone()),
            SourceKind::Transfer => None,
            _ => expandable_id(&self.object, "payment_intent"),
        }
    }

    /// The charge the object belongs to (a PaymentIntent's latest charge).
    pub fn charge(&self) -> Option<String> {
        match self.kind {
            SourceKind::Charge => Some(self.id.clone()),
            SourceKind::PaymentIntent => expandable_id(&self.object, "latest_charge")
                .or_else(|| last_embedded_charge(&self.object)),
            SourceKind::Transfer => expandable_id(&self.object, "source_transaction"),
            SourceKind::CheckoutSession => None,
            _ => expandable_id(&self.object, "charge"),
        }
    }

    /// The `transfer_group` that links separate transfers to the payment.
    pub fn transfer_group(&self) -> Option<String> {
        match self.kind {
            SourceKind::PaymentIntent | SourceKind::Charge | SourceKind::Transfer => {
                str_field(&self.object, "transfer_group").filter(|group| !group.is_empty())
            }
            _ => None,
        }
    }

    /// The order the object names by itself: its PaymentIntent, else its charge (whose
    /// own PaymentIntent may not be known yet), else for a Checkout Session the session.
    /// `None` for a transfer linked to its payment only through a transfer group.
    pub fn own_order_key(&self) -> Option<String> {
        if self.kind == SourceKind::Legacy {
            return Some(self.id.clone());
        }
        let own = || (self.kind == SourceKind::CheckoutSession).then(|| self.id.clone());
        self.payment_intent().or_else(|| self.charge()).or_else(own)
    }

    /// The id the object was filed under before its PaymentIntent was known, whose order
    /// moves to the PaymentIntent's once it is: a charge's, or a Checkout Session's.
    pub fn provisional_key(&self) -> Option<String> {
        match self.kind {
            SourceKind::CheckoutSession => Some(self.id.clone()),
            _ => self.charge(),
        }
    }

    /// Whether the object is a payment itself (a PaymentIntent, or a charge without one).
    pub fn is_payment(&self) -> bool {
        matches!(self.kind, SourceKind::PaymentIntent | SourceKind::Charge)
    }

    /// Whether the object is written in an API version before 2025-03-31 ("basil"). Those
    /// versions refund the uncaptured rest of a partial capture (a Refund object, counted
    /// in the charge's `amount_refunded`); later ones release it without a refund. An
    /// unknown version is taken to be an older one.
    pub fn refunds_uncaptured_rest(&self) -> bool {
        self.api_version
            .as_deref()
            .is_none_or(|version| version < "2025-03-31")
    }
}

/// The id of the newest charge of a PaymentIntent's `charges.data` (API versions before
/// 2022-11-15 have no `latest_charge`); Stripe lists newest first.
pub fn last_embedded_charge(intent: &Value) -> Option<String> {
    let charges = intent.pointer("/charges/data")?.as_array()?;
    charges.iter().find_map(|charge| str_field(charge, "id"))
}

/// How far an object had advanced along its lifecycle: the same-second tie-break of
/// [`SnapshotVersion`]. Amounts that only grow within a lifecycle stage (refunded,
/// reversed) break ties between snapshots at the same stage.
fn progress(kind: SourceKind, object: &Value) -> i64 {
    const STAGE: i64 = 1 << 44;
    let status = str_field(object, "status").unwrap_or_default();
    let amount = |key| i64_field(object, key).unwrap_or(0).clamp(0, STAGE - 1);
    match kind {
        SourceKind::PaymentIntent => STAGE * payment_intent_stage(&status, object),
        SourceKind::Charge => {
            let stage = match status.as_str() {
                "failed" => 1,
                "succeeded" => 2,
                _ => 0,
            } * 2
                + i64::from(bool_field(object, "captured") == Some(true));
            STAGE * stage + amount("amount_refunded")
        }
        // requires_action, then pending, then an outcome.
        SourceKind::Refund => match status.as_str() {
            "pending" => 1,
            "succeeded" => 2,
            "failed" | "canceled" => 3,
            _ => 0,
        },
        SourceKind::Dispute => {
            let stage = match status.as_str() {
                "warning_needs_response" => 0,
                "warning_under_review" => 1,
                "warning_closed" => 2,
                "needs_response" => 3,
                "under_review" => 4,
                "won" | "lost" | "prevented" | "charge_refunded" => 5,
                _ => 0,
            };
            // Funds withdrawn, then reinstated, each add a balance transaction.
            let movements = object
                .get("balance_transactions")
                .and_then(Value::as_array)
                .map_or(0, |list| list.len() as i64);
            STAGE * stage + movements
        }
        SourceKind::Transfer => amount("amount_reversed"),
        SourceKind::CheckoutSession => match status.as_str() {
            "complete" | "expired" => 1,
            _ => 0,
        },
        SourceKind::Legacy => 0,
    }
}

fn payment_intent_stage(status: &str, intent: &Value) -> i64 {
    let failed = intent
        .get("last_payment_error")
        .is_some_and(|error| !error.is_null());
    match status {
        "requires_payment_method" if failed => 4,
        "requires_payment_method" => 0,
        "requires_confirmation" => 1,
        "requires_action" => 2,
        "processing" => 3,
        "requires_capture" => 5,
        "canceled" => 6,
        "succeeded" => 7,
        _ => 0,
    }
}
