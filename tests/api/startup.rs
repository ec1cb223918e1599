//! Start-up and set-up as a new user meets them, through the real binary: a database that
//! is missing, wrong or late, a webhook secret that is the wrong kind of key, deliveries
//! signed with the wrong secret, and `payments doctor`.

use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use payments::stripe::signature::signature_header;
use secrecy::SecretString;
use serde_json::Value;
use warp::Filter;

use crate::binary::{
    database_env, free_port, payments, sigterm, wait_exit, wait_until_alive, wait_until_healthy,
};
use crate::helpers::{
    fixture, fresh_database_url, http_client, postgres_url, random_suffix, temp_dir,
};
use crate::outage::{Proxy, upstream_of};

/// Runs the binary to its end without blocking the test's runtime (the fake Stripe API of
/// the doctor test runs on it).
async fn output(cwd: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    let mut command = payments(cwd, env);
    command.args(args).stdin(Stdio::null());
    tokio::process::Command::from(command)
        .output()
        .await
        .expect("binary runs")
}

/// Starts the service with its output in `stdout.log` and `stderr.log` of `cwd`.
fn spawn_logged(cwd: &Path, env: &[(&str, String)]) -> Child {
    let file = |name: &str| std::fs::File::create(cwd.join(name)).unwrap();
    payments(cwd, env)
        .stdout(file("stdout.log"))
        .stderr(file("stderr.log"))
        .spawn()
        .unwrap()
}

fn read_log(cwd: &Path, name: &str) -> String {
    std::fs::read_to_string(cwd.join(name)).unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The one line the binary prints when it gives up.
fn last_stderr_line(output: &Output) -> String {
    let stderr = text(&output.stderr);
    stderr.lines().last().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_unsupported_database_scheme_exits_at_once_naming_the_supported_ones() {
    let cwd = temp_dir();
    let env = [(
        "DATABASE_URL",
        "mysql://root:hunter2@localhost/shop".to_owned(),
    )];
    let started = Instant::now();
    let output = output(&cwd, &env, &[]).await;
    assert!(!output.status.success());
    assert!(started.elapsed() < Duration::from_secs(10), "no waiting");
    let line = last_stderr_line(&output);
    assert!(
        line.starts_with("payments: DATABASE_URL cannot be used"),
        "{line}"
    );
    assert!(line.contains("`mysql://` is not supported"), "{line}");
    assert!(
        line.contains("sqlite://, postgres:// or postgresql://"),
        "{line}"
    );
    assert!(!text(&output.stderr).contains("hunter2"));
    assert!(!text(&output.stdout).contains("hunter2"));
}

#[tokio::test]
async fn a_database_that_never_answers_is_waited_for_with_the_probes_up_then_named() {
    let cwd = temp_dir();
    let (db_port, port) = (free_port(), free_port());
    let url = format!("postgres://shop:hunter2@127.0.0.1:{db_port}/orders");
    let env = [
        ("DATABASE_URL", url),
        ("DATABASE_CONNECT_TIMEOUT_SECS", "4".to_owned()),
        ("BIND_ADDR", format!("127.0.0.1:{port}")),
        ("STRIPE_WEBHOOK_SECRET", "whsec_waiting".to_owned()),
    ];
    let mut server = spawn_logged(&cwd, &env);
    wait_until_alive(port, &mut server).await;
    let client = http_client();
    let ready = client
        .get(format!("http://127.0.0.1:{port}/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_ready");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`database`") && message.contains("connecting"),
        "{message}"
    );
    let delivery = client
        .post(format!("http://127.0.0.1:{port}/webhooks/stripe"))
        .body(fixture("customer.created.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(delivery.status(), 503, "Stripe is told to come back");
    assert!(delivery.headers().contains_key("retry-after"));

    let status = wait_exit(&mut server, Duration::from_secs(20)).await;
    assert!(!status.success());
    let stderr = read_log(&cwd, "stderr.log");
    let line = stderr.lines().last().unwrap_or_default();
    let expected = format!(
        "payments: cannot connect to PostgreSQL at 127.0.0.1:{db_port} (database \"orders\", user \"shop\")"
    );
    assert!(line.starts_with(&expected), "{line}");
    assert!(line.contains("still failing after 4 s"), "{line}");
    assert!(line.contains("is PostgreSQL running?"), "{line}");
    let log = read_log(&cwd, "stdout.log");
    let attempts = log
        .lines()
        .filter(|l| l.contains("database not reachable yet"))
        .count();
    // 0.25 + 0.5 + 1 + 2 s, then the rest of the 4 s: a few lines, not one per poll.
    assert!(
        (3..=6).contains(&attempts),
        "{attempts} attempts logged:\n{log}"
    );
    assert!(!log.contains("hunter2") && !stderr.contains("hunter2"));
}

#[tokio::test]
async fn a_wrong_role_or_an_unknown_database_exits_at_once_with_the_fix() {
    let Some(base) = postgres_url() else {
        return; // needs a PostgreSQL server to refuse the role
    };
    let cwd = temp_dir();
    let mut wrong_role = reqwest::Url::parse(&base).unwrap();
    wrong_role.set_username("nosuchuser_payments").unwrap();
    wrong_role.set_password(Some("hunter2")).unwrap();
    let mut unknown_database = reqwest::Url::parse(&base).unwrap();
    unknown_database.set_path(&format!("nosuchdb_{}", random_suffix()));
    let cases = [
        (
            wrong_role.to_string(),
            "role \"nosuchuser_payments\" does not exist",
            "create the role",
        ),
        (
            unknown_database.to_string(),
            "does not exist",
            "create the database",
        ),
    ];
    for (url, cause, fix) in cases {
        let env = [
            ("DATABASE_URL", url),
            ("DATABASE_CONNECT_TIMEOUT_SECS", "60".to_owned()),
        ];
        let started = Instant::now();
        let output = output(&cwd, &env, &[]).await;
        assert!(!output.status.success());
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "a permanent error is not waited on"
        );
        let line = last_stderr_line(&output);
        assert!(
            line.starts_with("payments: cannot connect to PostgreSQL at "),
            "{line}"
        );
        assert!(line.contains(cause) && line.contains(fix), "{line}");
        // The cause once, not repeated by each layer of the error.
        assert_eq!(line.matches(cause).count(), 1, "{line}");
        assert!(!line.contains("hunter2"), "{line}");
    }
}

#[tokio::test]
async fn a_role_that_may_not_create_tables_is_told_what_to_grant() {
    let Some(base) = postgres_url() else {
        return; // needs PostgreSQL's privileges
    };
    let url = fresh_database_url().await;
    let role = format!("payments_readonly_{}", random_suffix());
    let admin = sea_orm::Database::connect(base.as_str()).await.unwrap();
    use sea_orm::ConnectionTrait;
    admin
        .execute_unprepared(&format!("CREATE ROLE \"{role}\" LOGIN"))
        .await
        .unwrap();
    let mut as_role = reqwest::Url::parse(&url).unwrap();
    as_role.set_username(&role).unwrap();
    let env = [("DATABASE_URL", as_role.to_string())];
    let output = output(&temp_dir(), &env, &["migrate"]).await;
    admin
        .execute_unprepared(&format!("DROP ROLE \"{role}\""))
        .await
        .unwrap();
    assert!(!output.status.success());
    let line = last_stderr_line(&output);
    assert!(line.contains("migrating PostgreSQL at "), "{line}");
    assert!(
        line.contains("failed: ") && line.contains("grant the role"),
        "{line}"
    );
}

#[tokio::test]
async fn the_service_started_before_its_database_becomes_ready_without_a_restart() {
    let Some(base) = postgres_url() else {
        return; // needs a TCP database to open late
    };
    let upstream = upstream_of(&base);
    let url = fresh_database_url().await;
    let (proxy_port, port) = (free_port(), free_port());
    let mut late = reqwest::Url::parse(&url).unwrap();
    late.set_port(Some(proxy_port)).unwrap();
    let cwd = temp_dir();
    let secret = "whsec_late_database".to_owned();
    let env = [
        ("DATABASE_URL", late.to_string()),
        ("BIND_ADDR", format!("127.0.0.1:{port}")),
        ("STRIPE_WEBHOOK_SECRET", secret.clone()),
    ];
    let mut server = payments(&cwd, &env)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_alive(port, &mut server).await;
    let client = http_client();
    let ready_url = format!("http://127.0.0.1:{port}/ready");
    assert_eq!(client.get(&ready_url).send().await.unwrap().status(), 503);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let _proxy = Proxy::start_on(&format!("127.0.0.1:{proxy_port}"), upstream).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = client.get(&ready_url).send().await.unwrap();
        if ready.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not ready 30 s after the database came up"
        );
        assert!(server.try_wait().unwrap().is_none(), "the service gave up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut trigger = payments(&cwd, &env);
    trigger.args(["trigger", "customer.created", "--account", "acct_late"]);
    let output = tokio::process::Command::from(trigger)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stdout));
    assert!(text(&output.stdout).lines().any(|line| line == "200"));
    assert!(
        server.try_wait().unwrap().is_none(),
        "the same process, never restarted"
    );
    sigterm(&server);
    assert!(
        wait_exit(&mut server, Duration::from_secs(10))
            .await
            .success()
    );
}

#[tokio::test]
async fn an_api_key_as_webhook_secret_is_refused_and_a_bare_secret_is_a_warning() {
    let cwd = temp_dir();
    let env = [("STRIPE_WEBHOOK_SECRET", "sk_test_51Hsecretvalue".to_owned())];
    let output = output(&cwd, &env, &[]).await;
    assert!(!output.status.success());
    let line = last_stderr_line(&output);
    assert!(
        line.contains("is a Stripe secret API key, not a webhook signing secret"),
        "{line}"
    );
    assert!(line.contains("whsec_"), "{line}");
    let everything = text(&output.stdout) + &text(&output.stderr);
    assert!(!everything.contains("51Hsecretvalue"), "{everything}");

    // A secret without Stripe's prefix starts, with a warning that does not show it.
    let url = fresh_database_url().await;
    let port = free_port();
    let mut env = database_env(&url);
    env.push(("BIND_ADDR", format!("127.0.0.1:{port}")));
    env.push(("STRIPE_WEBHOOK_SECRET", "bare_secret_value".to_owned()));
    let mut server = spawn_logged(&cwd, &env);
    wait_until_healthy(port, &mut server).await;
    sigterm(&server);
    wait_exit(&mut server, Duration::from_secs(10)).await;
    let log = read_log(&cwd, "stdout.log");
    assert!(log.contains("does not start with whsec_"), "{log}");
    assert!(!log.contains("bare_secret_value"), "{log}");
}

#[tokio::test]
async fn refused_signatures_are_explained_once_and_counted_by_reason() {
    let cwd = temp_dir();
    let url = fresh_database_url().await;
    let port = free_port();
    let secret = "whsec_right_secret".to_owned();
    let mut env = database_env(&url);
    env.push(("BIND_ADDR", format!("127.0.0.1:{port}")));
    env.push(("STRIPE_WEBHOOK_SECRET", secret.clone()));
    let mut server = spawn_logged(&cwd, &env);
    wait_until_healthy(port, &mut server).await;
    let client = http_client();
    let endpoint = format!("http://127.0.0.1:{port}/webhooks/stripe");
    let body = fixture("customer.created.json");
    let now = chrono::Utc::now().timestamp();
    let deliver = |signature: Option<String>| {
        let mut request = client.post(&endpoint).body(body.clone());
        if let Some(signature) = signature {
            request = request.header("stripe-signature", signature);
        }
        request.send()
    };
    let wrong = SecretString::from("whsec_rolled_away".to_owned());
    for _ in 0..30 {
        let response = deliver(Some(signature_header(&wrong, now, &body)))
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
    }
    assert_eq!(deliver(None).await.unwrap().status(), 400);
    let right = SecretString::from(secret);
    let stale = signature_header(&right, now - 1_000, &body);
    assert_eq!(deliver(Some(stale)).await.unwrap().status(), 400);

    let metrics = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counted = |reason: &str| {
        let series = format!("payments_webhook_signatures_refused_total{{reason=\"{reason}\"}} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(&series))
            .unwrap_or_else(|| panic!("no {series} in /metrics"))
            .to_owned()
    };
    assert_eq!(counted("no_matching_signature"), "30");
    assert_eq!(counted("missing_signature"), "1");
    assert_eq!(counted("timestamp_outside_tolerance"), "1");
    // `/ready` names the configured secret by the same fingerprint as the log.
    let ready: Value = client
        .get(format!("http://127.0.0.1:{port}/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fingerprint = payments::config::fingerprint(&right);
    assert_eq!(ready["webhook_secrets"], serde_json::json!([fingerprint]));
    assert_eq!(ready["checks"]["database"], "ok");
    sigterm(&server);
    wait_exit(&mut server, Duration::from_secs(10)).await;

    let log = read_log(&cwd, "stdout.log");
    let refused: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("webhook signature refused"))
        .collect();
    let no_match: Vec<&&str> = refused
        .iter()
        .filter(|line| line.contains("no_matching_signature"))
        .collect();
    assert_eq!(no_match.len(), 1, "a burst is one line:\n{log}");
    let fingerprint = payments::config::fingerprint(&right);
    let line = no_match[0];
    assert!(
        line.contains("secrets=1") && line.contains(&fingerprint),
        "{line}"
    );
    assert!(
        line.contains("Signing secret") && line.contains("stripe listen"),
        "{line}"
    );
    let stale = refused
        .iter()
        .find(|line| line.contains("timestamp_outside_tolerance"))
        .expect("the stale signature is explained");
    assert!(
        stale.contains("clock_difference_secs=1000")
            || stale.contains("clock_difference_secs=1001"),
        "{stale}"
    );
    assert!(stale.contains("NTP"), "{stale}");
    assert!(
        refused
            .iter()
            .any(|line| line.contains("missing_signature"))
    );
    assert!(!log.contains("whsec_right_secret") && !log.contains("whsec_rolled_away"));
}

/// A stand-in for Stripe's `GET /v1/account`: one key is valid, every other is refused
/// as Stripe refuses an unknown key.
async fn fake_stripe() -> String {
    let account = warp::path!("v1" / "account")
        .and(warp::header::<String>("authorization"))
        .map(|authorization: String| {
            if authorization == "Bearer sk_test_doctor_good" {
                let body = serde_json::json!({"id": "acct_doctor", "object": "account"});
                warp::reply::with_status(warp::reply::json(&body), warp::http::StatusCode::OK)
            } else {
                let body = serde_json::json!({"error": {
                    "message": "Invalid API Key provided: sk_test_****oked",
                    "type": "invalid_request_error"
                }});
                let status = warp::http::StatusCode::UNAUTHORIZED;
                warp::reply::with_status(warp::reply::json(&body), status)
            }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(account).incoming(listener).run());
    format!("http://{addr}")
}

#[tokio::test]
async fn doctor_checks_each_part_and_fails_with_the_fix() {
    let cwd = temp_dir();
    let stripe = fake_stripe().await;
    let url = fresh_database_url().await;
    let mut env = database_env(&url);
    if let Some((_, url)) = env.iter_mut().find(|(key, _)| *key == "DATABASE_URL") {
        // A password to be masked (the test server trusts the connection anyway).
        let mut with_password = reqwest::Url::parse(url).unwrap();
        with_password.set_password(Some("hunter2")).unwrap();
        *url = with_password.to_string();
    }
    env.push(("BIND_ADDR", format!("127.0.0.1:{}", free_port())));
    env.push(("STRIPE_WEBHOOK_SECRET", "whsec_doctor_secret".to_owned()));
    env.push(("ADMIN_TOKEN", "doctor-admin-token".to_owned()));
    env.push(("STRIPE_API_BASE", stripe));
    let migrated = output(&cwd, &env, &["migrate"]).await;
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));

    env.push(("STRIPE_API_KEY", "sk_test_doctor_good".to_owned()));
    let healthy = output(&cwd, &env, &["doctor"]).await;
    let stdout = text(&healthy.stdout);
    assert!(healthy.status.success(), "{stdout}");
    for expected in [
        "✓ configuration: complete and valid",
        "✓ webhook secrets: 1 configured (sha256:",
        "✓ database: ",
        "✓ migrations: every migration is applied",
        "✓ database writes: ",
        "✓ stripe key: a valid test key of acct_doctor",
        "- public url: PUBLIC_URL is not set",
        "- metrics: no service is running at ",
        "[environment: STRIPE_API_BASE]",
        "webhook_tolerance_secs = 300   [",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    for secret in [
        "whsec_doctor_secret",
        "sk_test_doctor_good",
        "doctor-admin-token",
        "hunter2",
    ] {
        assert!(!stdout.contains(secret), "{secret} shown:\n{stdout}");
    }

    let key = env
        .iter_mut()
        .find(|(key, _)| *key == "STRIPE_API_KEY")
        .unwrap();
    key.1 = "sk_test_doctor_revoked".to_owned();
    let revoked = output(&cwd, &env, &["doctor"]).await;
    let stdout = text(&revoked.stdout);
    assert!(!revoked.status.success(), "{stdout}");
    assert!(
        stdout.contains(
            "✗ stripe key: Stripe connection failed: the key is invalid, expired or revoked"
        ),
        "{stdout}"
    );

    let gone = format!("postgres://shop:hunter2@127.0.0.1:{}/orders", free_port());
    let url = env.iter_mut().find(|(key, _)| *key == "DATABASE_URL");
    match url {
        Some(url) => url.1 = gone,
        None => env.push(("DATABASE_URL", gone)),
    }
    let no_database = output(&cwd, &env, &["doctor"]).await;
    let stdout = text(&no_database.stdout);
    assert!(!no_database.status.success(), "{stdout}");
    assert!(
        stdout.contains("✗ database: cannot connect to PostgreSQL at 127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("is PostgreSQL running?") && !stdout.contains("hunter2"),
        "{stdout}"
    );
}
