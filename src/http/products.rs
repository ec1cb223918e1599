//! `GET /products`, `GET /products/{id}` and `GET /stores/{id}/products` (admin).

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
use crate::queries::products::{self as query, PricedProduct, ProductFilter};

/// A product of one store. Deleted products stay listed with `deleted: true`.
#[derive(Serialize, ToSchema)]
pub struct Product {
    /// `prod_...`, or a custom id (unique only within its store).
    pub id: String,
    /// Always `product`.
    pub object: String,
    pub store: String,
    pub livemode: bool,
    pub name: Option<String>,
    pub description: Option<String>,
    pub images: Option<Value>,
    /// Sellable: active on Stripe and not deleted.
    pub active: bool,
    /// `metadata.category`.
    pub category: Option<String>,
    /// The default price, when it is known and not deleted.
    pub price: Option<ProductPrice>,
    pub metadata: Option<Value>,
    pub deleted: bool,
    /// Stripe's `created` (Unix seconds).
    pub created: Option<i64>,
    /// When the service last changed the product (Unix seconds).
    pub updated_at: i64,
}

/// A product's default price.
#[derive(Serialize, ToSchema)]
pub struct ProductPrice {
    /// `price_...`
    pub id: String,
    /// Smallest currency unit; null for tiered prices.
    pub unit_amount: Option<i64>,
    pub currency: Option<String>,
}

impl From<PricedProduct> for Product {
    fn from(PricedProduct { product, price }: PricedProduct) -> Self {
        Self {
            object: "product".to_owned(),
            store: product.store_key,
            livemode: product.livemode,
            name: product.name,
            description: product.description,
            images: product.images,
            active: product.active,
            category: product.category,
            price: price.map(|price| ProductPrice {
                id: price.id,
                unit_amount: price.unit_amount,
                currency: price.currency,
            }),
            metadata: product.metadata,
            deleted: product.deleted_at.is_some(),
            created: product.created,
            updated_at: product.updated_at.timestamp(),
            id: product.id,
        }
    }
}

/// Filters of the product lists.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ProductFilters {
    /// Only this store's products.
    store: Option<String>,
    /// Only live (`true`) or test-mode (`false`) products.
    livemode: Option<bool>,
    /// Only active (`true`) or inactive (`false`) products.
    active: Option<bool>,
    /// Only products of this `metadata.category`.
    category: Option<String>,
}

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let list = warp::path!("products")
        .and(warp::get())
        .and(admin::require_with_query(state.clone()))
        .then(list);
    let one = warp::path!("products" / String)
        .and(warp::get())
        .and(admin::require_with_query(state.clone()))
        .then(get);
    let of_store = warp::path!("stores" / String / "products")
        .and(warp::get())
        .and(admin::require_with_query(state))
        .then(list_of_store);
    list.or(one).unify().or(of_store).unify().boxed()
}

/// List products, newest first.
#[utoipa::path(
    get, path = "/products", tag = "products",
    params(ProductFilters, PageParams),
    responses(
        (status = 200, description = "A page of products", body = List<Product>),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn list(state: Arc<AppState>, raw: HashMap<String, String>) -> Response {
    reply(list_products(&state, raw, None).await)
}

/// List one store's products, newest first.
#[utoipa::path(
    get, path = "/stores/{id}/products", tag = "products",
    params(("id" = String, Path, description = "The store (connected account id)"), ProductFilters, PageParams),
    responses(
        (status = 200, description = "A page of the store's products", body = List<Product>),
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
    reply(list_products(&state, raw, Some(id)).await)
}

/// Retrieve a product with its default price.
#[utoipa::path(
    get, path = "/products/{id}", tag = "products",
    params(("id" = String, Path, description = "`prod_...` or a custom id"), LookupParams),
    responses(
        (status = 200, description = "The product", body = Product),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
        (status = 404, description = "No such product (`resource_missing`)", body = ErrorBody),
        (status = 409, description = "The id exists in several stores (`ambiguous_id`)", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn get(
    id: String,
    state: Arc<AppState>,
    raw: HashMap<String, String>,
) -> Response {
    reply(get_product(&state, raw, &id).await)
}

async fn list_products(
    state: &AppState,
    raw: HashMap<String, String>,
    path_store: Option<String>,
) -> Result<List<Product>, ApiError> {
    let params = Params::new::<ProductFilters>(raw, true)?;
    let filter = ProductFilter {
        store: super::stores::store_scope(state, &params, path_store).await?,
        livemode: params.boolean("livemode")?,
        active: params.boolean("active")?,
        category: params.string("category")?,
    };
    let page = query::list(&state.db, &filter, &params.page()?).await?;
    Ok(List::of(page, Product::from))
}

async fn get_product(
    state: &AppState,
    raw: HashMap<String, String>,
    id: &str,
) -> Result<Product, ApiError> {
    let params = Params::new::<LookupParams>(raw, false)?;
    Ok(query::find(&state.db, params.lookup(id)?).await?.into())
}
