//! What Stripe sends: the signature scheme, the event envelope, and the event types the
//! service knows; [`fuzz`] holds the entry points of the fuzz targets in `fuzz/`.

pub mod envelope;
pub mod event_types;
pub mod fuzz;
pub mod signature;
