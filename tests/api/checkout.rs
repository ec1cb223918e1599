//! Customer checkout end to end: the storefront's product and cart pages create a Checkout
//! Session on the Stripe stand-in ([`StripeServer`]), the order appears at once as
//! `pending` with its lines, and the webhooks the stand-in signs and sends when the
//! shopper pays (or does not) complete, fail or cancel it, whatever their order. Both
//! charge models: direct (on the seller's account) and destination (on the platform, with
//! the platform's fee).

use std::time::Duration;

use figment::providers::Serialized;
use serde_json::{Value, json};

use crate::helpers::{TestApp, fixture, fresh_database_url, spawn_app_with, test_settings};
use crate::storefront::{ACCOUNT, event, price, product};
use crate::stripe_server::{Payment, StripeServer};

const KEY: &str = "sk_test_checkout_stand_in";
const SHOP: &str = "/shop/rosen-threads";

/// The service, wired to a fresh stand-in that sends it its webhooks.
async fn start(model: &str, fee_percent: f64) -> (TestApp, StripeServer) {
    let stripe = StripeServer::start(KEY).await;
    let url = fresh_database_url().await;
    let settings = test_settings(&url)
        .merge(Serialized::default("stripe_api_key", KEY))
        .merge(Serialized::default("stripe_api_base", &stripe.base))
        .merge(Serialized::default("charge_model", model))
        .merge(Serialized::default("platform_fee_percent", fee_percent));
    let app = spawn_app_with(settings, &url).await;
    stripe.send_webhooks_to(&format!("{}/webhooks/stripe", app.address));
    open_shop(&app, &stripe).await;
    (app, stripe)
}

/// Rosen Threads, active, selling a tee (25.00 USD) and a cap (12.00 USD); the stand-in
/// holds the same prices on the seller's account.
async fn open_shop(app: &TestApp, stripe: &StripeServer) {
    let mut events = vec![fixture("account.updated.json")];
    for (n, (id, name, amount)) in [("prod_tee", "Gray Tee", 2500), ("prod_cap", "Cap", 1200)]
        .into_iter()
        .enumerate()
    {
        let created = 1000 + n as i64;
        events.push(event(
            &format!("evt_co_p{n}"),
            "product.created",
            created,
            product(id, name, "Shirts", created),
        ));
        let price = price(id, amount, "usd", None);
        stripe.add_object(Some(ACCOUNT), price.clone());
        events.push(event(
            &format!("evt_co_c{n}"),
            "price.created",
            created,
            price,
        ));
    }
    for body in &events {
        assert_eq!(app.post_event(body).await.status(), 200);
    }
    app.wait_until_applied().await;
}

/// A browser: keeps the cookies the shop sets, and does not follow redirects (to see
/// where they go).
#[derive(Default)]
struct Browser {
    client: reqwest::Client,
    cookies: std::sync::Mutex<std::collections::BTreeMap<String, String>>,
}

fn browser() -> Browser {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Browser {
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        cookies: Default::default(),
    }
}

impl Browser {
    fn cookie_header(&self) -> String {
        let cookies = self.cookies.lock().unwrap();
        let pairs: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.join("; ")
    }

    fn keep(&self, response: &reqwest::Response) {
        let mut cookies = self.cookies.lock().unwrap();
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                cookies.remove(name);
            } else {
                cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }
}

/// The value of the hidden field `name` in `html` (the first one).
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

async fn get(browser: &Browser, app: &TestApp, path: &str) -> (u16, String) {
    let response = browser
        .client
        .get(format!("{}{path}", app.address))
        .header("cookie", browser.cookie_header())
        .send()
        .await
        .unwrap();
    browser.keep(&response);
    (response.status().as_u16(), response.text().await.unwrap())
}

/// POSTs `form` to `path`; the status and the `Location`.
async fn post(
    browser: &Browser,
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let response = browser
        .client
        .post(format!("{}{path}", app.address))
        .header("cookie", browser.cookie_header())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap();
    browser.keep(&response);
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location)
}

/// "Buy now" on the tee's page: the session's id, and the attempt's form.
async fn buy_now(browser: &Browser, app: &TestApp, quantity: &str) -> String {
    let (status, page) = get(browser, app, &format!("{SHOP}/products/prod_tee")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Buy now"), "{page}");
    let token = hidden(&page, "csrf_token");
    let attempt = hidden(&page, "attempt");
    let form = [
        ("csrf_token", token.as_str()),
        ("attempt", attempt.as_str()),
        ("product", "prod_tee"),
        ("quantity", quantity),
    ];
    let (status, location) = post(browser, app, &format!("{SHOP}/checkout"), &form).await;
    assert_eq!(status, 303, "{location}");
    // A double click sends the same attempt: the same session, not a second one.
    let (_, again) = post(browser, app, &format!("{SHOP}/checkout"), &form).await;
    assert_eq!(again, location);
    location.rsplit('/').next().unwrap().to_owned()
}

async fn orders(app: &TestApp) -> Vec<Value> {
    let response = app.admin_get(&format!("/orders?store={ACCOUNT}")).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["data"].as_array().unwrap().clone()
}

/// Polls the seller's orders until there is one with `status` (and no other), or panics.
async fn settled(app: &TestApp, status: &str) -> Value {
    for _ in 0..300 {
        let orders = orders(app).await;
        if orders.len() == 1 && orders[0]["status"] == status {
            return orders[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never one {status} order: {:#?}", orders(app).await);
}

/// The product page of the test's product, as the browser receives it.
async fn product_page(browser: &Browser, app: &TestApp) -> reqwest::Response {
    browser
        .client
        .get(format!("{}{SHOP}/products/prod_tee", app.address))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_direct_checkout_is_pending_at_once_and_completed_by_stripes_webhooks() {
    let (app, stripe) = start("direct", 2.5).await;
    let browser = browser();
    // The product page's form may lead to Stripe's payment page (CSP `form-action`
    // governs the redirect after a form, too).
    let response = product_page(&browser, &app).await;
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let expected = format!(
        "form-action 'self' https://checkout.stripe.com {};",
        stripe.base
    );
    assert!(csp.contains(&expected), "{csp}");
    let session = buy_now(&browser, &app, "2").await;

    let created: Vec<_> = stripe
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/checkout/sessions")
        .collect();
    assert_eq!(created.len(), 2);
    assert!(
        created[1].replayed,
        "the second click is Stripe's replay of the first"
    );
    let request = &created[0];
    assert_eq!(request.account.as_deref(), Some(ACCOUNT));
    assert!(
        request
            .idempotency_key
            .as_deref()
            .unwrap()
            .starts_with(&format!("checkout-{ACCOUNT}-"))
    );
    let params = &request.params;
    assert_eq!(
        params["line_items"][0],
        json!({"price": "price_prod_tee", "quantity": "2"})
    );
    assert_eq!(
        params["payment_intent_data"]["application_fee_amount"],
        "125"
    );
    assert!(params["payment_intent_data"]["transfer_data"].is_null());

    // The order is there before the shopper has paid, with its lines.
    let pending = orders(&app).await;
    assert_eq!(pending.len(), 1, "{pending:#?}");
    assert_eq!(pending[0]["id"], session);
    assert_eq!(pending[0]["status"], "pending");
    assert_eq!(pending[0]["amount"], 5000);
    assert_eq!(pending[0]["items"][0]["price"], "price_prod_tee");
    assert_eq!(pending[0]["items"][0]["quantity"], 2);
    assert_eq!(pending[0]["items"][0]["unit_amount"], 2500);

    stripe.pay(Some(ACCOUNT), &session, Payment::Succeeded);
    let order = settled(&app, "completed").await;
    assert!(order["id"].as_str().unwrap().starts_with("pi_"), "{order}");
    assert_eq!(order["amount_captured"], 5000);
    assert_eq!(order["application_fee_amount"], 125);
    assert_eq!(order["items"][0]["quantity"], 2);
    assert!(
        order["receipt_url"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );

    let (status, page) = get(
        &browser,
        &app,
        &format!("{SHOP}/checkout/success?session_id={session}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Your payment was received."), "{page}");
    assert!(
        page.contains("Gray Tee") && page.contains("50.00 USD"),
        "{page}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn an_abandoned_checkout_is_canceled_when_its_session_expires() {
    let (app, stripe) = start("direct", 0.0).await;
    let browser = browser();
    let session = buy_now(&browser, &app, "1").await;
    assert_eq!(settled(&app, "pending").await["id"], session);
    let params = &stripe.requests()[stripe.requests().len() - 1].params;
    assert!(
        params["payment_intent_data"]["application_fee_amount"].is_null(),
        "no fee when 0%"
    );

    let (status, page) = get(&browser, &app, &format!("{SHOP}/checkout/canceled")).await;
    assert_eq!(status, 200);
    assert!(page.contains("you were not charged"), "{page}");
    stripe.expire(Some(ACCOUNT), &session);
    let order = settled(&app, "canceled").await;
    assert_eq!(order["id"], session);
    app.shutdown().await;
}

#[tokio::test]
async fn a_declined_card_then_expiry_and_a_failed_bank_debit_end_as_stripe_says() {
    let (app, stripe) = start("direct", 0.0).await;
    let browser = browser();
    let session = buy_now(&browser, &app, "1").await;
    stripe.pay(Some(ACCOUNT), &session, Payment::Declined);
    stripe.expire(Some(ACCOUNT), &session);
    // The declined attempt's PaymentIntent, canceled with the session: one order.
    let order = settled(&app, "canceled").await;
    assert!(order["id"].as_str().unwrap().starts_with("pi_"), "{order}");

    let second = buy_now(&browser, &app, "1").await;
    stripe.pay(Some(ACCOUNT), &second, Payment::Delayed { succeeds: false });
    let mut failed = None;
    for _ in 0..300 {
        let all = orders(&app).await;
        failed = all.into_iter().find(|o| o["status"] == "failed");
        if failed.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let failed = failed.expect("the bank debit's order failed");
    assert_eq!(failed["failure_code"], "card_declined");
    assert_eq!(orders(&app).await.len(), 2);
    app.shutdown().await;
}

#[tokio::test]
async fn a_destination_checkout_runs_on_the_platform_and_pays_the_seller_less_the_fee() {
    let (app, stripe) = start("destination", 10.0).await;
    let browser = browser();
    // Two products through the cart.
    for (product, quantity) in [("prod_tee", "1"), ("prod_cap", "2")] {
        let (_, page) = get(&browser, &app, &format!("{SHOP}/products/{product}")).await;
        let token = hidden(&page, "csrf_token");
        let form = [
            ("csrf_token", token.as_str()),
            ("product", product),
            ("quantity", quantity),
            ("action", "add"),
        ];
        let (status, location) = post(&browser, &app, &format!("{SHOP}/cart"), &form).await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/shop/rosen-threads/cart")
        );
    }
    let (status, cart) = get(&browser, &app, &format!("{SHOP}/cart")).await;
    assert_eq!(status, 200);
    assert!(
        cart.contains("Gray Tee") && cart.contains("Cap") && cart.contains("49.00 USD"),
        "{cart}"
    );
    let token = hidden(&cart, "csrf_token");
    let attempt = hidden(&cart, "attempt");
    let form = [
        ("csrf_token", token.as_str()),
        ("attempt", attempt.as_str()),
        ("from", "cart"),
    ];
    let (status, location) = post(&browser, &app, &format!("{SHOP}/checkout"), &form).await;
    assert_eq!(status, 303);
    let session = location.rsplit('/').next().unwrap().to_owned();

    let request = stripe
        .requests()
        .into_iter()
        .find(|r| r.path == "/v1/checkout/sessions")
        .unwrap();
    assert_eq!(
        request.account, None,
        "a destination charge is the platform's"
    );
    let data = &request.params["payment_intent_data"];
    assert_eq!(data["transfer_data"]["destination"], ACCOUNT);
    assert_eq!(data["application_fee_amount"], "490");
    assert_eq!(
        request.params["line_items"][1]["price_data"]["unit_amount"],
        "1200"
    );
    // The seller's pending order, though the session is the platform's.
    assert_eq!(settled(&app, "pending").await["id"], session);

    stripe.pay(None, &session, Payment::Succeeded);
    let order = settled(&app, "completed").await;
    assert_eq!(order["amount_captured"], 4900);
    assert_eq!(order["application_fee_amount"], 490);
    assert_eq!(order["transfer_amount"], 4410);
    assert_eq!(order["items"].as_array().unwrap().len(), 2);

    // Back from Stripe: the receipt, and the cart is emptied.
    let (_, page) = get(
        &browser,
        &app,
        &format!("{SHOP}/checkout/success?session_id={session}&from=cart"),
    )
    .await;
    assert!(
        page.contains("Your payment was received.") && page.contains("Cap"),
        "{page}"
    );
    let (_, cart) = get(&browser, &app, &format!("{SHOP}/cart")).await;
    assert!(cart.contains("Your cart is empty."), "{cart}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_paid_checkout_settles_the_same_whatever_order_its_events_arrive_in() {
    // The stand-in sends nothing here: its events are delivered by hand, newest first.
    let stripe = StripeServer::start(KEY).await;
    let url = fresh_database_url().await;
    let settings = test_settings(&url)
        .merge(Serialized::default("stripe_api_key", KEY))
        .merge(Serialized::default("stripe_api_base", &stripe.base));
    let app = spawn_app_with(settings, &url).await;
    open_shop(&app, &stripe).await;
    let browser = browser();
    let session = buy_now(&browser, &app, "3").await;
    stripe.pay(Some(ACCOUNT), &session, Payment::Succeeded);
    let mut events = stripe.listed_events(Some(ACCOUNT));
    assert!(events.len() >= 4, "{events:#?}");
    events.reverse();
    for event in &events {
        let body = serde_json::to_vec(event).unwrap();
        assert_eq!(app.post_event(&body).await.status(), 200);
    }
    app.wait_until_applied().await;
    let order = settled(&app, "completed").await;
    assert_eq!(order["amount_captured"], 7500);
    assert_eq!(order["items"][0]["quantity"], 3);
    app.shutdown().await;
}

#[tokio::test]
async fn checkout_refuses_a_bad_token_a_bad_quantity_an_unknown_product_and_a_shop_without_a_key() {
    let (app, _stripe) = start("direct", 0.0).await;
    let browser = browser();
    let (_, page) = get(&browser, &app, &format!("{SHOP}/products/prod_tee")).await;
    let attempt = hidden(&page, "attempt");
    let form = [
        ("csrf_token", "forged"),
        ("attempt", attempt.as_str()),
        ("product", "prod_tee"),
        ("quantity", "1"),
    ];
    let (status, _) = post(&browser, &app, &format!("{SHOP}/checkout"), &form).await;
    assert_eq!(status, 403);
    let token = hidden(&page, "csrf_token");
    for quantity in ["0", "100", "x"] {
        let form = [
            ("csrf_token", token.as_str()),
            ("attempt", attempt.as_str()),
            ("product", "prod_tee"),
            ("quantity", quantity),
        ];
        let (status, _) = post(&browser, &app, &format!("{SHOP}/checkout"), &form).await;
        assert_eq!(status, 422, "quantity {quantity}");
    }
    let form = [
        ("csrf_token", token.as_str()),
        ("attempt", attempt.as_str()),
        ("product", "prod_nope"),
        ("quantity", "1"),
    ];
    let (status, _) = post(&browser, &app, &format!("{SHOP}/checkout"), &form).await;
    assert_eq!(status, 422);
    app.shutdown().await;

    // Without a key the shop still shows its products, and says checkout is not open.
    let url = fresh_database_url().await;
    let app = spawn_app_with(test_settings(&url), &url).await;
    let stripe = StripeServer::start(KEY).await;
    open_shop(&app, &stripe).await;
    let (_, page) = get(&browser, &app, &format!("{SHOP}/products/prod_tee")).await;
    assert!(!page.contains("Buy now"), "{page}");
    assert!(page.contains("Online checkout is not open in this shop yet."));
    // A form token from the contact page: the checkout itself must refuse.
    let (_, contact) = get(&browser, &app, &format!("{SHOP}/contact")).await;
    let token = hidden(&contact, "csrf_token");
    let form = [
        ("csrf_token", token.as_str()),
        ("attempt", "AAAAAAAAAAAAAAAAAAAAAA"),
        ("product", "prod_tee"),
        ("quantity", "1"),
    ];
    let (status, _) = post(&browser, &app, &format!("{SHOP}/checkout"), &form).await;
    assert_eq!(status, 503);
    app.shutdown().await;
}

#[tokio::test]
async fn the_same_form_sent_with_other_lines_or_after_paying_opens_a_new_session() {
    let (app, stripe) = start("direct", 0.0).await;
    let browser = browser();
    let response = product_page(&browser, &app).await;
    // Back from Stripe, the browser asks for the page again (a fresh attempt id).
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    let (_, page) = get(&browser, &app, &format!("{SHOP}/products/prod_tee")).await;
    let token = hidden(&page, "csrf_token");
    let attempt = hidden(&page, "attempt");
    let form = |quantity: &'static str| {
        [
            ("csrf_token", token.clone()),
            ("attempt", attempt.clone()),
            ("product", "prod_tee".to_owned()),
            ("quantity", quantity.to_owned()),
        ]
    };
    let send = |form: [(&'static str, String); 4]| {
        let browser = &browser;
        let app = &app;
        async move {
            let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post(browser, app, &format!("{SHOP}/checkout"), &fields).await
        }
    };
    let (status, first) = send(form("1")).await;
    assert_eq!(status, 303);
    // The same page sent again with another quantity: another purchase, not a refusal.
    let (status, other) = send(form("2")).await;
    assert_eq!(status, 303);
    assert_ne!(other, first);
    // Paid, then the same form again: a new session, not the paid one.
    let paid = first.rsplit('/').next().unwrap().to_owned();
    stripe.pay(Some(ACCOUNT), &paid, Payment::Succeeded);
    for _ in 0..300 {
        if orders(&app)
            .await
            .iter()
            .any(|o| o["status"] == "completed")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, again) = send(form("1")).await;
    assert_eq!(status, 303);
    assert_ne!(again, first);
    app.shutdown().await;
}
