//! Customers: the filtered list, one customer, and what a customer spent.

use std::collections::BTreeMap;

use entity::{customer, order};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Select};

use super::{Lookup, Page, PageRequest, QueryError, Scope, find_one, page_by_pk, scoped};
use crate::domain::orders::OrderStatus;

/// Filters of `GET /customers` (all optional).
#[derive(Debug, Default, Clone)]
pub struct CustomerFilter {
    /// The store and mode.
    pub scope: Scope,
    pub email: Option<String>,
}

/// A customer's orders: how many, and what they spent per currency (paid amounts less
/// refunds, over the orders that were paid).
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

/// What `customer` spent in its store (same mode).
pub async fn spending(
    db: &impl ConnectionTrait,
    customer: &customer::Model,
) -> Result<Spending, QueryError> {
    use order::Column;
    let orders: Vec<(String, i64, i64, Option<String>)> = order::Entity::find()
        .select_only()
        .columns([
            Column::Status,
            Column::Amount,
            Column::AmountRefunded,
            Column::Currency,
        ])
        .filter(Column::StoreKey.eq(customer.store_key.as_str()))
        .filter(Column::Livemode.eq(customer.livemode))
        .filter(Column::Customer.eq(customer.id.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(sum_spending(&orders))
}

/// Sums `(status, amount, amount_refunded, currency)` of a customer's orders.
fn sum_spending(orders: &[(String, i64, i64, Option<String>)]) -> Spending {
    let mut spending = Spending {
        order_count: orders.len() as i64,
        ..Spending::default()
    };
    for (status, amount, refunded, currency) in orders {
        let paid = OrderStatus::parse(status).is_some_and(|s| s >= OrderStatus::Completed);
        if let (true, Some(currency)) = (paid, currency) {
            *spending.total_spent.entry(currency.clone()).or_default() += amount - refunded;
        }
    }
    spending
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spending_counts_every_order_but_sums_only_paid_ones_less_refunds() {
        let row = |status: &str, amount, refunded, currency: &str| {
            (
                status.to_owned(),
                amount,
                refunded,
                Some(currency.to_owned()),
            )
        };
        let spending = sum_spending(&[
            row("completed", 1000, 0, "usd"),
            row("partially_refunded", 500, 200, "usd"),
            row("refunded", 700, 700, "usd"),
            row("failed", 9999, 0, "usd"),
            row("completed", 300, 0, "eur"),
        ]);
        assert_eq!(spending.order_count, 5);
        let expected = BTreeMap::from([("eur".to_owned(), 300), ("usd".to_owned(), 1300)]);
        assert_eq!(spending.total_spent, expected);
    }
}
