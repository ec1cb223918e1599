//! What is seeded: how many rows of each kind, and which row goes where. Every choice is a
//! pure function of the row's number, computed the same way in SQL (to seed in bulk) and
//! here (to name rows that exist when timing the reads).
//!
//! The shape of a marketplace: half the customers (so half the orders) belong to one
//! very large store; the other half spread over the rest with a cubic skew, so a few
//! stores are large and most are small.

/// Multipliers of the hash behind each independent choice (odd, from xxHash and Knuth).
pub const CUSTOMER_STORE_HALF: i64 = 2_654_435_761;
pub const CUSTOMER_STORE_SKEW: i64 = 2_246_822_519;
pub const ORDER_CUSTOMER: i64 = 3_266_489_917;
pub const ORDER_STATUS: i64 = 668_265_263;
pub const ORDER_AMOUNT: i64 = 374_761_393;
pub const ORDER_CURRENCY: i64 = 3_432_918_353;
pub const EVENT_TYPE: i64 = 1_597_334_677;
pub const EVENT_STATUS: i64 = 3_812_015_801;
pub const PRODUCT_STORE: i64 = 1_181_783_497;
pub const PRODUCT_CATEGORY: i64 = 2_024_237_689;

const TWO_32: i64 = 4_294_967_296;

/// The first Stripe `created` of the seeded orders and events (2025-01-01), three seconds
/// apart: one year of history at 10 million orders.
pub const FIRST_CREATED: i64 = 1_735_689_600;
pub const CREATED_STEP: i64 = 3;

/// Order statuses by share (percent, cumulative).
pub const ORDER_STATUSES: [(i64, &str); 5] = [
    (80, "completed"),
    (88, "pending"),
    (93, "failed"),
    (97, "refunded"),
    (100, "authorized"),
];

/// Event types and statuses by share (percent, cumulative).
pub const EVENT_TYPES: [(i64, &str); 5] = [
    (30, "charge.succeeded"),
    (60, "payment_intent.succeeded"),
    (80, "customer.created"),
    (95, "product.updated"),
    (100, "charge.refunded"),
];
pub const EVENT_STATUSES: [(i64, &str); 3] = [(94, "processed"), (99, "ignored"), (100, "failed")];

pub const CATEGORIES: i64 = 20;

/// How many rows of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub stores: i64,
    pub customers: i64,
    pub products: i64,
    pub orders: i64,
    pub events: i64,
}

impl Plan {
    /// The usual proportions for `orders` orders: 1,000 stores (fewer for a small seed),
    /// one customer per 5 orders, one product per 100, one event per order.
    pub fn for_orders(orders: i64) -> Self {
        let orders = orders.max(100);
        Self {
            stores: (orders / 100).clamp(10, 1_000),
            customers: (orders / 5).max(10),
            products: (orders / 100).max(10),
            orders,
            events: orders,
        }
    }

    /// The store of customer `c`: store 0 for half of them, else skewed towards the low
    /// numbers.
    pub fn customer_store(&self, c: i64) -> i64 {
        if pick(c, CUSTOMER_STORE_HALF, 2) == 0 {
            return 0;
        }
        let u = pick(c, CUSTOMER_STORE_SKEW, 1_000_000);
        1 + (u * u / 1_000_000 * u / 1_000_000) * (self.stores - 1) / 1_000_000
    }

    pub fn order_customer(&self, k: i64) -> i64 {
        pick(k, ORDER_CUSTOMER, self.customers)
    }

    pub fn order_store(&self, k: i64) -> i64 {
        self.customer_store(self.order_customer(k))
    }

    pub fn product_store(&self, p: i64) -> i64 {
        // Products follow the stores' skew too.
        self.customer_store(pick(p, PRODUCT_STORE, self.customers))
    }

    pub fn created(&self, k: i64) -> i64 {
        FIRST_CREATED + k * CREATED_STEP
    }
}

/// A number in `0..n` from the high bits of `k * multiplier` (mod 2^32): spread evenly,
/// and independent between multipliers.
pub fn pick(k: i64, multiplier: i64, n: i64) -> i64 {
    ((k * multiplier) % TWO_32) * n / TWO_32
}

/// [`pick`] as a SQL expression over the integer expression `k`; both backends compute it
/// in 64-bit integers, exactly as [`pick`] does.
pub fn pick_sql(k: &str, multiplier: i64, n: i64) -> String {
    format!("(((CAST(({k}) AS BIGINT) * {multiplier}) % {TWO_32}) * {n} / {TWO_32})")
}

/// [`Plan::customer_store`] as SQL over the customer number `c`.
pub fn customer_store_sql(plan: &Plan, c: &str) -> String {
    let u = pick_sql(c, CUSTOMER_STORE_SKEW, 1_000_000);
    format!(
        "(CASE WHEN {} = 0 THEN 0 ELSE 1 + ({u} * {u} / 1000000 * {u} / 1000000) * {} / 1000000 END)",
        pick_sql(c, CUSTOMER_STORE_HALF, 2),
        plan.stores - 1
    )
}

/// A `CASE` choosing among `shares` (cumulative percent) by `pick(k, multiplier, 100)`.
pub fn share_sql(k: &str, multiplier: i64, shares: &[(i64, &str)]) -> String {
    let roll = pick_sql(k, multiplier, 100);
    let arms: Vec<String> = shares
        .iter()
        .map(|(below, value)| format!("WHEN {roll} < {below} THEN '{value}'"))
        .collect();
    format!("(CASE {} END)", arms.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_the_orders_belong_to_the_largest_store_and_most_stores_are_small() {
        let plan = Plan::for_orders(100_000);
        let mut per_store = vec![0_i64; plan.stores as usize];
        for k in 0..plan.orders {
            per_store[plan.order_store(k) as usize] += 1;
        }
        let share = per_store[0] as f64 / plan.orders as f64;
        assert!((0.45..0.55).contains(&share), "{share}");
        let mut rest = per_store[1..].to_vec();
        rest.sort_unstable();
        let median = rest[rest.len() / 2];
        assert!(rest[rest.len() - 1] > 20 * median.max(1), "{rest:?}");
        assert!(per_store.iter().filter(|n| **n > 0).count() > plan.stores as usize / 2);
    }

    /// Runs `select` (columns `k` and `chosen`) over rows 0..n on SQLite: the seed's SQL
    /// as the database computes it.
    async fn chosen_by_sql(select: &str, n: i64) -> Vec<(i64, sea_orm::Value)> {
        use sea_orm::{ConnectionTrait, DbBackend, Statement};
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        let series = crate::seed::series(DbBackend::Sqlite, 0, n);
        let sql = format!("SELECT k, {select} AS chosen FROM {series}");
        let rows = db
            .query_all_raw(Statement::from_string(DbBackend::Sqlite, sql))
            .await
            .unwrap();
        rows.iter()
            .map(|row| {
                let k: i64 = row.try_get("", "k").unwrap();
                let chosen = match row.try_get::<i64>("", "chosen") {
                    Ok(number) => number.into(),
                    Err(_) => row.try_get::<String>("", "chosen").unwrap().into(),
                };
                (k, chosen)
            })
            .collect()
    }

    #[tokio::test]
    async fn shares_follow_their_percentages() {
        let statuses = share_sql("k", ORDER_STATUS, &ORDER_STATUSES);
        let completed = chosen_by_sql(&statuses, 10_000)
            .await
            .into_iter()
            .filter(|(_, status)| *status == sea_orm::Value::from("completed"))
            .count();
        assert!((7_700..8_300).contains(&completed), "{completed}");
    }

    /// The samples of `scale time` are named in Rust; the rows were written by SQL.
    #[tokio::test]
    async fn the_seed_sql_puts_each_row_where_the_rust_plan_says() {
        let plan = Plan::for_orders(100_000);
        let stores = chosen_by_sql(&customer_store_sql(&plan, "k"), 20_000).await;
        for (k, store) in stores {
            assert_eq!(store, plan.customer_store(k).into(), "customer {k}");
        }
    }
}
