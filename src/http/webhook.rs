//! `POST /webhooks/stripe`: verify, parse, store, acknowledge.
//!
//! The order is fixed: size cap, signature (on the raw bytes), envelope, then one insert.
//! No 2xx is sent before the row is committed; a database failure answers 503 so Stripe
//! retries, and a duplicate event id answers 200 without changing anything.

use std::sync::Arc;
use std::time::Instant;

use bytes::Buf;
use futures_util::Stream;
use serde::Serialize;
use tracing::{info, warn};
use utoipa::ToSchema;
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::reply::{Reply, Response};
use warp::{Filter, Rejection};

use super::{AppState, with_state};
use crate::body;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::metrics::{self, WebhookOutcome};
use crate::store::inbox::{self, Stored};
use crate::stripe::envelope::{Envelope, EventFormat};
use crate::stripe::signature::SignatureError;

/// The acknowledgement of a delivery.
#[derive(Serialize, ToSchema)]
pub struct Receipt {
    /// Always `true`: the event is stored.
    received: bool,
    /// The event id was already stored; nothing changed.
    duplicate: bool,
    /// The event id (`evt_...`).
    id: String,
}

/// Receive a Stripe event, signed by Stripe. Snapshot events are applied; thin (v2)
/// notifications are stored and acknowledged, and end `ignored`.
#[utoipa::path(
    post, path = "/webhooks/stripe", tag = "webhooks",
    params(("Stripe-Signature" = String, Header, description = "Stripe's signature: `t=...,v1=...`")),
    request_body(content = Object, content_type = "application/json", description = "The event, byte for byte as Stripe sent it"),
    responses(
        (status = 200, description = "Stored (or already stored)", body = Receipt),
        (status = 400, description = "`missing_signature`, `malformed_signature`, `no_matching_signature`, `timestamp_outside_tolerance` or `invalid_payload`", body = ErrorBody),
        (status = 408, description = "`request_timeout`: the body did not arrive within `BODY_READ_TIMEOUT_SECS`", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database cannot be reached; nothing was stored", body = ErrorBody),
    )
)]
pub fn route(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("webhooks" / "stripe")
        .and(warp::post())
        .and(with_state(state))
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .then(receive)
}

async fn receive<S, B>(state: Arc<AppState>, headers: HeaderMap, body: S) -> Response
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let started = Instant::now();
    let (outcome, response) = match accept(&state, &headers, body).await {
        Ok((stored, format, reply)) => {
            let outcome = match (stored, format) {
                (Stored::Duplicate, _) => WebhookOutcome::Duplicate,
                (Stored::Conflict, _) => WebhookOutcome::Conflict,
                (Stored::New, EventFormat::Snapshot) => WebhookOutcome::Accepted,
                (Stored::New, EventFormat::Thin) => WebhookOutcome::ThinEvent,
            };
            (outcome, reply)
        }
        Err(err) => rejected(&state, err),
    };
    metrics::webhook_answered(outcome, started.elapsed());
    response
}

fn rejected(state: &AppState, err: ApiError) -> (WebhookOutcome, Response) {
    // Server errors are logged where they happen; signature failures were explained
    // where they were found.
    let explained = !err.status.is_client_error() || err.code.is_signature();
    if !explained && let Some(held_back) = state.rejection_log.admit(err.code.as_str()) {
        warn!(
            code = err.code.as_str(),
            reason = %err.message,
            held_back,
            "webhook rejected (held_back: the same rejections not logged in the last minute)"
        );
    }
    let outcome = outcome_of(&err);
    let unread_body = matches!(
        err.code,
        ErrorCode::PayloadTooLarge | ErrorCode::RequestTimeout
    );
    let mut response = err.into_response();
    if unread_body {
        // The rest of the body was not read: close rather than parse it as the next request.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    (outcome, response)
}

fn outcome_of(err: &ApiError) -> WebhookOutcome {
    match err.code {
        ErrorCode::PayloadTooLarge => WebhookOutcome::TooLarge,
        ErrorCode::RequestTimeout => WebhookOutcome::TimedOut,
        code if code.is_signature() => WebhookOutcome::InvalidSignature,
        ErrorCode::Unavailable => WebhookOutcome::Unavailable,
        _ => WebhookOutcome::InvalidPayload,
    }
}

async fn accept<S, B>(
    state: &AppState,
    headers: &HeaderMap,
    body: S,
) -> Result<(Stored, EventFormat, Response), ApiError>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let payload =
        body::read_capped(headers, body, state.max_body_bytes, state.body_read_timeout).await?;
    let signature = match headers.get("stripe-signature") {
        None => "",
        Some(value) => value.to_str().map_err(|_| {
            ApiError::bad_request(
                ErrorCode::MalformedSignature,
                "the Stripe-Signature header is not ASCII",
            )
        })?,
    };
    state
        .verifier
        .verify(&payload, signature, chrono::Utc::now().timestamp())
        .map_err(|err| {
            signature_refused(state, &err);
            ApiError::bad_request((&err).into(), err.to_string())
        })?;
    check_content_type(headers)?;
    let envelope = Envelope::parse(&payload)
        .map_err(|err| ApiError::bad_request((&err).into(), err.to_string()))?;
    // The envelope parsed, so the bytes are valid UTF-8: this never copies lossily.
    let payload = String::from_utf8(payload)
        .map_err(|_| ApiError::bad_request(ErrorCode::InvalidPayload, "the body is not UTF-8"))?;
    let row = inbox::new_row(&envelope, payload);
    let stored = state.intake.store(row.clone()).await.map_err(|err| {
        warn!(event_id = %envelope.id, error = %err, "webhook not stored: database unavailable");
        ApiError::unavailable()
    })?;
    let duplicate = stored != Stored::New;
    if stored == Stored::Conflict {
        body_conflict(state, &envelope.id);
    }
    if !duplicate {
        // The row is committed: applying it is the actor's job from here on.
        state.dispatcher.dispatch(row);
    }
    info!(
        event_id = %envelope.id,
        event_type = %envelope.event_type,
        account = %envelope.store_key,
        duplicate,
        "webhook accepted"
    );
    if envelope.format == EventFormat::Thin && !duplicate {
        // Acknowledged so Stripe does not retry it for days, but nothing will come of it:
        // the endpoint is misconfigured.
        warn!(
            event_id = %envelope.id,
            event_type = %envelope.event_type,
            "thin (v2) event notification stored and ignored: the endpoint should send snapshot events"
        );
    }
    let receipt = Receipt {
        received: true,
        duplicate,
        id: envelope.id,
    };
    let reply = warp::reply::with_status(warp::reply::json(&receipt), StatusCode::OK);
    Ok((stored, envelope.format, reply.into_response()))
}

/// A signed delivery reused a stored event id with another body: Stripe never does that, a
/// replay or a forgery does. Answered as a duplicate (the first body is kept); logged at
/// most once a minute with the number held back, and counted (`outcome="conflict"`).
fn body_conflict(state: &AppState, event_id: &str) {
    if let Some(held_back) = state.rejection_log.admit("body_conflict") {
        let event_id = crate::telemetry::clip(event_id, 80);
        warn!(%event_id, held_back, "event id reused with a different body: the first body is kept");
    }
}

/// Counts a refused signature by reason, and tells the operator the check that failed,
/// the secrets configured (by fingerprint) and the usual fixes: once, then once a minute
/// with the number held back, so a burst after a secret roll is not thousands of lines.
fn signature_refused(state: &AppState, err: &SignatureError) {
    let code = ErrorCode::from(err).as_str();
    metrics::signature_refused(code);
    let Some(held_back) = state.rejection_log.admit(code) else {
        return;
    };
    let clock_difference_secs = match err {
        SignatureError::TimestampOutsideTolerance { age_secs, .. } => Some(*age_secs),
        _ => None,
    };
    warn!(
        check = code,
        secrets = state.secret_fingerprints.len(),
        fingerprints = %state.secret_fingerprints.join(", "),
        clock_difference_secs,
        held_back,
        "webhook signature refused: {err}; {}",
        err.advice()
    );
}

/// Stripe sends `application/json; charset=utf-8`; a body declared as anything else is
/// refused. A missing header is tolerated (hand-written `curl` calls). Checked after the
/// signature, so an unsigned request always learns about its signature first.
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let media_type = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    if media_type.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "the body must be sent as application/json",
        ))
    }
}
