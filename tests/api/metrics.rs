//! `GET /metrics` after a mixed load: every metric is there with plausible values, and
//! Prometheus's own checker accepts the text.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::helpers::{fixture, spawn_app};

/// The value of the first sample of `name` whose labels contain `labels`.
pub fn sample(text: &str, name: &str, labels: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find(|line| line.starts_with(name) && line.contains(labels))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn metrics_cover_intake_apply_and_failures_after_a_mixed_load() {
    let app = spawn_app().await;
    for name in [
        "customer.created.json",
        "product.created.json",
        "charge.succeeded.json",
    ] {
        app.post_event(&fixture(name)).await;
    }
    app.post_event(&fixture("customer.created.json")).await; // duplicate
    app.post_with_signature(&fixture("price.created.json"), Some("t=1,v1=00".into()))
        .await; // invalid signature
    app.post_event(b"[]").await; // invalid payload
    let thin = br#"{"id":"evt_metrics_thin","object":"v2.core.event","type":"v2.core.account.updated","created":"2024-09-17T06:20:52.246Z"}"#;
    app.post_event(thin).await; // a thin notification: stored, then ignored
    let mut broken: Value = serde_json::from_slice(&fixture("customer.updated.json")).unwrap();
    broken["id"] = json!("evt_metrics_dead_letter");
    // A deletion at a time no clock can hold: the apply path refuses it (a domain error).
    broken["type"] = json!("customer.deleted");
    broken["created"] = json!(i64::MAX);
    app.post_event(&serde_json::to_vec(&broken).unwrap()).await; // dead-lettered
    app.wait_until_applied().await;

    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    for name in payments::metrics::NAMES {
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "{name} is described"
        );
        assert!(
            text.lines()
                .any(|l| l.starts_with(name) && !l.starts_with('#')),
            "{name} has a sample"
        );
    }
    for process in [
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
    ] {
        assert!(text.contains(process), "{process}");
    }
    // Counters are process-wide (other tests run beside this one): at least this load.
    assert!(
        sample(
            &text,
            "payments_webhook_requests_total",
            "outcome=\"accepted\""
        )
        .unwrap()
            >= 4.0
    );
    assert!(
        sample(
            &text,
            "payments_webhook_requests_total",
            "outcome=\"thin_event\""
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        sample(
            &text,
            "payments_webhook_requests_total",
            "outcome=\"duplicate\""
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        sample(
            &text,
            "payments_webhook_requests_total",
            "outcome=\"invalid_signature\""
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        sample(
            &text,
            "payments_webhook_requests_total",
            "outcome=\"invalid_payload\""
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        sample(
            &text,
            "payments_events_dead_lettered_total",
            "type=\"customer.deleted\""
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        sample(
            &text,
            "payments_events_applied_total",
            "result=\"processed\""
        )
        .unwrap()
            >= 1.0
    );
    assert!(sample(&text, "payments_webhook_ack_seconds_count", "").unwrap() >= 6.0);
    assert!(
        text.contains("payments_webhook_ack_seconds_bucket{le=\"0.005\"}"),
        "explicit buckets"
    );
    assert!(
        !text.contains("acct_") && !text.contains("evt_") && !text.contains("cus_"),
        "no ids in labels"
    );
    promtool_accepts(&text);
}

/// Runs `promtool check metrics` when it is installed (`.ci/run` installs it).
fn promtool_accepts(text: &str) {
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        assert!(std::env::var("CI").is_err(), "promtool is required in CI");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn metrics_can_require_the_admin_token() {
    use figment::providers::Serialized;
    let url = crate::helpers::fresh_database_url().await;
    let settings = crate::helpers::test_settings(&url)
        .merge(Serialized::default("metrics_require_token", true));
    let app = crate::helpers::spawn_app_with(settings, &url).await;
    let open = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), 401);
    let with_token = app.admin_get("/metrics").await;
    assert_eq!(with_token.status(), 200);
}
