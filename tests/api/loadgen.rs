//! `payments loadgen` against the real binary: every acknowledged event is stored and
//! applied, and the summary says so.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::binary::{free_port, payments, run, sigterm, wait_exit, wait_until_healthy};
use crate::helpers::{fresh_database_url, temp_dir};

#[tokio::test]
async fn loadgen_with_duplicates_and_shuffle_loses_nothing_and_applies_everything() {
    let cwd = temp_dir();
    let port = free_port();
    let url = fresh_database_url().await;
    let secret = "whsec_loadgen_test_secret";
    let env = [
        ("BIND_ADDR", format!("127.0.0.1:{port}")),
        ("DATABASE_URL", url.clone()),
        ("STRIPE_WEBHOOK_SECRET", secret.to_owned()),
    ];
    let mut server = payments(&cwd, &env)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_healthy(port, &mut server).await;

    let mut loadgen = payments(&cwd, &[]);
    loadgen.args([
        "loadgen",
        "--url",
        &format!("http://127.0.0.1:{port}/webhooks/stripe"),
        "--secret",
        secret,
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
        "--server-pid",
        &server.id().to_string(),
    ]);
    let output = run(loadgen);
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

    sigterm(&server);
    wait_exit(&mut server, Duration::from_secs(10)).await;
}
