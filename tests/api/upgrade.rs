//! An existing database upgrades in place: orders written before observations existed
//! keep what they knew, and the next event about them builds on it.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;

use crate::helpers::fresh_database_url;
use crate::ordering::deliver_and_apply;

/// The number of migrations before orders were derived from observations.
const BEFORE_OBSERVATIONS: u32 = 2;

#[tokio::test]
async fn orders_written_before_observations_are_carried_forward() {
    let db = sea_orm::Database::connect(fresh_database_url().await.as_str())
        .await
        .unwrap();
    Migrator::up(&db, Some(BEFORE_OBSERVATIONS)).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO marketplace_orders (store_key, livemode, id, payment_intent, charge, \
         customer, amount, amount_refunded, currency, status, items, receipt_url, created, \
         created_at, updated_at) VALUES ('acct_up', false, 'pi_up', 'pi_up', 'ch_up', \
         'cus_up', 1000, 0, 'usd', 'completed', '[{\"product\":\"prod_up\",\"quantity\":2}]', \
         'https://pay.stripe.com/receipts/up', 1000, '2026-01-01 00:00:00+00:00', \
         '2026-01-01 00:00:00+00:00')",
    )
    .await
    .unwrap();

    payments::store::db::migrate(&db).await.unwrap();
    let order = entity::order::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (order.source_store.as_str(), order.store_key.as_str()),
        ("acct_up", "acct_up")
    );
    assert_eq!(
        order.amount_captured, 1000,
        "a completed order was captured"
    );
    let observations = entity::order_observation::Entity::find()
        .all(&db)
        .await
        .unwrap();
    assert_eq!(observations.len(), 1);
    assert_eq!(observations[0].kind, "legacy");

    // A refund of the old payment: its charge is new to the service, the items are not.
    let refund = json!({"id": "evt_up_refund", "object": "event", "type": "charge.refunded",
        "created": 2000, "livemode": false, "account": "acct_up", "data": {"object": {
            "id": "ch_up", "object": "charge", "amount": 1000, "amount_captured": 1000,
            "amount_refunded": 400, "captured": true, "refunded": false, "status": "succeeded",
            "currency": "usd", "payment_intent": "pi_up", "customer": "cus_up",
            "metadata": {}, "created": 1000}}});
    deliver_and_apply(&db, &[serde_json::to_vec(&refund).unwrap()]).await;
    let order = entity::order::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.status, "partially_refunded");
    assert_eq!((order.amount_captured, order.amount_refunded), (1000, 400));
    assert_eq!(
        order.items,
        Some(json!([{"product": "prod_up", "quantity": 2}]))
    );
    assert_eq!(
        order.receipt_url.as_deref(),
        Some("https://pay.stripe.com/receipts/up")
    );

    // And back down and up again.
    Migrator::down(&db, Some(1)).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
}
