//! Order independence: for many seeded random permutations of a multi-store event stream
//! with duplicates, same-second pairs and twin events, the final rows of every table are
//! identical to the in-order result.

use payments::pipeline::apply::{self, Applied};
use payments::store::inbox;
use payments::stripe::envelope::Envelope;
use rand::seq::SliceRandom;
use rand::{RngCore, SeedableRng};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{fixture, fixture_event_names, fresh_database_url};
use crate::summaries::assert_summaries_match_a_recount;

const PERMUTATIONS: usize = 200;

/// The stream: store A gets every fixture; store B a variant (partial refund, no
/// deletions, twin and same-second events); a few exact redeliveries.
pub fn event_stream() -> Vec<Value> {
    let fixtures: Vec<Value> = fixture_event_names()
        .iter()
        .map(|name| serde_json::from_slice(&fixture(name)).unwrap())
        .collect();
    let mut stream = fixtures.clone();
    for event in fixtures
        .iter()
        .filter(|e| !e["type"].as_str().unwrap().ends_with(".deleted"))
    {
        let mut event = event.clone();
        rename(&mut event, "acct_b");
        if event["type"] == "charge.refunded" {
            event["data"]["object"]["amount_refunded"] = json!(300);
            event["data"]["object"]["refunded"] = json!(false);
        }
        stream.push(event);
    }
    let twin = |base: &str, suffix: &str, edit: &dyn Fn(&mut Value)| {
        let mut event: Value = serde_json::from_slice(&fixture(base)).unwrap();
        rename(&mut event, "acct_b");
        event["id"] = json!(format!("{}{suffix}", event["id"].as_str().unwrap()));
        edit(&mut event);
        event
    };
    // Two different events about the same change, in the same second: the event id decides.
    stream.push(twin("customer.updated.json", "Twin", &|e| {
        e["data"]["object"]["name"] = json!("Jenny R.");
    }));
    // A product archived in the same second it was created.
    stream.push(twin("product.updated.json", "Archive", &|e| {
        e["created"] = e["data"]["object"]["created"].clone();
        e["data"]["object"]["updated"] = e["data"]["object"]["created"].clone();
        e["data"]["object"]["active"] = json!(false);
    }));
    // A second product with a category, and its price, for the pages.
    stream.push(twin("product.created.json", "Shirt", &|e| {
        e["data"]["object"]["id"] = json!("prod_b_shirt");
        e["data"]["object"]["metadata"] = json!({"category": "Shirts"});
        e["data"]["object"]["default_price"] = json!("price_b_shirt");
    }));
    stream.push(twin("price.created.json", "Shirt", &|e| {
        e["data"]["object"]["id"] = json!("price_b_shirt");
        e["data"]["object"]["product"] = json!("prod_b_shirt");
    }));
    // Redeliveries: the same event ids again.
    for index in [0, 5, 9] {
        stream.push(stream[index].clone());
    }
    stream
}

fn rename(event: &mut Value, account: &str) {
    event["account"] = json!(account);
    if event["data"]["object"]["object"] == "account" {
        event["data"]["object"]["id"] = json!(account);
    }
    let id = event["id"].as_str().unwrap().to_owned();
    event["id"] = json!(format!("{id}{}", &account[5..].to_uppercase()));
}

/// The stream of permutation `tag`: its own stores and event ids, so every permutation
/// runs in the same database without touching another's rows.
pub fn tagged(stream: &[Value], tag: &str) -> Vec<Vec<u8>> {
    stream
        .iter()
        .map(|event| {
            let mut event = event.clone();
            let account = event["account"].as_str().unwrap().to_owned();
            event["account"] = json!(format!("{account}{tag}"));
            if event["data"]["object"]["object"] == "account" {
                event["data"]["object"]["id"] = event["account"].clone();
            }
            event["id"] = json!(format!("{}{tag}", event["id"].as_str().unwrap()));
            serde_json::to_vec(&event).unwrap()
        })
        .collect()
}

pub async fn deliver_and_apply(db: &DatabaseConnection, events: &[Vec<u8>]) {
    for body in events {
        let envelope = Envelope::parse(body).unwrap();
        inbox::store(db, &envelope, String::from_utf8(body.clone()).unwrap())
            .await
            .unwrap();
        let mut store = apply::StoreState::default();
        let applied = apply::attempt(db, &envelope.id, 3, &mut store)
            .await
            .unwrap();
        assert_ne!(applied, Applied::DeadLettered);
        apply::rebuild_pages(db, &envelope.store_key, &mut store, false)
            .await
            .unwrap();
    }
}

/// Every row of every marketplace table of the tagged stores, without bookkeeping
/// columns, with the tag removed.
pub async fn final_rows(db: &DatabaseConnection, tag: &str) -> Value {
    let keys = [
        format!("acct_1PgafTB7WZ01zgkW{tag}"),
        format!("acct_b{tag}"),
    ];
    let stores = entity::store::Entity::find()
        .filter(entity::store::Column::Id.is_in(keys.clone()))
        .order_by_asc(entity::store::Column::Id)
        .into_json()
        .all(db)
        .await
        .unwrap();
    macro_rules! rows {
        ($entity:path, $column:path) => {{
            use $entity as table;
            table::Entity::find()
                .filter(table::Column::StoreKey.is_in(keys.clone()))
                .order_by_asc(table::Column::StoreKey)
                .order_by_asc(table::Column::Livemode)
                .order_by_asc($column)
                .into_json()
                .all(db)
                .await
                .unwrap()
        }};
    }
    let all = json!({
        "stores": stores,
        "customers": rows!(entity::customer, table::Column::Id),
        "products": rows!(entity::product, table::Column::Id),
        "prices": rows!(entity::price, table::Column::Id),
        "orders": rows!(entity::order, table::Column::Id),
    });
    let text = serde_json::to_string(&strip_bookkeeping(all)).unwrap();
    serde_json::from_str(&text.replace(tag, "")).unwrap()
}

fn strip_bookkeeping(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                // A store's slug goes to the first store to take its name: it depends on
                // which of the permutations' stores (all named alike) applied first.
                .filter(|(k, _)| !matches!(k.as_str(), "pk" | "created_at" | "updated_at" | "slug"))
                .map(|(k, v)| (k, strip_bookkeeping(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_bookkeeping).collect()),
        other => other,
    }
}

#[tokio::test]
async fn final_rows_do_not_depend_on_delivery_order_or_duplicates() {
    let db = sea_orm::Database::connect(fresh_database_url().await.as_str())
        .await
        .unwrap();
    payments::store::db::migrate(&db).await.unwrap();
    let stream = event_stream();

    deliver_and_apply(&db, &tagged(&stream, "__base__")).await;
    let expected = final_rows(&db, "__base__").await;
    assert_eq!(expected["stores"].as_array().unwrap().len(), 2);
    assert_eq!(expected["orders"].as_array().unwrap().len(), 2);
    assert_eq!(expected["orders"][1]["status"], "partially_refunded");

    every_permutation_agrees(&db, &stream, PERMUTATIONS, "perm", &expected, final_rows).await;
    assert_summaries_match_a_recount(&db).await;
}

/// The seed of a test's permutations: `PERMUTATION_SEED` replays a failure, else random.
pub fn permutation_seed() -> u64 {
    std::env::var("PERMUTATION_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| rand::rng().next_u64())
}

/// Applies `rounds` seeded random permutations of `stream`, each under its own tag, and
/// checks that `rows` reads `expected` after each. `PERMUTATION_SEED` replays a failure.
async fn every_permutation_agrees(
    db: &DatabaseConnection,
    stream: &[Value],
    rounds: usize,
    name: &str,
    expected: &Value,
    rows: impl AsyncFn(&DatabaseConnection, &str) -> Value,
) {
    let seed = permutation_seed();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for round in 0..rounds {
        let mut events = stream.to_vec();
        events.shuffle(&mut rng);
        let tag = format!("__{name}{round}__");
        deliver_and_apply(db, &tagged(&events, &tag)).await;
        let actual = rows(db, &tag).await;
        if actual != *expected {
            let order: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
            panic!(
                "permutation {round} (PERMUTATION_SEED={seed}) differs.\norder: {order:?}\n\
                 expected: {expected:#}\nactual: {actual:#}"
            );
        }
    }
}

/// A marketplace payment on one account, every object of it moving within shared seconds:
/// authorization and partial capture, a refund filed by its charge alone that fails, a
/// dispute opened and lost, a transfer and its reversal, and redeliveries.
fn marketplace_stream() -> Vec<Value> {
    let event = |id: &str, event_type: &str, created: i64, object: Value| {
        json!({"id": id, "object": "event", "type": event_type, "created": created,
               "livemode": false, "account": "acct_m", "data": {"object": object}})
    };
    let intent = |status: &str, received: i64| {
        json!({"id": "pi_m", "object": "payment_intent", "amount": 1000, "currency": "usd",
               "customer": "cus_m", "status": status, "amount_received": received,
               "latest_charge": "ch_m", "last_payment_error": null, "created": 100,
               "transfer_data": {"destination": "acct_seller_m"}, "application_fee_amount": 100,
               "metadata": {"items": "price_m:2"}})
    };
    let charge = |captured: bool, amount_captured: i64, refunded: i64| {
        json!({"id": "ch_m", "object": "charge", "amount": 1000, "currency": "usd",
               "customer": "cus_m", "payment_intent": "pi_m", "status": "succeeded",
               "captured": captured, "amount_captured": amount_captured,
               "amount_refunded": refunded, "refunded": false, "created": 101,
               "receipt_url": "https://pay.stripe.com/receipts/m",
               "transfer_data": {"destination": "acct_seller_m"}, "application_fee_amount": 100})
    };
    let refund = |status: &str| {
        json!({"id": "re_m", "object": "refund", "amount": 300, "charge": "ch_m",
               "currency": "usd", "status": status, "created": 150})
    };
    let dispute = |status: &str| {
        json!({"id": "dp_m", "object": "dispute", "amount": 800, "charge": "ch_m",
               "payment_intent": "pi_m", "currency": "usd", "status": status, "created": 200,
               "balance_transactions": []})
    };
    let transfer = |reversed: i64| {
        json!({"id": "tr_m", "object": "transfer", "amount": 700, "amount_reversed": reversed,
               "destination": "acct_seller_m", "source_transaction": "ch_m", "created": 102})
    };
    let mut stream = vec![
        event(
            "evt_m01",
            "payment_intent.created",
            100,
            intent("requires_payment_method", 0),
        ),
        event(
            "evt_m02",
            "payment_intent.amount_capturable_updated",
            101,
            intent("requires_capture", 0),
        ),
        event("evt_m03", "charge.succeeded", 101, charge(false, 0, 0)),
        event("evt_m04", "charge.captured", 101, charge(true, 800, 200)),
        event(
            "evt_m05",
            "payment_intent.succeeded",
            101,
            intent("succeeded", 800),
        ),
        event("evt_m06", "transfer.created", 102, transfer(0)),
        event("evt_m07", "transfer.reversed", 102, transfer(100)),
        event("evt_m08", "refund.created", 150, refund("pending")),
        event("evt_m09", "charge.refunded", 150, charge(true, 800, 500)),
        event("evt_m10", "refund.failed", 151, refund("failed")),
        event(
            "evt_m11",
            "charge.dispute.created",
            200,
            dispute("needs_response"),
        ),
        event("evt_m12", "charge.dispute.closed", 200, dispute("lost")),
    ];
    for index in [2, 7, 10] {
        stream.push(stream[index].clone());
    }
    stream
}

/// The orders whose payments live in the tagged store, without bookkeeping columns.
async fn marketplace_orders(db: &DatabaseConnection, tag: &str) -> Value {
    let rows = entity::order::Entity::find()
        .filter(entity::order::Column::SourceStore.eq(format!("acct_m{tag}")))
        .order_by_asc(entity::order::Column::Id)
        .into_json()
        .all(db)
        .await
        .unwrap();
    let text = serde_json::to_string(&strip_bookkeeping(json!(rows))).unwrap();
    serde_json::from_str(&text.replace(tag, "")).unwrap()
}

#[tokio::test]
async fn marketplace_orders_do_not_depend_on_delivery_order_or_duplicates() {
    let db = sea_orm::Database::connect(fresh_database_url().await.as_str())
        .await
        .unwrap();
    payments::store::db::migrate(&db).await.unwrap();
    let stream = marketplace_stream();
    deliver_and_apply(&db, &tagged(&stream, "__base__")).await;
    let expected = marketplace_orders(&db, "__base__").await;
    let order = &expected[0];
    assert_eq!(expected.as_array().unwrap().len(), 1, "{expected:#}");
    assert_eq!(order["status"], "completed");
    assert_eq!(
        (
            &order["amount_captured"],
            &order["amount_refunded"],
            &order["amount_lost"]
        ),
        (&json!(800), &json!(0), &json!(800))
    );
    assert_eq!(order["dispute_status"], "lost");
    assert_eq!(order["transfer_amount"], 600);
    assert_eq!(order["store_key"], "acct_seller_m");

    every_permutation_agrees(
        &db,
        &stream,
        PERMUTATIONS / 2,
        "mperm",
        &expected,
        marketplace_orders,
    )
    .await;
    assert_summaries_match_a_recount(&db).await;
}

/// Stripe's published example objects (tests/data/stripe-openapi), each delivered as the
/// events that carry it, on one connected account.
fn stripe_example_stream() -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/stripe-openapi/payment-objects.json");
    let objects: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let events = [
        ("payment_intent", "payment_intent.created", 100),
        ("charge", "charge.succeeded", 101),
        ("charge", "charge.updated", 101),
        ("refund", "charge.refund.updated", 102),
        ("refund", "refund.created", 102),
        ("dispute", "charge.dispute.created", 103),
        ("transfer", "transfer.created", 104),
        ("checkout.session", "checkout.session.completed", 105),
        ("application_fee", "application_fee.created", 106),
    ];
    events
        .iter()
        .enumerate()
        .map(|(index, (object, event_type, created))| {
            json!({"id": format!("evt_example_{index}"), "object": "event", "type": event_type,
                   "created": created, "livemode": false, "account": "acct_x",
                   "api_version": "2024-06-20", "data": {"object": objects[object]}})
        })
        .collect()
}

#[tokio::test]
async fn stripe_example_objects_give_the_same_orders_in_any_order() {
    let db = sea_orm::Database::connect(fresh_database_url().await.as_str())
        .await
        .unwrap();
    payments::store::db::migrate(&db).await.unwrap();
    let stream = stripe_example_stream();
    deliver_and_apply(&db, &tagged(&stream, "__base__")).await;
    let rows = |db: &DatabaseConnection, tag: &str| {
        let (db, store) = (db.clone(), format!("acct_x{tag}"));
        let tag = tag.to_owned();
        async move {
            let rows = entity::order::Entity::find()
                .filter(entity::order::Column::SourceStore.eq(store))
                .order_by_asc(entity::order::Column::Id)
                .into_json()
                .all(&db)
                .await
                .unwrap();
            let text = serde_json::to_string(&strip_bookkeeping(json!(rows))).unwrap();
            serde_json::from_str::<Value>(&text.replace(&tag, "")).unwrap()
        }
    };
    let expected = rows(&db, "__base__").await;
    // The example charge has no PaymentIntent: it is its own order, an authorization
    // (captured: false) for the expanded destination `obj_123`, with a dispute opened.
    let charge = &expected[0];
    assert_eq!(charge["id"], "ch_1PgafuB7WZ01zgkWXYmPNZs8", "{expected:#}");
    assert_eq!(charge["status"], "authorized");
    assert_eq!(charge["store_key"], "obj_123");
    assert_eq!(charge["dispute_status"], "warning_needs_response");
    assert_eq!(
        charge["amount_refunded"], 0,
        "nothing captured, nothing to refund"
    );
    let intent = &expected[1];
    assert_eq!(intent["id"], "pi_1PgafyB7WZ01zgkWSjxsAJo3");
    // `requires_payment_method` with a `last_payment_error`: its last attempt failed.
    assert_eq!(intent["status"], "failed");
    assert_eq!(expected.as_array().unwrap().len(), 2);
    every_permutation_agrees(
        &db,
        &stream,
        PERMUTATIONS / 4,
        "xperm",
        &expected,
        async |db, tag| rows(db, tag).await,
    )
    .await;
}
