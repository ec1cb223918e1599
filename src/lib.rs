//! `payments`: turns Stripe Connect webhooks into live marketplace stores.
//!
//! The folders follow an event through the service (`docs/ARCHITECTURE.md` has the
//! diagram); each has one rule:
//! - [`http`]: the server, the webhook receiver, probes, `/metrics`, the admin API and its
//!   OpenAPI document. Answers requests; decides nothing about stores.
//! - [`pipeline`]: intake (group commit), the supervisor and one actor per store, apply
//!   transactions, the retry lifecycle, recovery and retention. Moves events along.
//! - [`store`]: the only place that builds queries: the inbox, the marketplace rows, the
//!   admin reads, connecting and migrating.
//! - [`domain`]: pure decisions (no database, no I/O): what an event changes, the version
//!   guard, the order merge, the pages.
//! - [`stripe`]: what Stripe sends: signature, envelope, readers of its objects, the known
//!   event types.
//! - [`web`]: the HTML pages people see (each seller's storefront), rendered from the rows
//!   the actors keep, through the admin reads of [`store`].
//! - [`sync`]: backfill and gap-fill from Stripe's API (events, and objects older than
//!   its 30 days of events) into the inbox, resumable from a stored cursor.
//! - [`cli`]: the command line (`serve`, `migrate`, `trigger`, `replay`, `doctor`,
//!   `health`).
//!
//! Beside them: [`catalog_import`] (a seller's catalogue uploaded to Stripe), [`config`]
//! (layered, typed settings), [`telemetry`] (log output), [`metrics`] (every metric, named
//! once), [`error`] (errors as HTTP answers) and [`startup`] (building the service on a
//! listener and running it until shutdown).
//!
//! Outside the service: the sample event builders (`crates/stripe-samples`) and the load
//! generator (`tools/loadgen`).

pub mod body;
pub mod catalog_import;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
#[cfg(feature = "fault-injection")]
pub mod faults;
pub mod http;
pub mod metrics;
pub mod pipeline;
pub mod startup;
pub mod store;
pub mod stripe;
pub mod sync;
pub mod telemetry;
pub mod web;
