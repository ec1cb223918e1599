//! Hostile bodies over raw TCP: the cap on the webhook body holds on the bytes actually
//! read, whatever the headers claim, and every refusal is a JSON error.

use tokio::io::AsyncWriteExt;

use crate::helpers::{now, sign_at, spawn_app};
use crate::raw::{self, PATIENCE};

const CAP: usize = 1024 * 1024;
/// Far more than the cap: a server that buffered it all would show it.
const FLOOD: usize = 64 * 1024 * 1024;

/// Sends a chunked body of `FLOOD` bytes of spaces (no `Content-Length`) while reading the
/// answer; returns the answer and how many body bytes were written before the server
/// stopped taking them.
async fn flood_chunked(app: &crate::helpers::TestApp, signed: bool) -> (raw::RawResponse, usize) {
    let mut headers = vec![("transfer-encoding", "chunked".to_owned())];
    if signed {
        headers.push(("stripe-signature", sign_at(b"{}", now())));
    }
    let head = raw::webhook_head(&headers) + "\r\n";
    assert!(!head.to_ascii_lowercase().contains("content-length"));
    let (mut reader, mut writer) = raw::connect(app).await.into_split();
    writer.write_all(head.as_bytes()).await.unwrap();
    let writing = tokio::spawn(async move {
        let chunk = vec![b' '; 64 * 1024];
        let framed = [
            format!("{:x}\r\n", chunk.len()).as_bytes(),
            &chunk[..],
            &b"\r\n"[..],
        ]
        .concat();
        let mut sent = 0;
        while sent < FLOOD {
            if writer.write_all(&framed).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
        sent
    });
    let response = raw::read_response(&mut reader).await.expect("an answer");
    // Once the answer is out the server closes; the writer fails when the buffers fill.
    let sent = tokio::time::timeout(PATIENCE, writing)
        .await
        .expect("the writer stops")
        .unwrap();
    (response, sent)
}

#[tokio::test]
async fn chunked_body_without_content_length_over_the_cap_is_cut_off_with_413() {
    let app = spawn_app().await;
    for signed in [false, true] {
        let (response, sent) = flood_chunked(&app, signed).await;
        assert_eq!(
            (response.status, response.code()),
            (413, "payload_too_large"),
            "signed: {signed}"
        );
        assert!(
            response
                .head
                .to_ascii_lowercase()
                .contains("connection: close"),
            "{}",
            response.head
        );
        assert!(
            sent < FLOOD,
            "the server kept reading past the cap: {sent} bytes taken (signed: {signed})"
        );
    }
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn declared_length_over_the_cap_is_refused_before_the_body_is_sent() {
    let app = spawn_app().await;
    let mut stream = raw::connect(&app).await;
    let head = raw::webhook_head(&[
        ("content-length", (10 * CAP).to_string()),
        ("stripe-signature", sign_at(b"{}", now())),
    ]) + "\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    // No body byte is sent: the answer must not wait for one.
    let response = raw::read_response(&mut stream).await.expect("an answer");
    assert_eq!(
        (response.status, response.code()),
        (413, "payload_too_large")
    );
    assert!(raw::closed_within(&mut stream, PATIENCE).await);
}

#[tokio::test]
async fn small_lying_content_length_reads_only_the_declared_bytes() {
    let app = spawn_app().await;
    let declared = br#"{"id":"evt_lie","type":"#;
    let mut stream = raw::connect(&app).await;
    let head = raw::webhook_head(&[
        ("content-length", declared.len().to_string()),
        ("stripe-signature", sign_at(declared, now())),
    ]) + "\r\n";
    let mut request = head.into_bytes();
    request.extend_from_slice(declared);
    // Twice the cap more, which a server trusting the bytes over the header would read.
    request.extend(std::iter::repeat_n(b'x', 2 * CAP));
    let (mut reader, mut writer) = stream.split();
    let write = async {
        let _ = writer.write_all(&request).await;
    };
    let (response, ()) = tokio::join!(raw::read_response(&mut reader), write);
    let response = response.expect("an answer to the declared body");
    // The signature covers exactly the declared bytes, which are not an event.
    assert_eq!((response.status, response.code()), (400, "invalid_payload"));
    // The excess is not a request: hyper refuses it and closes, it never becomes a body.
    assert!(raw::closed_within(&mut stream, PATIENCE).await);
    assert_eq!(app.event_count().await, 0);
}
