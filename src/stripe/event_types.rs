//! The one table of event types the service knows.
//!
//! Metrics give each known type its own `type` label value (everything else is `other`, so
//! the series count stays bounded whatever Stripe sends), and `payments trigger` offers the
//! types the sample builders (the `stripe-samples` crate) can make. Some known types have
//! no builder: Stripe sends them and they get a label, but there is no sample of them; the
//! `buildable` flag says which, and the tests below keep it honest.

/// One event type the service knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventType {
    /// The type as Stripe names it, such as `charge.succeeded`.
    pub name: &'static str,
    /// Whether `payments trigger` can build a sample of it.
    pub buildable: bool,
}

const fn buildable(name: &'static str) -> EventType {
    EventType {
        name,
        buildable: true,
    }
}

const fn label_only(name: &'static str) -> EventType {
    EventType {
        name,
        buildable: false,
    }
}

/// Every known event type, in the order `payments trigger --help` lists the buildable ones.
pub const KNOWN: &[EventType] = &[
    buildable("account.created"),
    buildable("account.updated"),
    buildable("account.application.authorized"),
    buildable("account.application.deauthorized"),
    buildable("customer.created"),
    buildable("customer.updated"),
    buildable("customer.deleted"),
    buildable("product.created"),
    buildable("product.updated"),
    buildable("product.deleted"),
    buildable("price.created"),
    buildable("price.updated"),
    buildable("price.deleted"),
    buildable("charge.succeeded"),
    buildable("charge.failed"),
    buildable("charge.refunded"),
    label_only("charge.captured"),
    label_only("charge.expired"),
    label_only("charge.pending"),
    label_only("charge.updated"),
    label_only("charge.refund.updated"),
    label_only("charge.dispute.created"),
    label_only("charge.dispute.updated"),
    label_only("charge.dispute.closed"),
    label_only("charge.dispute.funds_withdrawn"),
    label_only("charge.dispute.funds_reinstated"),
    label_only("refund.created"),
    label_only("refund.updated"),
    label_only("refund.failed"),
    label_only("transfer.created"),
    label_only("transfer.updated"),
    label_only("transfer.reversed"),
    label_only("checkout.session.completed"),
    label_only("checkout.session.expired"),
    label_only("checkout.session.async_payment_succeeded"),
    label_only("checkout.session.async_payment_failed"),
    buildable("payment_intent.created"),
    label_only("payment_intent.processing"),
    label_only("payment_intent.requires_action"),
    label_only("payment_intent.amount_capturable_updated"),
    buildable("payment_intent.succeeded"),
    buildable("payment_intent.payment_failed"),
    buildable("payment_intent.canceled"),
];

/// `event_type` as a `'static` entry of [`KNOWN`], if it is one.
pub fn known(event_type: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|known| known.name == event_type)
        .map(|known| known.name)
}

/// The types `payments trigger` offers.
pub fn buildable_names() -> impl Iterator<Item = &'static str> {
    KNOWN
        .iter()
        .filter(|known| known.buildable)
        .map(|known| known.name)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_type_the_samples_build_is_known_and_flagged_buildable() {
        let offered: HashSet<&str> = buildable_names().collect();
        for event_type in stripe_samples::EVENT_TYPES {
            assert!(known(event_type).is_some(), "{event_type} is not known");
            assert!(offered.contains(event_type), "{event_type} is not offered");
        }
    }

    #[test]
    fn every_type_trigger_offers_can_be_built_and_no_other() {
        for event_type in buildable_names() {
            let built = stripe_samples::build_event(event_type, Some("acct_test"), 1_721_948_600);
            assert!(built.is_ok(), "{event_type} is offered but cannot be built");
        }
        for label_only in KNOWN.iter().filter(|known| !known.buildable) {
            let built = stripe_samples::build_event(label_only.name, None, 1_721_948_600);
            assert!(built.is_err(), "{} can be built: flag it", label_only.name);
        }
    }

    #[test]
    fn each_type_is_listed_once() {
        let names: HashSet<&str> = KNOWN.iter().map(|known| known.name).collect();
        assert_eq!(names.len(), KNOWN.len());
    }
}
