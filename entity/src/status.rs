//! The closed sets stored as text: event, store and order statuses. Each is an active enum
//! (the column stays `TEXT`), so a status is checked by the compiler everywhere but in the
//! database, and its text is written in one place.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Declares a text-backed active enum with its variants' texts, `as_str` and `ALL`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, DeriveActiveEnum,
            Serialize, Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[sea_orm(string_value = $text)]
                #[serde(rename = $text)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            /// Every value's text, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The stored text.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// The value stored as `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|value| value.as_str() == text)
            }
        }

        /// Compares with a stored text, as tests and filters do.
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// Where a stored event is in its life: waiting, applied (three ways), or dead-lettered.
    EventStatus {
        /// Stored, not applied yet: the actors' queue.
        Received = "received",
        /// Applied: the rows reflect it.
        Processed = "processed",
        /// Applied: the rows already held newer data.
        Skipped = "skipped",
        /// Applied: the service does not handle this event.
        Ignored = "ignored",
        /// Used up its attempts (dead letter); replay puts it back.
        Failed = "failed",
    }
}

impl EventStatus {
    /// The statuses of applied events: the only ones retention may delete.
    pub const APPLIED: &'static [Self] = &[Self::Processed, Self::Skipped, Self::Ignored];
}

text_enum! {
    /// Whether a store can take payments, derived from its account and connection.
    StoreStatus {
        /// Not (yet) able to take payments: details missing or under verification.
        Onboarding = "onboarding",
        /// Can take payments.
        Active = "active",
        /// Stripe disabled it (`requirements.disabled_reason`).
        Restricted = "restricted",
        /// The seller deauthorized the platform.
        Disconnected = "disconnected",
    }
}

text_enum! {
    /// Where a payment stands, derived from its observations (see `docs/API.md` for the
    /// Stripe events that move it).
    OrderStatus {
        /// Created, or being processed; nothing captured yet.
        Pending = "pending",
        /// The customer must authenticate (3-D Secure and the like).
        RequiresAction = "requires_action",
        /// Authorized, not captured yet (`capture_method: manual`).
        Authorized = "authorized",
        /// The last attempt failed; the payment can still be retried.
        Failed = "failed",
        /// Canceled, or an authorization that expired or was released.
        Canceled = "canceled",
        /// Captured, nothing refunded.
        Completed = "completed",
        /// Captured, part of it refunded.
        PartiallyRefunded = "partially_refunded",
        /// Captured and refunded in full.
        Refunded = "refunded",
    }
}
