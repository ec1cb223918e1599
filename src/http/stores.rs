//! `GET /stores` and `GET /stores/{id}` (admin). The store's own lists
//! (`/stores/{id}/products`, `/customers`, `/orders`) live with their objects.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::list::{List, LookupParams, PageParams, Params, reply};
use super::{AppState, admin};
use crate::error::{ApiError, ErrorBody};
use crate::queries::stores::{self as query, Counts, StoreFilter, StoreWithCounts};

/// A seller's store: one per connected account and mode.
#[derive(Serialize, ToSchema)]
pub struct Store {
    /// The connected account id (`acct_...`), or `platform`.
    pub id: String,
    /// Always `store`.
    pub object: String,
    pub livemode: bool,
    pub name: Option<String>,
    pub email: Option<String>,
    pub support_email: Option<String>,
    pub phone: Option<String>,
    pub country: Option<String>,
    pub address: Option<Value>,
    pub currency: Option<String>,
    pub description: Option<String>,
    pub website: Option<String>,
    /// `onboarding`, `active`, `restricted` or `disconnected`.
    pub status: String,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub details_submitted: bool,
    /// Why Stripe restricted the account, if it did.
    pub disabled_reason: Option<String>,
    /// Home, Products, About and Contact, rebuilt whenever the store or its catalogue
    /// changes.
    pub pages: Option<Value>,
    pub payment_settings: Option<Value>,
    pub counts: StoreCounts,
    /// When the service first saw the account (Unix seconds): account events do not give
    /// the store a Stripe `created` of its own.
    pub created: i64,
    /// When the service last changed the store (Unix seconds).
    pub updated_at: i64,
}

/// How many products and customers (deleted ones left out) and orders a store has.
#[derive(Serialize, ToSchema)]
pub struct StoreCounts {
    pub products: i64,
    pub customers: i64,
    pub orders: i64,
}

impl From<StoreWithCounts> for Store {
    fn from(StoreWithCounts { store, counts }: StoreWithCounts) -> Self {
        let Counts {
            products,
            customers,
            orders,
        } = counts;
        Self {
            object: "store".to_owned(),
            livemode: store.livemode,
            name: store.name,
            email: store.email,
            support_email: store.support_email,
            phone: store.phone,
            country: store.country,
            address: store.address,
            currency: store.currency,
            description: store.description,
            website: store.website,
            status: store.status.to_string(),
            charges_enabled: store.charges_enabled,
            payouts_enabled: store.payouts_enabled,
            details_submitted: store.details_submitted,
            disabled_reason: store.disabled_reason,
            pages: store.pages,
            payment_settings: store.payment_settings,
            counts: StoreCounts {
                products,
                customers,
                orders,
            },
            created: store.created_at.timestamp(),
            updated_at: store.updated_at.timestamp(),
            id: store.id,
        }
    }
}

/// Filters of `GET /stores`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct StoreFilters {
    /// Only live (`true`) or test-mode (`false`) stores.
    livemode: Option<bool>,
    /// `onboarding`, `active`, `restricted` or `disconnected`.
    status: Option<String>,
}

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let list = warp::path!("stores")
        .and(warp::get())
        .and(admin::require_with_query(state.clone()))
        .then(list);
    let one = warp::path!("stores" / String)
        .and(warp::get())
        .and(admin::require_with_query(state))
        .then(get);
    list.or(one).unify().boxed()
}

/// List stores, newest first.
#[utoipa::path(
    get, path = "/stores", tag = "stores",
    params(StoreFilters, PageParams),
    responses(
        (status = 200, description = "A page of stores", body = List<Store>),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn list(state: Arc<AppState>, raw: HashMap<String, String>) -> Response {
    reply(list_stores(&state, raw).await)
}

/// Retrieve a store with its pages, payment settings, status and counts.
#[utoipa::path(
    get, path = "/stores/{id}", tag = "stores",
    params(("id" = String, Path, description = "The connected account id (`acct_...`) or `platform`"), LookupParams),
    responses(
        (status = 200, description = "The store (the live one unless `livemode=false`)", body = Store),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
        (status = 404, description = "No such store (`resource_missing`)", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn get(
    id: String,
    state: Arc<AppState>,
    raw: HashMap<String, String>,
) -> Response {
    reply(get_store(&state, raw, &id).await)
}

async fn list_stores(
    state: &AppState,
    raw: HashMap<String, String>,
) -> Result<List<Store>, ApiError> {
    let params = Params::new::<StoreFilters>(raw, true)?;
    let filter = StoreFilter {
        livemode: params.boolean("livemode")?,
        status: params.one_of("status", entity::status::StoreStatus::NAMES)?,
    };
    let page = query::list(&state.db, &filter, &params.page()?).await?;
    Ok(List::of(page, Store::from))
}

async fn get_store(
    state: &AppState,
    raw: HashMap<String, String>,
    id: &str,
) -> Result<Store, ApiError> {
    let params = Params::new::<LookupParams>(raw, false)?;
    Ok(query::find(&state.db, params.lookup(id)?).await?.into())
}

/// The store a list is narrowed to: the one in the path (`/stores/{id}/...`, which must
/// exist, else 404), or else the `store` parameter.
pub(super) async fn store_scope(
    state: &AppState,
    params: &Params,
    path_store: Option<String>,
) -> Result<Option<String>, ApiError> {
    let param = params.string("store")?;
    let Some(id) = path_store else {
        return Ok(param);
    };
    if param.as_deref().is_some_and(|param| param != id) {
        return Err(ApiError::invalid_param(
            "store",
            "differs from the store in the path",
        ));
    }
    if !query::exists(&state.db, &id, params.boolean("livemode")?).await? {
        return Err(ApiError::resource_missing("store", &id));
    }
    Ok(Some(id))
}
