//! sea-orm entities, one module per table (see `migration/` for the schema itself).

pub mod customer;
pub mod order;
pub mod price;
pub mod product;
pub mod store;
pub mod webhook_event;
