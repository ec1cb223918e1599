//! `GET /products`, `GET /products/{id}` and `GET /stores/{id}/products`.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::list::List;
use super::params::{Param, query_params};
use super::resource::{AdminResource, Db, Docs, ListOf, rows_as_objects};
use crate::error::ApiError;
use crate::store::admin::products::{self as query, PricedProduct, ProductFilter};
use crate::store::admin::{Lookup, PageRequest};

impl AdminResource for Product {
    const FILTERS: &[Param<ProductFilter>] = query_params! {
        active: flag = "Only active (`true`) or inactive (`false`) products.",
        category: text = "Only products of this `metadata.category`.",
    };
    type Filter = ProductFilter;
    const DOCS: Docs = Docs::of("product", "`prod_...` or a custom id")
        .get("Retrieve a product with its default price.");

    rows_as_objects!(query);
}

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
