//! The Stripe API client against the stand-in ([`StripeServer`]), and the key check the
//! real binary runs at start-up.

use std::time::Duration;

use payments::stripe::api::{self, Client, RetryPolicy, StripeError};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::binary::{database_env, free_port, payments, start_logged, wait_exit};
use crate::helpers::{fresh_database_url, temp_dir};
use crate::stripe_server::{Fail, StripeServer};

const KEY: &str = "sk_test_stand_in_key_0001";

fn client(server: &StripeServer, key: &str) -> Client {
    Client::new(&server.base, SecretString::from(key.to_owned())).with_retry(RetryPolicy {
        max_attempts: 4,
        base: Duration::from_millis(10),
        max: Duration::from_millis(50),
    })
}

fn no_query() -> Vec<(String, String)> {
    Vec::new()
}

/// `count` events, `created` one second apart from `start`, ids `evt_{prefix}{n}`.
pub fn events(prefix: &str, start: i64, count: usize) -> Vec<Value> {
    (0..count)
        .map(|n| {
            json!({
                "id": format!("evt_{prefix}{n:04}"),
                "object": "event",
                "type": "product.created",
                "created": start + n as i64,
                "livemode": false,
                "data": {"object": {"id": format!("prod_{prefix}{n:04}"), "object": "product"}},
            })
        })
        .collect()
}

#[tokio::test]
async fn a_wrong_key_is_a_401_in_stripes_shape_and_the_key_is_never_in_the_error() {
    let server = StripeServer::start(KEY).await;
    let wrong = "sk_test_wrong_key_9999";
    let err = client(&server, wrong)
        .get::<Value>("/v1/account", &no_query(), None)
        .await
        .unwrap_err();
    match &err {
        StripeError::Api {
            status, kind, code, ..
        } => {
            assert_eq!(*status, 401);
            assert_eq!(kind, "invalid_request_error");
            assert_eq!(*code, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains(wrong) && !format!("{err:?}").contains(wrong));
    assert_eq!(server.requests().len(), 1, "a 401 is not retried");
}

#[tokio::test]
async fn the_account_is_read_with_the_pinned_version_and_the_connected_account() {
    let server = StripeServer::start(KEY).await;
    let account: Value = client(&server, KEY)
        .get("/v1/account", &no_query(), Some("acct_1Seller"))
        .await
        .unwrap();
    assert_eq!(account["id"], "acct_1Seller");
    assert_eq!(account["object"], "account");
    let request = &server.requests()[0];
    assert!(request.authorized);
    assert_eq!(request.account.as_deref(), Some("acct_1Seller"));
    assert_eq!(request.version.as_deref(), Some(api::API_VERSION));
}

#[tokio::test]
async fn a_429_is_retried_unless_stripe_says_not_to() {
    let server = StripeServer::start(KEY).await;
    server.throttle(2, Some(true));
    let account: Value = client(&server, KEY)
        .get("/v1/account", &no_query(), None)
        .await
        .unwrap();
    assert_eq!(account["object"], "account");
    assert_eq!(server.requests().len(), 3, "two 429s, then the answer");

    server.throttle(1, Some(false));
    let err = client(&server, KEY)
        .get::<Value>("/v1/account", &no_query(), None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(429));
    assert!(err.to_string().contains("rate_limit"), "{err}");
    assert_eq!(
        server.requests().len(),
        4,
        "Stripe-Should-Retry: false is final"
    );

    server.throttle(10, None);
    let err = client(&server, KEY)
        .get::<Value>("/v1/account", &no_query(), None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(429));
    assert_eq!(server.requests().len(), 8, "attempts are bounded");
}

#[tokio::test]
async fn a_402_is_final_and_a_replayed_key_gets_the_first_answer_again() {
    let server = StripeServer::start(KEY).await;
    server.fail_next_post(Fail {
        status: warp::http::StatusCode::PAYMENT_REQUIRED,
        kind: "card_error",
        code: Some("card_declined"),
        message: "Your card was declined.".into(),
    });
    let product = [("name", "Tee")];
    let stripe = client(&server, KEY);
    let post = || {
        stripe.post::<Value>(
            "/v1/products",
            &product,
            Some("acct_1"),
            "import-acct_1-tee",
        )
    };
    let err = post().await.unwrap_err();
    match &err {
        StripeError::Api {
            status, kind, code, ..
        } => {
            assert_eq!((*status, kind.as_str()), (402, "card_error"));
            assert_eq!(code.as_deref(), Some("card_declined"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 1, "a 402 is not retried");
    // Stripe keeps the answer of a request that ran, errors included.
    let again = post().await.unwrap_err();
    assert_eq!(again.status(), Some(402));
    assert!(server.requests()[1].replayed);
    // Another key does the work; the same key with other parameters is refused.
    let created: Value = client(&server, KEY)
        .post(
            "/v1/products",
            &product,
            Some("acct_1"),
            "import-acct_1-tee-2",
        )
        .await
        .unwrap();
    assert_eq!(created["name"], "Tee");
    assert_eq!(server.objects(Some("acct_1"), "product").len(), 1);
    assert_eq!(
        server.object(Some("acct_1"), created["id"].as_str().unwrap()),
        Some(created)
    );
    let other = [("name", "Cap")];
    let err = client(&server, KEY)
        .post::<Value>(
            "/v1/products",
            &other,
            Some("acct_1"),
            "import-acct_1-tee-2",
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("idempotency_key_in_use"), "{err}");
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = StripeServer::start(KEY).await;
    server.throttle_for(1, 1);
    let started = std::time::Instant::now();
    let account: Value = client(&server, KEY)
        .get("/v1/account", &no_query(), None)
        .await
        .unwrap();
    assert_eq!(account["object"], "account");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn an_unreachable_stripe_is_told_apart_from_an_answer() {
    let base = format!("http://127.0.0.1:{}", free_port());
    let client = Client::new(&base, SecretString::from(KEY.to_owned())).with_retry(RetryPolicy {
        max_attempts: 2,
        base: Duration::from_millis(10),
        max: Duration::from_millis(10),
    });
    let err = client
        .get::<Value>("/v1/account", &no_query(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StripeError::Unreachable { .. }), "{err:?}");
}

#[tokio::test]
async fn a_list_is_read_page_after_page_newest_first_per_account() {
    let server = StripeServer::start(KEY).await;
    server.add_events(Some("acct_1Pages"), events("page", 1_700_000_000, 250));
    server.add_events(None, events("platform", 1_700_000_000, 5));
    let mut pages = Vec::new();
    let listed: Vec<Value> = client(&server, KEY)
        .list_all(
            "/v1/events",
            &[("created[gte]", "1700000010".to_owned())],
            Some("acct_1Pages"),
            |count| pages.push(count),
        )
        .await
        .unwrap();
    assert_eq!(pages, [100, 200, 240]);
    assert_eq!(listed.len(), 240);
    assert_eq!(listed[0]["id"], "evt_page0249");
    assert_eq!(listed[239]["id"], "evt_page0010");
    assert!(listed.iter().all(|e| e["account"] == "acct_1Pages"));
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let param = |n: usize, name: &str| {
        requests[n]
            .query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    assert_eq!(param(0, "limit").as_deref(), Some("100"));
    assert_eq!(param(0, "starting_after"), None);
    assert_eq!(param(1, "starting_after").as_deref(), Some("evt_page0150"));
    assert_eq!(param(2, "starting_after").as_deref(), Some("evt_page0050"));

    let platform: Vec<Value> = client(&server, KEY)
        .list_all("/v1/events", &[], None, |_| {})
        .await
        .unwrap();
    assert_eq!(platform.len(), 5);
    assert!(platform.iter().all(|e| e.get("account").is_none()));
}

/// The binary with `key` against the stand-in; its exit status (`None`: it was still
/// running when it started listening, or after `wait`, and was killed) and what it printed.
async fn start_with_key(
    key: &str,
    base: &str,
    url: &str,
    wait: Duration,
) -> (Option<std::process::ExitStatus>, String) {
    let cwd = temp_dir();
    let port = free_port();
    let mut env = database_env(url);
    if crate::helpers::postgres_url().is_none() {
        env.push(("DATABASE_URL", url.to_owned()));
    }
    env.push(("BIND_ADDR", format!("127.0.0.1:{port}")));
    env.push(("STRIPE_API_KEY", key.to_owned()));
    env.push(("STRIPE_API_BASE", base.to_owned()));
    env.push(("LOG_FORMAT", "text".to_owned()));
    let log_path = cwd.join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = payments(&cwd, &env)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + wait;
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break Some(status);
        }
        let listening =
            std::fs::read_to_string(&log_path).is_ok_and(|log| log.contains("payments listening"));
        if listening || std::time::Instant::now() > deadline {
            server.kill().unwrap();
            server.wait().unwrap();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    (status, std::fs::read_to_string(&log_path).unwrap())
}

#[tokio::test]
async fn a_wrong_key_stops_start_up_with_one_error_line() {
    let server = StripeServer::start(KEY).await;
    let url = fresh_database_url().await;
    let wrong = "sk_test_revoked_key_4242";
    let (status, log) = start_with_key(wrong, &server.base, &url, Duration::from_secs(30)).await;
    let status = status.expect("the process exits");
    assert!(!status.success(), "{log}");
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{log}");
    assert!(
        errors[0].contains("Stripe connection failed: the key is invalid, expired or revoked"),
        "{log}"
    );
    assert!(!log.contains(wrong), "the key leaked: {log}");
    assert!(server.requests().iter().any(|r| r.path == "/v1/account"));
}

#[tokio::test]
async fn the_right_key_starts_and_an_unreachable_stripe_only_warns() {
    let server = StripeServer::start(KEY).await;
    let url = fresh_database_url().await;
    let mut env = vec![
        ("STRIPE_API_KEY", KEY.to_owned()),
        ("STRIPE_API_BASE", server.base.clone()),
        ("LOG_FORMAT", "text".to_owned()),
    ];
    env.extend(database_env(&url));
    let port = free_port();
    env.push(("BIND_ADDR", format!("127.0.0.1:{port}")));
    let cwd = temp_dir();
    let (mut running, log) = start_logged(&cwd, env.clone(), port).await;
    running.kill().unwrap();
    wait_exit(&mut running, Duration::from_secs(10)).await;
    let log = std::fs::read_to_string(log).unwrap();
    assert!(
        log.contains("Stripe key checked: a valid test key of acct_platform"),
        "{log}"
    );
    assert!(!log.contains(KEY));

    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let port = free_port();
    for (key, value) in env.iter_mut() {
        match *key {
            "STRIPE_API_BASE" => *value = nowhere.clone(),
            "BIND_ADDR" => *value = format!("127.0.0.1:{port}"),
            _ => {}
        }
    }
    let cwd = temp_dir();
    let (mut running, log) = start_logged(&cwd, env, port).await;
    running.kill().unwrap();
    wait_exit(&mut running, Duration::from_secs(10)).await;
    let log = std::fs::read_to_string(log).unwrap();
    let warning = log
        .lines()
        .find(|l| l.contains("WARN") && l.contains("Stripe connection failed: cannot reach"))
        .unwrap_or_else(|| panic!("no warning: {log}"));
    assert!(warning.contains("serving webhooks anyway"), "{warning}");
}

#[tokio::test]
async fn a_restricted_key_lacking_a_permission_starts_with_a_warning() {
    let server = StripeServer::start(KEY).await;
    let restricted = "rk_test_restricted_key_77";
    server.restricted_key(restricted);
    let url = fresh_database_url().await;
    let (status, log) =
        start_with_key(restricted, &server.base, &url, Duration::from_secs(30)).await;
    assert_eq!(status, None, "it keeps serving: {log}");
    let warning = log
        .lines()
        .find(|l| l.contains("WARN") && l.contains("Stripe key: the key works but may not read"))
        .unwrap_or_else(|| panic!("no warning: {log}"));
    assert!(!warning.contains(restricted));
    assert!(log.contains("payments listening"), "{log}");
}

#[tokio::test]
async fn readiness_says_what_the_start_up_check_found_of_the_key() {
    let server = StripeServer::start(KEY).await;
    let restricted = "rk_test_restricted_key_78";
    server.restricted_key(restricted);
    for (key, expected) in [(KEY, "ok"), (restricted, "restricted: ")] {
        let url = fresh_database_url().await;
        let settings = crate::helpers::test_settings(&url)
            .merge(figment::providers::Serialized::default(
                "stripe_api_key",
                key,
            ))
            .merge(figment::providers::Serialized::default(
                "stripe_api_base",
                &server.base,
            ));
        let app = crate::helpers::spawn_app_with(settings, &url).await;
        let ready = app
            .client
            .get(format!("{}/ready", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(
            ready.status(),
            200,
            "a key lacking a permission leaves the service ready"
        );
        let body: Value = ready.json().await.unwrap();
        let check = body["checks"]["stripe_api_key"].as_str().unwrap();
        assert!(check.starts_with(expected), "{check}");
        assert!(!check.contains(key));
        app.shutdown().await;
    }
}

#[tokio::test]
async fn a_test_key_against_live_data_stops_start_up() {
    let server = StripeServer::start(KEY).await;
    let url = fresh_database_url().await;
    let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
    payments::store::db::migrate(&db).await.unwrap();
    let mut event = crate::helpers::fixture_value("customer.created.json");
    event["livemode"] = json!(true);
    let body = event.to_string();
    let envelope = payments::stripe::envelope::Envelope::parse(body.as_bytes()).unwrap();
    payments::store::inbox::store(&db, &envelope, body)
        .await
        .unwrap();
    db.close().await.unwrap();
    let (status, log) = start_with_key(KEY, &server.base, &url, Duration::from_secs(30)).await;
    assert!(!status.expect("the process exits").success(), "{log}");
    let error = log
        .lines()
        .find(|l| l.contains("ERROR"))
        .unwrap_or_default();
    assert!(
        error.contains("Stripe connection failed: a valid test key of acct_platform, but the stored events are live"),
        "{log}"
    );
}

#[tokio::test]
async fn a_post_is_form_encoded_with_its_idempotency_key() {
    let server = StripeServer::start(KEY).await;
    let err = client(&server, KEY)
        .post::<Value>(
            "/v1/unknown",
            &[("name", "T-shirt")],
            Some("acct_1Seller"),
            "import-acct_1Seller-sku-1",
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let request = &server.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.idempotency_key.as_deref(),
        Some("import-acct_1Seller-sku-1")
    );
}

const BACKFILL: &str = "acct_1Backfill";

/// 500 events of one seller as Stripe lists them: its account, then 499 products.
fn seller_events() -> Vec<Value> {
    let start = chrono::Utc::now().timestamp() - 3_600;
    let mut account = crate::helpers::fixture_value("account.updated.json");
    account["id"] = json!("evt_backfill_account");
    account["created"] = json!(start);
    account["data"]["object"]["id"] = json!(BACKFILL);
    let template = crate::helpers::fixture_value("product.created.json");
    let mut events = vec![account];
    for n in 1..500 {
        let mut event = template.clone();
        event["id"] = json!(format!("evt_backfill{n:04}"));
        event["created"] = json!(start + n);
        let product = &mut event["data"]["object"];
        product["id"] = json!(format!("prod_backfill{n:04}"));
        product["name"] = json!(format!("Product {n}"));
        product["created"] = json!(start + n);
        product["updated"] = json!(start + n);
        events.push(event);
    }
    for event in &mut events {
        event["account"] = json!(BACKFILL);
    }
    events
}

/// Runs `payments sync` off the runtime (the stand-in and the service answer meanwhile).
async fn sync_output(cwd: &std::path::Path, url: &str, base: &str) -> String {
    let mut sync = payments(
        cwd,
        &[
            ("DATABASE_URL", url.to_owned()),
            ("STRIPE_API_KEY", KEY.to_owned()),
            ("STRIPE_API_BASE", base.to_owned()),
        ],
    );
    sync.arg("sync");
    let output = tokio::task::spawn_blocking(move || crate::binary::run(sync))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

async fn product_ids(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    use sea_orm::{EntityTrait, QuerySelect};
    entity::product::Entity::find()
        .select_only()
        .column(entity::product::Column::Id)
        .into_tuple()
        .all(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn sync_finds_the_3_missing_events_among_500_and_the_service_applies_them() {
    let stripe = StripeServer::start(KEY).await;
    let events = seller_events();
    stripe.add_events(Some(BACKFILL), events.clone());
    let url = fresh_database_url().await;
    let app = crate::helpers::spawn_app_with(crate::helpers::test_settings(&url), &url).await;
    let missing = ["evt_backfill0017", "evt_backfill0250", "evt_backfill0499"];
    let delivered: Vec<_> = events
        .iter()
        .filter(|e| !missing.contains(&e["id"].as_str().unwrap()))
        .map(|event| {
            let body = event.to_string();
            let envelope = payments::stripe::envelope::Envelope::parse(body.as_bytes()).unwrap();
            payments::store::inbox::new_row(&envelope, body)
        })
        .collect();
    assert_eq!(delivered.len(), 497);
    for chunk in delivered.chunks(100) {
        payments::store::inbox::store_batch(&app.db, chunk)
            .await
            .unwrap();
    }
    app.wait_until_applied().await;
    assert_eq!(product_ids(&app.db).await.len(), 496);

    let cwd = temp_dir();
    let stdout = sync_output(&cwd, &url, &stripe.base).await;
    assert!(
        stdout.contains("platform: seen 0, new 0, skipped 0"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{BACKFILL}: seen 500, new 3, skipped 497")),
        "{stdout}"
    );
    for id in missing {
        let stored = app.stored_event(id).await.expect("stored by sync");
        let listed = events.iter().find(|e| e["id"] == id).unwrap();
        let stored_json: Value = serde_json::from_str(&stored.payload).unwrap();
        assert_eq!(&stored_json, listed, "stored as listed");
    }
    // The running service's recovery sweep applies them.
    app.wait_until_applied().await;
    let products = product_ids(&app.db).await;
    assert_eq!(products.len(), 499);
    for id in [
        "prod_backfill0017",
        "prod_backfill0250",
        "prod_backfill0499",
    ] {
        assert!(products.iter().any(|p| p == id), "{id}");
    }
    let requests = stripe.requests();
    assert!(
        requests
            .iter()
            .filter(|r| r.path == "/v1/events")
            .all(|r| r.query.iter().any(|(k, _)| k == "created[gte]"))
    );

    // The second run lists from the newest event listed (start + 499) less the overlap.
    let again = sync_output(&cwd, &url, &stripe.base).await;
    let relisted = payments::sync::OVERLAP + 1;
    assert!(
        again.contains(&format!(
            "{BACKFILL}: seen {relisted}, new 0, skipped {relisted}"
        )),
        "{again}"
    );
    assert_eq!(app.event_count().await, 500);
    app.shutdown().await;
}
