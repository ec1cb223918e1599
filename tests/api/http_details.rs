//! HTTP details a client or a fuzzer relies on, through the real server: `405` with
//! `Allow`, `HEAD` on every GET route, the token checked before the method on admin
//! paths, `401` naming its scheme, the `Bearer` scheme in any case, percent-decoded path
//! ids, and refused admin requests logged briefly and once.

use std::time::Duration;

use serde_json::{Value, json};

use crate::admin::event;
use crate::binary::{database_env, free_port, sigterm, start_logged, wait_exit};
use crate::helpers::{ADMIN_TOKEN, fresh_database_url, http_client, spawn_app, temp_dir};

async fn send(
    app: &crate::helpers::TestApp,
    method: &str,
    path: &str,
    auth: Option<&str>,
) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app.client.request(method, format!("{}{path}", app.address));
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    request.send().await.unwrap()
}

fn bearer() -> String {
    format!("Bearer {ADMIN_TOKEN}")
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow_and_a_json_body() {
    let app = spawn_app().await;
    let token = bearer();
    let cases = [
        ("GET", "/webhooks/stripe", "POST"),
        ("DELETE", "/health", "GET, HEAD"),
        ("POST", "/ready", "GET, HEAD"),
        ("PUT", "/orders", "GET, HEAD"),
        ("POST", "/stores/acct_1/orders", "GET, HEAD"),
        ("GET", "/webhooks/stripe/events/evt_1/replay", "POST"),
        ("PATCH", "/webhooks/stripe/replay", "POST"),
    ];
    for (method, path, allow) in cases {
        let response = send(&app, method, path, Some(&token)).await;
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["error"]["code"], "method_not_allowed",
            "{method} {path}"
        );
    }
    let unknown = send(&app, "DELETE", "/no/such/route", Some(&token)).await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn admin_paths_ask_for_the_token_before_saying_which_methods_they_take() {
    let app = spawn_app().await;
    for (method, path) in [
        ("DELETE", "/orders"),
        ("POST", "/stores"),
        ("GET", "/webhooks/stripe/replay"),
    ] {
        let response = send(&app, method, path, None).await;
        assert_eq!(response.status(), 401, "{method} {path}");
        assert!(response.headers().get("allow").is_none());
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
    }
    // Public paths have nothing to hide.
    assert_eq!(send(&app, "POST", "/health", None).await.status(), 405);
}

#[tokio::test]
async fn head_answers_every_get_route_without_a_body() {
    let app = spawn_app().await;
    let token = bearer();
    for path in [
        "/health",
        "/ready",
        "/metrics",
        "/openapi.json",
        "/stores",
        "/webhooks/stripe/logs",
    ] {
        let response = send(&app, "HEAD", path, Some(&token)).await;
        assert_eq!(response.status(), 200, "HEAD {path}");
        assert!(response.bytes().await.unwrap().is_empty(), "HEAD {path}");
    }
    assert_eq!(send(&app, "HEAD", "/stores", None).await.status(), 401);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app().await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let auth = format!("{scheme} {ADMIN_TOKEN}");
        assert_eq!(
            send(&app, "GET", "/stores", Some(&auth)).await.status(),
            200,
            "{scheme}"
        );
    }
    let wrong = send(&app, "GET", "/stores", Some("Basic abc")).await;
    assert_eq!(wrong.status(), 401);
}

#[tokio::test]
async fn path_ids_are_percent_decoded_so_every_listed_object_can_be_fetched() {
    let app = spawn_app().await;
    let odd_id = "prod a/b?é";
    let body = event("product.created.json", "evt_odd_id", |e| {
        e["data"]["object"]["id"] = json!(odd_id);
    });
    assert_eq!(app.post_event(&body).await.status(), 200);
    app.wait_until_applied().await;
    let token = bearer();
    let listed: Value = send(&app, "GET", "/products?limit=100", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&odd_id), "{ids:?}");

    let encoded = "prod%20a%2Fb%3F%C3%A9";
    let fetched = send(&app, "GET", &format!("/products/{encoded}"), Some(&token)).await;
    assert_eq!(fetched.status(), 200);
    let fetched: Value = fetched.json().await.unwrap();
    assert_eq!(fetched["id"], odd_id);

    let store = fetched["store"].as_str().unwrap().replace('_', "%5F");
    assert_eq!(
        send(&app, "GET", &format!("/stores/{store}"), Some(&token))
            .await
            .status(),
        200
    );
    let replay = send(
        &app,
        "POST",
        "/webhooks/stripe/events/evt%5Fodd%5Fid/replay",
        Some(&token),
    )
    .await;
    assert_eq!(replay.status(), 200);

    let not_utf8 = send(&app, "GET", "/products/%FF", Some(&token)).await;
    assert_eq!(not_utf8.status(), 400);
    let body: Value = not_utf8.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_request");
}

/// 300 refused admin requests with a 7 KB path: one short WARN line, not 300 long ones.
#[tokio::test]
async fn refused_admin_requests_are_logged_once_and_briefly() {
    let cwd = temp_dir();
    let port = free_port();
    let url = fresh_database_url().await;
    let mut env = database_env(&url);
    env.push(("BIND_ADDR", format!("127.0.0.1:{port}")));
    env.push(("STRIPE_WEBHOOK_SECRET", "whsec_log_flood".to_owned()));
    env.push(("ADMIN_TOKEN", "log-flood-admin-token".to_owned()));
    env.push(("LOG_FORMAT", "text".to_owned()));
    let (mut server, log_path) = start_logged(&cwd, env, port).await;
    let client = http_client();
    let long_path = format!("/orders/{}", "x".repeat(7_000));
    for _ in 0..300 {
        let response = client
            .get(format!("http://127.0.0.1:{port}{long_path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
    sigterm(&server);
    wait_exit(&mut server, Duration::from_secs(10)).await;
    let output = std::fs::read_to_string(&log_path).unwrap();
    let refused: Vec<&str> = output
        .lines()
        .filter(|line| line.contains("admin request refused"))
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].len() < 1_000, "{} bytes", refused[0].len());
    assert!(
        output.lines().all(|line| line.len() < 2_000),
        "a long line was logged"
    );
}

/// A request target or head too large is answered as JSON like every other error (hyper's
/// own limits, which answer without a body, are far above these).
#[tokio::test]
async fn heads_too_large_get_a_json_error() {
    let app = spawn_app().await;
    let long_query = format!("/health?x={}", "a".repeat(9 * 1024));
    let response = send(&app, "GET", &long_query, None).await;
    assert_eq!(response.status(), 414);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "uri_too_long");

    let mut many = app.client.get(format!("{}/health", app.address));
    for n in 0..70 {
        many = many.header(format!("x-h{n}"), "v");
    }
    let big = app
        .client
        .get(format!("{}/health", app.address))
        .header("x-big", "b".repeat(40 * 1024));
    for request in [many, big] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 431);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "headers_too_large");
    }
}
