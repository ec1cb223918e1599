//! `scale`: seeds a payments database with a marketplace's volume and times every admin
//! read against a running server (see `README.md` next to this crate).
//!
//! - [`plan`]: how many rows, and which row goes where (the same in SQL and in Rust).
//! - [`seed`]: the rows written in bulk, then the indexes and the summaries.
//! - [`requests`]: every admin `GET` of the OpenAPI document with sample ids and filters.

pub mod plan;
pub mod requests;
pub mod seed;
