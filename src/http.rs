//! The HTTP interface: one module per route group, joined here with one rejection handler
//! so every error, routing ones included, is answered as JSON.
//!
//! - [`webhook`]: the Stripe receiver; [`health`]: the probes;
//! - [`admin`]: the admin API (stores, orders, customers, products, the event log and
//!   replays), every route behind the admin token;
//! - [`openapi`]: the OpenAPI document, generated from the handlers' annotations;
//! - the HTML pages of [`crate::web`] (the storefronts), which take only the database.

mod admin;
mod health;
mod methods;
mod metrics;
mod openapi;
mod rejection;
pub mod server;
pub mod starting;
mod webhook;

use std::convert::Infallible;
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use warp::http::StatusCode;
use warp::{Filter, Reply};

use crate::config::{Settings, fingerprint};
use crate::error::{ApiError, ErrorCode};
use crate::pipeline::Dispatcher;
use crate::pipeline::intake::Intake;
use crate::stripe::signature::Verifier;
use crate::telemetry::throttle::Throttle;

pub use admin::AdminAuth;
pub use openapi::ApiDoc;

/// What every request handler shares.
pub struct AppState {
    pub db: DatabaseConnection,
    pub verifier: Verifier,
    pub admin: AdminAuth,
    pub max_body_bytes: u64,
    /// How long a webhook body may take to arrive.
    pub body_read_timeout: std::time::Duration,
    /// Whether `/metrics` takes the admin token.
    pub metrics_require_token: bool,
    /// Hands stored events to their store's actor.
    pub dispatcher: Dispatcher,
    /// Stores deliveries, committing concurrent ones together.
    pub intake: Intake,
    /// The webhook secrets' fingerprints, in configured order (never the secrets).
    pub secret_fingerprints: Vec<String>,
    /// Holds back repeated warnings about refused deliveries.
    pub rejection_log: Throttle,
    /// What the HTML pages share (storefronts and console).
    pub web: Arc<crate::web::Web>,
    /// Syncs from Stripe's API, started by the admin API or the gap-fill.
    pub sync: Arc<crate::sync::runner::Runner>,
    /// What the start-up check found of `STRIPE_API_KEY`, for `/ready` (unset: no key).
    pub stripe_key: std::sync::OnceLock<String>,
}

impl AppState {
    /// Builds the shared state from settings, the open database, and the intake's own
    /// connections (see [`intake_writers`]).
    pub fn new(
        settings: &Settings,
        db: DatabaseConnection,
        intake_db: DatabaseConnection,
        dispatcher: Dispatcher,
    ) -> Self {
        Self {
            verifier: Verifier::new(&settings.webhook_secrets, settings.webhook_tolerance_secs),
            admin: AdminAuth::from_settings(settings),
            max_body_bytes: settings.max_body_bytes,
            body_read_timeout: settings.body_read_timeout,
            metrics_require_token: settings.metrics_require_token,
            intake: Intake::start(intake_db, intake_writers(settings), dispatcher.writer()),
            secret_fingerprints: settings.webhook_secrets.iter().map(fingerprint).collect(),
            rejection_log: Throttle::new(REJECTION_LOG_WINDOW),
            web: Arc::new(crate::web::Web::new(
                settings,
                db.clone(),
                dispatcher.clone(),
            )),
            sync: Arc::new(crate::sync::runner::Runner::new(
                settings,
                db.clone(),
                dispatcher.clone(),
            )),
            stripe_key: std::sync::OnceLock::new(),
            db,
            dispatcher,
        }
    }
}

/// A refused delivery's kind is logged at most once a minute; the metrics count them all.
const REJECTION_LOG_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

/// Intake batches in flight at once, each on a connection of the intake's own pool: under
/// load the actors would otherwise hold every pooled connection and acknowledgements would
/// wait behind apply transactions (measured: a shared pool of 6 cut throughput to a third).
pub fn intake_writers(settings: &Settings) -> usize {
    (settings.database_max_connections as usize / 4).clamp(1, 8)
}

/// Every route of the service.
pub fn routes(
    state: Arc<AppState>,
) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    webhook::route(state.clone())
        .or(health::routes(state.clone()))
        .or(openapi::route())
        .or(admin::routes(state.clone()))
        .or(metrics::route(state.clone()))
        .or(crate::web::routes(state.web.clone()))
        .or(methods::fallback(state))
        .recover(rejection::handle)
}

/// The longest request target (path and query) and the most header bytes and headers
/// answered: past them, `414 uri_too_long` or `431 headers_too_large` as JSON. hyper has
/// limits of its own, far above these (a 64 KiB target, 100 headers, a ~400 KiB head), and
/// answers past them without a body: these come first. Checked by the connection loop on
/// the request as hyper parsed it, before any route and without copying the head.
const MAX_TARGET_BYTES: usize = 8 * 1024;
const MAX_HEADER_BYTES: usize = 32 * 1024;
const MAX_HEADERS: usize = 64;

/// Why a request's head is refused, if it is too large to answer.
pub(crate) fn head_too_large<B>(request: &warp::http::Request<B>) -> Option<ApiError> {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if target > MAX_TARGET_BYTES {
        let message = format!("the request target is over {MAX_TARGET_BYTES} bytes");
        return Some(ApiError::new(
            StatusCode::URI_TOO_LONG,
            ErrorCode::UriTooLong,
            message,
        ));
    }
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        let message = format!("at most {MAX_HEADERS} headers of {MAX_HEADER_BYTES} bytes in all");
        let code = ErrorCode::HeadersTooLarge;
        return Some(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            code,
            message,
        ));
    }
    None
}

pub(crate) use crate::web::get_or_head;

fn with_state(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Arc<AppState>,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}
