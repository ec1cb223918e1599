//! Integration tests: the real service over real HTTP, on SQLite by default and on
//! PostgreSQL when `TEST_DATABASE_URL` is set.

mod actors;
mod admin;
mod backend;
mod binary;
mod config_docs;
mod dashboard;
mod demo;
mod faults;
mod fuzz_corpus;
mod health;
mod helpers;
mod hostile;
mod http_details;
mod layout;
mod logs;
mod marketplace;
mod metrics;
mod migrations;
mod openapi;
mod ordering;
mod outage;
mod overload;
mod pagination;
mod query_plans;
mod raw;
mod replay;
mod retention;
mod schema;
mod signature_vectors;
mod slow_clients;
mod startup;
mod storefront;
mod stores;
mod summaries;
mod webhook;
