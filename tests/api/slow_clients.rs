//! Slow clients and the connection bound: a client that trickles its headers or its body,
//! or holds a connection idle, is cut off; at `MAX_CONNECTIONS`, silent connections make
//! room, and connections past busy ones wait; ten thousand idle sockets lock nobody out.
//!
//! Timeouts are 1 s here. Tests assert that the cut-off happens within a generous bound
//! ([`PATIENCE`]) and never how fast: without the limits, they would wait forever.

use std::time::{Duration, Instant};

use figment::providers::Serialized;
use tokio::io::AsyncWriteExt;

use crate::helpers::{TestApp, fresh_database_url, now, sign_at, spawn_app_with, test_settings};
use crate::raw::{self, PATIENCE};

async fn spawn_with(key: &str, value: u64) -> TestApp {
    let url = fresh_database_url().await;
    let settings = test_settings(&url)
        .merge(Serialized::default("header_read_timeout_secs", 1))
        .merge(Serialized::default("body_read_timeout_secs", 1))
        .merge(Serialized::default("first_byte_timeout_secs", 1))
        .merge(Serialized::default(key, value));
    spawn_app_with(settings, &url).await
}

#[tokio::test]
async fn headers_sent_byte_by_byte_are_cut_off() {
    let app = spawn_with("max_connections", 16).await;
    let (mut reader, writer) = raw::connect(&app).await.into_split();
    // A head that never ends: one more header byte every 50 ms, for far longer than 1 s.
    let head = format!(
        "GET /health HTTP/1.1\r\nhost: localhost\r\nx-slow: {}",
        "a".repeat(1200)
    );
    let started = Instant::now();
    let writing = tokio::spawn(async move {
        raw::trickle(writer, head.as_bytes(), Duration::from_millis(50)).await
    });
    assert!(
        raw::closed_within(&mut reader, PATIENCE).await,
        "a client trickling its headers was never cut off"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "cut off before the header timeout"
    );
    let sent = writing.await.unwrap();
    assert!(
        sent < 1200,
        "the whole head was sent ({sent} bytes) before the cut-off"
    );
}

#[tokio::test]
async fn idle_connection_is_closed_after_the_header_timeout() {
    let app = spawn_with("max_connections", 16).await;
    let mut stream = raw::connect(&app).await;
    assert!(
        raw::closed_within(&mut stream, PATIENCE).await,
        "an idle connection is never closed"
    );
}

#[tokio::test]
async fn body_trickled_slowly_is_answered_408_and_closed() {
    let app = spawn_with("max_connections", 16).await;
    let body = crate::helpers::fixture("customer.created.json");
    let head = raw::webhook_head(&[
        ("content-length", body.len().to_string()),
        ("stripe-signature", sign_at(&body, now())),
    ]) + "\r\n";
    let (mut reader, mut writer) = raw::connect(&app).await.into_split();
    writer.write_all(head.as_bytes()).await.unwrap();
    // One byte every 50 ms: the body would take about a minute.
    let writing =
        tokio::spawn(async move { raw::trickle(writer, &body, Duration::from_millis(50)).await });
    let response = raw::read_response(&mut reader)
        .await
        .expect("a 408 answer, not a silent close");
    assert_eq!((response.status, response.code()), (408, "request_timeout"));
    assert!(
        response
            .head
            .to_ascii_lowercase()
            .contains("connection: close")
    );
    assert!(raw::closed_within(&mut reader, PATIENCE).await);
    writing.abort();
    assert_eq!(app.event_count().await, 0);
}

/// A server whose connections are kept for the whole test, with room for two.
async fn spawn_with_room_for_two() -> TestApp {
    let url = fresh_database_url().await;
    let settings = test_settings(&url)
        .merge(Serialized::default("header_read_timeout_secs", 120))
        .merge(Serialized::default("first_byte_timeout_secs", 120))
        .merge(Serialized::default("max_connections", 2));
    spawn_app_with(settings, &url).await
}

#[tokio::test]
async fn connections_past_the_limit_wait_until_one_closes() {
    let app = spawn_with_room_for_two().await;
    // Busy holders: each has begun a request, so neither is silent and can be closed.
    let mut holders = [raw::connect(&app).await, raw::connect(&app).await];
    for holder in &mut holders {
        holder.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The listen queue is first in, first out: the holders take both slots, and a third
    // connection is queued by the operating system but not served.
    let mut waiting = raw::connect_asking_health(&app).await;
    let early =
        tokio::time::timeout(Duration::from_secs(1), raw::read_response(&mut waiting)).await;
    assert!(
        early.is_err(),
        "a third connection was served while two were held: {early:?}"
    );
    drop(holders);
    let response = raw::read_response(&mut waiting)
        .await
        .expect("served once a slot is free");
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn silent_connections_make_room_when_the_limit_is_reached() {
    let app = spawn_with_room_for_two().await;
    let mut silent = [raw::connect(&app).await, raw::connect(&app).await];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut asking = raw::connect_asking_health(&app).await;
    let response = tokio::time::timeout(PATIENCE, raw::read_response(&mut asking))
        .await
        .expect("served: a silent connection made room")
        .expect("a response");
    assert_eq!(response.status, 200);
    assert!(
        raw::closed_within(&mut silent[0], PATIENCE).await,
        "the oldest silent connection was closed to make room"
    );
}

/// Ten thousand sockets that never send a byte, held open against the real binary (its
/// own process, so each side has its own file descriptors), lock nobody out: a signed
/// webhook and `/health` are answered at once. The bound is generous (the lockout this
/// guards against lasted 10 s); the delay measured is printed.
#[tokio::test]
async fn ten_thousand_idle_connections_do_not_delay_a_webhook() {
    use crate::binary::{database_env, free_port, sigterm, start_logged, wait_exit};
    let cwd = crate::helpers::temp_dir();
    let port = free_port();
    let url = fresh_database_url().await;
    let mut env = database_env(&url);
    env.push(("BIND_ADDR", format!("127.0.0.1:{port}")));
    env.push(("STRIPE_WEBHOOK_SECRET", crate::helpers::SECRET.to_owned()));
    env.push(("FIRST_BYTE_TIMEOUT_SECS", "60".to_owned()));
    let (mut server, _log) = start_logged(&cwd, env, port).await;
    let mut idle = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        idle.push(
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap(),
        );
    }
    let client = crate::helpers::http_client();
    let body = crate::helpers::fixture("customer.created.json");
    let started = Instant::now();
    let response = client
        .post(format!("http://127.0.0.1:{port}/webhooks/stripe"))
        .header("stripe-signature", sign_at(&body, now()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let webhook = started.elapsed();
    assert_eq!(response.status(), 200);
    let started = Instant::now();
    let health = client
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .unwrap();
    let probe = started.elapsed();
    assert_eq!(health.status(), 200);
    println!(
        "with {} idle connections: webhook {webhook:?}, /health {probe:?}",
        idle.len()
    );
    assert!(
        webhook < Duration::from_secs(2) && probe < Duration::from_secs(2),
        "idle connections delayed the webhook {webhook:?} and /health {probe:?}"
    );
    drop(idle);
    sigterm(&server);
    wait_exit(&mut server, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn idle_keep_alive_connections_make_room_when_none_is_silent() {
    let app = spawn_with_room_for_two().await;
    // Both slots are held by connections that were answered and stay open, idle.
    let mut kept = Vec::new();
    for _ in 0..2 {
        let mut stream = raw::connect(&app).await;
        stream
            .write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n")
            .await
            .unwrap();
        let response = raw::read_response(&mut stream).await.expect("answered");
        assert_eq!(response.status, 200);
        kept.push(stream);
    }
    let mut asking = raw::connect_asking_health(&app).await;
    let response = raw::read_response(&mut asking)
        .await
        .expect("served: an idle connection made room");
    assert_eq!(response.status, 200);
    assert!(
        raw::closed_within(&mut kept[0], PATIENCE).await,
        "the oldest idle connection was closed to make room"
    );
}
