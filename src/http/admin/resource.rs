//! The one generic admin resource: a list with cursor and filters, a lookup by id and,
//! for the objects of a store, the store's own list. Each resource supplies its object,
//! its filters, its routes and its two queries ([`AdminResource`]); the parameter rules,
//! the `?store=` / `?livemode=` narrowing and the routing are written here once.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::list::{List, MODE, PAGING, STORE, reply};
use super::params::{Param, Query, names};
use super::{AppState, auth};
use crate::error::ApiError;
use crate::store::admin::{Lookup, PageRequest, Scope, stores};

/// A read-only collection of the admin API.
pub trait AdminResource: 'static {
    /// The API object.
    type Object: Serialize + ToSchema + Send;
    /// The list filters, as the resource's query takes them.
    type Filter: Default + Send;
    /// What the OpenAPI document says of the routes.
    const DOCS: Docs;
    /// The store and mode filters of the list ([`super::list::SCOPE`], [`MODE`] alone,
    /// or none), read before [`Self::FILTERS`].
    const SCOPE: &'static [Param<Scope>];
    /// The list's own filters.
    const FILTERS: &'static [Param<Self::Filter>];
    /// The by-id route's parameters ([`super::list::LOOKUP`], or none).
    const LOOKUP: &'static [Param<Scope>];

    /// The routes, each with its path template.
    fn routes() -> Routes;
    /// Puts the store and mode read from the list's parameters into its filter.
    fn scope(filter: &mut Self::Filter, scope: Scope);
    /// A page of objects, newest first.
    fn list(
        db: &DatabaseConnection,
        filter: Self::Filter,
        page: PageRequest,
    ) -> impl Future<Output = Result<List<Self::Object>, ApiError>> + Send;
    /// The object `lookup` names.
    fn find(
        db: &DatabaseConnection,
        lookup: Lookup<'_>,
    ) -> impl Future<Output = Result<Self::Object, ApiError>> + Send;
}

/// What the OpenAPI document says of a resource's routes beyond its parameters.
pub struct Docs {
    /// The object's name (`order`), in messages; its plural names the tag and the lists.
    pub name: &'static str,
    /// The summary of the list.
    pub list: &'static str,
    /// The summary of the lookup by id, and its answer.
    pub get: (&'static str, &'static str),
    /// The path id of the lookup.
    pub id: &'static str,
}

/// A route: its OpenAPI path template and the warp filter (a `warp::path!`) that
/// matches it.
pub struct Route<P> {
    pub template: &'static str,
    pub path: P,
}

impl<P> Route<P> {
    pub fn new(template: &'static str, path: P) -> Self {
        Self { template, path }
    }
}

/// The routes of a resource.
pub struct Routes {
    pub list: Route<BoxedFilter<()>>,
    pub get: Route<BoxedFilter<(String,)>>,
    /// `/stores/{id}/...`, for the objects of a store.
    pub of_store: Option<Route<BoxedFilter<(String,)>>>,
}

/// Every route of `R`, each behind the admin token.
pub fn routes<R: AdminResource>(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let Routes {
        list,
        get,
        of_store,
    } = R::routes();
    let guarded = move || auth::require_with_query(state.clone());
    let all =
        list.path
            .and(warp::get())
            .and(guarded())
            .then(|state: Arc<AppState>, raw| async move {
                reply(read_list::<R>(&state, raw, None).await)
            })
            .or(get.path.and(warp::get()).and(guarded()).then(
                |id: String, state: Arc<AppState>, raw| async move {
                    reply(read_one::<R>(&state, raw, &id).await)
                },
            ))
            .unify();
    match of_store {
        None => all.boxed(),
        Some(of_store) => {
            let handle = |id, state: Arc<AppState>, raw| async move {
                reply(read_list::<R>(&state, raw, Some(id)).await)
            };
            let of_store = of_store.path.and(warp::get()).and(guarded()).then(handle);
            all.or(of_store).unify().boxed()
        }
    }
}

/// A page of `R`, of the store in the path when there is one.
async fn read_list<R: AdminResource>(
    state: &AppState,
    raw: HashMap<String, String>,
    path_store: Option<String>,
) -> Result<List<R::Object>, ApiError> {
    let known = names(R::SCOPE).chain(names(R::FILTERS));
    let query = Query::new(raw, known.chain(names(PAGING)))?;
    if let Some(store) = &path_store {
        in_store(&state.db, &query, store).await?;
    }
    let scope = query.read(R::SCOPE)?;
    let mut filter = query.read(R::FILTERS)?;
    let store = path_store.or(scope.store);
    R::scope(&mut filter, Scope { store, ..scope });
    let page = query.read(PAGING)?.request()?;
    R::list(&state.db, filter, page).await
}

/// Checks a list of the store in the path (`/stores/{id}/...`): a `store` parameter must
/// name the same store, and the store must exist (else 404, rather than an empty list).
async fn in_store(db: &DatabaseConnection, query: &Query, store: &str) -> Result<(), ApiError> {
    let named = query.read(&[STORE])?.store;
    if named.is_some_and(|named| named != store) {
        let problem = "differs from the store in the path";
        return Err(ApiError::invalid_param("store", problem));
    }
    let livemode = query.read(&[MODE])?.livemode;
    if !stores::exists(db, store, livemode).await? {
        return Err(ApiError::resource_missing("store", store));
    }
    Ok(())
}

/// The `R` with path id `id`, narrowed by the lookup parameters.
async fn read_one<R: AdminResource>(
    state: &AppState,
    raw: HashMap<String, String>,
    id: &str,
) -> Result<R::Object, ApiError> {
    let query = Query::new(raw, names(R::LOOKUP))?;
    let scope = query.read(R::LOOKUP)?;
    R::find(&state.db, scope.lookup(id)).await
}
