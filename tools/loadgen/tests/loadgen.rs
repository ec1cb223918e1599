//! The `loadgen` binary against a running service: every acknowledged event is stored and
//! applied, and the summary says so.
//!
//! The service runs inside this test process (built from the `payments` library of this
//! workspace, so it is never a stale binary) on a fresh SQLite file, or on a fresh schema
//! of `TEST_DATABASE_URL` (PostgreSQL) when it is set; `loadgen` runs as a child process.

use std::path::PathBuf;
use std::process::Stdio;

use figment::providers::Serialized;
use payments::config::Settings;
use payments::startup::Application;
use rand::Rng;
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;
use tokio::process::Command;
use tokio::sync::oneshot;

const SECRET: &str = "whsec_loadgen_test_secret";
/// Configuration keys a developer's shell might set; `loadgen` gets every value as a flag.
const CONFIG_VARS: &[&str] = &[
    "APP_ENV",
    "BIND_ADDR",
    "DATABASE_URL",
    "DATA_DIR",
    "STRIPE_WEBHOOK_SECRET",
    "ADMIN_TOKEN",
    "TRIGGER_SECRET",
];

fn random_suffix() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(12)
        .map(|c| char::from(c).to_ascii_lowercase())
        .collect()
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("payments-test-{}", random_suffix()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// A fresh, empty database: a new SQLite file, or a new schema named like the service's
/// own tests' (`payments_t_...`, which `.ci/run` drops afterwards).
async fn fresh_database_url() -> String {
    let postgres = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty());
    let Some(base) = postgres else {
        return format!(
            "sqlite://{}?mode=rwc",
            temp_dir().join("payments.db").display()
        );
    };
    let schema = format!("payments_t_{}", random_suffix());
    let admin = Database::connect(base.as_str())
        .await
        .expect("TEST_DATABASE_URL is reachable");
    admin
        .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .expect("create test schema");
    admin.close().await.ok();
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

// Multi-threaded: the service keeps answering while the test waits for `loadgen`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loadgen_with_duplicates_and_shuffle_loses_nothing_and_applies_everything() {
    let url = fresh_database_url().await;
    let figment = Settings::defaults()
        .merge(Serialized::default("database_url", &url))
        .merge(Serialized::default("bind_addr", "127.0.0.1:0"))
        .merge(Serialized::default("stripe_webhook_secret", SECRET))
        .merge(Serialized::default(
            "admin_token",
            "loadgen-test-admin-token",
        ))
        .merge(Serialized::default(
            "data_dir",
            temp_dir().display().to_string(),
        ));
    let settings = Settings::from_figment(figment).expect("valid test settings");
    let app = Application::build(&settings).await.expect("service starts");
    let port = app.local_addr().expect("bound").port();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    let mut loadgen = Command::new(env!("CARGO_BIN_EXE_loadgen"));
    for var in CONFIG_VARS {
        loadgen.env_remove(var);
    }
    loadgen.args([
        "--url",
        &format!("http://127.0.0.1:{port}/webhooks/stripe"),
        "--secret",
        SECRET,
        "--stores",
        "3",
        "--duration",
        "2s",
        "--concurrency",
        "4",
        "--duplicates",
        "0.1",
        "--shuffle",
        "--database-url",
        &url,
        "--wait-applied",
        "30s",
        // The service's process is this one.
        "--server-pid",
        &std::process::id().to_string(),
    ]);
    let output = loadgen
        .stdin(Stdio::null())
        .output()
        .await
        .expect("loadgen runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|err| panic!("one JSON document on stdout ({err}): {stdout} {stderr}"));
    assert!(output.status.success(), "{summary:#}");

    let count = |key: &str| {
        summary[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key}: {summary:#}"))
    };
    assert!(count("sent") > 0, "{summary:#}");
    assert_eq!(count("lost"), 0, "{summary:#}");
    assert_eq!(count("unapplied"), 0, "{summary:#}");
    assert_eq!(count("failed"), 0, "{summary:#}");
    assert_eq!(summary["errors"], serde_json::json!({}), "{summary:#}");
    assert!(
        count("resent") > 0 && count("duplicates") > 0,
        "{summary:#}"
    );
    assert_eq!(
        count("accepted") + count("duplicates"),
        count("sent"),
        "{summary:#}"
    );
    assert_eq!(count("acknowledged"), count("accepted"), "{summary:#}");
    assert!(
        summary["apply_lag_ms"]["p99"].as_f64().is_some(),
        "{summary:#}"
    );
    assert!(count("server_peak_rss_bytes") > 1 << 20, "{summary:#}");

    let _ = stop.send(());
    server.await.expect("the service stops cleanly");
}
