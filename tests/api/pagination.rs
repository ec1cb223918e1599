//! Cursor pagination: a walk with `starting_after` sees every order exactly once, even
//! while new orders are inserted; `ending_before` walks back.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use entity::order;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};

use crate::helpers::spawn_app;
use crate::schema::Api;

const STORE: &str = "acct_pages";

async fn insert_order(db: &DatabaseConnection, id: &str) {
    insert_order_created(db, id, chrono::Utc::now().timestamp()).await;
}

async fn insert_order_created(db: &DatabaseConnection, id: &str, created: i64) {
    let now = chrono::Utc::now();
    order::ActiveModel {
        store_key: Set(STORE.to_owned()),
        livemode: Set(false),
        id: Set(id.to_owned()),
        payment_intent: Set(Some(id.to_owned())),
        amount: Set(1000),
        amount_refunded: Set(0),
        currency: Set(Some("usd".to_owned())),
        status: Set(entity::status::OrderStatus::Completed),
        created: Set(Some(created)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
}

fn ids(list: &serde_json::Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|order| order["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn walking_250_orders_yields_each_once_while_new_ones_are_inserted() {
    let app = spawn_app().await;
    let mut expected = Vec::new();
    for n in 0..250 {
        let id = format!("pi_page_{n:03}");
        insert_order(&app.db, &id).await;
        expected.push(id);
    }
    expected.reverse();
    let api = Api::new(&app).await;

    // The walk starts before the new orders arrive; they sort before it and must not
    // shift it.
    let (_, first) = api.get(&format!("/orders?store={STORE}&limit=37")).await;
    let mut seen = ids(&first);
    let mut has_more = first["has_more"] == true;
    let inserting = Arc::new(AtomicBool::new(true));
    let writer = {
        let db = app.db.clone();
        let inserting = inserting.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while inserting.load(Ordering::Relaxed) {
                insert_order(&db, &format!("pi_new_{n:04}")).await;
                n += 1;
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            n
        })
    };
    let mut pages = 1;
    while has_more {
        let cursor = seen.last().unwrap();
        let path = format!("/orders?store={STORE}&limit=37&starting_after={cursor}");
        let (status, page) = api.get(&path).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(ids(&page));
        has_more = page["has_more"] == true;
        pages += 1;
        assert!(pages <= 7, "the walk does not end");
    }
    inserting.store(false, Ordering::Relaxed);
    let inserted = writer.await.unwrap();
    assert!(inserted > 0, "orders were inserted during the walk");
    assert_eq!(pages, 7, "250 orders in pages of 37");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no order twice");
    assert_eq!(seen, expected, "each order exactly once, newest first");

    // `ending_before` the oldest: the page just above it, still newest first.
    let (_, back) = api
        .get(&format!(
            "/orders?store={STORE}&limit=10&ending_before=pi_page_000"
        ))
        .await;
    let expected_back: Vec<String> = (1..=10).rev().map(|n| format!("pi_page_{n:03}")).collect();
    assert_eq!(ids(&back), expected_back);
    assert_eq!(back["has_more"], true);
}

#[tokio::test]
async fn a_created_range_walks_in_created_order_each_order_once() {
    let app = spawn_app().await;
    // Stripe's `created` out of insertion order, with ties.
    let created = |n: i64| 1_000 + (n * 7) % 40;
    for n in 0..90 {
        insert_order_created(&app.db, &format!("pi_c_{n:02}"), created(n)).await;
    }
    let mut expected: Vec<(i64, i64)> = (0..90)
        .map(|n| (created(n), n))
        .filter(|(at, _)| (1_010..=1_030).contains(at))
        .collect();
    // Newest `created` first, then newest stored first.
    expected.sort_by(|a, b| b.cmp(a));
    let expected: Vec<String> = expected
        .iter()
        .map(|(_, n)| format!("pi_c_{n:02}"))
        .collect();
    let api = Api::new(&app).await;

    let range = format!("store={STORE}&created%5Bgte%5D=1010&created%5Blte%5D=1030&limit=6");
    let mut seen: Vec<String> = Vec::new();
    loop {
        let cursor = match seen.last() {
            Some(id) => format!("&starting_after={id}"),
            None => String::new(),
        };
        let (status, page) = api.get(&format!("/orders?{range}{cursor}")).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(ids(&page));
        if page["has_more"] != true {
            break;
        }
        assert!(seen.len() <= expected.len(), "the walk does not end");
    }
    assert_eq!(seen, expected, "each order of the range once, by `created`");

    let last = expected.last().unwrap();
    let (_, back) = api
        .get(&format!("/orders?{range}&ending_before={last}"))
        .await;
    let above = &expected[expected.len() - 7..expected.len() - 1];
    assert_eq!(ids(&back), above);
}

/// Three stores hold an object with the same id, among others. An id cursor naming it is
/// refused (it names three rows: a walk would loop or skip), while a walk with `page`
/// tokens, forwards or backwards, yields every object exactly once. Orders, customers and
/// products share the mechanism; each is walked.
#[tokio::test]
async fn walks_with_page_tokens_see_each_object_once_where_ids_repeat_across_stores() {
    let app = spawn_app().await;
    let stores = ["acct_walk_a", "acct_walk_b", "acct_walk_c"];
    for (n, store) in stores.iter().enumerate() {
        for id in ["shared", &format!("own_{n}")] {
            let now = chrono::Utc::now();
            order::ActiveModel {
                store_key: Set((*store).to_owned()),
                source_store: Set((*store).to_owned()),
                livemode: Set(false),
                id: Set(format!("pi_{id}")),
                amount: Set(100),
                amount_refunded: Set(0),
                status: Set(entity::status::OrderStatus::Completed),
                created: Set(Some(now.timestamp())),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&app.db)
            .await
            .unwrap();
            for (kind, prefix) in [("customer", "cus"), ("product", "prod")] {
                let body = crate::admin::event(
                    &format!("{kind}.created.json"),
                    &format!("evt_{kind}_{store}_{id}"),
                    |e| {
                        e["account"] = serde_json::json!(store);
                        e["data"]["object"]["id"] = serde_json::json!(format!("{prefix}_{id}"));
                    },
                );
                assert_eq!(app.post_event(&body).await.status(), 200);
            }
        }
    }
    app.wait_until_applied().await;
    let api = Api::new(&app).await;
    for (list, shared) in [
        ("orders", "pi_shared"),
        ("customers", "cus_shared"),
        ("products", "prod_shared"),
    ] {
        let seen = walk(&api, &format!("/{list}?limit=1")).await;
        let unique: HashSet<&(String, String)> = seen.iter().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{list}: an object was seen twice: {seen:?}"
        );
        assert_eq!(seen.len(), 6, "{list}: {seen:?}");
        // Backwards from the oldest object with an id of its own: every newer one, once.
        let at = seen.iter().rposition(|(_, id)| id != shared).unwrap();
        let path = format!("/{list}?limit=2&ending_before={}", seen[at].1);
        let back = walk(&api, &path).await;
        let newer: HashSet<&(String, String)> = seen[..at].iter().collect();
        assert_eq!(back.len(), newer.len(), "{list}: {back:?}");
        assert_eq!(back.iter().collect::<HashSet<_>>(), newer, "{list}");

        for param in ["starting_after", "ending_before"] {
            let response = api.get(&format!("/{list}?{param}={shared}")).await;
            assert_eq!(response.0, 409, "{list} {param}");
            assert_eq!(response.1["error"]["code"], "ambiguous_id");
            assert!(
                response.1["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("page")
            );
        }
        // Within one store the id names one object.
        let narrowed = api
            .get(&format!(
                "/{list}?store=acct_walk_b&starting_after={shared}"
            ))
            .await;
        assert_eq!(narrowed.0, 200, "{list}");
    }
    let bad = api.get("/orders?page=pi_shared").await;
    assert_eq!(
        (bad.0, bad.1["error"]["code"].as_str()),
        (404, Some("resource_missing"))
    );
    let both = api
        .get("/orders?page=WyJhIiwxXQ&starting_after=pi_own_0")
        .await;
    assert_eq!(both.0, 400);
}

/// Follows `next_page` from `first` to the end; the (store, id) of every object seen, in
/// order.
async fn walk(api: &Api<'_>, first: &str) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    let mut path = first.to_owned();
    for _ in 0..50 {
        let (status, page) = api.get(&path).await;
        assert_eq!(status, 200, "{path}: {page}");
        for object in page["data"].as_array().unwrap() {
            let store = object["store"].as_str().unwrap().to_owned();
            seen.push((store, object["id"].as_str().unwrap().to_owned()));
        }
        match page["next_page"].as_str() {
            Some(token) => {
                assert_eq!(page["has_more"], true);
                let base = first.split('?').next().unwrap();
                path = format!("{base}?limit=1&page={token}");
            }
            None => return seen,
        }
    }
    panic!("the walk from {first} did not end");
}
