//! Integration tests: the real service over real HTTP, on SQLite by default and on
//! PostgreSQL when `TEST_DATABASE_URL` is set.

mod actors;
mod admin;
mod backend;
mod binary;
mod dashboard;
mod fuzz_corpus;
mod health;
mod helpers;
mod logs;
mod metrics;
mod openapi;
mod ordering;
mod outage;
mod pagination;
mod replay;
mod schema;
mod signature_vectors;
mod stores;
mod webhook;
