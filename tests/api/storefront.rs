//! The storefront as a shopper's browser gets it: HTML pages built from the events, with
//! prices in each currency's unit, the seller's text escaped, a notice for a store that
//! cannot sell, 404 pages, security headers and a cacheable stylesheet.

use serde_json::{Value, json};

use crate::helpers::{TestApp, fixture, spawn_app};

const ACCOUNT: &str = "acct_1PgafTB7WZ01zgkW";

fn event(id: &str, event_type: &str, created: i64, object: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"id": id, "object": "event", "type": event_type,
        "created": created, "livemode": false, "api_version": "2024-06-20",
        "pending_webhooks": 1, "account": ACCOUNT,
        "request": {"id": null, "idempotency_key": null}, "data": {"object": object}}))
    .unwrap()
}

fn product(id: &str, name: &str, category: &str, created: i64) -> Value {
    json!({"id": id, "object": "product", "name": name, "active": true,
        "description": format!("About {name}"), "default_price": format!("price_{id}"),
        "created": created, "updated": created, "metadata": {"category": category},
        "images": [format!("https://files.example.com/{id}.png")]})
}

fn price(product: &str, amount: i64, currency: &str, interval: Option<&str>) -> Value {
    json!({"id": format!("price_{product}"), "object": "price", "product": product,
        "unit_amount": amount, "currency": currency, "active": true, "created": 1000,
        "type": if interval.is_some() { "recurring" } else { "one_time" },
        "recurring": interval.map(|i| json!({"interval": i, "interval_count": 1})),
        "metadata": {}})
}

async fn deliver(app: &TestApp, events: &[Vec<u8>]) {
    for body in events {
        assert_eq!(app.post_event(body).await.status(), 200);
    }
    app.wait_until_applied().await;
}

/// An active store with a tee (USD), a print (JPY) and a subscription box (monthly).
async fn open_shop(app: &TestApp) {
    deliver(app, &[fixture("account.updated.json")]).await;
    deliver(
        app,
        &[
            event(
                "evt_sf_p1",
                "product.created",
                1001,
                product("prod_tee", "Gray Tee", "Shirts", 1001),
            ),
            event(
                "evt_sf_p2",
                "product.created",
                1002,
                product("prod_print", "Wave Print", "Art", 1002),
            ),
            event(
                "evt_sf_p3",
                "product.created",
                1003,
                product("prod_box", "Sock Box", "Shirts", 1003),
            ),
            event(
                "evt_sf_c1",
                "price.created",
                1004,
                price("prod_tee", 2500, "usd", None),
            ),
            event(
                "evt_sf_c2",
                "price.created",
                1005,
                price("prod_print", 1200, "jpy", None),
            ),
            event(
                "evt_sf_c3",
                "price.created",
                1006,
                price("prod_box", 900, "usd", Some("month")),
            ),
        ],
    )
    .await;
}

async fn page(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

#[tokio::test]
async fn a_shop_shows_its_home_catalogue_product_about_and_contact_pages() {
    let app = spawn_app().await;
    open_shop(&app).await;

    let (status, headers, home) = page(&app, &format!("/shop/{ACCOUNT}")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(home.starts_with("<!DOCTYPE html>"));
    assert!(home.contains("<h1>Rosen Threads</h1>"), "{home}");
    assert!(home.contains("Comfortable gray cotton t-shirts"));
    for shown in ["Gray Tee", "25.00 USD", "1,200 JPY", "9.00 USD per month"] {
        assert!(home.contains(shown), "home shows {shown}: {home}");
    }
    assert!(home.contains(&format!("href=\"/shop/{ACCOUNT}/products/prod_tee\"")));

    let (status, _, catalogue) = page(&app, &format!("/shop/{ACCOUNT}/products")).await;
    assert_eq!(status, 200);
    let art = catalogue.find(">Art</h2>").expect("Art category");
    let shirts = catalogue.find(">Shirts</h2>").expect("Shirts category");
    assert!(art < shirts, "categories by name");
    let (tee, boxed) = (
        catalogue.find("Gray Tee").unwrap(),
        catalogue.find("Sock Box").unwrap(),
    );
    assert!(
        shirts < tee && tee < boxed,
        "the tee and the box under Shirts, by name"
    );
    assert!(catalogue.contains("aria-current=\"page\">Products</a>"));

    let (status, _, product) = page(&app, &format!("/shop/{ACCOUNT}/products/prod_print")).await;
    assert_eq!(status, 200);
    for shown in [
        "<h1>Wave Print</h1>",
        "1,200 JPY",
        "About Wave Print",
        "https://files.example.com/prod_print.png",
    ] {
        assert!(
            product.contains(shown),
            "product page shows {shown}: {product}"
        );
    }

    let (status, _, about) = page(&app, &format!("/shop/{ACCOUNT}/about")).await;
    assert_eq!(status, 200);
    assert!(about.contains("https://rosenthreads.example.com"));
    let (status, _, contact) = page(&app, &format!("/shop/{ACCOUNT}/contact")).await;
    assert_eq!(status, 200);
    assert!(contact.contains("mailto:jenny@example.com"), "{contact}");
    assert!(contact.contains("1234 Fake Street"));
}

#[tokio::test]
async fn pages_carry_security_headers_and_a_cacheable_stylesheet() {
    let app = spawn_app().await;
    open_shop(&app).await;
    let (_, headers, home) = page(&app, &format!("/shop/{ACCOUNT}")).await;
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["referrer-policy"],
        "strict-origin-when-cross-origin"
    );
    assert!(!home.contains("<script"), "no script on the page");

    let start = home.find("href=\"/assets/shop-").expect("stylesheet link") + 6;
    let href = &home[start..start + home[start..].find('"').unwrap()];
    let (status, headers, css) = page(&app, href).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/css; charset=utf-8");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(css.contains("ul.products"));
    let (status, _, _) = page(&app, "/assets/shop-000000000000.css").await;
    assert_eq!(status, 404, "an old stylesheet name is gone");
}

#[tokio::test]
async fn seller_text_is_shown_as_text_never_as_markup() {
    let app = spawn_app().await;
    open_shop(&app).await;
    let hostile = r#"<script>alert("x")</script> & 'quotes'"#;
    deliver(
        &app,
        &[event(
            "evt_sf_x",
            "product.created",
            1010,
            product("prod_x", hostile, hostile, 1010),
        )],
    )
    .await;
    for path in ["", "/products", "/products/prod_x"] {
        let (status, _, html) = page(&app, &format!("/shop/{ACCOUNT}{path}")).await;
        assert_eq!(status, 200, "{path}");
        assert!(!html.contains("<script>"), "{path}: {html}");
        assert!(
            html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; 'quotes'"),
            "{path}: {html}"
        );
    }
}

#[tokio::test]
async fn unknown_stores_the_platform_and_archived_products_are_404_pages() {
    let app = spawn_app().await;
    open_shop(&app).await;
    for path in [
        "/shop/acct_nobody",
        "/shop/platform",
        "/shop/acct_nobody/products",
    ] {
        let (status, headers, html) = page(&app, path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        assert!(html.contains("Shop not found"), "{path}");
    }
    for path in ["/nowhere", "/products/prod_tee/more"] {
        let (status, _, html) = page(&app, &format!("/shop/{ACCOUNT}{path}")).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("Page not found"), "{path}");
    }
    let mut archived = product("prod_tee", "Gray Tee", "Shirts", 1001);
    archived["active"] = json!(false);
    archived["updated"] = json!(1020);
    deliver(
        &app,
        &[event("evt_sf_arch", "product.updated", 1020, archived)],
    )
    .await;
    let (status, _, html) = page(&app, &format!("/shop/{ACCOUNT}/products/prod_tee")).await;
    assert_eq!(status, 404);
    assert!(html.contains("Product not found"));
    let (_, _, catalogue) = page(&app, &format!("/shop/{ACCOUNT}/products")).await;
    assert!(
        !catalogue.contains("Gray Tee"),
        "archived products are not shown"
    );
}

#[tokio::test]
async fn a_store_that_cannot_take_payments_shows_a_notice_instead_of_a_shop() {
    let app = spawn_app().await;
    open_shop(&app).await;
    let mut account: Value = serde_json::from_slice(&fixture("account.updated.json")).unwrap();
    account["id"] = json!("evt_sf_restricted");
    account["created"] = json!(account["created"].as_i64().unwrap() + 100);
    let object = &mut account["data"]["object"];
    object["charges_enabled"] = json!(false);
    object["requirements"]["disabled_reason"] = json!("requirements.past_due");
    deliver(&app, &[serde_json::to_vec(&account).unwrap()]).await;

    let (status, _, html) = page(&app, &format!("/shop/{ACCOUNT}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("cannot take payments"), "{html}");
    assert!(!html.contains("Gray Tee"), "no catalogue behind the notice");
}
