//! A spike: many stores at once, more deliveries than the apply keeps up with, on a small
//! pool. The healthy database is never taken for unavailable, no attempt is used up, the
//! payloads held in memory and the live actors stay within their bounds, and every event is
//! applied after, in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use entity::webhook_event::{Column, Entity};
use figment::providers::Serialized;
use futures_util::StreamExt;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{fresh_database_url, now, spawn_app_with, test_settings, wait_until_applied};

const STORES: usize = 300;
const EVENTS_PER_STORE: usize = 4;
const BUDGET: usize = 48 * 1024;

#[tokio::test]
async fn a_spike_over_many_stores_queues_instead_of_failing_and_stays_in_its_memory_budget() {
    let url = fresh_database_url().await;
    let settings = test_settings(&url)
        // Two pooled connections for the actors, the admin API and the probes: every
        // actor but one waits its turn.
        .merge(Serialized::default("database_max_connections", 2))
        .merge(Serialized::default("database_acquire_timeout_secs", 1))
        .merge(Serialized::default("memory_queue_bytes", BUDGET))
        // Fewer actors than stores: stores wait their turn, their events in the inbox.
        .merge(Serialized::default("max_account_actors", 25));
    let app = spawn_app_with(settings, &url).await;

    let peak = Arc::new(AtomicUsize::new(0));
    let sampler = tokio::spawn({
        let (dispatcher, peak) = (app.dispatcher.clone(), peak.clone());
        async move {
            loop {
                peak.fetch_max(dispatcher.held_bytes(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    });
    let bodies: Vec<Vec<u8>> = (0..STORES * EVENTS_PER_STORE)
        .map(|n| {
            let account = format!("acct_spike{:04}", n % STORES);
            let event = stripe_samples::build_event("customer.created", Some(&account), now())
                .expect("a known type");
            if n % 400 == 7 {
                // A few slow transactions hold the pool's connections, as a loaded
                // database does: everyone else must wait, not time out and give up.
                let customer = event["data"]["object"]["id"].as_str().unwrap();
                payments::faults::slow_down_object(customer, Duration::from_millis(1_200));
            }
            serde_json::to_vec(&event).unwrap()
        })
        .collect();
    let probes = tokio::spawn({
        let (client, ready) = (app.client.clone(), format!("{}/ready", app.address));
        async move {
            let mut statuses = Vec::new();
            for _ in 0..20 {
                statuses.push(client.get(&ready).send().await.unwrap().status().as_u16());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            statuses
        }
    });
    let statuses: Vec<u16> = futures_util::stream::iter(&bodies)
        .map(|body| async { app.post_event(body).await.status().as_u16() })
        .buffer_unordered(64)
        .collect()
        .await;
    assert!(
        statuses.iter().all(|status| *status == 200),
        "every delivery acknowledged"
    );
    let probes = probes.await.unwrap();
    assert!(
        probes.iter().all(|status| *status == 200),
        "/ready during the spike: {probes:?}"
    );

    wait_until_applied(&app.db).await;
    sampler.abort();
    let applied = Entity::find()
        .filter(Column::Status.eq("processed"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(
        applied as usize,
        bodies.len(),
        "every event applied, none failed"
    );
    let retried = Entity::find()
        .filter(Column::LastError.is_not_null())
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(retried, 0, "no attempt failed");
    assert_eq!(
        app.dispatcher.unavailable_steps(),
        0,
        "the service's own load is not an outage"
    );
    let peak = peak.load(Ordering::Relaxed);
    assert!(
        peak <= BUDGET,
        "{peak} bytes held, over the {BUDGET} budget"
    );
    assert!(
        peak > 0,
        "payloads were handed over while the budget allowed"
    );
    // Notifications of events a read-back already applied may still be on their way.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.dispatcher.held_bytes() > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.dispatcher.held_bytes(), 0, "all given back");
    let actors = app.dispatcher.stats().await.unwrap().actors;
    assert!(actors <= 25, "{actors} actors alive, over the bound");
}
