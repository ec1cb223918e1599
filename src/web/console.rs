//! The admin console, `/admin`: the admin API's reads as pages (an overview, stores,
//! orders, customers, products, the event log), its replays as confirmed forms, and a
//! store's product import.
//!
//! Signing in takes the admin token once, through a form; the console then keeps a signed
//! session cookie ([`session`]): HttpOnly, SameSite=Strict, limited to `/admin`, expiring
//! after [`session::LIFETIME`], `Secure` when the public URL is https. Every form that
//! changes something carries a CSRF token bound to the session. Without an admin token the
//! console is open exactly when the admin API is (development, on loopback): a session is
//! then issued without a sign-in; otherwise it is closed.
//!
//! The pages read through `store::admin`, the admin API's queries.

mod details;
mod import;
mod lists;
mod overview;
mod replay;
mod session;
mod view;

use std::sync::Arc;

use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::Web;
use super::keys::Signer;
use crate::config::{AppEnv, Settings};

/// Wrong admin tokens a client may present per [`SIGN_IN_WINDOW`] before the sign-in form
/// refuses it (429) until the window has passed.
pub const SIGN_IN_ATTEMPTS: usize = 10;
pub const SIGN_IN_WINDOW: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Who may use the console.
pub enum Access {
    /// Signing in takes the admin token (compared by its SHA-256 digest).
    Token { digest: [u8; 32], signer: Signer },
    /// Development on loopback without a token: anyone on this machine, as the admin API.
    Open { signer: Signer },
    /// No token and not on loopback in development: nobody.
    Closed,
}

impl Access {
    /// As the admin API's [`AdminAuth`](crate::http::AdminAuth) decides, from the same
    /// settings. An open console signs with a key derived from the webhook secret.
    pub fn from_settings(settings: &Settings, fallback_secret: &[u8]) -> Self {
        match &settings.admin_token {
            Some(token) => Self::Token {
                digest: Sha256::digest(token.expose_secret().as_bytes()).into(),
                signer: Signer::derive(token.expose_secret().as_bytes(), "console"),
            },
            None if settings.app_env == AppEnv::Development
                && settings.bind_addr.ip().is_loopback() =>
            {
                Self::Open {
                    signer: Signer::derive(fallback_secret, "console-open"),
                }
            }
            None => Self::Closed,
        }
    }

    fn signer(&self) -> Option<&Signer> {
        match self {
            Self::Token { signer, .. } | Self::Open { signer } => Some(signer),
            Self::Closed => None,
        }
    }
}

/// Every console route.
pub fn routes(web: Arc<Web>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let pages = overview::route(web.clone())
        .or(lists::routes(web.clone()))
        .unify()
        .or(details::routes(web.clone()))
        .unify()
        .or(replay::routes(web.clone()))
        .unify()
        .or(import::routes(web.clone()))
        .unify();
    warp::path("admin")
        .and(session::routes(web).or(pages).unify())
        .recover(session::answer_refusal)
        .unify()
}

/// The session of a request and the shared state; without a valid session, a
/// [`session::Refusal`], answered by [`session::answer_refusal`].
fn signed_in(
    web: Arc<Web>,
) -> impl Filter<Extract = (session::Session, Arc<Web>), Error = Rejection> + Clone {
    warp::method()
        .and(warp::header::optional::<String>("cookie"))
        .and(warp::path::full())
        .and(warp::any().map(move || web.clone()))
        .and_then(session::check)
        .untuple_one()
}

/// A path segment naming an object, percent-decoded (the console's links encode ids).
fn id_param() -> impl Filter<Extract = (String,), Error = Rejection> + Clone {
    warp::path::param::<String>().map(|segment: String| super::page::decoded(&segment))
}

/// The status of a console page that could not read the database.
fn unavailable() -> Response {
    super::page::message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        "The database did not answer. Please try again in a moment.",
    )
}
