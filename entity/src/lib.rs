//! sea-orm entities, one module per table (see `migration/` for the schema itself), and
//! the statuses they store ([`status`]).

pub mod contact_message;
pub mod customer;
pub mod customer_total;
pub mod order;
pub mod order_observation;
pub mod price;
pub mod product;
pub mod status;
pub mod store;
pub mod store_count;
pub mod sync_cursor;
pub mod webhook_event;
