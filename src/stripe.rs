//! What Stripe sends: the signature scheme, the event envelope, lenient readers of its
//! objects ([`object`]), and realistic sample events;
//! [`fuzz`] holds the entry points of the fuzz targets in `fuzz/`.

pub mod envelope;
pub mod fuzz;
pub mod object;
pub mod samples;
pub mod signature;
