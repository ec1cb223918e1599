//! What Stripe sends, and [`api`], the client of Stripe's API: the signature scheme, the event envelope, lenient readers of its
//! objects ([`object`]) and the event types the service knows; `fuzz` (tests and the
//! `fuzzing` feature only) holds the entry points of the fuzz targets in `fuzz/`.

pub mod api;
pub mod envelope;
pub mod event_types;
// Never run by the server: compiled for the unit tests, and for the fuzz crate and the
// corpus regression test through the `fuzzing` feature, so release builds leave it out.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;
pub mod object;
pub mod signature;
