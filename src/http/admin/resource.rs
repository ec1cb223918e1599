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
use crate::store::admin::customers::CustomerFilter;
use crate::store::admin::events::EventFilter;
use crate::store::admin::orders::OrderFilter;
use crate::store::admin::products::ProductFilter;
use crate::store::admin::stores::StoreFilter;
use crate::store::admin::{Lookup, PageRequest, Scope, stores};

/// A read-only collection of the admin API.
pub trait AdminResource: 'static {
    /// The API object.
    type Object: Serialize + ToSchema + Send;
    /// The list filters, as the resource's query takes them.
    type Filter: Default + Send + Scoped;
    /// What the OpenAPI document says of the routes.
    const DOCS: Docs;
    /// The store and mode filters of the list ([`super::list::SCOPE`], [`MODE`] alone,
    /// or none), read before [`Self::FILTERS`].
    const SCOPE: &'static [Param<Scope>];
    /// The list's own filters.
    const FILTERS: &'static [Param<Self::Filter>];
    /// The by-id route's parameters ([`super::list::LOOKUP`], or none).
    const LOOKUP: &'static [Param<Scope>];

    /// The path templates of the routes; the routes are built from them.
    const PATHS: Paths;
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

/// The path templates of a resource's routes, as the OpenAPI document shows them. A
/// template is literal segments and at most one `{id}`.
pub struct Paths {
    /// The list, such as `/orders`.
    pub list: &'static str,
    /// The lookup by id, such as `/orders/{id}`.
    pub get: &'static str,
    /// The list of one store's objects, such as `/stores/{id}/orders`.
    pub of_store: Option<&'static str>,
}

/// A list filter that a store and mode can narrow.
pub trait Scoped {
    /// Puts the store and mode read from the list's parameters into the filter.
    fn narrow(&mut self, scope: Scope);
}

macro_rules! scoped_by_field {
    ($($filter:ty),+) => {
        $(impl Scoped for $filter {
            fn narrow(&mut self, scope: Scope) {
                self.scope = scope;
            }
        })+
    };
}
scoped_by_field!(CustomerFilter, OrderFilter, ProductFilter, StoreFilter);

/// The event log is not narrowed by store: its `account` filter does that.
impl Scoped for EventFilter {
    fn narrow(&mut self, _: Scope) {}
}

/// The filter matching a path template without `{id}`.
fn literal_path(template: &'static str) -> BoxedFilter<()> {
    segments(template).and(warp::path::end()).boxed()
}

/// The filter matching a path template with one `{id}`, which it extracts.
fn path_with_id(template: &'static str) -> BoxedFilter<(String,)> {
    let (before, after) = template
        .split_once("{id}")
        .expect("a lookup template has an {id}");
    segments(before)
        .and(warp::path::param::<String>())
        .and(segments(after))
        .and(warp::path::end())
        .boxed()
}

/// The literal segments of part of a template, matched in order.
fn segments(part: &'static str) -> BoxedFilter<()> {
    part.split('/')
        .filter(|segment| !segment.is_empty())
        .fold(warp::any().boxed(), |path, segment| {
            path.and(warp::path(segment)).boxed()
        })
}

/// Every route of `R`, each behind the admin token.
pub fn routes<R: AdminResource>(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let Paths {
        list,
        get,
        of_store,
    } = R::PATHS;
    let guarded = move || auth::require_with_query(state.clone());
    let all =
        literal_path(list)
            .and(warp::get())
            .and(guarded())
            .then(|state: Arc<AppState>, raw| async move {
                reply(read_list::<R>(&state, raw, None).await)
            })
            .or(path_with_id(get).and(warp::get()).and(guarded()).then(
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
            let of_store = path_with_id(of_store)
                .and(warp::get())
                .and(guarded())
                .then(handle);
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
    filter.narrow(Scope { store, ..scope });
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
