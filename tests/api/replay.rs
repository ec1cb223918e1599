//! Replaying events: a failed event (made to fail by sabotage) is replayed once the cause
//! is removed and ends `processed`, through the API and through `payments replay`.

use serde_json::{Value, json};

use crate::admin::event;
use crate::helpers::{ADMIN_TOKEN, TestApp, spawn_app};
use crate::schema::Api;

const ACCOUNT: &str = "acct_replay";

/// Sends a customer event for `customer` that fails every attempt, and waits until it is
/// dead-lettered; then removes the cause.
async fn failed_event(app: &TestApp, event_id: &str, customer: &str) {
    payments::faults::panic_on_object(customer);
    let body = event("customer.created.json", event_id, |e| {
        e["account"] = json!(ACCOUNT);
        e["data"]["object"]["id"] = json!(customer);
    });
    assert_eq!(app.post_event(&body).await.status(), 200);
    app.wait_until_applied().await;
    assert_eq!(app.stored_event(event_id).await.unwrap().status, "failed");
    payments::faults::heal_object(customer);
}

#[tokio::test]
async fn a_failed_event_replayed_through_the_api_ends_processed() {
    let app = spawn_app().await;
    failed_event(&app, "evt_replay_api", "cus_replay_api").await;
    let api = Api::new(&app).await;
    let (_, failed) = api.get("/webhooks/stripe/events/evt_replay_api").await;
    assert_eq!(
        (failed["status"].clone(), failed["attempts"].clone()),
        (json!("failed"), json!(3))
    );
    assert!(
        failed["last_error"]
            .as_str()
            .unwrap()
            .contains("fault injection")
    );

    let (status, replayed) = api
        .post("/webhooks/stripe/events/evt_replay_api/replay")
        .await;
    assert_eq!(status, 200, "{replayed}");
    assert_eq!(replayed["id"], "evt_replay_api");
    app.wait_until_applied().await;
    let (_, done) = api.get("/webhooks/stripe/events/evt_replay_api").await;
    assert_eq!(done["status"], "processed");
    assert_eq!(
        (done["attempts"].clone(), done["last_error"].clone()),
        (json!(1), Value::Null)
    );
    let (status, _) = api.get("/customers/cus_replay_api").await;
    assert_eq!(status, 200, "the customer now exists");

    // A processed event replayed again changes nothing.
    let (_, before) = api.get("/customers/cus_replay_api").await;
    api.post("/webhooks/stripe/events/evt_replay_api/replay")
        .await;
    app.wait_until_applied().await;
    let (_, again) = api.get("/webhooks/stripe/events/evt_replay_api").await;
    assert!(["processed", "skipped"].contains(&again["status"].as_str().unwrap()));
    let (_, after) = api.get("/customers/cus_replay_api").await;
    let without_time = |mut customer: Value| {
        customer.as_object_mut().unwrap().remove("updated_at");
        customer
    };
    assert_eq!(without_time(before), without_time(after));

    let (status, missing) = api.post("/webhooks/stripe/events/evt_nope/replay").await;
    assert_eq!(
        (status, missing["error"]["code"].clone()),
        (404, json!("resource_missing"))
    );
}

#[tokio::test]
async fn bulk_replay_requeues_the_failed_events_and_answers_how_many() {
    let app = spawn_app().await;
    failed_event(&app, "evt_bulk_1", "cus_bulk_1").await;
    failed_event(&app, "evt_bulk_2", "cus_bulk_2").await;
    let api = Api::new(&app).await;
    let (status, answer) = api
        .post(&format!(
            "/webhooks/stripe/replay?status=failed&account={ACCOUNT}"
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({"object": "replay", "replayed": 2}));
    app.wait_until_applied().await;
    for id in ["evt_bulk_1", "evt_bulk_2"] {
        assert_eq!(app.stored_event(id).await.unwrap().status, "processed");
    }
    let (_, none_left) = api.post("/webhooks/stripe/replay?status=failed").await;
    assert_eq!(none_left["replayed"], 0);
}

async fn cli_replay(app: &TestApp, args: &[&str]) -> (bool, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_payments"))
        .arg("replay")
        .args(args)
        .args(["--url", &app.address, "--token", ADMIN_TOKEN])
        .env_remove("REPLAY_TOKEN")
        .output()
        .await
        .expect("binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.success(), stdout)
}

#[tokio::test]
async fn a_failed_event_replayed_through_the_cli_ends_processed() {
    let app = spawn_app().await;
    failed_event(&app, "evt_replay_cli", "cus_replay_cli").await;
    let (ok, stdout) = cli_replay(&app, &["--failed", "--account", ACCOUNT]).await;
    assert!(ok, "{stdout}");
    assert!(stdout.contains(r#""replayed":1"#), "{stdout}");
    app.wait_until_applied().await;
    assert_eq!(
        app.stored_event("evt_replay_cli").await.unwrap().status,
        "processed"
    );

    failed_event(&app, "evt_replay_cli_one", "cus_replay_cli_one").await;
    let (ok, stdout) = cli_replay(&app, &["--event", "evt_replay_cli_one"]).await;
    assert!(ok, "{stdout}");
    app.wait_until_applied().await;
    assert_eq!(
        app.stored_event("evt_replay_cli_one").await.unwrap().status,
        "processed"
    );

    let (ok, stdout) = cli_replay(&app, &["--event", "evt_nope"]).await;
    assert!(!ok, "an unknown event fails the command: {stdout}");
    assert!(stdout.contains("resource_missing"), "{stdout}");
}
