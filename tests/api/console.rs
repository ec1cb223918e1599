//! The admin console over HTTP, as a browser without script would use it: signing in with
//! the admin token, the session cookie's attributes, every page, replays behind the
//! session's CSRF token, escaping of text from events, signing out, and who may use the
//! console without a token. (tests/api/browser.rs walks it in a real browser.)

use figment::providers::Serialized;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

use crate::helpers::{
    ADMIN_TOKEN, TestApp, fixture, fresh_database_url, spawn_app, spawn_app_with, test_settings,
};

const ACCOUNT: &str = "acct_console";
const HOSTILE: &str = r#"<script>alert("x")</script> "quoted""#;

/// A browser that follows no redirect on its own.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// What a browser sends for a form.
trait FormBody {
    fn form(self, pairs: &[(&str, &str)]) -> Self;
}

impl FormBody for reqwest::RequestBuilder {
    fn form(self, pairs: &[(&str, &str)]) -> Self {
        let encode = |text: &str| {
            percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        };
        let body: Vec<String> = pairs
            .iter()
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect();
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"))
    }
}

/// Signs in with `token`; the answer of the sign-in form.
async fn sign_in_with(app: &TestApp, token: &str) -> reqwest::Response {
    browser()
        .post(format!("{}/admin/sign-in", app.address))
        .form(&[("token", token), ("next", "/admin/orders")])
        .send()
        .await
        .unwrap()
}

/// The `name=value` of the session cookie a sign-in set.
fn session_cookie(response: &reqwest::Response) -> String {
    let set = response.headers()[SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

async fn signed_in(app: &TestApp) -> String {
    let response = sign_in_with(app, ADMIN_TOKEN).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    session_cookie(&response)
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let response = browser()
        .get(format!("{}{path}", app.address))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn post(app: &TestApp, cookie: &str, path: &str, csrf: &str) -> reqwest::Response {
    browser()
        .post(format!("{}{path}", app.address))
        .header(COOKIE, cookie)
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap()
}

/// The CSRF token of the first form of a page.
fn csrf_of(page: &str) -> String {
    let start = page
        .find(r#"name="csrf" value=""#)
        .expect("a form with a token")
        + 19;
    page[start..].split('"').next().unwrap().to_owned()
}

fn event(id: &str, event_type: &str, object: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"id": id, "object": "event", "type": event_type,
        "created": 1_700_000_000, "livemode": false, "api_version": "2024-06-20",
        "pending_webhooks": 1, "account": ACCOUNT,
        "request": {"id": null, "idempotency_key": null}, "data": {"object": object}}))
    .unwrap()
}

/// A store with a product and a customer named [`HOSTILE`], and a paid order.
async fn store_with_hostile_names(app: &TestApp) {
    let mut account: serde_json::Value =
        serde_json::from_slice(&fixture("account.updated.json")).unwrap();
    account["account"] = json!(ACCOUNT);
    account["data"]["object"]["id"] = json!(ACCOUNT);
    let mut charge: serde_json::Value =
        serde_json::from_slice(&fixture("charge.succeeded.json")).unwrap();
    charge["account"] = json!(ACCOUNT);
    let bodies = [
        serde_json::to_vec(&account).unwrap(),
        event(
            "evt_console_product",
            "product.created",
            json!({"id": "prod_console", "object": "product", "name": HOSTILE, "active": true,
                "created": 1, "updated": 1, "metadata": {"category": HOSTILE}, "images": []}),
        ),
        event(
            "evt_console_customer",
            "customer.created",
            json!({"id": "cus_console", "object": "customer", "name": HOSTILE,
                "email": "shopper@example.com", "created": 1, "metadata": {}}),
        ),
        serde_json::to_vec(&charge).unwrap(),
    ];
    for body in &bodies {
        assert_eq!(app.post_event(body).await.status(), 200);
    }
    app.wait_until_applied().await;
}

#[tokio::test]
async fn signing_in_takes_the_admin_token_and_sets_a_strict_session_cookie() {
    let app = spawn_app().await;
    let (status, _) = get(&app, "", "/admin/orders").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "no session: to the sign-in page"
    );

    let (status, form) = get(&app, "", "/admin/sign-in?next=%2Fadmin%2Forders").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains(r#"<label for="token">"#), "{form}");

    let wrong = sign_in_with(&app, "not-the-token").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(SET_COOKIE).is_none());

    let right = sign_in_with(&app, ADMIN_TOKEN).await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    assert_eq!(right.headers()[LOCATION], "/admin/orders");
    let set = right.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/admin",
        "Max-Age=28800",
    ] {
        assert!(set.contains(attribute), "{attribute} missing: {set}");
    }
    assert!(!set.contains("Secure"), "plain-HTTP development: {set}");
    assert!(
        !set.contains(ADMIN_TOKEN),
        "the cookie never holds the token"
    );

    let cookie = session_cookie(&right);
    let (status, _) = get(&app, &cookie, "/admin/orders").await;
    assert_eq!(status, StatusCode::OK);
    let mut forged: Vec<char> = cookie.chars().collect();
    let at = forged.len() - 5;
    forged[at] = if forged[at] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    let (status, _) = get(&app, &forged, "/admin/orders").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "a tampered cookie is no session"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_sign_in_goes_back_only_to_a_console_page() {
    let app = spawn_app().await;
    let response = browser()
        .post(format!("{}/admin/sign-in", app.address))
        .form(&[("token", ADMIN_TOKEN), ("next", "//evil.example/admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[LOCATION], "/admin");
    app.shutdown().await;
}

#[tokio::test]
async fn every_console_page_shows_the_stores_rows_with_their_text_escaped() {
    let app = spawn_app().await;
    store_with_hostile_names(&app).await;
    let cookie = signed_in(&app).await;
    let order: entity::order::Model = {
        use sea_orm::EntityTrait;
        entity::order::Entity::find()
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
    };
    let pages = [
        "/admin".to_owned(),
        "/admin/stores".to_owned(),
        "/admin/stores?status=active".to_owned(),
        format!("/admin/stores/{ACCOUNT}"),
        "/admin/orders".to_owned(),
        format!("/admin/orders?store={ACCOUNT}&status=completed"),
        format!("/admin/orders/{}?store={ACCOUNT}", order.id),
        "/admin/customers".to_owned(),
        "/admin/products".to_owned(),
        format!("/admin/products?store={ACCOUNT}&active=true"),
        "/admin/events".to_owned(),
        "/admin/events?status=processed&type=product.created".to_owned(),
        "/admin/events/evt_console_product".to_owned(),
        "/admin/events/evt_console_product/replay".to_owned(),
        format!("/admin/stores/{ACCOUNT}/replay"),
    ];
    for path in &pages {
        let (status, page) = get(&app, &cookie, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        assert!(!page.contains("<script>"), "{path} shows raw markup");
    }
    let (_, products) = get(&app, &cookie, "/admin/products").await;
    assert!(
        products.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &quot;quoted&quot;"),
        "{products}"
    );
    let (_, store) = get(&app, &cookie, &format!("/admin/stores/{ACCOUNT}")).await;
    assert!(store.contains("shopper@example.com"), "{store}");
    let (_, order_page) = get(&app, &cookie, &format!("/admin/orders/{}", order.id)).await;
    assert!(
        order_page.contains("charge.succeeded"),
        "the order's history"
    );
    let (_, event) = get(&app, &cookie, "/admin/events/evt_console_product").await;
    assert!(
        event.contains("&quot;prod_console&quot;"),
        "the payload: {event}"
    );

    let (status, _) = get(&app, &cookie, "/admin/events/evt_nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&app, &cookie, "/admin/stores/acct_nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.shutdown().await;
}

#[tokio::test]
async fn a_replay_takes_the_sessions_token_and_applies_the_event_again() {
    let app = spawn_app().await;
    payments::faults::panic_on_object("cus_console_failed");
    let body = event(
        "evt_console_failed",
        "customer.created",
        json!({"id": "cus_console_failed", "object": "customer", "created": 1, "metadata": {}}),
    );
    assert_eq!(app.post_event(&body).await.status(), 200);
    app.wait_until_applied().await;
    assert_eq!(
        app.stored_event("evt_console_failed").await.unwrap().status,
        "failed"
    );
    payments::faults::heal_object("cus_console_failed");

    let cookie = signed_in(&app).await;
    let path = "/admin/events/evt_console_failed/replay";
    let (_, confirm) = get(&app, &cookie, path).await;
    let csrf = csrf_of(&confirm);

    let other_session = signed_in(&app).await;
    let forged = post(&app, &other_session, path, &csrf).await;
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "another session's token"
    );
    let anonymous = post(&app, "", path, &csrf).await;
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN, "no session");
    assert_eq!(
        app.stored_event("evt_console_failed").await.unwrap().status,
        "failed",
        "nothing replayed"
    );

    let replayed = post(&app, &cookie, path, &csrf).await;
    assert_eq!(replayed.status(), StatusCode::SEE_OTHER);
    app.wait_until_applied().await;
    assert_eq!(
        app.stored_event("evt_console_failed").await.unwrap().status,
        "processed"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_stores_failed_events_are_replayed_together() {
    let app = spawn_app().await;
    for n in 1..=2 {
        let customer = format!("cus_console_bulk_{n}");
        payments::faults::panic_on_object(&customer);
        let body = event(
            &format!("evt_console_bulk_{n}"),
            "customer.created",
            json!({"id": customer, "object": "customer", "created": n, "metadata": {}}),
        );
        assert_eq!(app.post_event(&body).await.status(), 200);
    }
    app.wait_until_applied().await;
    for n in 1..=2 {
        payments::faults::heal_object(&format!("cus_console_bulk_{n}"));
    }
    let cookie = signed_in(&app).await;
    let path = format!("/admin/stores/{ACCOUNT}/replay");
    let (_, confirm) = get(&app, &cookie, &path).await;
    assert!(confirm.contains("the 2 failed events"), "{confirm}");
    let replayed = post(&app, &cookie, &path, &csrf_of(&confirm)).await;
    assert_eq!(replayed.status(), StatusCode::SEE_OTHER);
    app.wait_until_applied().await;
    for n in 1..=2 {
        let stored = app.stored_event(&format!("evt_console_bulk_{n}")).await;
        assert_eq!(stored.unwrap().status, "processed");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn signing_out_clears_the_cookie_and_takes_the_sessions_token() {
    let app = spawn_app().await;
    let cookie = signed_in(&app).await;
    let (_, page) = get(&app, &cookie, "/admin").await;
    let csrf = csrf_of(&page);
    let forged = post(&app, &cookie, "/admin/sign-out", "1.forged.token").await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let out = post(&app, &cookie, "/admin/sign-out", &csrf).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let set = out.headers()[SET_COOKIE].to_str().unwrap();
    assert!(
        set.starts_with("payments_console=;") && set.contains("Max-Age=0"),
        "{set}"
    );
    let (status, _) = get(&app, "", "/admin").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "refused once the cookie is gone"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn without_a_token_the_console_opens_only_on_loopback_in_development() {
    let url = fresh_database_url().await;
    let open = test_settings(&url).merge(Serialized::default("admin_token", ""));
    let app = spawn_app_with(open, &url).await;
    let response = browser()
        .get(format!("{}/admin/sign-in", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "a session at once"
    );
    let cookie = session_cookie(&response);
    assert_eq!(get(&app, &cookie, "/admin").await.0, StatusCode::OK);
    app.shutdown().await;

    let url = fresh_database_url().await;
    let closed = test_settings(&url)
        .merge(Serialized::default("admin_token", ""))
        .merge(Serialized::default("app_env", "production"));
    let app = spawn_app_with(closed, &url).await;
    let (status, page) = get(&app, "", "/admin/sign-in").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("ADMIN_TOKEN"), "{page}");
    app.shutdown().await;
}

#[tokio::test]
async fn the_cookie_is_secure_behind_an_https_public_url() {
    let url = fresh_database_url().await;
    let settings = test_settings(&url).merge(Serialized::default(
        "public_url",
        "https://shop.example.com",
    ));
    let app = spawn_app_with(settings, &url).await;
    let response = sign_in_with(&app, ADMIN_TOKEN).await;
    let set = response.headers()[SET_COOKIE].to_str().unwrap();
    assert!(set.contains("; Secure"), "{set}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_form_too_large_is_answered_with_a_page_and_head_works_on_pages() {
    let app = spawn_app().await;
    let token = "x".repeat(8 * 1024);
    let response = sign_in_with(&app, &token).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let page = response.text().await.unwrap();
    assert!(page.contains("Form not sent"), "{page}");

    let cookie = signed_in(&app).await;
    let head = browser()
        .head(format!("{}/admin/orders", app.address))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["cache-control"], "private, no-store");
    app.shutdown().await;
}

#[tokio::test]
async fn ten_wrong_tokens_from_one_client_close_the_sign_in_to_it_for_a_while() {
    let app = spawn_app().await;
    for n in 0..10 {
        let response = sign_in_with(&app, "a-guess").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "guess {n}");
    }
    let refused = sign_in_with(&app, ADMIN_TOKEN).await;
    assert_eq!(
        refused.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the right token is not even checked"
    );
    assert_eq!(refused.headers()["retry-after"], "600");
    assert!(refused.headers().get(SET_COOKIE).is_none());
    app.shutdown().await;
}
