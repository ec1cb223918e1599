//! Customers: the filtered list, one customer, and what a customer spent.

use std::collections::BTreeMap;

use entity::{customer, order};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Select};

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

/// What `customer` spent in its store (same mode).
pub async fn spending(
    db: &impl ConnectionTrait,
    customer: &customer::Model,
) -> Result<Spending, QueryError> {
    use order::Column;
    // Orders are counted where the customer lives: a marketplace charge made on the
    // platform for a seller still belongs to the platform's customer.
    let orders: Vec<(i64, i64, i64, Option<String>)> = order::Entity::find()
        .select_only()
        .columns([
            Column::AmountCaptured,
            Column::AmountRefunded,
            Column::AmountLost,
            Column::Currency,
        ])
        .filter(Column::SourceStore.eq(customer.store_key.as_str()))
        .filter(Column::Livemode.eq(customer.livemode))
        .filter(Column::Customer.eq(customer.id.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(sum_spending(&orders))
}

/// Sums `(captured, refunded, lost to disputes, currency)` of a customer's orders: the
/// paid orders, and what they kept.
fn sum_spending(orders: &[(i64, i64, i64, Option<String>)]) -> Spending {
    let mut spending = Spending::default();
    for (captured, refunded, lost, currency) in orders {
        if *captured <= 0 {
            continue;
        }
        spending.order_count += 1;
        if let Some(currency) = currency {
            let kept = (captured - refunded - lost).max(0);
            *spending.total_spent.entry(currency.clone()).or_default() += kept;
        }
    }
    spending
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spending_counts_paid_orders_less_refunds_and_lost_disputes() {
        let row = |captured, refunded, lost, currency: &str| {
            (captured, refunded, lost, Some(currency.to_owned()))
        };
        let spending = sum_spending(&[
            row(1000, 0, 0, "usd"),
            row(500, 200, 0, "usd"),
            row(700, 700, 0, "usd"),
            row(0, 0, 0, "usd"),
            row(300, 0, 0, "eur"),
            row(400, 0, 400, "eur"),
        ]);
        assert_eq!(spending.order_count, 5);
        let expected = BTreeMap::from([("eur".to_owned(), 300), ("usd".to_owned(), 1300)]);
        assert_eq!(spending.total_spent, expected);
    }
}
