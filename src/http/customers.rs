//! `GET /customers`, `GET /customers/{id}` and `GET /stores/{id}/customers` (admin).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use entity::customer;
use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::list::{List, LookupParams, PageParams, Params, reply};
use super::{AppState, admin};
use crate::error::{ApiError, ErrorBody};
use crate::queries::customers::{self as query, CustomerFilter, Spending};

/// A customer of one store. Deleted customers stay listed with `deleted: true`.
#[derive(Serialize, ToSchema)]
pub struct Customer {
    /// `cus_...`
    pub id: String,
    /// Always `customer`.
    pub object: String,
    pub store: String,
    pub livemode: bool,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<Value>,
    pub shipping: Option<Value>,
    pub metadata: Option<Value>,
    pub deleted: bool,
    /// Stripe's `created` (Unix seconds).
    pub created: Option<i64>,
    /// When the service last changed the customer (Unix seconds).
    pub updated_at: i64,
    /// Retrieve only: how many orders the customer has (its orders:
    /// `GET /orders?customer=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_count: Option<i64>,
    /// Retrieve only: paid amounts less refunds, per currency, smallest unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_spent: Option<BTreeMap<String, i64>>,
}

impl Customer {
    fn from_row(row: customer::Model, spending: Option<Spending>) -> Self {
        let (order_count, total_spent) = match spending {
            Some(spending) => (Some(spending.order_count), Some(spending.total_spent)),
            None => (None, None),
        };
        Self {
            object: "customer".to_owned(),
            store: row.store_key,
            livemode: row.livemode,
            email: row.email,
            name: row.name,
            phone: row.phone,
            address: row.address,
            shipping: row.shipping,
            metadata: row.metadata,
            deleted: row.deleted_at.is_some(),
            created: row.created,
            updated_at: row.updated_at.timestamp(),
            order_count,
            total_spent,
            id: row.id,
        }
    }
}

/// Filters of the customer lists.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CustomerFilters {
    /// Only this store's customers.
    store: Option<String>,
    /// Only live (`true`) or test-mode (`false`) customers.
    livemode: Option<bool>,
    /// Only customers with this exact e-mail.
    email: Option<String>,
}

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let list = warp::path!("customers")
        .and(warp::get())
        .and(admin::require_with_query(state.clone()))
        .then(list);
    let one = warp::path!("customers" / String)
        .and(warp::get())
        .and(admin::require_with_query(state.clone()))
        .then(get);
    let of_store = warp::path!("stores" / String / "customers")
        .and(warp::get())
        .and(admin::require_with_query(state))
        .then(list_of_store);
    list.or(one).unify().or(of_store).unify().boxed()
}

/// List customers, newest first.
#[utoipa::path(
    get, path = "/customers", tag = "customers",
    params(CustomerFilters, PageParams),
    responses(
        (status = 200, description = "A page of customers", body = List<Customer>),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn list(state: Arc<AppState>, raw: HashMap<String, String>) -> Response {
    reply(list_customers(&state, raw, None).await)
}

/// List one store's customers, newest first.
#[utoipa::path(
    get, path = "/stores/{id}/customers", tag = "customers",
    params(("id" = String, Path, description = "The store (connected account id)"), CustomerFilters, PageParams),
    responses(
        (status = 200, description = "A page of the store's customers", body = List<Customer>),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
        (status = 404, description = "No such store (`resource_missing`)", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn list_of_store(
    id: String,
    state: Arc<AppState>,
    raw: HashMap<String, String>,
) -> Response {
    reply(list_customers(&state, raw, Some(id)).await)
}

/// Retrieve a customer, with its order count and total spent.
#[utoipa::path(
    get, path = "/customers/{id}", tag = "customers",
    params(("id" = String, Path, description = "`cus_...`"), LookupParams),
    responses(
        (status = 200, description = "The customer", body = Customer),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
        (status = 404, description = "No such customer (`resource_missing`)", body = ErrorBody),
        (status = 409, description = "The id exists in several stores (`ambiguous_id`)", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn get(
    id: String,
    state: Arc<AppState>,
    raw: HashMap<String, String>,
) -> Response {
    reply(get_customer(&state, raw, &id).await)
}

async fn list_customers(
    state: &AppState,
    raw: HashMap<String, String>,
    path_store: Option<String>,
) -> Result<List<Customer>, ApiError> {
    let params = Params::new::<CustomerFilters>(raw, true)?;
    let filter = CustomerFilter {
        store: super::stores::store_scope(state, &params, path_store).await?,
        livemode: params.boolean("livemode")?,
        email: params.string("email")?,
    };
    let page = query::list(&state.db, &filter, &params.page()?).await?;
    Ok(List::of(page, |row| Customer::from_row(row, None)))
}

async fn get_customer(
    state: &AppState,
    raw: HashMap<String, String>,
    id: &str,
) -> Result<Customer, ApiError> {
    let params = Params::new::<LookupParams>(raw, false)?;
    let row = query::find(&state.db, params.lookup(id)?).await?;
    let spending = query::spending(&state.db, &row).await?;
    Ok(Customer::from_row(row, Some(spending)))
}
