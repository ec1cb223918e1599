//! The pages people see, served as HTML by the same server: each seller's storefront
//! ([`shop`], `/shop/{store}`), built from the rows the actors keep, and the admin
//! [`console`] (`/admin`). Templates are maud's:
//! checked at compile time and escaped by default, so a seller's or customer's text is
//! always shown as text. Every page carries the security headers of [`headers::secure`] and
//! runs no script; the stylesheet is embedded and served under a content-hashed name.
//!
//! Pages read through `store::admin`, the queries of the admin API; this module needs
//! nothing of `http`: [`Web`] holds what the pages share.

mod assets;
mod console;
mod contact;
mod forms;
mod headers;
pub mod keys;
mod limit;
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

pub use contact::ClientAddr;

/// What the pages share.
pub struct Web {
    pub db: DatabaseConnection,
    /// Wakes stores' actors after a replay from the console.
    pub dispatcher: Dispatcher,
    /// Signs the storefront forms' CSRF tokens.
    pub forms: Signer,
    /// Who may use the console, and the key of its cookies and form tokens.
    pub console: console::Access,
    /// The proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Wrong admin tokens per client: past [`console::SIGN_IN_ATTEMPTS`] in a window, the
    /// sign-in form refuses the client for a while.
    pub failed_sign_ins: limit::Limiter,
    /// How long a form's body may take to arrive.
    pub body_read_timeout: std::time::Duration,
    /// Whether cookies are `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// Stripe's API, when `STRIPE_API_KEY` is set: the storefront's checkout and the
    /// product import (console, admin API) use it; clones share its rate budget.
    pub stripe: Option<crate::stripe::api::Client>,
    /// Whose charge a checkout is, and the platform's fee on it.
    pub charge_model: crate::config::ChargeModel,
    pub platform_fee_bps: u32,
    /// Where the public reaches the service (`PUBLIC_URL`), for Stripe's return pages.
    pub public_url: Option<String>,
    /// Where a checkout form's answer may send the browser (Stripe's payment page).
    pub checkout_origins: Vec<String>,
    /// `APP_ENV=production`: checkout needs `PUBLIC_URL` (no `Host` header is trusted).
    pub production: bool,
}

impl Web {
    pub fn new(settings: &Settings, db: DatabaseConnection, dispatcher: Dispatcher) -> Self {
        let forms_secret = settings
            .webhook_secrets
            .first()
            .map_or(&b""[..], |secret| secret.expose_secret().as_bytes());
        Self {
            forms: Signer::derive(forms_secret, "shop-forms"),
            console: console::Access::from_settings(settings, forms_secret),
            body_read_timeout: settings.body_read_timeout,
            failed_sign_ins: limit::Limiter::new(
                console::SIGN_IN_ATTEMPTS,
                console::SIGN_IN_WINDOW,
            ),
            trusted_proxies: settings.trusted_proxies.clone(),
            secure_cookies: settings
                .public_url
                .as_deref()
                .is_some_and(|url| url.starts_with("https://")),
            stripe: crate::stripe::api::Client::from_settings(settings),
            charge_model: settings.charge_model,
            platform_fee_bps: settings.platform_fee_bps,
            public_url: settings.public_url.clone(),
            checkout_origins: checkout_origins(settings),
            production: settings.app_env == crate::config::AppEnv::Production,
            db,
            dispatcher,
        }
    }
}

/// Stripe's payment page, and the API's own origin when it is not Stripe's (a stand-in
/// serves its payment pages there); none without a key.
fn checkout_origins(settings: &Settings) -> Vec<String> {
    if settings.stripe_api_key.is_none() {
        return Vec::new();
    }
    let mut origins = vec![headers::STRIPE_CHECKOUT.to_owned()];
    let base = &settings.stripe_api_base;
    if base != "https://api.stripe.com" {
        let scheme_end = base.find("://").map_or(0, |at| at + 3);
        let end = base[scheme_end..]
            .find('/')
            .map_or(base.len(), |at| scheme_end + at);
        origins.push(base[..end].to_owned());
    }
    origins
}

/// GET, and HEAD, which answers GET's status and headers without the body (hyper leaves
/// the body out): what every page, asset and probe answers.
pub fn get_or_head() -> impl Filter<Extract = (), Error = Rejection> + Copy {
    warp::get().or(warp::head()).unify()
}

/// Every page and asset.
pub fn routes(web: Arc<Web>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    shop::routes(web.clone())
        .or(console::routes(web))
        .unify()
        .or(assets::route())
        .unify()
        .recover(forms::answer_unreadable)
        .unify()
}
