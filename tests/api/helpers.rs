//! Test helpers: a real server on a random port over a fresh database, and requests signed
//! exactly as Stripe signs them.
//!
//! Without `TEST_DATABASE_URL` each test gets its own SQLite file; with it (a PostgreSQL
//! URL) each test gets its own schema in that database.

use std::path::PathBuf;

use figment::providers::Serialized;
use payments::config::Settings;
use payments::pipeline::Dispatcher;
use payments::startup::Application;
use payments::stripe::signature::signature_header;
use rand::Rng;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait};
use secrecy::SecretString;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const SECRET: &str = "whsec_test_secret_for_payments";
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// A running service and a handle on its database.
pub struct TestApp {
    pub address: String,
    pub db: DatabaseConnection,
    pub client: reqwest::Client,
    pub dispatcher: Dispatcher,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

/// Whether the tests run against PostgreSQL (`TEST_DATABASE_URL`).
pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
}

pub fn random_suffix() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(12)
        .map(|c| char::from(c).to_ascii_lowercase())
        .collect()
}

/// A fresh, empty database: a new SQLite file, or a new PostgreSQL schema.
pub async fn fresh_database_url() -> String {
    match postgres_url() {
        Some(base) => {
            let schema = format!("payments_t_{}", random_suffix());
            let admin = Database::connect(base.as_str())
                .await
                .expect("TEST_DATABASE_URL is reachable");
            admin
                .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
                .await
                .expect("create test schema");
            admin.close().await.ok();
            with_search_path(&base, &schema)
        }
        None => {
            let dir = temp_dir();
            format!("sqlite://{}?mode=rwc", dir.join("payments.db").display())
        }
    }
}

/// `base` with every connection's search path set to `schema`.
pub fn with_search_path(base: &str, schema: &str) -> String {
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("payments-test-{}", random_suffix()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Settings for a test server on `database_url`, with known secrets.
pub fn test_settings(database_url: &str) -> figment::Figment {
    Settings::defaults()
        .merge(Serialized::default("database_url", database_url))
        .merge(Serialized::default("bind_addr", "127.0.0.1:0"))
        .merge(Serialized::default("stripe_webhook_secret", SECRET))
        .merge(Serialized::default("admin_token", ADMIN_TOKEN))
        .merge(Serialized::default("database_max_connections", 5))
        .merge(Serialized::default("database_acquire_timeout_secs", 2))
        .merge(Serialized::default("apply_backoff_ms", 10))
        .merge(Serialized::default("apply_max_attempts", 3))
        .merge(Serialized::default("apply_backoff_max_ms", 200))
        // The sweep that dispatches events whose notification was lost (around a database
        // outage, say) again: seconds rather than the default 30 s, within the tests' waits.
        .merge(Serialized::default("recovery_interval_secs", 2))
        // Pages rebuilt soon after a change: the tests that read them wait for them.
        .merge(Serialized::default("pages_rebuild_delay_ms", 50))
        .merge(Serialized::default(
            "data_dir",
            temp_dir().display().to_string(),
        ))
}

/// An HTTP client (reqwest needs a TLS provider installed before its first client).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Starts the service on a fresh database.
pub async fn spawn_app() -> TestApp {
    let url = fresh_database_url().await;
    spawn_app_with(test_settings(&url), &url).await
}

/// Starts the service with explicit settings; `database_url` is where tests look.
pub async fn spawn_app_with(figment: figment::Figment, database_url: &str) -> TestApp {
    let settings = Settings::from_figment(figment).expect("valid test settings");
    let app = Application::build(&settings).await.expect("service starts");
    let addr = app.local_addr().expect("bound");
    let dispatcher = app.dispatcher();
    let (tx, rx) = oneshot::channel();
    let server = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    let db = Database::connect(database_url)
        .await
        .expect("test connects to the database");
    TestApp {
        address: format!("http://{addr}"),
        db,
        client: http_client(),
        dispatcher,
        shutdown: Some(tx),
        server: Some(server),
    }
}

impl TestApp {
    /// Signs `body` with the test secret at the current time.
    pub fn sign(&self, body: &[u8]) -> String {
        sign_at(body, now())
    }

    /// POSTs `body` to the receiver, signed now.
    pub async fn post_event(&self, body: &[u8]) -> reqwest::Response {
        self.post_with_signature(body, Some(self.sign(body))).await
    }

    /// POSTs `body` with the given `Stripe-Signature` header (or none).
    pub async fn post_with_signature(
        &self,
        body: &[u8],
        signature: Option<String>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/webhooks/stripe", self.address))
            .header("content-type", "application/json; charset=utf-8")
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header("stripe-signature", signature);
        }
        request.send().await.expect("request sent")
    }

    /// The `/metrics` exposition (the endpoint must be open).
    pub async fn metrics_text(&self) -> String {
        let response = self
            .client
            .get(format!("{}/metrics", self.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// GET with the admin token.
    pub async fn admin_get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn stored_event(&self, id: &str) -> Option<entity::webhook_event::Model> {
        entity::webhook_event::Entity::find_by_id(id.to_owned())
            .one(&self.db)
            .await
            .expect("query events")
    }

    /// Waits until no stored event is still `received`, or panics after 30 s.
    pub async fn wait_until_applied(&self) {
        wait_until_applied(&self.db).await
    }

    pub async fn event_count(&self) -> u64 {
        entity::webhook_event::Entity::find()
            .count(&self.db)
            .await
            .expect("count events")
    }

    /// Stops accepting, finishes in-flight requests and waits for the server to close.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task ends cleanly");
        }
    }
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn sign_at(body: &[u8], timestamp: i64) -> String {
    signature_header(&SecretString::from(SECRET.to_owned()), timestamp, body)
}

/// The bytes of a fixture event from `tests/data/stripe/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/stripe")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}

/// Every fixture event file name.
pub fn fixture_event_names() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/stripe");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json") && name != "signature-vectors.json")
        .collect();
    names.sort();
    names
}

/// The `id` of an event body.
pub fn event_id(body: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(body).expect("event JSON");
    value["id"].as_str().expect("event id").to_owned()
}

/// Waits until no stored event is still `received` and no store's pages wait for their
/// rebuild, or panics after 30 s.
pub async fn wait_until_applied(db: &DatabaseConnection) {
    use entity::webhook_event::{Column, Entity};
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let waiting = Entity::find()
            .filter(Column::Status.eq("received"))
            .count(db)
            .await
            .expect("count waiting events");
        let stale = payments::store::rows::stores_with_stale_pages(db)
            .await
            .expect("read stale pages");
        if waiting == 0 && stale.is_empty() {
            return;
        }
        if std::time::Instant::now() >= deadline {
            // Which events, of which stores, and how far they got: enough to tell a slow
            // actor from a stuck one when this fails in CI.
            let rows = Entity::find()
                .filter(Column::Status.eq("received"))
                .limit(20)
                .all(db)
                .await
                .expect("read waiting events");
            let rows: Vec<String> = rows
                .iter()
                .map(|row| {
                    format!(
                        "{} {} store={} attempts={} last_error={:?}",
                        row.id, row.event_type, row.store_key, row.attempts, row.last_error
                    )
                })
                .collect();
            panic!(
                "{waiting} events still waiting after 30 s:\n{}",
                rows.join("\n")
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A fixture event from `tests/data/stripe/`, parsed.
pub fn fixture_value(name: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(name)).expect("fixture JSON")
}
