//! The one generic admin resource: a list with cursor and filters, a lookup by id and,
//! for the objects of a store, the store's own list. Each resource supplies its object,
//! its filters, its routes and its two queries ([`AdminResource`]); the parameter rules,
//! the `?store=` / `?livemode=` narrowing and the routing are written here once.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use percent_encoding::percent_decode_str;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::list::{LOOKUP, List, MODE, PAGING, SCOPE, reply};
use super::params::{Param, Query, names};
use super::{AppState, auth};
use crate::error::{ApiError, ErrorCode};
use crate::store::admin::customers::CustomerFilter;
use crate::store::admin::events::EventFilter;
use crate::store::admin::orders::OrderFilter;
use crate::store::admin::products::ProductFilter;
use crate::store::admin::stores::StoreFilter;
use crate::store::admin::{Lookup, PageRequest, Scope, stores};

/// A read-only collection of the admin API, implemented by its API object.
pub trait AdminResource: Serialize + ToSchema + Send + Sized + 'static {
    /// The list's own filters, read after the store and mode filters of [`Self::PLACE`].
    const FILTERS: &'static [Param<Self::Filter>];
    /// The list filters, as the resource's query takes them.
    type Filter: Default + Send + Scoped;
    /// What the OpenAPI document says of the routes.
    const DOCS: Docs;
    /// Where the objects live, which sets the routes and their store and mode parameters.
    const PLACE: Place = Place::InStore;

    /// A page of objects, newest first.
    fn list(db: &Db, filter: Self::Filter, page: PageRequest) -> impl Answer<List<Self>>;
    /// The object `lookup` names.
    fn find(db: &Db, lookup: Lookup<'_>) -> impl Answer<Self>;
}

/// The database the queries read.
pub type Db = DatabaseConnection;

/// What a query of a resource answers, in time.
pub trait Answer<T>: Future<Output = Result<T, ApiError>> + Send {}
impl<T, F: Future<Output = Result<T, ApiError>> + Send> Answer<T> for F {}

/// `list` and `find` for a resource whose objects are its query's rows, converted.
macro_rules! rows_as_objects {
    ($query:ident) => {
        async fn list(db: &Db, filter: Self::Filter, page: PageRequest) -> ListOf<Self> {
            Ok(List::of(
                $query::list(db, &filter, &page).await?,
                Into::into,
            ))
        }

        async fn find(db: &Db, lookup: Lookup<'_>) -> Result<Self, ApiError> {
            Ok($query::find(db, lookup).await?.into())
        }
    };
}
pub(crate) use rows_as_objects;

/// A page of objects, or why not.
pub type ListOf<R> = Result<List<R>, ApiError>;

/// What the OpenAPI document says of a resource's routes beyond its parameters: the
/// name and the id, and the summaries where the defaults do not say enough.
pub struct Docs {
    /// The object's name (`order`), in messages; its plural names the tag, the lists
    /// and the paths.
    pub name: &'static str,
    /// The path id of the lookup.
    pub id: &'static str,
    /// The summary of the lookup by id, if not "Retrieve a {name} by its id."
    pub get: Option<&'static str>,
    /// The summary of the list, if not "List {objects}, newest first."
    pub list: Option<&'static str>,
    /// What the lookup answers, if not "The {name}".
    pub found: Option<&'static str>,
}

impl Docs {
    /// The routes of the `name` objects, whose ids look like `id`.
    pub const fn of(name: &'static str, id: &'static str) -> Self {
        let (get, list, found) = (None, None, None);
        Self {
            name,
            id,
            get,
            list,
            found,
        }
    }

    /// The lookup's summary.
    pub const fn get(self, summary: &'static str) -> Self {
        Self {
            get: Some(summary),
            ..self
        }
    }

    /// The list's summary.
    pub const fn list(self, summary: &'static str) -> Self {
        Self {
            list: Some(summary),
            ..self
        }
    }

    /// What the lookup answers.
    pub const fn found(self, answer: &'static str) -> Self {
        Self {
            found: Some(answer),
            ..self
        }
    }

    /// The plural, which names the lists.
    pub fn objects(&self) -> String {
        format!("{}s", self.name)
    }

    pub fn get_summary(&self) -> String {
        let default = || format!("Retrieve a {} by its id.", self.name);
        self.get.map_or_else(default, str::to_owned)
    }

    pub fn list_summary(&self) -> String {
        let default = || format!("List {}, newest first.", self.objects());
        self.list.map_or_else(default, str::to_owned)
    }

    pub fn found_summary(&self) -> String {
        let default = || format!("The {}", self.name);
        self.found.map_or_else(default, str::to_owned)
    }
}

/// Where a resource's objects live.
pub enum Place {
    /// In a store: `/{objects}`, `/{objects}/{id}` and `/stores/{id}/{objects}`, narrowed by
    /// `store` and `livemode`. An id may exist in several stores.
    InStore,
    /// The stores themselves: `/stores` and `/stores/{id}`, narrowed by `livemode`.
    Stores,
    /// A log at its own paths, not narrowed: its ids are unique and its filters name the
    /// store.
    Log {
        list: &'static str,
        get: &'static str,
    },
}

impl Place {
    /// The routes' path templates, for objects named `objects`.
    pub fn paths(&self, objects: &str) -> Paths {
        let (list, get) = match self {
            Self::InStore | Self::Stores => (format!("/{objects}"), format!("/{objects}/{{id}}")),
            Self::Log { list, get } => (list.to_string(), get.to_string()),
        };
        let of_store = matches!(self, Self::InStore).then(|| format!("/stores/{{id}}/{objects}"));
        Paths {
            list,
            get,
            of_store,
        }
    }

    /// The store and mode filters of the list, read before the resource's own.
    pub fn scope(&self) -> &'static [Param<Scope>] {
        match self {
            Self::InStore => SCOPE,
            Self::Stores => &[MODE],
            Self::Log { .. } => &[],
        }
    }

    /// Whether ids repeat in the list (across stores, or across modes), so that an id
    /// cursor may name several objects; a log's ids are unique.
    pub fn ids_repeat(&self) -> bool {
        !matches!(self, Self::Log { .. })
    }

    /// The parameters of the lookup by id.
    pub fn lookup(&self) -> &'static [Param<Scope>] {
        match self {
            Self::InStore | Self::Stores => LOOKUP,
            Self::Log { .. } => &[],
        }
    }
}

/// The path templates of a resource's routes, as the OpenAPI document shows them. A
/// template is literal segments and at most one `{id}`.
pub struct Paths {
    /// The list, such as `/orders`.
    pub list: String,
    /// The lookup by id, such as `/orders/{id}`.
    pub get: String,
    /// The list of one store's objects, such as `/stores/{id}/orders`.
    pub of_store: Option<String>,
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
fn literal_path(template: &str) -> BoxedFilter<()> {
    segments(template).and(warp::path::end()).boxed()
}

/// The filter matching a path template with one `{id}`, which it extracts
/// percent-decoded (`acct%5F1` is `acct_1`, `a%2Fb` is `a/b`), so any id that can be
/// listed can be fetched. A segment that does not decode to UTF-8 is refused.
pub(super) fn path_with_id(template: &str) -> BoxedFilter<(String,)> {
    let (before, after) = template
        .split_once("{id}")
        .expect("a lookup template has an {id}");
    segments(before)
        .and(warp::path::param::<String>())
        .and_then(|raw: String| async move {
            match percent_decode_str(&raw).decode_utf8() {
                Ok(id) => Ok(id.into_owned()),
                Err(_) => Err(warp::reject::custom(ApiError::bad_request(
                    ErrorCode::InvalidRequest,
                    "the id in the path is not percent-encoded UTF-8",
                ))),
            }
        })
        .and(segments(after))
        .and(warp::path::end())
        .boxed()
}

/// The literal segments of part of a template, matched in order.
fn segments(part: &str) -> BoxedFilter<()> {
    part.split('/')
        .filter(|segment| !segment.is_empty())
        .fold(warp::any().boxed(), |path, segment| {
            path.and(warp::path(segment.to_owned())).boxed()
        })
}

/// Every route of `R`, each behind the admin token.
pub fn routes<R: AdminResource>(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let Paths {
        list,
        get,
        of_store,
    } = R::PLACE.paths(&R::DOCS.objects());
    let guarded = move || auth::require_with_query(state.clone());
    let all =
        literal_path(&list)
            .and(crate::http::get_or_head())
            .and(guarded())
            .then(|state: Arc<AppState>, raw| async move {
                reply(read_list::<R>(&state, raw, None).await)
            })
            .or(path_with_id(&get)
                .and(crate::http::get_or_head())
                .and(guarded())
                .then(|id: String, state: Arc<AppState>, raw| async move {
                    reply(read_one::<R>(&state, raw, &id).await)
                }))
            .unify();
    match of_store {
        None => all.boxed(),
        Some(of_store) => {
            let handle = |id, state: Arc<AppState>, raw| async move {
                reply(read_list::<R>(&state, raw, Some(id)).await)
            };
            let of_store = path_with_id(&of_store)
                .and(crate::http::get_or_head())
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
) -> Result<List<R>, ApiError> {
    let scope_params = list_scope::<R>(path_store.is_some());
    let known = names(scope_params).chain(names(R::FILTERS));
    let query = Query::new(raw, known.chain(names(PAGING)))?;
    let scope = query.read(scope_params)?;
    if let Some(store) = &path_store
        && !stores::exists(&state.db, store, scope.livemode).await?
    {
        // A store that does not exist is 404, rather than an empty list.
        return Err(ApiError::resource_missing("store", store));
    }
    let mut filter = query.read(R::FILTERS)?;
    let store = path_store.or(scope.store);
    filter.narrow(Scope { store, ..scope });
    let page = query.read(PAGING)?.request()?;
    R::list(&state.db, filter, page).await
}

/// The store and mode parameters of a list of `R`: in a store's own list
/// (`/stores/{id}/...`) the path names the store, so only the mode is a parameter.
pub(super) fn list_scope<R: AdminResource>(of_store: bool) -> &'static [Param<Scope>] {
    if of_store { &[MODE] } else { R::PLACE.scope() }
}

/// The `R` with path id `id`, narrowed by the lookup parameters.
async fn read_one<R: AdminResource>(
    state: &AppState,
    raw: HashMap<String, String>,
    id: &str,
) -> Result<R, ApiError> {
    let query = Query::new(raw, names(R::PLACE.lookup()))?;
    let scope = query.read(R::PLACE.lookup())?;
    R::find(&state.db, scope.lookup(id)).await
}
