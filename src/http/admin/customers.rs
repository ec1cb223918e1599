//! `GET /customers`, `GET /customers/{id}` and `GET /stores/{id}/customers`.

use std::collections::BTreeMap;

use entity::customer;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::list::List;
use super::params::{Param, query_params};
use super::resource::{AdminResource, Db, Docs, ListOf};
use crate::error::ApiError;
use crate::store::admin::customers::{self as query, CustomerFilter, Spending};
use crate::store::admin::{Lookup, PageRequest};

impl AdminResource for Customer {
    const FILTERS: &[Param<CustomerFilter>] = query_params! {
        email: text = "Only customers with this exact e-mail.",
    };
    type Filter = CustomerFilter;
    const DOCS: Docs = Docs::of("customer", "`cus_...`")
        .get("Retrieve a customer, with its order count and total spent.");

    async fn list(db: &Db, filter: CustomerFilter, page: PageRequest) -> ListOf<Self> {
        let page = query::list(db, &filter, &page).await?;
        Ok(List::of(page, |row| Customer::from_row(row, None)))
    }

    /// One customer comes with what it spent.
    async fn find(db: &Db, lookup: Lookup<'_>) -> Result<Customer, ApiError> {
        let row = query::find(db, lookup).await?;
        let spending = query::spending(db, &row).await?;
        Ok(Customer::from_row(row, Some(spending)))
    }
}

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
    /// Retrieve only: how many of the customer's orders were paid (captured), including
    /// marketplace charges made on the platform for a seller (its orders:
    /// `GET /orders?customer=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_count: Option<i64>,
    /// Retrieve only: captured amounts less succeeded and pending refunds and lost
    /// disputes, per currency, smallest unit.
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
