//! What Stripe sends: the signature scheme, the event envelope, and realistic sample events.

pub mod envelope;
pub mod samples;
pub mod signature;
