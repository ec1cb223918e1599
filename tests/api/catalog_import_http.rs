//! Product upload over HTTP: the admin API's `POST /stores/{id}/products` (answers checked
//! against the OpenAPI document) and the console's import page.

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::Value;

use crate::catalog_import::{CATALOGUE, service_with_stripe, store_products};
use crate::helpers::{ADMIN_TOKEN, TestApp, fixture, spawn_app};
use crate::schema::Api;
use crate::storefront::ACCOUNT;

/// `POST /stores/{store}/products` with `body` as `content_type`, checked against the
/// document.
async fn post_rows(app: &TestApp, store: &str, content_type: &str, body: &str) -> (u16, Value) {
    let path = format!("/stores/{store}/products");
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .bearer_auth(ADMIN_TOKEN)
        .header(CONTENT_TYPE, content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = crate::schema::body_value(response).await;
    Api::new(app).await.check("post", &path, status, &body);
    (status, body)
}

#[tokio::test]
async fn the_admin_api_imports_csv_and_json_and_answers_every_rows_outcome() {
    let (app, stripe) = service_with_stripe().await;
    let (status, body) = post_rows(&app, ACCOUNT, "text/csv; charset=utf-8", CATALOGUE).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "product_import");
    assert_eq!(
        (body["created"].as_u64(), body["failed"].as_u64()),
        (Some(3), Some(0))
    );
    let first = &body["results"][0];
    assert_eq!(
        (first["line"].as_u64(), first["status"].as_str()),
        (Some(2), Some("created"))
    );
    assert!(
        first["product"]
            .as_str()
            .unwrap()
            .starts_with("prod_imp_mug-1_")
    );
    assert!(first["price"].as_str().unwrap().starts_with("price_"));
    store_products(&app, |products| products.len() == 3).await;

    let json = r#"[{"name": "Blue mug", "description": "Stoneware", "price": "12.50",
        "currency": "usd", "category": "Kitchen", "images": ["https://img.example/mug.png"],
        "sku": "MUG-1"}, {"name": "Bad", "price": "1", "currency": "usd", "interval": "fortnight"}]"#;
    let (status, body) = post_rows(&app, ACCOUNT, "application/json", json).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["results"][0]["status"], "unchanged",
        "the same product as the CSV's"
    );
    let bad = &body["results"][1];
    assert_eq!(
        (bad["line"].as_u64(), bad["status"].as_str()),
        (Some(2), Some("failed"))
    );
    assert!(
        bad["error"].as_str().unwrap().contains("bad interval"),
        "{bad}"
    );
    assert_eq!(stripe.objects(Some(ACCOUNT), "product").len(), 3);
    app.shutdown().await;
}

#[tokio::test]
async fn the_admin_api_refuses_an_unknown_store_bad_bodies_and_says_when_stripe_is_not_configured()
{
    let (app, stripe) = service_with_stripe().await;
    let (status, body) = post_rows(&app, "acct_nope", "text/csv", CATALOGUE).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("resource_missing"))
    );
    let (status, body) = post_rows(&app, ACCOUNT, "text/plain", CATALOGUE).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (status, body) = post_rows(&app, ACCOUNT, "text/csv", "name,prise\nA,1\n").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_request"))
    );
    assert!(body["error"]["message"].as_str().unwrap().contains("prise"));
    let (status, _) = post_rows(&app, ACCOUNT, "application/json", "{\"products\": 3}").await;
    assert_eq!(status, 400);
    let big = "x".repeat(2 * 1024 * 1024);
    let (status, body) = post_rows(&app, ACCOUNT, "text/csv", &big).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    assert!(
        stripe.requests().iter().all(|r| r.method != "POST"),
        "nothing sent"
    );
    app.shutdown().await;

    let app = spawn_app().await;
    assert_eq!(
        app.post_event(&fixture("account.updated.json"))
            .await
            .status(),
        200
    );
    app.wait_until_applied().await;
    let (status, body) = post_rows(&app, ACCOUNT, "text/csv", CATALOGUE).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("stripe_not_configured"))
    );
    app.shutdown().await;
}

/// A browser that follows no redirect and keeps the session cookie by hand.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn sign_in(app: &TestApp) -> String {
    let response = browser()
        .post(format!("{}/admin/sign-in", app.address))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("token={ADMIN_TOKEN}&next=%2Fadmin"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let set = response.headers()[SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

fn csrf_of(page: &str) -> String {
    let start = page
        .find(r#"name="csrf" value=""#)
        .expect("a form with a token")
        + 19;
    page[start..].split('"').next().unwrap().to_owned()
}

async fn submit(app: &TestApp, cookie: &str, csrf: &str, rows: &str) -> reqwest::Response {
    let encode = |text: &str| {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    browser()
        .post(format!("{}/admin/stores/{ACCOUNT}/import", app.address))
        .header(COOKIE, cookie)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={}&format=csv&rows={}",
            encode(csrf),
            encode(rows)
        ))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_console_imports_pasted_rows_behind_the_sessions_token_and_lists_each_outcome() {
    let (app, stripe) = service_with_stripe().await;
    let cookie = sign_in(&app).await;
    let store_page = browser()
        .get(format!("{}/admin/stores/{ACCOUNT}", app.address))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let link = format!("/admin/stores/{ACCOUNT}/import");
    assert!(
        store_page.contains(&link),
        "the store page links to the import"
    );

    let response = browser()
        .get(format!("{}{link}", app.address))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CACHE_CONTROL], "private, no-store");
    assert!(response.headers().contains_key("content-security-policy"));
    let page = response.text().await.unwrap();
    for label in [
        r#"<label for="import-rows">"#,
        r#"<label for="import-format">"#,
    ] {
        assert!(page.contains(label), "{label}: every field has a label");
    }
    let head = browser()
        .head(format!("{}{link}", app.address))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);

    let rows = format!("{CATALOGUE},9.00,usd,,\n");
    let forged = submit(&app, &cookie, "not-the-token", &rows).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(
        stripe.requests().iter().all(|r| r.method != "POST"),
        "nothing sent"
    );

    let answer = submit(&app, &cookie, &csrf_of(&page), &rows).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let results = answer.text().await.unwrap();
    assert!(
        results.contains("3 created, 0 updated, 0 unchanged, 1 failed"),
        "{results}"
    );
    assert!(results.contains("missing name"), "{results}");
    assert_eq!(stripe.objects(Some(ACCOUNT), "product").len(), 3);

    let refused = submit(&app, &cookie, &csrf_of(&page), "name,prise\nA,1\n").await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("unknown column `prise`") && refused.contains("name,prise"));
    let missing = browser()
        .get(format!("{}/admin/stores/acct_nope/import", app.address))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    app.shutdown().await;
}
