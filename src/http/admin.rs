//! The admin API, every route behind the admin token ([`auth`]): five read-only
//! resources written once as a generic one ([`resource`]) — [`stores`], [`orders`],
//! [`customers`], [`products`] and the event log ([`events`]) — and the [`replay`] routes.
//!
//! A resource declares its object, its filters ([`params`]), its routes and its two
//! queries; the list shape, pagination and lookup rules ([`list`]) and the OpenAPI
//! operations ([`docs`]) come from those declarations.

mod auth;
mod customers;
mod docs;
mod events;
mod list;
mod orders;
mod params;
mod products;
mod replay;
mod resource;
mod stores;

use std::sync::Arc;

use utoipa::Modify;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::AppState;
use resource::routes as resource;

pub use auth::AdminAuth;
pub(super) use replay::{__path_replay, __path_replay_bulk};

/// Every admin route.
pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    resource::<stores::Stores>(state.clone())
        .or(resource::<orders::Orders>(state.clone()))
        .unify()
        .or(resource::<customers::Customers>(state.clone()))
        .unify()
        .or(resource::<products::Products>(state.clone()))
        .unify()
        .or(resource::<events::Events>(state.clone()))
        .unify()
        .or(replay::routes(state))
        .unify()
        .boxed()
}

/// The OpenAPI operations of the resources (the replays document themselves).
pub struct Resources;

impl Modify for Resources {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        docs::add::<stores::Stores>(openapi);
        docs::add::<orders::Orders>(openapi);
        docs::add::<customers::Customers>(openapi);
        docs::add::<products::Products>(openapi);
        docs::add::<events::Events>(openapi);
    }
}
