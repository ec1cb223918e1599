//! The real `payments` binary, used as the README tells a new user to use it.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, EntityTrait};

use crate::helpers::{fresh_database_url, http_client, postgres_url, temp_dir};

const BIN: &str = env!("CARGO_BIN_EXE_payments");
/// Configuration keys a developer's shell might set; each test states its own.
const CONFIG_VARS: &[&str] = &[
    "APP_ENV",
    "BIND_ADDR",
    "DATABASE_URL",
    "DATA_DIR",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_KEY",
    "ADMIN_TOKEN",
    "LOG_FORMAT",
    "TRIGGER_SECRET",
    "HEADER_READ_TIMEOUT_SECS",
    "BODY_READ_TIMEOUT_SECS",
    "MAX_CONNECTIONS",
    "DATABASE_CONNECT_TIMEOUT_SECS",
    "STRIPE_API_BASE",
    "PUBLIC_URL",
];

pub fn payments(cwd: &Path, env: &[(&str, String)]) -> Command {
    let mut command = Command::new(BIN);
    command.current_dir(cwd);
    for var in CONFIG_VARS {
        command.env_remove(var);
    }
    command.env("RUST_LOG", "info");
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until the server is ready (`/ready` answers 200: database connected and
/// migrated), or panics with its exit status.
pub async fn wait_until_healthy(port: u16, server: &mut Child) {
    wait_for(port, "ready", server).await;
}

/// Waits until the process answers `/health`, which it does while start-up still waits
/// for the database.
pub async fn wait_until_alive(port: u16, server: &mut Child) {
    wait_for(port, "health", server).await;
}

async fn wait_for(port: u16, probe: &str, server: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = http_client();
    while Instant::now() < deadline {
        if let Some(status) = server.try_wait().unwrap() {
            panic!("server exited early with {status}");
        }
        let url = format!("http://127.0.0.1:{port}/{probe}");
        if client
            .get(&url)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server's /{probe} not 200 after 30 s");
}

pub(crate) fn database_env(url: &str) -> Vec<(&'static str, String)> {
    // On SQLite the default (`./data/payments.db` in the working directory) is exercised.
    if postgres_url().is_some() {
        vec![("DATABASE_URL", url.to_owned())]
    } else {
        Vec::new()
    }
}

/// Starts the binary in `cwd` with `env` (and an explicit SQLite file unless PostgreSQL is
/// under test), its output in `server.log`, and waits until it is ready.
pub(crate) async fn start_logged(
    cwd: &Path,
    mut env: Vec<(&'static str, String)>,
    port: u16,
) -> (Child, std::path::PathBuf) {
    if postgres_url().is_none() {
        // Production has no implicit SQLite default worth relying on in a test: be explicit.
        let db = cwd.join("server.db");
        env.push((
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", db.display()),
        ));
    }
    let log_path = cwd.join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = payments(cwd, &env)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    wait_until_healthy(port, &mut server).await;
    (server, log_path)
}

pub(crate) fn run(mut command: Command) -> Output {
    command.stdin(Stdio::null()).output().expect("binary runs")
}

pub(crate) fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

pub async fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "process did not exit within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn trigger_against_a_fresh_development_server_gets_200_and_sigterm_stops_it() {
    let cwd = temp_dir();
    let port = free_port();
    let url = fresh_database_url().await;
    let mut env = database_env(&url);
    env.push(("BIND_ADDR", format!("127.0.0.1:{port}")));
    let mut server = payments(&cwd, &env)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_healthy(port, &mut server).await;
    assert!(
        cwd.join("data/webhook_secret").exists(),
        "development secret kept in ./data"
    );

    let mut trigger = payments(&cwd, &env);
    trigger.args(["trigger", "charge.succeeded"]);
    let output = run(trigger);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "trigger failed: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.lines().any(|line| line == "200"), "{stdout}");
    assert!(stdout.contains("\"received\":true"), "{stdout}");

    let db_url = if postgres_url().is_some() {
        url
    } else {
        format!(
            "sqlite://{}?mode=rw",
            cwd.join("data/payments.db").display()
        )
    };
    let db = Database::connect(db_url.as_str()).await.unwrap();
    let stored = entity::webhook_event::Entity::find()
        .all(&db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].account.as_deref(),
        Some(payments::cli::DEMO_ACCOUNT),
        "without --account, trigger speaks for the demo seller"
    );

    sigterm(&server);
    let status = wait_exit(&mut server, Duration::from_secs(10)).await;
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

#[tokio::test]
async fn acknowledged_events_survive_sigkill_and_are_applied_after_restart() {
    let cwd = temp_dir();
    let port = free_port();
    let url = fresh_database_url().await;
    let secret = "whsec_kill_test_secret".to_owned();
    let admin = "kill-test-admin-token".to_owned();
    let mut env = database_env(&url);
    env.push(("BIND_ADDR", format!("127.0.0.1:{port}")));
    env.push(("STRIPE_WEBHOOK_SECRET", format!("whsec_other,{secret}")));
    env.push(("ADMIN_TOKEN", admin.clone()));
    let log_path = cwd.join("server.log");
    let spawn = |env: &[(&str, String)]| {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap();
        payments(&cwd, env)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap()
    };
    let mut server = spawn(&env);
    wait_until_healthy(port, &mut server).await;
    let types = [
        "account.updated",
        "customer.created",
        "product.created",
        "price.created",
        "charge.succeeded",
    ];
    for event_type in types {
        let mut trigger = payments(&cwd, &env);
        trigger.args(["trigger", event_type, "--account", "acct_killtest"]);
        let output = run(trigger);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    // Killed right after the last acknowledgement, before the actors can be sure to finish.
    server.kill().unwrap();
    server.wait().unwrap();

    let mut server = spawn(&env);
    wait_until_healthy(port, &mut server).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let statuses = loop {
        let logs = http_client()
            .get(format!(
                "http://127.0.0.1:{port}/webhooks/stripe/logs?account=acct_killtest"
            ))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = logs.json().await.unwrap();
        let statuses: Vec<String> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["status"].as_str().unwrap().to_owned())
            .collect();
        if statuses.iter().all(|s| s == "processed") || Instant::now() > deadline {
            break statuses;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        statuses,
        vec!["processed"; types.len()],
        "every acknowledged event is applied"
    );
    server.kill().unwrap();
    server.wait().unwrap();
    let output = std::fs::read_to_string(&log_path).unwrap();
    assert!(output.contains("webhook accepted") || output.contains("payments listening"));
    for secret in [&secret, &admin] {
        assert!(
            !output.contains(secret.as_str()),
            "a secret leaked into the logs"
        );
    }
}

#[test]
fn production_without_a_webhook_secret_refuses_to_start_naming_the_variable() {
    let cwd = temp_dir();
    let missing_secret = payments(
        &cwd,
        &[
            ("APP_ENV", "production".to_owned()),
            ("BIND_ADDR", "127.0.0.1:0".to_owned()),
            ("ADMIN_TOKEN", "t".to_owned()),
        ],
    );
    let output = run(missing_secret);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("STRIPE_WEBHOOK_SECRET"), "{stderr}");
}

/// The seed's `docker run` line sets no admin token: production starts, takes webhooks,
/// keeps the admin API closed and says so. `payments health` (the image's HEALTHCHECK)
/// passes while it runs and fails once it has stopped.
#[tokio::test]
async fn production_without_admin_token_serves_webhooks_with_the_admin_api_closed() {
    let cwd = temp_dir();
    let port = free_port();
    let mut env = database_env(&fresh_database_url().await);
    env.extend([
        ("APP_ENV", "production".to_owned()),
        ("BIND_ADDR", format!("127.0.0.1:{port}")),
        ("STRIPE_WEBHOOK_SECRET", "whsec_no_admin".to_owned()),
    ]);
    let (mut server, log) = start_logged(&cwd, env.clone(), port).await;

    let base = format!("http://127.0.0.1:{port}");
    let stores = reqwest::get(format!("{base}/stores")).await.unwrap();
    assert_eq!(stores.status(), 401);
    let mut trigger = payments(&cwd, &env);
    trigger.args([
        "trigger",
        "account.updated",
        "--account",
        "acct_1PgafTB7WZ01zgkW",
    ]);
    let output = run(trigger);
    assert!(output.status.success(), "{output:?}");

    let mut health = payments(&cwd, &env);
    health.arg("health");
    let output = run(health);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout.trim(), format!("{base}/health -> 200"));

    sigterm(&server);
    let status = wait_exit(&mut server, Duration::from_secs(10)).await;
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged
            .lines()
            .any(|line| line.contains("\"level\":\"WARN\"")
                && line.contains("ADMIN_TOKEN is not set")),
        "{logged}"
    );

    let mut health = payments(&cwd, &env);
    health.args(["health", "--timeout", "1"]);
    let output = run(health);
    assert!(
        !output.status.success(),
        "health passes with the server stopped"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("{base}/health")), "{stderr}");
}

#[tokio::test]
async fn migrate_command_applies_every_migration() {
    let cwd = temp_dir();
    let url = fresh_database_url().await;
    let mut migrate = payments(&cwd, &[("DATABASE_URL", url.clone())]);
    migrate.arg("migrate");
    let output = run(migrate);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let db = Database::connect(url.as_str()).await.unwrap();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations",
        ))
        .await
        .unwrap();
    assert_eq!(
        rows.len(),
        <migration::Migrator as migration::MigratorTrait>::migrations().len()
    );
    for table in [
        "stripe_webhook_events",
        "stripe_stores",
        "marketplace_customers",
        "marketplace_products",
        "marketplace_orders",
    ] {
        db.execute_unprepared(&format!("SELECT * FROM {table} LIMIT 1"))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn production_logs_are_json_lines_without_secrets() {
    let cwd = temp_dir();
    let port = free_port();
    let url = fresh_database_url().await;
    let secret = "whsec_json_log_secret";
    let admin = "json-log-admin-token";
    let mut env = database_env(&url);
    env.push(("APP_ENV", "production".to_owned()));
    env.push(("BIND_ADDR", format!("127.0.0.1:{port}")));
    env.push(("STRIPE_WEBHOOK_SECRET", secret.to_owned()));
    env.push(("ADMIN_TOKEN", admin.to_owned()));
    let (mut server, log_path) = start_logged(&cwd, env.clone(), port).await;
    let mut trigger = payments(&cwd, &env);
    trigger.args([
        "trigger",
        "customer.created",
        "--url",
        &format!("http://127.0.0.1:{port}/webhooks/stripe"),
        "--secret",
        secret,
    ]);
    assert!(run(trigger).status.success());
    let rejected = http_client()
        .post(format!("http://127.0.0.1:{port}/webhooks/stripe"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), 400);
    sigterm(&server);
    wait_exit(&mut server, Duration::from_secs(10)).await;

    let output = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 3, "{output}");
    for line in &lines {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON line: {line}"));
        assert!(
            entry["level"].is_string() && entry["message"].is_string(),
            "{line}"
        );
    }
    let accepted = lines
        .iter()
        .find(|l| l.contains("webhook accepted"))
        .expect("an accepted line");
    let accepted: serde_json::Value = serde_json::from_str(accepted).unwrap();
    assert!(accepted["event_id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(accepted["event_type"], "customer.created");
    assert!(output.contains("webhook signature refused"));
    assert!(
        !output.contains(secret) && !output.contains(admin),
        "a secret leaked"
    );
}

/// Strings that must never reach the logs: customer e-mails, phones, names and address
/// lines found in the fixtures sent.
fn customer_data(fixtures: &[Vec<u8>]) -> Vec<String> {
    fn walk(value: &serde_json::Value, key: &str, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    walk(value, key, found);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, key, found)),
            serde_json::Value::String(s)
                if ["email", "phone", "line1", "line2"]
                    .iter()
                    .any(|pii| key.ends_with(pii))
                    && !s.is_empty() =>
            {
                found.push(s.clone());
            }
            _ => {}
        }
    }
    let mut found = vec!["Jenny Rosen".to_owned()];
    for body in fixtures {
        walk(&serde_json::from_slice(body).unwrap(), "", &mut found);
    }
    found.sort();
    found.dedup();
    found
}

/// Runs the binary at trace level in `log_format`, sends it customer data, admin requests
/// with wrong and right tokens and bad signatures, stops it, and returns all it printed.
async fn full_run_output(
    log_format: &str,
    fixtures: &[Vec<u8>],
    [secret, admin, api_key]: [&str; 3],
) -> String {
    use payments::stripe::signature::signature_header;
    use secrecy::SecretString;

    let cwd = temp_dir();
    let port = free_port();
    let url = fresh_database_url().await;
    let mut env = database_env(&url);
    env.push(("BIND_ADDR", format!("127.0.0.1:{port}")));
    env.push(("STRIPE_WEBHOOK_SECRET", secret.to_owned()));
    env.push(("ADMIN_TOKEN", admin.to_owned()));
    env.push(("STRIPE_API_KEY", api_key.to_owned()));
    // Start-up checks the key: against a stand-in that knows it.
    let stripe = crate::stripe_server::StripeServer::start(api_key).await;
    env.push(("STRIPE_API_BASE", stripe.base.clone()));
    env.push(("LOG_FORMAT", log_format.to_owned()));
    env.push(("RUST_LOG", "trace".to_owned()));
    let log_path = cwd.join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = payments(&cwd, &env)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    wait_until_healthy(port, &mut server).await;

    let base = format!("http://127.0.0.1:{port}");
    let client = http_client();
    let post = |body: Vec<u8>, signature: Option<String>| {
        let mut request = client
            .post(format!("{base}/webhooks/stripe"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("stripe-signature", signature);
        }
        request.send()
    };
    let now = chrono::Utc::now().timestamp();
    let sign = |body: &[u8]| signature_header(&SecretString::from(secret.to_owned()), now, body);
    for body in fixtures {
        let response = post(body.clone(), Some(sign(body))).await.unwrap();
        assert_eq!(response.status(), 200);
        // Bad signatures, and none, over the same customer data.
        let wrong = signature_header(&SecretString::from("whsec_wrong".to_owned()), now, body);
        assert_eq!(post(body.clone(), Some(wrong)).await.unwrap().status(), 400);
        assert_eq!(post(body.clone(), None).await.unwrap().status(), 400);
    }
    // A signed body that is customer data but not an event.
    let not_an_event = br#""jenny@example.com""#.to_vec();
    let response = post(not_an_event.clone(), Some(sign(&not_an_event)))
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    for token in ["wrong-token", admin] {
        for path in [
            "/customers",
            "/customers/cus_QXg1o8vcGmoR32",
            "/webhooks/stripe/logs",
        ] {
            let response = client
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status() == 401, token != admin, "{path}");
        }
    }
    wait_until_all_applied(&client, &base, admin, fixtures.len()).await;
    sigterm(&server);
    wait_exit(&mut server, Duration::from_secs(10)).await;
    let output = std::fs::read_to_string(&log_path).unwrap();
    assert!(output.contains("admin request refused"), "{output}");
    assert!(output.contains("webhook rejected"), "{output}");
    output
}

async fn wait_until_all_applied(client: &reqwest::Client, base: &str, admin: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body: serde_json::Value = client
            .get(format!("{base}/webhooks/stripe/logs?limit=100"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let events = body["data"].as_array().unwrap();
        if events.len() == count && events.iter().all(|e| e["status"] != "received") {
            return;
        }
        assert!(Instant::now() < deadline, "events not applied: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn trace_level_logs_of_a_full_run_hold_no_secret_and_no_customer_data() {
    let secret = "whsec_canary_webhook_secret_81f2";
    let admin = "canary-admin-token-5d0c";
    let api_key = "sk_test_canary_api_key_27ab";
    let names = [
        "account.updated.json",
        "customer.created.json",
        "customer.updated.json",
        "charge.succeeded.json",
        "payment_intent.succeeded.json",
    ];
    let fixtures: Vec<Vec<u8>> = names.iter().map(|n| crate::helpers::fixture(n)).collect();
    let mut forbidden = customer_data(&fixtures);
    assert!(
        forbidden.iter().any(|s| s.contains('@')) && forbidden.iter().any(|s| s.starts_with('+')),
        "the fixtures carry e-mails and phones: {forbidden:?}"
    );
    forbidden.extend([secret, admin, api_key].map(str::to_owned));
    for format in ["text", "json"] {
        let output = full_run_output(format, &fixtures, [secret, admin, api_key]).await;
        assert!(
            output.lines().count() >= 10,
            "{format}: too little output to mean anything: {output}"
        );
        for needle in &forbidden {
            let leaked: Vec<&str> = output
                .lines()
                .filter(|l| l.contains(needle.as_str()))
                .collect();
            assert!(
                leaked.is_empty(),
                "{format} logs leak {needle:?}: {leaked:#?}"
            );
        }
    }
}
