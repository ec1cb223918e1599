//! The pages people see, served as HTML by the same server: each seller's storefront
//! ([`shop`], `/shop/{store}`), built from the rows the actors keep. Templates are maud's:
//! checked at compile time and escaped by default, so a seller's or customer's text is
//! always shown as text. Every page carries the security headers of [`headers::secure`] and
//! runs no script; the stylesheet is embedded and served under a content-hashed name.
//!
//! Pages read through `store::admin`, the queries of the admin API; this module needs
//! nothing of `http` but its database handle.

mod assets;
mod headers;
mod money;
mod page;
mod shop;

use sea_orm::DatabaseConnection;
use warp::reply::Response;
use warp::{Filter, Rejection};

/// Every page and asset.
pub fn routes(
    db: DatabaseConnection,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    shop::routes(db).or(assets::route()).unify()
}
