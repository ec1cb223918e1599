//! The storefront as a shopper's browser gets it: HTML pages built from the events, with
//! prices in each currency's unit, the seller's text escaped, a notice for a store that
//! cannot sell, 404 pages, security headers and a cacheable stylesheet; the contact form
//! (its token and cookie, validation, trap, limit) and the readable addresses (slugs).

use serde_json::{Value, json};

use crate::helpers::{TestApp, fixture, spawn_app};

pub(crate) const ACCOUNT: &str = "acct_1PgafTB7WZ01zgkW";

pub(crate) fn event(id: &str, event_type: &str, created: i64, object: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"id": id, "object": "event", "type": event_type,
        "created": created, "livemode": false, "api_version": "2024-06-20",
        "pending_webhooks": 1, "account": ACCOUNT,
        "request": {"id": null, "idempotency_key": null}, "data": {"object": object}}))
    .unwrap()
}

pub(crate) fn product(id: &str, name: &str, category: &str, created: i64) -> Value {
    json!({"id": id, "object": "product", "name": name, "active": true,
        "description": format!("About {name}"), "default_price": format!("price_{id}"),
        "created": created, "updated": created, "metadata": {"category": category},
        "images": [format!("https://files.example.com/{id}.png")]})
}

pub(crate) fn price(product: &str, amount: i64, currency: &str, interval: Option<&str>) -> Value {
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
    assert!(home.contains("href=\"/shop/rosen-threads/products/prod_tee\""));

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

    let start = home.find("href=\"/assets/favicon-").expect("icon link") + 6;
    let href = &home[start..start + home[start..].find('"').unwrap()];
    let (status, headers, icon) = page(&app, href).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/svg+xml");
    assert!(icon.starts_with("<svg"));
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

/// The demo seller's readable address.
const SLUG: &str = "rosen-threads";

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    crate::helpers::http_client();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The contact form as a browser gets it: the cookie's nonce and the form's token.
struct FormPage {
    cookie: String,
    token: String,
}

async fn contact_form(app: &TestApp, client: &reqwest::Client) -> FormPage {
    let response = client
        .get(format!("{}/shop/{SLUG}/contact", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let html = response.text().await.unwrap();
    FormPage {
        cookie,
        token: token_in(&html),
    }
}

/// The value of the form's hidden token field.
fn token_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a token field") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

fn encoded(fields: &[(&str, &str)]) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    fields
        .iter()
        .map(|(name, value)| format!("{name}={}", utf8_percent_encode(value, NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}

/// POSTs the contact form of `store` with `fields` and `cookie` (if any).
async fn send(
    app: &TestApp,
    client: &reqwest::Client,
    store: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = client
        .post(format!("{}/shop/{store}/contact", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encoded(fields));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn message_fields<'a>(token: &'a str, name: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf_token", token),
        ("name", name),
        ("email", " ana@example.com "),
        ("message", "Do you ship to Lisbon?\nThanks."),
        ("website", ""),
    ]
}

async fn messages(app: &TestApp) -> Vec<entity::contact_message::Model> {
    use sea_orm::EntityTrait;
    entity::contact_message::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_contact_form_comes_with_a_signed_token_and_its_cookie() {
    let app = spawn_app().await;
    open_shop(&app).await;
    let client = no_redirects();
    let response = client
        .get(format!("{}/shop/{SLUG}/contact", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for part in ["shop_form=", "HttpOnly", "SameSite=Strict", "Path=/shop"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "no Secure cookie without an https public URL"
    );
    let html = response.text().await.unwrap();
    assert!(
        html.contains("mailto:jenny@example.com"),
        "the details stay"
    );
    assert!(
        html.contains(&format!(
            "<form method=\"post\" action=\"/shop/{SLUG}/contact\">"
        )),
        "{html}"
    );
    for field in [
        "<label for=\"contact-name\">Name</label>",
        "<label for=\"contact-email\">E-mail</label>",
        "<label for=\"contact-message\">Message</label>",
    ] {
        assert!(html.contains(field), "{field}: {html}");
    }
    let trap = &html[html.find("class=\"trap\"").expect("the trap")..];
    assert!(html.contains("<div class=\"trap\" aria-hidden=\"true\">"));
    let trap = &trap[..trap.find("</div>").unwrap()];
    assert!(trap.contains("tabindex=\"-1\"") && trap.contains("autocomplete=\"off\""));
    let token = token_in(&html);
    assert_eq!(token.split('.').count(), 3, "a sealed token: {token}");
    let nonce = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("shop_form=");
    // The token seals the cookie's nonce.
    assert_eq!(token.split('.').nth(1), Some(nonce));
}

#[tokio::test]
async fn a_valid_message_is_stored_and_the_browser_sent_to_the_thank_you_notice() {
    let app = spawn_app().await;
    open_shop(&app).await;
    let client = no_redirects();
    let form = contact_form(&app, &client).await;
    let fields = message_fields(&form.token, "  Ana Lima ");
    let (status, headers, _) = send(&app, &client, SLUG, Some(&form.cookie), &fields).await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], format!("/shop/{SLUG}/contact?sent=1"));
    let stored = messages(&app).await;
    assert_eq!(stored.len(), 1);
    let message = &stored[0];
    assert_eq!(
        (
            message.store_key.as_str(),
            message.livemode,
            message.name.as_str(),
            message.email.as_str(),
            message.message.as_str(),
        ),
        (
            ACCOUNT,
            false,
            "Ana Lima",
            "ana@example.com",
            "Do you ship to Lisbon?\nThanks."
        )
    );
    let hash = message
        .remote_hash
        .as_deref()
        .expect("a hash of the sender");
    assert!(!hash.contains("127.0.0.1") && hash.len() == 16, "{hash}");

    let (status, _, thanks) = page(&app, &format!("/shop/{SLUG}/contact?sent=1")).await;
    assert_eq!(status, 200);
    assert!(thanks.contains("role=\"status\">Thank you"), "{thanks}");

    // The admin API lists it, newest first; the console reads the same query.
    let response = app
        .admin_get(&format!("/stores/{ACCOUNT}/contact_messages"))
        .await;
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    assert_eq!(list["object"], "list");
    assert_eq!(list["data"][0]["name"], "Ana Lima");
    assert_eq!(list["data"][0]["object"], "contact_message");
    assert_eq!(list["has_more"], false);
    let rows = payments::store::admin::contact_messages::list(&app.db, ACCOUNT, 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let missing = app.admin_get("/stores/acct_nobody/contact_messages").await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn invalid_input_comes_back_with_each_error_by_its_field_and_the_input_escaped() {
    let app = spawn_app().await;
    open_shop(&app).await;
    let client = no_redirects();
    let form = contact_form(&app, &client).await;
    let fields = [
        ("csrf_token", form.token.as_str()),
        ("name", "<script>\"x"),
        ("email", "not-an-address"),
        ("message", "   "),
    ];
    let (status, headers, html) = send(&app, &client, SLUG, Some(&form.cookie), &fields).await;
    assert_eq!(status, 422);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("value=\"&lt;script&gt;&quot;x\""), "{html}");
    assert!(html.contains("value=\"not-an-address\""));
    for (field, error) in [
        ("contact-email", "such as name@example.com"),
        ("contact-message", "Enter your message."),
    ] {
        let described = format!("aria-invalid=\"true\" aria-describedby=\"{field}-error\"");
        assert!(html.contains(&described), "{field}: {html}");
        let shown = format!("<p class=\"error\" id=\"{field}-error\">");
        let at = html.find(&shown).expect("the error by its field");
        assert!(html[at..].contains(error), "{field}");
    }
    assert!(!html.contains("contact-name-error"), "the name is valid");
    assert!(messages(&app).await.is_empty());
}

#[tokio::test]
async fn a_post_without_its_token_and_cookie_is_refused_and_the_form_kept() {
    let app = spawn_app().await;
    open_shop(&app).await;
    let client = no_redirects();
    let form = contact_form(&app, &client).await;
    let other = contact_form(&app, &client).await;
    let forged = format!("{}x", form.token);
    let cases = [
        (None, form.token.as_str()),
        (Some(form.cookie.as_str()), ""),
        (Some(form.cookie.as_str()), forged.as_str()),
        // A token of another browser's form.
        (Some(form.cookie.as_str()), other.token.as_str()),
    ];
    for (cookie, token) in cases {
        let fields = message_fields(token, "Ana & <Bo>");
        let (status, headers, html) = send(&app, &client, SLUG, cookie, &fields).await;
        assert_eq!(status, 403, "{cookie:?} {token}");
        assert!(html.contains("This form has expired"), "{html}");
        assert!(html.contains("value=\"Ana &amp; &lt;Bo&gt;\""), "{html}");
        assert!(html.contains("Do you ship to Lisbon?\nThanks.</textarea>"));
        // A fresh token for the browser's nonce (a new nonce when it had none).
        let fresh = token_in(&html);
        let cookie = match cookie {
            Some(cookie) => cookie.to_owned(),
            None => {
                let set = headers["set-cookie"].to_str().unwrap();
                set.split(';').next().unwrap().to_owned()
            }
        };
        let fields = message_fields(&fresh, "Ana");
        let (status, _, _) = send(&app, &client, SLUG, Some(&cookie), &fields).await;
        assert_eq!(status, 303, "the form sent again goes through");
    }
    assert_eq!(
        messages(&app).await.len(),
        cases.len(),
        "only the resent ones"
    );
}

#[tokio::test]
async fn a_filled_trap_is_answered_as_sent_and_nothing_is_stored() {
    let app = spawn_app().await;
    open_shop(&app).await;
    let client = no_redirects();
    let form = contact_form(&app, &client).await;
    let mut fields = message_fields(&form.token, "Bot");
    fields.retain(|(name, _)| *name != "website");
    fields.push(("website", "https://spam.example.com"));
    let (status, headers, _) = send(&app, &client, SLUG, Some(&form.cookie), &fields).await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], format!("/shop/{SLUG}/contact?sent=1"));
    assert!(messages(&app).await.is_empty());
}

#[tokio::test]
async fn a_client_sending_more_than_five_messages_in_ten_minutes_gets_429() {
    let app = spawn_app().await;
    open_shop(&app).await;
    let client = no_redirects();
    let form = contact_form(&app, &client).await;
    for n in 0..5 {
        let fields = message_fields(&form.token, "Ana");
        let (status, _, _) = send(&app, &client, SLUG, Some(&form.cookie), &fields).await;
        assert_eq!(status, 303, "message {n}");
    }
    let fields = message_fields(&form.token, "Ana");
    let (status, headers, html) = send(&app, &client, SLUG, Some(&form.cookie), &fields).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "600");
    assert!(html.contains("several messages in a short time"), "{html}");
    assert!(html.contains("value=\"Ana\""), "the form comes back filled");
    assert_eq!(messages(&app).await.len(), 5);
}

#[tokio::test]
async fn unknown_and_closed_shops_refuse_the_form() {
    let app = spawn_app().await;
    open_shop(&app).await;
    let client = no_redirects();
    let form = contact_form(&app, &client).await;
    let fields = message_fields(&form.token, "Ana");
    let (status, _, html) = send(&app, &client, "acct_nobody", Some(&form.cookie), &fields).await;
    assert_eq!(status, 404);
    assert!(html.contains("Shop not found"));
    let (status, _, _) = send(&app, &client, "platform", Some(&form.cookie), &fields).await;
    assert_eq!(status, 404);

    let mut account: Value = serde_json::from_slice(&fixture("account.updated.json")).unwrap();
    account["id"] = json!("evt_sf_closed");
    account["created"] = json!(account["created"].as_i64().unwrap() + 100);
    account["data"]["object"]["charges_enabled"] = json!(false);
    deliver(&app, &[serde_json::to_vec(&account).unwrap()]).await;
    let (status, _, html) = send(&app, &client, SLUG, Some(&form.cookie), &fields).await;
    assert_eq!(status, 403);
    assert!(html.contains("so its shop is closed"), "{html}");
    assert!(messages(&app).await.is_empty());
}

/// An `account.updated` event of `account` naming its business `name`.
fn account_named(event_id: &str, account: &str, name: &str, created: i64) -> Vec<u8> {
    let mut event: Value = serde_json::from_slice(&fixture("account.updated.json")).unwrap();
    event["id"] = json!(event_id);
    event["account"] = json!(account);
    event["created"] = json!(created);
    let object = &mut event["data"]["object"];
    object["id"] = json!(account);
    object["business_profile"]["name"] = json!(name);
    object["settings"]["dashboard"]["display_name"] = json!(name);
    serde_json::to_vec(&event).unwrap()
}

async fn slug_of(app: &TestApp, account: &str) -> Value {
    let response = app.admin_get(&format!("/stores/{account}")).await;
    assert_eq!(response.status(), 200);
    let store: Value = response.json().await.unwrap();
    store["slug"].clone()
}

#[tokio::test]
async fn a_shop_answers_at_its_slug_and_its_account_id_redirects_there() {
    let app = spawn_app().await;
    open_shop(&app).await;
    assert_eq!(slug_of(&app, ACCOUNT).await, SLUG);
    let client = no_redirects();
    for (path, location) in [
        (String::new(), format!("/shop/{SLUG}")),
        ("/products".into(), format!("/shop/{SLUG}/products")),
        (
            "/products/prod_tee".into(),
            format!("/shop/{SLUG}/products/prod_tee"),
        ),
        (
            "/contact?sent=1".into(),
            format!("/shop/{SLUG}/contact?sent=1"),
        ),
    ] {
        let response = client
            .get(format!("{}/shop/{ACCOUNT}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 308, "{path}");
        assert_eq!(response.headers()["location"], location.as_str());
    }
    let (status, _, home) = page(&app, &format!("/shop/{SLUG}")).await;
    assert_eq!(status, 200);
    assert!(home.contains(&format!("href=\"/shop/{SLUG}/products\"")));
    assert!(
        !home.contains(&format!("/shop/{ACCOUNT}")),
        "links use the slug"
    );
}

#[tokio::test]
async fn two_stores_of_one_name_get_two_slugs_and_a_rename_keeps_the_slug() {
    let app = spawn_app().await;
    open_shop(&app).await;
    const TWIN: &str = "acct_2TwinStoreXyZ9";
    deliver(
        &app,
        &[account_named(
            "evt_sf_twin",
            TWIN,
            "Rosen Threads",
            1_721_949_200,
        )],
    )
    .await;
    assert_eq!(slug_of(&app, ACCOUNT).await, SLUG);
    assert_eq!(slug_of(&app, TWIN).await, "rosen-threads-rexyz9");
    let (status, _, twin) = page(&app, "/shop/rosen-threads-rexyz9").await;
    assert_eq!(status, 200);
    assert!(twin.contains("Rosen Threads"));

    // Renamed, the first store keeps its address; its new name is shown there.
    deliver(
        &app,
        &[account_named(
            "evt_sf_rename",
            ACCOUNT,
            "Rosen & Co",
            1_721_949_300,
        )],
    )
    .await;
    assert_eq!(slug_of(&app, ACCOUNT).await, SLUG);
    let (status, _, home) = page(&app, &format!("/shop/{SLUG}")).await;
    assert_eq!(status, 200);
    assert!(home.contains("Rosen &amp; Co"), "{home}");
    let (status, _, _) = page(&app, "/shop/rosen-and-co").await;
    assert_eq!(status, 404, "the new name is not an address");
}

#[tokio::test]
async fn a_store_named_platform_does_not_take_the_platforms_address() {
    let app = spawn_app().await;
    deliver(
        &app,
        &[account_named(
            "evt_slug_platform",
            "acct_slugplat",
            "Platform",
            1,
        )],
    )
    .await;
    let slug = slug_of(&app, "acct_slugplat").await;
    assert_ne!(slug, "platform");
    assert!(slug.as_str().unwrap().starts_with("platform-"), "{slug}");
}

/// A browser behind a trusted proxy, which names it in `X-Forwarded-For`.
fn behind_proxy(shopper: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let forwarded = format!("{shopper}, 127.0.0.1");
    headers.insert("x-forwarded-for", forwarded.parse().unwrap());
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_shopper_has_a_limit_of_their_own() {
    use figment::providers::Serialized;
    let url = crate::helpers::fresh_database_url().await;
    let settings = crate::helpers::test_settings(&url)
        .merge(Serialized::default("trusted_proxies", "127.0.0.1/32"));
    let app = crate::helpers::spawn_app_with(settings, &url).await;
    open_shop(&app).await;
    let first = behind_proxy("198.51.100.1");
    let form = contact_form(&app, &first).await;
    let fields = message_fields(&form.token, "Ana");
    for n in 0..5 {
        let (status, _, _) = send(&app, &first, SLUG, Some(&form.cookie), &fields).await;
        assert_eq!(status, 303, "message {n}");
    }
    let (status, _, _) = send(&app, &first, SLUG, Some(&form.cookie), &fields).await;
    assert_eq!(status, 429, "the first shopper's sixth message");
    let second = behind_proxy("198.51.100.2");
    let (status, _, _) = send(&app, &second, SLUG, Some(&form.cookie), &fields).await;
    assert_eq!(status, 303, "another shopper behind the same proxy");
}
