//! Persistence: the only place that builds queries.
//!
//! - [`db`]: connecting to SQLite or PostgreSQL, migrations, readiness, and telling an
//!   outage from a failed statement;
//! - [`inbox`]: the `stripe_webhook_events` table, where every accepted delivery is kept;
//!   it is also the actors' queue;
//! - [`rows`]: the marketplace rows by key (stores, customers, products, prices, orders);
//! - [`changes`]: writing what [`crate::domain`] decides for an event;
//! - [`payments`]: payment snapshots, and the orders derived from them;
//! - [`checkout`]: the order of a storefront checkout, from the moment its session exists;
//! - [`pages`]: rebuilding a store's pages from its rows;
//! - [`slugs`]: giving a store its readable address once it has a name;
//! - [`sync_cursors`]: how far each sync has read each Stripe list;
//! - [`contact_messages`]: the messages of the storefronts' contact forms;
//! - [`admin`]: the admin API's reads (filtered, paginated lists, lookups by id) and the
//!   replay that puts events back in the queue.

pub mod admin;
pub mod changes;
pub mod checkout;
pub mod contact_messages;
pub mod db;
pub mod inbox;
pub mod pages;
pub mod payments;
pub mod rows;
pub mod slugs;
pub mod sync_cursors;
