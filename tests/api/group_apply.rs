//! The group commit of applies (`apply::apply_group`): the batches of several stores in
//! one transaction give the rows that applying them one event at a time gives, and a batch
//! at fault fails alone while the others of its group are applied.

use entity::status::EventStatus;
use payments::domain::Outcome;
use payments::pipeline::apply::{self, BatchDone, StoreBatch, StoreState};
use payments::store::inbox::{self, Stored};
use payments::stripe::envelope::Envelope;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};

use crate::actors::customer_event;
use crate::helpers::{fresh_database_url, postgres_url};
use crate::ordering::{deliver_and_apply, event_stream, final_rows, permutation_seed, tagged};

const PERMUTATIONS: usize = 20;

async fn migrated_database() -> DatabaseConnection {
    let db = sea_orm::Database::connect(fresh_database_url().await.as_str())
        .await
        .unwrap();
    payments::store::db::migrate(&db).await.unwrap();
    db
}

/// Stores `body` in the inbox; the stored row when it is new (a redelivery is not handed
/// to any actor).
async fn store(db: &DatabaseConnection, body: &[u8]) -> Option<entity::webhook_event::Model> {
    let envelope = Envelope::parse(body).unwrap();
    let stored = inbox::store(db, &envelope, String::from_utf8(body.to_vec()).unwrap())
        .await
        .unwrap();
    match stored {
        Stored::New => inbox::find(db, &envelope.id).await.unwrap(),
        Stored::Duplicate | Stored::Conflict => None,
    }
}

/// Splits events into one batch per store, each in arrival order, stores in order of
/// their first event.
fn batches_by_store(rows: Vec<entity::webhook_event::Model>) -> Vec<StoreBatch> {
    let mut batches: Vec<StoreBatch> = Vec::new();
    for row in rows {
        match batches
            .iter_mut()
            .find(|batch| batch.rows[0].store_key == row.store_key)
        {
            Some(batch) => batch.rows.push(row),
            None => batches.push(StoreBatch {
                rows: vec![row],
                store: StoreState::default(),
            }),
        }
    }
    batches
}

#[tokio::test]
async fn stores_applied_together_end_as_events_applied_one_at_a_time() {
    let db = migrated_database().await;
    let stream = event_stream();
    deliver_and_apply(&db, &tagged(&stream, "__one__")).await;
    let expected = final_rows(&db, "__one__").await;

    let seed = permutation_seed();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for round in 0..PERMUTATIONS {
        let mut events = stream.clone();
        events.shuffle(&mut rng);
        let tag = format!("__group{round}__");
        let bodies = tagged(&events, &tag);
        // Deliveries in chunks of random size; each chunk's stores are applied together.
        let mut rest = bodies.as_slice();
        while !rest.is_empty() {
            let (chunk, after) = rest.split_at(rng.random_range(1..=8).min(rest.len()));
            rest = after;
            let mut rows = Vec::new();
            for body in chunk {
                rows.extend(store(&db, body).await);
            }
            let batches = batches_by_store(rows);
            let stores = batches.len();
            for done in apply::apply_group(&db, batches).await {
                assert_eq!(
                    done.grouped, stores,
                    "one transaction for the chunk's stores"
                );
                let applied = done.result.expect("no panic").expect("applied");
                assert_eq!(applied.len(), done.rows.len(), "every event claimed");
                let mut store = done.store;
                let key = &done.rows[0].store_key;
                apply::rebuild_pages(&db, key, &mut store, false)
                    .await
                    .unwrap();
            }
        }
        let actual = final_rows(&db, &tag).await;
        assert_eq!(
            actual, expected,
            "permutation {round} (PERMUTATION_SEED={seed})"
        );
    }
}

#[tokio::test]
async fn a_batch_that_panics_fails_alone_and_the_rest_of_its_group_is_applied() {
    let db = migrated_database().await;
    payments::faults::panic_on_object("cus_group_poison");
    let mut rows = Vec::new();
    for (account, customer) in [
        ("acct_group_a", "cus_group_a"),
        ("acct_group_poisoned", "cus_group_poison"),
        ("acct_group_c", "cus_group_c"),
    ] {
        let body = customer_event(account, customer, &format!("evt_group_{customer}"));
        rows.extend(store(&db, &body).await);
    }
    let done: Vec<BatchDone> = apply::apply_group(&db, batches_by_store(rows)).await;
    payments::faults::heal_object("cus_group_poison");

    assert_eq!(done.len(), 3);
    assert!(
        done[1].result.is_err(),
        "the poisoned batch's panic is its answer"
    );
    for healthy in [&done[0], &done[2]] {
        assert_eq!(healthy.grouped, 1, "applied alone once the group failed");
        let applied = healthy.result.as_ref().expect("no panic").as_ref().unwrap();
        assert_eq!(applied, &[(0, Outcome::Processed)]);
        assert!(
            healthy.store.exists.contains(&true),
            "the store row is known"
        );
    }
    for (id, status, attempts) in [
        ("evt_group_cus_group_a", EventStatus::Processed, 1),
        ("evt_group_cus_group_poison", EventStatus::Received, 0),
        ("evt_group_cus_group_c", EventStatus::Processed, 1),
    ] {
        let row = inbox::find(&db, id).await.unwrap().unwrap();
        assert_eq!((row.status, row.attempts), (status, attempts), "{id}");
    }
    let customers = entity::customer::Entity::find().count(&db).await.unwrap();
    assert_eq!(customers, 2, "the poisoned batch left nothing behind");
}

/// Whether another transaction could take the lock of `store_key` now: `db::lock_store`
/// (what a pages rebuild or a checkout takes) in a transaction that gives up on a held
/// lock instead of waiting.
async fn lock_is_free(db: &DatabaseConnection, store_key: &str) -> bool {
    let other = db.begin().await.unwrap();
    other
        .execute_unprepared("SET LOCAL lock_timeout = '50ms'")
        .await
        .unwrap();
    let locked = payments::store::db::lock_store(&other, store_key).await;
    other.rollback().await.unwrap();
    match locked {
        Ok(()) => true,
        Err(err) if err.to_string().contains("lock timeout") => false,
        Err(err) => panic!("lock_store failed: {err}"),
    }
}

#[tokio::test]
async fn a_group_claim_holds_the_lock_of_every_store_it_claims_for() {
    if postgres_url().is_none() {
        eprintln!("skipped: store locks are PostgreSQL advisory locks (set TEST_DATABASE_URL)");
        return;
    }
    let db = migrated_database().await;
    let stores = ["acct_lock_a", "acct_lock_b", "acct_lock_c"];
    let mut ids = Vec::new();
    for store_key in stores {
        let body = customer_event(store_key, "cus_lock", &format!("evt_lock_{store_key}"));
        ids.extend(store(&db, &body).await.map(|row| row.id));
    }
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();

    let txn = db.begin().await.unwrap();
    let claimed = inbox::claim(&txn, &stores, &ids, true).await.unwrap();
    assert_eq!(claimed.len(), 3, "every event claimed");
    for store_key in stores {
        assert!(
            !lock_is_free(&db, store_key).await,
            "{store_key} is locked until the group's transaction ends"
        );
    }
    assert!(
        lock_is_free(&db, "acct_lock_outside").await,
        "a store outside the group is not locked"
    );
    txn.rollback().await.unwrap();
    for store_key in stores {
        assert!(lock_is_free(&db, store_key).await, "{store_key} released");
    }
}
