//! The account actors under sabotage: a panicking store, idle drains, recovery.

use std::time::Duration;

use payments::pipeline::{ApplySettings, Dispatcher};
use payments::store::inbox;
use payments::stripe::envelope::Envelope;
use sea_orm::Database;
use serde_json::{Value, json};

use crate::helpers::{fixture, fresh_database_url, spawn_app, wait_until_applied};

/// `customer.created` of `customer` in `account`, with a fresh event id.
pub fn customer_event(account: &str, customer: &str, event_id: &str) -> Vec<u8> {
    let mut event: Value = serde_json::from_slice(&fixture("customer.created.json")).unwrap();
    event["id"] = json!(event_id);
    event["account"] = json!(account);
    event["data"]["object"]["id"] = json!(customer);
    serde_json::to_vec(&event).unwrap()
}

#[tokio::test]
async fn a_panicking_event_is_dead_lettered_while_other_stores_and_later_events_go_on() {
    let app = spawn_app().await;
    payments::faults::panic_on_object("cus_poison_actor_test");
    let poison = customer_event("acct_panicky", "cus_poison_actor_test", "evt_poison_1");
    assert_eq!(app.post_event(&poison).await.status(), 200);
    for n in 0..5 {
        let body = customer_event(
            "acct_calm",
            &format!("cus_calm_{n}"),
            &format!("evt_calm_{n}"),
        );
        app.post_event(&body).await;
    }
    let later = customer_event("acct_panicky", "cus_after_poison", "evt_after_poison");
    app.post_event(&later).await;
    app.wait_until_applied().await;

    let poisoned = app.stored_event("evt_poison_1").await.unwrap();
    assert_eq!(poisoned.status, "failed");
    assert_eq!(poisoned.attempts, 3, "the configured attempt limit");
    let error = poisoned.last_error.unwrap_or_default();
    assert!(
        error.contains("fault injection"),
        "the panic is recorded: {error}"
    );
    for n in 0..5 {
        assert_eq!(
            app.stored_event(&format!("evt_calm_{n}"))
                .await
                .unwrap()
                .status,
            "processed"
        );
    }
    assert_eq!(
        app.stored_event("evt_after_poison").await.unwrap().status,
        "processed"
    );
    let stats = app.dispatcher.stats().await.expect("supervisor alive");
    // The first panic hits the event in a batch, which counts no attempt; the fresh actor
    // then applies one event at a time, counting each attempt before it starts.
    assert_eq!(stats.restarts, 4, "one restart per panic");
    payments::faults::heal_object("cus_poison_actor_test");
}

#[tokio::test]
async fn idle_actors_drain_and_respawn_without_losing_a_message() {
    let url = fresh_database_url().await;
    let db = Database::connect(url.as_str()).await.unwrap();
    payments::store::db::migrate(&db).await.unwrap();
    let settings = ApplySettings {
        max_attempts: 3,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(100),
        idle_timeout: Duration::from_secs(60),
        batch_linger: Duration::ZERO,
        pages_delay: Duration::ZERO,
        concurrency: 4,
        writers: 1,
        memory_queue_bytes: 1 << 20,
        max_actors: 100,
        single_writer: false,
    };
    let (dispatcher, _) = Dispatcher::start(db.clone(), settings).await.unwrap();
    let store = |id: &str| {
        let body = customer_event("acct_idle", &format!("cus_{id}"), id);
        let envelope = Envelope::parse(&body).unwrap();
        (envelope, String::from_utf8(body).unwrap())
    };

    let (first, payload) = store("evt_idle_1");
    inbox::store(&db, &first, payload.clone()).await.unwrap();
    dispatcher.dispatch(inbox::new_row(&first, payload));
    wait_until_applied(&db).await;
    assert_eq!(dispatcher.stats().await.unwrap().actors, 1);

    // The clock is paused only while nothing touches the database: paused time jumps to
    // the next timer whenever the runtime waits, which would time out the pool.
    tokio::time::pause();
    tokio::time::sleep(Duration::from_secs(59)).await;
    assert_eq!(
        dispatcher.stats().await.unwrap().actors,
        1,
        "not idle long enough yet"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stats = dispatcher.stats().await.unwrap();
    assert_eq!(
        (stats.actors, stats.restarts),
        (0, 0),
        "drained, not crashed"
    );
    tokio::time::resume();

    // Many events right after a drain: each one is applied by the respawned actor.
    for n in 2..12 {
        let (event, payload) = store(&format!("evt_idle_{n}"));
        inbox::store(&db, &event, payload.clone()).await.unwrap();
        dispatcher.dispatch(inbox::new_row(&event, payload));
    }
    wait_until_applied(&db).await;
    let stats = dispatcher.stats().await.unwrap();
    assert_eq!(stats.actors, 1);
    let customers = <entity::customer::Entity as sea_orm::EntityTrait>::find()
        .all(&db)
        .await
        .unwrap();
    assert_eq!(customers.len(), 11);
    dispatcher.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn events_left_received_are_applied_at_start_up() {
    let url = fresh_database_url().await;
    let db = Database::connect(url.as_str()).await.unwrap();
    payments::store::db::migrate(&db).await.unwrap();
    let body = customer_event("acct_recovered", "cus_recovered", "evt_recovered");
    let envelope = Envelope::parse(&body).unwrap();
    inbox::store(&db, &envelope, String::from_utf8(body).unwrap())
        .await
        .unwrap();

    let app = crate::helpers::spawn_app_with(crate::helpers::test_settings(&url), &url).await;
    app.wait_until_applied().await;
    assert_eq!(
        app.stored_event("evt_recovered").await.unwrap().status,
        "processed"
    );
}

#[tokio::test]
async fn an_event_that_keeps_failing_is_retried_then_failed_and_the_store_goes_on() {
    let app = spawn_app().await;
    // An event the apply path refuses: a domain error, not a panic.
    let mut broken: Value = serde_json::from_slice(&fixture("customer.created.json")).unwrap();
    broken["id"] = json!("evt_broken_customer");
    broken["account"] = json!("acct_retry");
    // A deletion at a time no clock can hold: the apply path refuses it (a domain error).
    broken["type"] = json!("customer.deleted");
    broken["created"] = json!(i64::MAX);
    assert_eq!(
        app.post_event(&serde_json::to_vec(&broken).unwrap())
            .await
            .status(),
        200
    );
    let later = customer_event("acct_retry", "cus_after_broken", "evt_after_broken");
    app.post_event(&later).await;
    app.wait_until_applied().await;

    let failed = app.stored_event("evt_broken_customer").await.unwrap();
    assert_eq!(failed.status, "failed");
    assert_eq!(failed.attempts, 3);
    assert!(
        failed
            .last_error
            .unwrap_or_default()
            .contains("not a valid timestamp")
    );
    assert_eq!(
        app.stored_event("evt_after_broken").await.unwrap().status,
        "processed"
    );
    assert_eq!(
        app.dispatcher.stats().await.unwrap().restarts,
        0,
        "errors are not crashes"
    );
}

#[tokio::test]
async fn the_recovery_sweep_applies_events_whose_dispatch_was_lost() {
    use figment::providers::Serialized;
    let url = fresh_database_url().await;
    let settings =
        crate::helpers::test_settings(&url).merge(Serialized::default("recovery_interval_secs", 1));
    let app = crate::helpers::spawn_app_with(settings, &url).await;
    // Stored but never handed to an actor, as if the notification had been lost.
    let body = customer_event("acct_swept", "cus_swept", "evt_swept");
    let envelope = Envelope::parse(&body).unwrap();
    inbox::store(&app.db, &envelope, String::from_utf8(body).unwrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.stored_event("evt_swept").await.unwrap().status,
        "received"
    );
    app.wait_until_applied().await;
    assert_eq!(
        app.stored_event("evt_swept").await.unwrap().status,
        "processed"
    );
}
