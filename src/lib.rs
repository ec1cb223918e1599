//! `payments`: turns Stripe Connect webhooks into live marketplace stores.
//!
//! Modules and what each owns:
//! - [`config`]: layered, typed settings (`config/*.toml` < `.env` < environment).
//! - [`telemetry`]: log output (text or JSON lines).
//! - [`db`]: connecting to SQLite or PostgreSQL and running migrations.
//! - [`stripe`]: signature verification, the event envelope, the known event types.
//! - [`inbox`]: the `stripe_webhook_events` table, where every accepted delivery is kept;
//!   it is also the queue of events to apply.
//! - [`actors`]: the supervisor and one actor per store key, applying events in series.
//! - [`apply`]: one attempt at one event, in one transaction.
//! - [`domain`]: what each event does to the store, customer, product and order rows.
//! - [`queries`]: the reads of the admin API (filtered, paginated lists, lookups by id).
//! - [`http`]: the routes (webhook receiver, health, admin API, OpenAPI document) and JSON
//!   errors ([`error`]).
//! - [`metrics`]: the Prometheus metrics, named and described in one place.
//! - [`server`]: the connection loop: HTTP/1.1 with a header read timeout and a bound on
//!   open connections.
//! - [`startup`]: building the service on a listener and running it until shutdown.
//! - [`cli`], [`trigger`] and [`replay`]: the command line, including `payments trigger`
//!   and `payments replay`.
//!
//! Outside the service: the sample event builders (`crates/stripe-samples`) and the load
//! generator (`tools/loadgen`).

pub mod actors;
pub mod apply;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
#[cfg(feature = "fault-injection")]
pub mod faults;
pub mod http;
pub mod inbox;
pub mod intake;
pub mod metrics;
pub mod queries;
pub mod replay;
pub mod retention;
pub mod server;
pub mod startup;
pub mod stripe;
pub mod telemetry;
pub mod trigger;
