//! A raw TCP client, for requests reqwest will not send: chunked bodies written by hand, a
//! `Content-Length` that lies, bytes trickled one at a time, connections held idle.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

/// The longest any raw read waits: generous, so a loaded machine never fails a test that
/// only needs "eventually".
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A response read off the wire.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: Value,
}

impl RawResponse {
    /// `error.code` of a JSON error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

pub async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.address.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connect")
}

/// A new connection that has sent a whole `GET /health` (closing after the answer).
pub async fn connect_asking_health(app: &TestApp) -> TcpStream {
    let mut stream = connect(app).await;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    stream
}

/// The head of a webhook POST, without the blank line that ends it.
pub fn webhook_head(extra_headers: &[(&str, String)]) -> String {
    let mut head = String::from(
        "POST /webhooks/stripe HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n",
    );
    for (name, value) in extra_headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head
}

/// Reads one response (its head and a `Content-Length` body), or `None` if the
/// connection closes or errs first. Panics after [`PATIENCE`].
pub async fn read_response(stream: &mut (impl AsyncRead + Unpin)) -> Option<RawResponse> {
    tokio::time::timeout(PATIENCE, read_response_now(stream))
        .await
        .expect("a response or a closed connection in time")
}

async fn read_response_now(stream: &mut (impl AsyncRead + Unpin)) -> Option<RawResponse> {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(at) = find(&buffer, b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Some(RawResponse { status, head, body })
}

/// Whether the server closes the connection within `limit` (reading and discarding
/// whatever it still sends).
pub async fn closed_within(stream: &mut (impl AsyncRead + Unpin), limit: Duration) -> bool {
    let drain = async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, drain).await.is_ok()
}

/// Writes `bytes` one at a time, `pause` apart, until all are sent or a write fails;
/// returns how many were sent.
pub async fn trickle(
    mut writer: impl AsyncWriteExt + Unpin,
    bytes: &[u8],
    pause: Duration,
) -> usize {
    for (sent, byte) in bytes.iter().enumerate() {
        if writer.write_all(&[*byte]).await.is_err() || writer.flush().await.is_err() {
            return sent;
        }
        tokio::time::sleep(pause).await;
    }
    bytes.len()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
