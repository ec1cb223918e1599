//! `POST /stores/{id}/products`: a store's catalogue uploaded to its connected account on
//! Stripe ([`crate::catalog_import`]), from a JSON or CSV body. The answer lists every
//! row's outcome; the store's own product rows follow through Stripe's webhooks.
//!
//! The body is checked first (415, 413, 400), then the store (404), then the key (503):
//! a request that could never work learns why before anything else.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Buf;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, StatusCode, header};
use warp::reply::Response;

use super::list::reply;
use super::params::Query;
use super::resource::path_with_id;
use super::{AppState, auth};
use crate::catalog_import::{self, Format, ImportError, Report, Status};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::store::admin::stores;

/// What an import did, row by row.
#[derive(Serialize, ToSchema)]
pub struct ProductImport {
    /// Always `product_import`.
    pub object: String,
    /// The store (connected account id).
    pub store: String,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    /// Every row, in the body's order.
    pub results: Vec<ImportedRow>,
}

/// One row's outcome.
#[derive(Serialize, ToSchema)]
pub struct ImportedRow {
    /// The CSV line (the header is line 1), or the JSON item (from 1).
    pub line: u64,
    pub status: Status,
    /// The product on Stripe (`prod_imp_...`), unless the row failed.
    pub product: Option<String>,
    /// Its default price (`price_...`).
    pub price: Option<String>,
    /// Why the row failed (`status` is `failed`).
    pub error: Option<String>,
}

impl ProductImport {
    fn of(store: &str, report: Report) -> Self {
        let count = |status| report.count(status) as u64;
        Self {
            object: "product_import".to_owned(),
            store: store.to_owned(),
            created: count(Status::Created),
            updated: count(Status::Updated),
            unchanged: count(Status::Unchanged),
            failed: count(Status::Failed),
            results: report
                .results
                .into_iter()
                .map(|row| ImportedRow {
                    line: row.line as u64,
                    status: row.status,
                    product: row.product,
                    price: row.price,
                    error: row.error,
                })
                .collect(),
        }
    }
}

// The request body, as documented (the import reads it itself, field by field).

/// A product to import. `name`, `price` and `currency` are required: a row without them is
/// answered as failed, with the reason.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ImportItem {
    name: Option<String>,
    description: Option<String>,
    /// At most 8 absolute http(s) URLs (or one text of URLs separated by `|` or spaces).
    images: Option<ImageUrls>,
    /// The storefront's category (`metadata.category`).
    category: Option<String>,
    /// In major units, such as `12.50` (`1200` for JPY).
    price: Option<Amount>,
    /// ISO 4217, any case.
    currency: Option<String>,
    /// `day`, `week`, `month` or `year` for a recurring price.
    interval: Option<String>,
    /// What names the product across imports (else its name). Not with `id`.
    sku: Option<Amount>,
    /// Another name for `sku`.
    id: Option<Amount>,
}

#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Amount {
    Text(String),
    Number(f64),
}

#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ImageUrls {
    List(Vec<String>),
    Text(String),
}

/// The products, as an array or in a `products` field.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ImportBody {
    List(Vec<ImportItem>),
    Wrapped(ImportList),
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ImportList {
    #[schema(min_items = 1)]
    products: Vec<ImportItem>,
}

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    path_with_id("/stores/{id}/products")
        .and(warp::post())
        .and(auth::require_with_query(state))
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .then(import_products)
        .boxed()
}

/// Create or update the store's products and their default prices on Stripe, from JSON
/// or CSV rows; each row's outcome is answered, a bad row does not stop the others.
#[utoipa::path(
    post, path = "/stores/{id}/products", tag = "products",
    operation_id = "import_products",
    params(("id" = String, Path, description = "The store (connected account id)")),
    request_body(
        description = "The products: JSON, or CSV with a header line (the same names as \
                       columns). Re-importing updates what changed and nothing else.",
        content(
            (ImportBody = "application/json"),
            (String = "text/csv"),
        )
    ),
    responses(
        (status = 200, description = "Every row's outcome", body = ProductImport),
        (status = 400, description = "Not product rows: not JSON or CSV, no `name` column, an unknown column or field, a field of the wrong type, no rows, or a query parameter (`invalid_request`)", body = ErrorBody),
        (status = 401, description = "No or wrong admin token", body = ErrorBody),
        (status = 404, description = "No such store (`resource_missing`)", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time (`request_timeout`)", body = ErrorBody),
        (status = 413, description = "The body is over `MAX_BODY_BYTES` (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not `application/json` or `text/csv` (`unsupported_media_type`)", body = ErrorBody),
        (status = 502, description = "Stripe could not be reached, or refused the key or the account (`stripe_unavailable`); rows before it were imported", body = ErrorBody),
        (status = 503, description = "No `STRIPE_API_KEY` is configured (`stripe_not_configured`), or the database cannot be reached (`unavailable`)", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub(crate) async fn import_products<S, B>(
    id: String,
    state: Arc<AppState>,
    raw: HashMap<String, String>,
    headers: HeaderMap,
    body: S,
) -> Response
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    reply(run(&state, raw, &id, &headers, body).await)
}

async fn run<S, B>(
    state: &AppState,
    raw: HashMap<String, String>,
    store: &str,
    headers: &HeaderMap,
    body: S,
) -> Result<ProductImport, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    Query::new(raw, [])?;
    let format = format_of(headers)?;
    let cap = state.max_body_bytes;
    let bytes = crate::body::read_capped(headers, body, cap, state.body_read_timeout).await?;
    // Read before the store and the key are asked for: a body that is not rows is a 400
    // whatever else holds.
    crate::catalog_import::rows::parse(&bytes, format).map_err(|err| not_rows(&err))?;
    if !stores::exists(&state.db, store, None).await? {
        return Err(ApiError::resource_missing("store", store));
    }
    let client = state.web.stripe.as_ref().ok_or_else(not_configured)?;
    match catalog_import::import(client, store, &bytes, format, |_, _| {}).await {
        Ok(report) => {
            tracing::info!(account = %store, summary = %report.summary(), "products imported");
            Ok(ProductImport::of(store, report))
        }
        Err(ImportError::File(err)) => Err(not_rows(&err)),
        Err(ImportError::Stopped(stopped)) => {
            tracing::warn!(account = %store, error = %stopped.error, "product import stopped");
            Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::StripeUnavailable,
                format!(
                    "Stripe could not be used ({}); {} rows were sent before it stopped",
                    stopped.error,
                    stopped.done.results.len()
                ),
            ))
        }
    }
}

/// JSON or CSV, from `Content-Type`.
fn format_of(headers: &HeaderMap) -> Result<Format, ApiError> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match media_type.as_str() {
        "application/json" => Ok(Format::Json),
        "text/csv" => Ok(Format::Csv),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "send the products as application/json or text/csv",
        )),
    }
}

fn not_rows(err: &catalog_import::FileError) -> ApiError {
    ApiError::bad_request(
        ErrorCode::InvalidRequest,
        format!("the body is not product rows: {err}"),
    )
}

fn not_configured() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::StripeNotConfigured,
        "STRIPE_API_KEY is not set: products are created through Stripe's API",
    )
}
