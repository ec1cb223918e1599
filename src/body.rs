//! Reading a request body under a byte cap.
//!
//! warp's `content_length_limit` only reads the header (and answers 411 without one), so
//! the cap is enforced on the bytes actually read: a chunked or lying client cannot make
//! the service buffer more than the cap. The whole body must also arrive within a time
//! limit, counted from when the handler starts reading it (the headers are in), so a client cannot hold a request open by
//! trickling it byte by byte.

use std::time::Duration;

use bytes::Buf;
use futures_util::{Stream, StreamExt};
use warp::http::{HeaderMap, StatusCode, header};

use crate::error::{ApiError, ErrorCode};

/// Reads the whole body, refusing it with `413 payload_too_large` past `cap` bytes and
/// with `408 request_timeout` when it has not all arrived after `timeout`.
pub async fn read_capped<S, B>(
    headers: &HeaderMap,
    body: S,
    cap: u64,
    timeout: Duration,
) -> Result<Vec<u8>, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    tokio::time::timeout(timeout, read_under_cap(headers, body, cap))
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::RequestTimeout,
                format!(
                    "the request body did not arrive within {} seconds",
                    timeout.as_secs()
                ),
            ))
        })
}

async fn read_under_cap<S, B>(headers: &HeaderMap, body: S, cap: u64) -> Result<Vec<u8>, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > cap) {
        return Err(too_large(cap));
    }
    let mut buffer = Vec::with_capacity(declared.unwrap_or(0).min(cap) as usize);
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|_| {
            ApiError::bad_request(
                ErrorCode::InvalidRequest,
                "the request body could not be read",
            )
        })?;
        if (buffer.len() + chunk.remaining()) as u64 > cap {
            return Err(too_large(cap));
        }
        while chunk.has_remaining() {
            let bytes = chunk.chunk();
            let n = bytes.len();
            buffer.extend_from_slice(bytes);
            chunk.advance(n);
        }
    }
    Ok(buffer)
}

fn too_large(cap: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        format!("the request body is larger than {cap} bytes"),
    )
}
