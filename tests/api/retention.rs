//! Retention: applied events past the configured age are pruned in the background; failed
//! and waiting events never are, however old.

use std::time::{Duration, Instant};

use chrono::Utc;
use entity::webhook_event::{Column, Entity};
use figment::providers::Serialized;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::admin::event;
use crate::helpers::{TestApp, fresh_database_url, spawn_app_with, test_settings};

/// Moves an event's received and applied times `days` into the past.
async fn age(app: &TestApp, id: &str, days: i64) {
    let then = Utc::now() - chrono::Duration::days(days);
    Entity::update_many()
        .col_expr(Column::CreatedAt, Expr::value(then))
        .col_expr(Column::ProcessedAt, Expr::value(Some(then)))
        .filter(Column::Id.eq(id))
        .exec(&app.db)
        .await
        .unwrap();
}

async fn set_status(app: &TestApp, id: &str, status: &str) {
    Entity::update_many()
        .col_expr(Column::Status, Expr::value(status))
        .filter(Column::Id.eq(id))
        .exec(&app.db)
        .await
        .unwrap();
}

async fn remaining(app: &TestApp) -> Vec<String> {
    let mut ids: Vec<String> = Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn old_applied_events_are_pruned_and_failed_or_waiting_ones_kept() {
    let url = fresh_database_url().await;
    let settings = test_settings(&url)
        .merge(Serialized::default("retention_days", 30))
        .merge(Serialized::default("retention_interval_secs", 1));
    let app = spawn_app_with(settings, &url).await;
    let ids = [
        "evt_old_a",
        "evt_old_b",
        "evt_old_failed",
        "evt_old_waiting",
        "evt_recent",
    ];
    for id in ids {
        let body = event("customer.created.json", id, |_| {});
        assert_eq!(app.post_event(&body).await.status(), 200);
    }
    app.wait_until_applied().await;
    set_status(&app, "evt_old_failed", "failed").await;
    set_status(&app, "evt_old_waiting", "received").await;
    for id in &ids[..4] {
        age(&app, id, 40).await;
    }
    age(&app, "evt_recent", 20).await;

    let deadline = Instant::now() + Duration::from_secs(20);
    let expected = vec!["evt_old_failed", "evt_old_waiting", "evt_recent"];
    loop {
        let left = remaining(&app).await;
        if left == expected {
            break;
        }
        assert!(Instant::now() < deadline, "still stored: {left:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = app.metrics_text().await;
    // The recorder is process-wide: other tests may have pruned too.
    let pruned = crate::metrics::sample(&text, "payments_events_pruned_total", "").unwrap();
    assert!(pruned >= 2.0, "the pruned events are counted: {pruned}");
}
