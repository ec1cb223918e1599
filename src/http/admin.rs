//! The admin API, every route behind the admin token ([`auth`]): five read-only
//! resources written once as a generic one ([`resource`]) — [`stores`], [`orders`],
//! [`customers`], [`products`] and the event log ([`events`]) — the [`replay`] routes, and
//! a store's [`contact_messages`] and [`product_import`], and the [`sync`] runs from Stripe's API.
//!
//! A resource is its API object: it declares its filters ([`params`]), its name and place
//! (from which its routes follow) and its two queries; the list shape, pagination and
//! lookup rules ([`list`]) and the OpenAPI operations ([`docs`]) come from those
//! declarations.

mod auth;
mod contact_messages;
mod customers;
mod docs;
mod events;
mod list;
mod orders;
mod params;
mod product_import;
mod products;
mod replay;
mod resource;
mod stores;
mod sync;

use std::sync::Arc;

use utoipa::Modify;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::AppState;
use resource::routes as resource;

pub use auth::AdminAuth;
pub(super) use contact_messages::__path_list_contact_messages;
pub(super) use product_import::__path_import_products;
pub(super) use replay::{__path_replay, __path_replay_bulk};
pub(super) use sync::{__path_get_sync, __path_start_sync, __path_sync_runs};

/// Every admin route.
pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    resource::<stores::Store>(state.clone())
        .or(resource::<orders::Order>(state.clone()))
        .unify()
        .or(resource::<customers::Customer>(state.clone()))
        .unify()
        .or(resource::<products::Product>(state.clone()))
        .unify()
        .or(resource::<events::Event>(state.clone()))
        .unify()
        .or(contact_messages::routes(state.clone()))
        .unify()
        .or(replay::routes(state.clone()))
        .unify()
        .or(product_import::routes(state.clone()))
        .unify()
        .or(sync::routes(state))
        .unify()
        .boxed()
}

/// The OpenAPI operations of the resources (the replays document themselves).
pub struct Resources;

impl Modify for Resources {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        docs::add::<stores::Store>(openapi);
        docs::add::<orders::Order>(openapi);
        docs::add::<customers::Customer>(openapi);
        docs::add::<products::Product>(openapi);
        docs::add::<events::Event>(openapi);
    }
}
