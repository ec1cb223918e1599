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
        let applied = apply::attempt(db, &envelope.id, 3).await.unwrap();
        assert_ne!(applied, Applied::DeadLettered);
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
                .filter(|(k, _)| !matches!(k.as_str(), "pk" | "created_at" | "updated_at"))
                .map(|(k, v)| (k, strip_bookkeeping(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_bookkeeping).collect()),
        other => other,
    }
}

#[tokio::test]
async fn final_rows_do_not_depend_on_delivery_order_or_duplicates() {
    let seed = std::env::var("PERMUTATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().next_u64());
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

    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for round in 0..PERMUTATIONS {
        let mut events = stream.clone();
        events.shuffle(&mut rng);
        let tag = format!("__perm{round}__");
        deliver_and_apply(&db, &tagged(&events, &tag)).await;
        let actual = final_rows(&db, &tag).await;
        if actual != expected {
            let order: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
            panic!(
                "permutation {round} (PERMUTATION_SEED={seed}) differs.\norder: {order:?}\n\
                 expected: {expected:#}\nactual: {actual:#}"
            );
        }
    }
}
