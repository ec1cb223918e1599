//! The HTTP interface: one module per route group, joined here with one rejection handler
//! so every error, routing ones included, is answered as JSON.

mod admin;
mod body;
mod health;
mod logs;
mod metrics;
mod rejection;
mod webhook;

use std::convert::Infallible;
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use warp::{Filter, Reply};

use crate::actors::Dispatcher;
use crate::config::Settings;
use crate::stripe::signature::Verifier;

pub use admin::AdminAuth;

/// What every request handler shares.
pub struct AppState {
    pub db: DatabaseConnection,
    pub verifier: Verifier,
    pub admin: AdminAuth,
    pub max_body_bytes: u64,
    /// Whether `/metrics` takes the admin token.
    pub metrics_require_token: bool,
    /// Hands stored events to their store's actor.
    pub dispatcher: Dispatcher,
}

impl AppState {
    /// Builds the shared state from settings and an open database.
    pub fn new(settings: &Settings, db: DatabaseConnection, dispatcher: Dispatcher) -> Self {
        Self {
            db,
            verifier: Verifier::new(&settings.webhook_secrets, settings.webhook_tolerance_secs),
            admin: AdminAuth::from_settings(settings),
            max_body_bytes: settings.max_body_bytes,
            metrics_require_token: settings.metrics_require_token,
            dispatcher,
        }
    }
}

/// Every route of the service.
pub fn routes(
    state: Arc<AppState>,
) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    webhook::route(state.clone())
        .or(health::routes(state.clone()))
        .or(logs::route(state.clone()))
        .or(metrics::route(state))
        .recover(rejection::handle)
}

fn with_state(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Arc<AppState>,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}
