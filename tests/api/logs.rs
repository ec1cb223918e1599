//! `GET /webhooks/stripe/logs`: admin-only, Stripe's list shape, newest first, filtered.

use serde_json::Value;

use crate::helpers::{ADMIN_TOKEN, event_id, fixture, spawn_app};

#[tokio::test]
async fn logs_refuse_requests_without_the_admin_token() {
    let app = spawn_app().await;
    let url = format!("{}/webhooks/stripe/logs", app.address);
    for auth in [None, Some("Bearer wrong"), Some(ADMIN_TOKEN)] {
        let mut request = app.client.get(&url);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{auth:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
}

#[tokio::test]
async fn logs_list_recent_events_newest_first_with_filters() {
    let app = spawn_app().await;
    let names = [
        "customer.created.json",
        "charge.succeeded.json",
        "product.created.json",
    ];
    for name in names {
        assert_eq!(app.post_event(&fixture(name)).await.status(), 200);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let body: Value = app
        .admin_get("/webhooks/stripe/logs")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["object"], "list");
    assert_eq!(body["has_more"], false);
    let data = body["data"].as_array().unwrap();
    let ids: Vec<&str> = data.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let expected: Vec<String> = names.iter().rev().map(|n| event_id(&fixture(n))).collect();
    assert_eq!(ids, expected);
    let first = &data[0];
    for field in [
        "id",
        "type",
        "account",
        "livemode",
        "status",
        "attempts",
        "last_error",
        "created",
        "received_at",
        "processed_at",
    ] {
        assert!(first.get(field).is_some(), "field {field} in {first}");
    }
    assert_eq!(first["type"], "product.created");
    assert_eq!(first["object"], "event");
    assert!(first["received_at"].is_i64(), "Unix seconds: {first}");
    assert_eq!(first["account"], "acct_1PgafTB7WZ01zgkW");
    assert!(["received", "processed"].contains(&first["status"].as_str().unwrap()));
    assert!(
        first.get("payload").is_none(),
        "the log does not carry payloads"
    );

    let body: Value = app
        .admin_get("/webhooks/stripe/logs?type=charge.succeeded&account=acct_1PgafTB7WZ01zgkW")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    let body: Value = app
        .admin_get("/webhooks/stripe/logs?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["has_more"], true);
    let body: Value = app
        .admin_get("/webhooks/stripe/logs?status=failed")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn bad_log_parameters_are_400_naming_the_parameter() {
    let app = spawn_app().await;
    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=x", "limit"),
        ("status=done", "status"),
    ] {
        let response = app
            .admin_get(&format!("/webhooks/stripe/logs?{query}"))
            .await;
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_request");
        assert!(body["error"]["message"].as_str().unwrap().contains(param));
    }
}
