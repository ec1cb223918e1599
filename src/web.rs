//! The pages people see, served as HTML by the same server: each seller's storefront
//! ([`shop`], `/shop/{store}`), built from the rows the actors keep. Templates are maud's:
//! checked at compile time and escaped by default, so a seller's or customer's text is
//! always shown as text. Every page carries the security headers of [`headers::secure`] and
//! runs no script; the stylesheet is embedded and served under a content-hashed name.
//!
//! Pages read through `store::admin`, the queries of the admin API; this module needs
//! nothing of `http`: [`Web`] holds what the pages share.

mod assets;
mod headers;
pub mod keys;
mod money;
mod page;
mod shop;

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::config::Settings;
use crate::pipeline::Dispatcher;
use keys::Signer;

/// What the pages share.
pub struct Web {
    pub db: DatabaseConnection,
    /// Wakes stores' actors after a replay from the console.
    pub dispatcher: Dispatcher,
    /// Signs the storefront forms' CSRF tokens.
    pub forms: Signer,
    /// Signs the console's session cookies and form tokens; `None` without an admin token.
    pub console: Option<Signer>,
    /// Whether the console may be used without signing in (development on loopback, as the
    /// admin API).
    pub console_open: bool,
    /// Whether cookies are `Secure` (the public URL is https).
    pub secure_cookies: bool,
}

impl Web {
    pub fn new(settings: &Settings, db: DatabaseConnection, dispatcher: Dispatcher) -> Self {
        let forms_secret = settings
            .webhook_secrets
            .first()
            .map_or(&b""[..], |secret| secret.expose_secret().as_bytes());
        Self {
            forms: Signer::derive(forms_secret, "shop-forms"),
            console: settings
                .admin_token
                .as_ref()
                .map(|token| Signer::derive(token.expose_secret().as_bytes(), "console")),
            console_open: settings.admin_token.is_none()
                && settings.app_env == crate::config::AppEnv::Development
                && settings.bind_addr.ip().is_loopback(),
            secure_cookies: settings
                .public_url
                .as_deref()
                .is_some_and(|url| url.starts_with("https://")),
            db,
            dispatcher,
        }
    }
}

/// Every page and asset.
pub fn routes(web: Arc<Web>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    shop::routes(web.db.clone()).or(assets::route()).unify()
}
