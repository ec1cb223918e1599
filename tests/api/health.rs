//! `/health`, `/ready`, and JSON answers for routing errors.

use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_ready_answer_200_when_the_database_is_migrated() {
    let app = spawn_app().await;
    let health = app
        .client
        .get(format!("{}/health", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = app
        .client
        .get(format!("{}/ready", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn ready_fails_naming_the_migration_check_when_migrations_are_missing() {
    let app = spawn_app().await;
    app.db
        .execute_unprepared("DELETE FROM seaql_migrations")
        .await
        .unwrap();
    let ready = app
        .client
        .get(format!("{}/ready", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_ready");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("migrations")
    );
    let health = app
        .client
        .get(format!("{}/health", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        health.status(),
        200,
        "liveness does not depend on the database"
    );
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_json_errors() {
    let app = spawn_app().await;
    let missing = app
        .client
        .get(format!("{}/nowhere", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    let wrong = app
        .client
        .get(format!("{}/webhooks/stripe", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 405);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");

    let wrong = app
        .client
        .delete(format!("{}/health", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 405);
}

#[tokio::test]
async fn shutdown_finishes_an_in_flight_delivery_before_stopping() {
    let app = spawn_app().await;
    let body = crate::helpers::fixture("customer.updated.json");
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let request = app
        .client
        .post(format!("{}/webhooks/stripe", app.address))
        .header("stripe-signature", app.sign(&body))
        .body(reqwest::Body::wrap_stream(chunks))
        .send();
    let in_flight = tokio::spawn(request);
    let (first, rest) = body.split_at(body.len() / 2);
    tx.send(Ok(first.to_vec())).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let db = app.db.clone();
    let id = crate::helpers::event_id(&body);
    let stopping = tokio::spawn(app.shutdown());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        !stopping.is_finished(),
        "the server waits for the in-flight request"
    );
    tx.send(Ok(rest.to_vec())).await.unwrap();
    drop(tx);
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    stopping.await.unwrap();
    let stored = entity::webhook_event::Entity::find_by_id(id)
        .one(&db)
        .await
        .unwrap();
    assert!(stored.is_some(), "the acknowledged event is stored");
}
