//! The summaries the database maintains (store counts, customer totals) against a full
//! recount of the rows they summarize, computed here the slow way.

use std::collections::BTreeMap;

use entity::{customer, customer_total, order, product, store_count};
use sea_orm::{DatabaseConnection, EntityTrait};

type StoreKey = (String, bool);
type TotalKey = (String, bool, String, String);

/// Fails unless every maintained summary row equals the recount (rows that sum to nothing
/// are left out on both sides: a summary row is kept when its last contribution leaves).
pub async fn assert_summaries_match_a_recount(db: &DatabaseConnection) {
    let (counts, totals) = recount(db).await;
    let maintained_counts: BTreeMap<StoreKey, [i64; 3]> = store_count::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                (r.store_key, r.livemode),
                [r.products, r.customers, r.orders],
            )
        })
        .filter(|(_, n)| *n != [0; 3])
        .collect();
    assert_eq!(maintained_counts, counts, "store counts");
    let maintained_totals: BTreeMap<TotalKey, [i64; 2]> = customer_total::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            let key = (r.source_store, r.livemode, r.customer, r.currency);
            (key, [r.paid_orders, r.kept])
        })
        .filter(|(_, n)| *n != [0; 2])
        .collect();
    assert_eq!(maintained_totals, totals, "customer totals");
}

async fn recount(
    db: &DatabaseConnection,
) -> (BTreeMap<StoreKey, [i64; 3]>, BTreeMap<TotalKey, [i64; 2]>) {
    let mut counts: BTreeMap<StoreKey, [i64; 3]> = BTreeMap::new();
    for row in product::Entity::find().all(db).await.unwrap() {
        if row.deleted_at.is_none() {
            counts.entry((row.store_key, row.livemode)).or_default()[0] += 1;
        }
    }
    for row in customer::Entity::find().all(db).await.unwrap() {
        if row.deleted_at.is_none() {
            counts.entry((row.store_key, row.livemode)).or_default()[1] += 1;
        }
    }
    let mut totals: BTreeMap<TotalKey, [i64; 2]> = BTreeMap::new();
    for row in order::Entity::find().all(db).await.unwrap() {
        counts
            .entry((row.store_key.clone(), row.livemode))
            .or_default()[2] += 1;
        let Some(customer) = row.customer else {
            continue;
        };
        if row.amount_captured <= 0 {
            continue;
        }
        let currency = row.currency.unwrap_or_default();
        let total = totals
            .entry((row.source_store, row.livemode, customer, currency))
            .or_default();
        total[0] += 1;
        total[1] += (row.amount_captured - row.amount_refunded - row.amount_lost).max(0);
    }
    (counts, totals)
}
