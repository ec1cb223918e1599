//! The database failing under the receiver: 503 (Stripe retries), nothing acknowledged
//! without being stored, and the same event accepted once the database is back.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use sea_orm::ConnectionTrait;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{
    event_id, fixture, postgres_url, random_suffix, spawn_app, spawn_app_with, test_settings,
    with_search_path,
};

async fn assert_unavailable(response: reqwest::Response) {
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
}

#[tokio::test]
async fn failing_insert_answers_503_and_the_retry_is_accepted() {
    let app = spawn_app().await;
    let body = fixture("charge.succeeded.json");
    app.db
        .execute_unprepared(
            "ALTER TABLE stripe_webhook_events RENAME TO stripe_webhook_events_away",
        )
        .await
        .unwrap();
    assert_unavailable(app.post_event(&body).await).await;
    app.db
        .execute_unprepared(
            "ALTER TABLE stripe_webhook_events_away RENAME TO stripe_webhook_events",
        )
        .await
        .unwrap();
    assert_eq!(app.event_count().await, 0);
    let retry: Value = app.post_event(&body).await.json().await.unwrap();
    assert_eq!(retry["duplicate"], false);
    assert_eq!(
        app.stored_event(&event_id(&body))
            .await
            .unwrap()
            .payload
            .as_bytes(),
        &body[..]
    );
}

/// A TCP proxy the test can cut, like a network partition between service and database.
pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<Mutex<ProxyState>>,
}

struct ProxyState {
    up: bool,
    connections: Vec<JoinHandle<()>>,
}

/// The `host:port` of a PostgreSQL URL, for a proxy in front of it.
pub fn upstream_of(base: &str) -> String {
    let parsed = reqwest::Url::parse(base).unwrap();
    format!(
        "{}:{}",
        parsed.host_str().unwrap_or("127.0.0.1"),
        parsed.port().unwrap_or(5432)
    )
}

impl Proxy {
    pub async fn start(upstream: String) -> Self {
        Self::start_on("127.0.0.1:0", upstream).await
    }

    /// A proxy listening on `addr` from now on (connections before were refused).
    pub async fn start_on(addr: &str, upstream: String) -> Self {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(ProxyState {
            up: true,
            connections: Vec::new(),
        }));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut state = shared.lock().unwrap();
                if !state.up {
                    continue; // dropping the socket refuses the connection
                }
                let upstream = upstream.clone();
                state.connections.push(tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Self { addr, state }
    }

    pub fn cut(&self) {
        let mut state = self.state.lock().unwrap();
        state.up = false;
        for connection in state.connections.drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.state.lock().unwrap().up = true;
    }
}

#[tokio::test]
async fn unreachable_postgres_answers_503_and_recovers_without_restart() {
    let Some(base) = postgres_url() else {
        return; // needs a TCP database; the SQLite run covers the failing-insert path above
    };
    let parsed = reqwest::Url::parse(&base).unwrap();
    let proxy = Proxy::start(upstream_of(&base)).await;
    let schema = format!("payments_t_{}", random_suffix());
    let direct = sea_orm::Database::connect(base.as_str()).await.unwrap();
    direct
        .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .unwrap();
    let mut via_proxy = parsed.clone();
    via_proxy.set_port(Some(proxy.addr.port())).unwrap();
    let service_url = with_search_path(via_proxy.as_str(), &schema);
    let app = spawn_app_with(
        test_settings(&service_url),
        &with_search_path(&base, &schema),
    )
    .await;

    let body = fixture("payment_intent.succeeded.json");
    proxy.cut();
    assert_unavailable(app.post_event(&body).await).await;
    let ready = app
        .client
        .get(format!("{}/ready", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ready.status(),
        503,
        "/ready fails while the database is unreachable"
    );
    assert_eq!(
        app.event_count().await,
        0,
        "nothing acknowledged, nothing stored"
    );

    proxy.restore();
    let retry = app.post_event(&body).await;
    assert_eq!(retry.status(), 200);
    assert_eq!(app.event_count().await, 1);
    let ready = app
        .client
        .get(format!("{}/ready", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn actors_wait_out_an_outage_without_using_up_attempts() {
    let Some(base) = postgres_url() else {
        return; // needs a TCP database to cut
    };
    let parsed = reqwest::Url::parse(&base).unwrap();
    let proxy = Proxy::start(upstream_of(&base)).await;
    let schema = format!("payments_t_{}", random_suffix());
    let direct_url = with_search_path(&base, &schema);
    let admin = sea_orm::Database::connect(base.as_str()).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .unwrap();
    let mut via_proxy = parsed.clone();
    via_proxy.set_port(Some(proxy.addr.port())).unwrap();
    let service_url = with_search_path(via_proxy.as_str(), &schema);
    let app = spawn_app_with(test_settings(&service_url), &direct_url).await;

    // Stored while the service's database link is down; handed to its actor.
    proxy.cut();
    let body = fixture("customer.created.json");
    let envelope = payments::stripe::envelope::Envelope::parse(&body).unwrap();
    let payload = String::from_utf8(body).unwrap();
    payments::store::inbox::store(&app.db, &envelope, payload.clone())
        .await
        .unwrap();
    app.dispatcher
        .dispatch(payments::store::inbox::new_row(&envelope, payload));
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let waiting = app.stored_event(&envelope.id).await.unwrap();
    assert_eq!(
        waiting.status, "received",
        "still waiting, not dead-lettered"
    );

    proxy.restore();
    app.wait_until_applied().await;
    let applied = app.stored_event(&envelope.id).await.unwrap();
    assert_eq!(applied.status, "processed");
    assert_eq!(applied.attempts, 1, "the outage used up no attempt");
}
