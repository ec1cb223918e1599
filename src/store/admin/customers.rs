//! Customers: the filtered list, one customer, and what a customer spent.

use std::collections::BTreeMap;

use entity::{customer, customer_total};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};

use super::{Lookup, Page, PageRequest, QueryError, Scope, find_one, page_by_pk, scoped};

/// Filters of `GET /customers` (all optional).
#[derive(Debug, Default, Clone)]
pub struct CustomerFilter {
    /// The store and mode.
    pub scope: Scope,
    pub email: Option<String>,
}

/// A customer's orders: how many were paid, and what they spent per currency (captured
/// amounts less succeeded and pending refunds and lost disputes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spending {
    pub order_count: i64,
    pub total_spent: BTreeMap<String, i64>,
}

fn select(filter: &CustomerFilter) -> Select<customer::Entity> {
    let mut select = scoped(
        customer::Entity::find(),
        filter.scope.store.as_deref(),
        filter.scope.livemode,
    );
    if let Some(email) = &filter.email {
        select = select.filter(customer::Column::Email.eq(email.as_str()));
    }
    select
}

/// A page of customers, newest first, deleted ones included.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &CustomerFilter,
    page: &PageRequest,
) -> Result<Page<customer::Model>, QueryError> {
    page_by_pk(db, select(filter), page).await
}

/// The customer `lookup` names.
pub async fn find(
    db: &impl ConnectionTrait,
    lookup: Lookup<'_>,
) -> Result<customer::Model, QueryError> {
    find_one::<customer::Entity>(db, lookup).await
}

/// What `customer` spent in its store (same mode), from the totals the database maintains
/// per customer and currency.
pub async fn spending(
    db: &impl ConnectionTrait,
    customer: &customer::Model,
) -> Result<Spending, QueryError> {
    use customer_total::Column;
    // Orders are counted where the customer lives: a marketplace charge made on the
    // platform for a seller still belongs to the platform's customer.
    let totals = customer_total::Entity::find()
        .filter(Column::SourceStore.eq(customer.store_key.as_str()))
        .filter(Column::Livemode.eq(customer.livemode))
        .filter(Column::Customer.eq(customer.id.as_str()))
        .all(db)
        .await?;
    Ok(spending_of(&totals))
}

/// Folds a customer's per-currency totals; a currency whose orders were all refunded away
/// keeps its row with no paid order, and is left out.
fn spending_of(totals: &[customer_total::Model]) -> Spending {
    let mut spending = Spending::default();
    for total in totals.iter().filter(|total| total.paid_orders > 0) {
        spending.order_count += total.paid_orders;
        if !total.currency.is_empty() {
            *spending
                .total_spent
                .entry(total.currency.clone())
                .or_default() += total.kept;
        }
    }
    spending
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spending_adds_paid_orders_and_shows_known_currencies() {
        let total = |currency: &str, paid_orders, kept| customer_total::Model {
            source_store: "acct_1".into(),
            livemode: false,
            customer: "cus_1".into(),
            currency: currency.into(),
            paid_orders,
            kept,
        };
        let spending = spending_of(&[
            total("usd", 3, 1300),
            total("eur", 2, 300),
            total("", 1, 0),
            total("gbp", 0, 0),
        ]);
        assert_eq!(spending.order_count, 6);
        let expected = BTreeMap::from([("eur".to_owned(), 300), ("usd".to_owned(), 1300)]);
        assert_eq!(spending.total_spent, expected);
    }
}
