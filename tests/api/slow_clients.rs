//! Slow clients and the connection bound: a client that trickles its headers or its body,
//! or holds a connection idle, is cut off; connections past `MAX_CONNECTIONS` wait.
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

#[tokio::test]
async fn connections_past_the_limit_wait_until_one_closes() {
    let url = fresh_database_url().await;
    // Idle connections are kept long enough here to hold their slots for the whole test.
    let settings = test_settings(&url)
        .merge(Serialized::default("header_read_timeout_secs", 120))
        .merge(Serialized::default("max_connections", 2));
    let app = spawn_app_with(settings, &url).await;
    let holders = [raw::connect(&app).await, raw::connect(&app).await];
    // The listen queue is first in, first out: the holders take both slots, and a third
    // connection is queued by the operating system but not served.
    let mut waiting = raw::connect(&app).await;
    waiting
        .write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
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
