//! Product upload (issue 15) against the Stripe stand-in: `payments products import` (the
//! real binary) and the shared core, on the connected account, with the stand-in's webhooks
//! bringing the catalogue back into the store.

use std::path::Path;
use std::time::Duration;

use figment::providers::Serialized;
use payments::catalog_import::{self, Format, ImportError, Report, Status};
use payments::stripe::api::{Client, RetryPolicy};
use secrecy::SecretString;
use serde_json::Value;

use crate::binary::payments;
use crate::helpers::{
    TestApp, fixture, fresh_database_url, spawn_app_with, temp_dir, test_settings,
};
use crate::storefront::ACCOUNT;
use crate::stripe_server::{Fail, StripeServer};

pub(crate) const KEY: &str = "sk_test_import_key_0001";

pub(crate) const CATALOGUE: &str = "\
name,description,images,category,price,currency,interval,sku
Blue mug,Stoneware,https://img.example/mug.png,Kitchen,12.50,usd,,MUG-1
Wave print,,https://img.example/a.png|https://img.example/b.png,Art,1200,jpy,,
Tea club,A tin a month,,Tea,9.00,eur,month,TEA-1
";

/// A service that knows the store and hears the stand-in's webhooks.
pub(crate) async fn service_with_stripe() -> (TestApp, StripeServer) {
    let stripe = StripeServer::start(KEY).await;
    let url = fresh_database_url().await;
    let settings = test_settings(&url)
        .merge(Serialized::default("stripe_api_key", KEY))
        .merge(Serialized::default("stripe_api_base", &stripe.base));
    let app = spawn_app_with(settings, &url).await;
    assert_eq!(
        app.post_event(&fixture("account.updated.json"))
            .await
            .status(),
        200
    );
    app.wait_until_applied().await;
    stripe.send_webhooks_to(&format!("{}/webhooks/stripe", app.address));
    (app, stripe)
}

pub(crate) fn client(stripe: &StripeServer) -> Client {
    Client::new(&stripe.base, SecretString::from(KEY.to_owned())).with_retry(RetryPolicy {
        max_attempts: 2,
        base: Duration::from_millis(10),
        max: Duration::from_millis(20),
    })
}

async fn import(stripe: &StripeServer, text: &str, format: Format) -> Report {
    catalog_import::import(&client(stripe), ACCOUNT, text.as_bytes(), format, |_, _| {})
        .await
        .unwrap()
}

/// The store's products as the admin API lists them, once `ready` holds (webhooks are
/// delivered and applied in the background).
pub(crate) async fn store_products(app: &TestApp, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = app
            .admin_get(&format!("/stores/{ACCOUNT}/products?limit=100"))
            .await;
        let body: Value = response.json().await.unwrap();
        let products = body["data"].as_array().cloned().unwrap_or_default();
        if ready(&products) {
            return products;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the store never showed the import: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn posts(stripe: &StripeServer) -> Vec<crate::stripe_server::Recorded> {
    stripe
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect()
}

/// Runs `payments products import FILE --store ACCOUNT` off the runtime.
async fn run_cli(file: &Path, env: Vec<(&'static str, String)>) -> (bool, String, String) {
    let mut command = payments(file.parent().unwrap(), &env);
    command
        .args(["products", "import"])
        .arg(file)
        .args(["--store", ACCOUNT]);
    let output = tokio::task::spawn_blocking(move || crate::binary::run(command))
        .await
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn stripe_env(stripe: &StripeServer) -> Vec<(&'static str, String)> {
    vec![
        ("STRIPE_API_KEY", KEY.to_owned()),
        ("STRIPE_API_BASE", stripe.base.clone()),
    ]
}

#[tokio::test]
async fn a_csv_import_creates_products_and_prices_on_the_connected_account_and_they_reach_the_store()
 {
    let (app, stripe) = service_with_stripe().await;
    let file = temp_dir().join("catalogue.csv");
    std::fs::write(&file, CATALOGUE).unwrap();
    let (ok, stdout, stderr) = run_cli(&file, stripe_env(&stripe)).await;
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("3 created, 0 updated, 0 unchanged, 0 failed"),
        "{stdout}"
    );
    assert!(!stderr.contains(KEY) && !stdout.contains(KEY));

    let products = stripe.objects(Some(ACCOUNT), "product");
    let prices = stripe.objects(Some(ACCOUNT), "price");
    assert_eq!((products.len(), prices.len()), (3, 3));
    assert!(
        stripe.objects(None, "product").is_empty(),
        "not on the platform"
    );
    let mug = products.iter().find(|p| p["name"] == "Blue mug").unwrap();
    assert_eq!(mug["metadata"]["category"], "Kitchen");
    assert_eq!(mug["images"][0], "https://img.example/mug.png");
    let price = |product: &Value| {
        let id = product["default_price"].as_str().unwrap();
        prices.iter().find(|p| p["id"] == id).unwrap().clone()
    };
    assert_eq!(
        (
            price(mug)["unit_amount"].as_i64(),
            price(mug)["currency"].as_str()
        ),
        (Some(1250), Some("usd"))
    );
    let print = products.iter().find(|p| p["name"] == "Wave print").unwrap();
    assert_eq!(price(print)["unit_amount"], 1200, "JPY has no minor unit");
    assert_eq!(print["images"].as_array().unwrap().len(), 2);
    let tea = products.iter().find(|p| p["name"] == "Tea club").unwrap();
    assert_eq!(price(tea)["recurring"]["interval"], "month");
    let create = posts(&stripe)
        .into_iter()
        .find(|post| post.params["name"] == "Blue mug")
        .unwrap();
    assert_eq!(create.path, "/v1/products");
    assert_eq!(create.params["default_price_data"]["unit_amount"], "1250");
    assert_eq!(create.params["metadata"]["category"], "Kitchen");
    for post in posts(&stripe) {
        assert_eq!(post.account.as_deref(), Some(ACCOUNT));
        let key = post.idempotency_key.as_deref().unwrap_or_default();
        assert!(key.starts_with(&format!("import-{ACCOUNT}-")), "{key}");
    }

    let listed = store_products(&app, |products| {
        products.len() == 3 && products.iter().all(|p| !p["price"].is_null())
    })
    .await;
    let mug = listed.iter().find(|p| p["name"] == "Blue mug").unwrap();
    assert_eq!(mug["category"], "Kitchen");
    assert_eq!(mug["price"]["unit_amount"], 1250);
    // The pages follow the catalogue a moment later.
    app.wait_until_applied().await;
    let shop = app
        .client
        .get(format!("{}/shop/{ACCOUNT}/products", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for shown in [
        "Kitchen",
        "Art",
        "Tea",
        "Blue mug",
        "12.50 USD",
        "1,200 JPY",
    ] {
        assert!(shop.contains(shown), "{shown} on the storefront");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn importing_the_same_file_again_writes_nothing_and_creates_nothing() {
    let (app, stripe) = service_with_stripe().await;
    let first = import(&stripe, CATALOGUE, Format::Csv).await;
    assert_eq!(first.count(Status::Created), 3, "{first:?}");
    let writes = posts(&stripe).len();

    let again = import(&stripe, CATALOGUE, Format::Csv).await;
    assert_eq!(again.count(Status::Unchanged), 3, "{again:?}");
    assert_eq!(posts(&stripe).len(), writes, "no write request at all");
    assert_eq!(stripe.objects(Some(ACCOUNT), "product").len(), 3);
    assert_eq!(stripe.objects(Some(ACCOUNT), "price").len(), 3);
    for (a, b) in first.results.iter().zip(&again.results) {
        assert_eq!((&a.product, &a.price), (&b.product, &b.price));
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_changed_price_becomes_the_new_default_and_the_old_one_is_archived() {
    let (app, stripe) = service_with_stripe().await;
    let first = import(&stripe, CATALOGUE, Format::Csv).await;
    let old = first.results[0].price.clone().unwrap();
    let changed = CATALOGUE.replace("Kitchen,12.50,usd", "Kitchen,14.00,usd");
    let report = import(&stripe, &changed, Format::Csv).await;
    assert_eq!(
        report.summary(),
        "0 created, 1 updated, 2 unchanged, 0 failed"
    );
    let new = report.results[0].price.clone().unwrap();
    assert_ne!(new, old);
    let product = report.results[0].product.clone().unwrap();
    let on_stripe = stripe.object(Some(ACCOUNT), &product).unwrap();
    assert_eq!(on_stripe["default_price"], new.as_str());
    assert_eq!(stripe.object(Some(ACCOUNT), &old).unwrap()["active"], false);
    assert_eq!(
        stripe.object(Some(ACCOUNT), &new).unwrap()["unit_amount"],
        1400
    );
    assert_eq!(stripe.objects(Some(ACCOUNT), "price").len(), 4);

    // A retry of the same change (the same state on Stripe) replays its first answers.
    let writes = posts(&stripe).len();
    let again = import(&stripe, &changed, Format::Csv).await;
    assert_eq!(again.count(Status::Unchanged), 3);
    assert_eq!(posts(&stripe).len(), writes);

    store_products(&app, |products| {
        products
            .iter()
            .any(|p| p["id"] == product.as_str() && p["price"]["unit_amount"] == 1400)
    })
    .await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_file_with_bad_rows_reports_each_with_its_line_and_reason_imports_the_rest_and_exits_non_zero()
 {
    let (app, stripe) = service_with_stripe().await;
    let file = temp_dir().join("bad.csv");
    std::fs::write(
        &file,
        "name,price,currency,interval,images,sku\n\
         Refused by Stripe,5.00,usd,,,R-1\n\
         ,5.00,usd,,,\n\
         Cheap,5.005,usd,,,\n\
         Pounds,5.00,xxx,,,\n\
         Hourly,5.00,usd,hour,,\n\
         Pictured,5.00,usd,,not-a-url,\n\
         Good one,5.00,usd,,,G-1\n\
         Copy,6.00,usd,,,G-1\n\
         Good two,700,jpy,,,G-2\n",
    )
    .unwrap();
    stripe.fail_next_post(Fail::invalid(
        "parameter_invalid_string",
        "Invalid string: the name is not allowed",
    ));
    let (ok, stdout, stderr) = run_cli(&file, stripe_env(&stripe)).await;
    assert!(!ok, "a failed row is a non-zero exit: {stdout}\n{stderr}");
    for expected in [
        "line 2: Stripe refused it: Invalid string: the name is not allowed",
        "line 3: missing name",
        "line 4: bad price `5.005`: USD has 2 decimals",
        "line 5: unknown currency `xxx`",
        "line 6: bad interval `hour`: day, week, month or year",
        "line 7: bad image URL `not-a-url`",
        "line 9: duplicate sku `G-1` (first on line 8)",
        "2 created, 0 updated, 0 unchanged, 7 failed",
    ] {
        assert!(stdout.contains(expected), "{expected}\n{stdout}");
    }
    let names: Vec<Value> = stripe
        .objects(Some(ACCOUNT), "product")
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Good one".into()) && names.contains(&"Good two".into()));
    store_products(&app, |products| products.len() == 2).await;
    app.shutdown().await;
}

#[tokio::test]
async fn json_rows_are_imported_and_numbered_as_items() {
    let (app, stripe) = service_with_stripe().await;
    let text = r#"{"products": [
        {"name": "Linen apron", "price": 32, "currency": "GBP", "category": "Kitchen",
         "images": ["https://img.example/apron.png"], "sku": "AP-1"},
        {"name": "Seoul mug", "price": "15000", "currency": "krw", "interval": "year"},
        {"name": "No price", "currency": "usd"}
    ]}"#;
    let report = import(&stripe, text, Format::Json).await;
    assert_eq!(
        report.summary(),
        "2 created, 0 updated, 0 unchanged, 1 failed"
    );
    assert_eq!(
        report.failures().collect::<Vec<_>>(),
        ["item 3: missing price"]
    );
    let prices = stripe.objects(Some(ACCOUNT), "price");
    let amounts: Vec<(i64, &str)> = prices
        .iter()
        .map(|p| {
            (
                p["unit_amount"].as_i64().unwrap(),
                p["currency"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        amounts.contains(&(3200, "gbp")) && amounts.contains(&(15000, "krw")),
        "{amounts:?}"
    );
    let refused = catalog_import::import(
        &client(&stripe),
        ACCOUNT,
        b"[{\"name\": 1}]",
        Format::Json,
        |_, _| {},
    )
    .await;
    assert!(matches!(refused, Err(ImportError::File(err)) if err.0.starts_with("item 1")));
    app.shutdown().await;
}

#[tokio::test]
async fn without_a_key_or_with_stripe_unreachable_the_cli_says_so_in_one_line_and_fails() {
    let dir = temp_dir();
    let file = dir.join("catalogue.csv");
    std::fs::write(&file, CATALOGUE).unwrap();
    let (ok, stdout, stderr) = run_cli(&file, Vec::new()).await;
    assert!(!ok);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("STRIPE_API_KEY is not set"), "{stderr}");
    assert!(stdout.is_empty());

    let port = crate::binary::free_port();
    let env = vec![
        ("STRIPE_API_KEY", KEY.to_owned()),
        ("STRIPE_API_BASE", format!("http://127.0.0.1:{port}")),
    ];
    let (ok, stdout, stderr) = run_cli(&file, env).await;
    assert!(!ok);
    let line = stderr.trim();
    assert!(
        line.contains("Stripe connection failed") && line.contains("cannot reach"),
        "{line}"
    );
    assert!(!line.contains(KEY));
    assert!(
        stdout.contains("0 created, 0 updated, 0 unchanged, 0 failed"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_product_changed_on_stripe_since_is_brought_back_to_the_files_values() {
    use payments::catalog_import::rows::Identity;
    let stripe = StripeServer::start(KEY).await;
    let id = catalog_import::upload::product_id(ACCOUNT, &Identity::Sku("MUG-1".into()));
    stripe.add_object(
        Some(ACCOUNT),
        serde_json::json!({"id": id, "object": "product", "name": "Old mug", "active": false,
            "description": null, "images": [], "metadata": {"category": "Kitchen"},
            "default_price": null, "created": 1, "updated": 1, "livemode": false}),
    );
    let report = import(&stripe, CATALOGUE, Format::Csv).await;
    assert_eq!(report.results[0].status, Status::Updated, "{report:?}");
    let product = stripe.object(Some(ACCOUNT), &id).unwrap();
    assert_eq!(
        (product["name"].as_str(), product["active"].as_bool()),
        (Some("Blue mug"), Some(true))
    );
    assert_eq!(product["description"], "Stoneware");
    assert_eq!(product["images"][0], "https://img.example/mug.png");
    let price = product["default_price"].as_str().unwrap();
    assert_eq!(
        stripe.object(Some(ACCOUNT), price).unwrap()["unit_amount"],
        1250
    );
    let update = posts(&stripe)
        .into_iter()
        .find(|post| post.path == format!("/v1/products/{id}"))
        .unwrap();
    assert!(
        update.params.get("metadata").is_none(),
        "only what changed: {:?}",
        update.params
    );
}
