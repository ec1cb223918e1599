//! Bearer-token authentication of the admin routes.

use std::collections::HashMap;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tracing::warn;
use warp::{Filter, Rejection};

use crate::config::{AppEnv, Settings};
use crate::error::ApiError;
use crate::http::{AppState, with_state};
use crate::telemetry;

/// Who may call the admin API.
#[derive(Debug)]
pub enum AdminAuth {
    /// Requests must carry `Authorization: Bearer <token>`.
    Token(SecretString),
    /// Development without a token, listening on loopback only: open to this machine.
    OpenOnLoopback,
    /// No token and not safe to open: every admin request is refused.
    Closed,
}

impl AdminAuth {
    pub fn from_settings(settings: &Settings) -> Self {
        match &settings.admin_token {
            Some(token) => Self::Token(token.clone()),
            None if settings.app_env == AppEnv::Development
                && settings.bind_addr.ip().is_loopback() =>
            {
                Self::OpenOnLoopback
            }
            None => Self::Closed,
        }
    }

    /// Checks an `Authorization` header value, comparing the token in constant time.
    pub fn allows(&self, authorization: Option<&str>) -> bool {
        match self {
            Self::OpenOnLoopback => true,
            Self::Closed => false,
            Self::Token(token) => authorization
                .and_then(bearer_token)
                .is_some_and(|presented| tokens_match(presented, token.expose_secret())),
        }
    }
}

/// The token of a `Bearer` credential. The scheme is case-insensitive (RFC 9110, 11.1) and
/// one or more spaces may follow it.
fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim_start_matches(' '))
}

/// Compares the SHA-256 digests of the tokens in constant time: comparing the tokens
/// themselves would return early on a length mismatch, so timing would reveal the
/// configured token's length; the digests always have the same length.
fn tokens_match(presented: &str, expected: &str) -> bool {
    let presented = Sha256::digest(presented.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    presented.as_slice().ct_eq(expected.as_slice()).into()
}

/// Passes requests the admin auth allows; refuses the rest with `401 unauthorized`.
/// The presented token is never logged, and refusals are logged once a minute with the
/// number held back (a client without the token may send many), quoting only the start
/// of the path.
pub fn require(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Arc<AppState>,), Error = Rejection> + Clone {
    with_state(state)
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::path::full())
        .and_then(
            |state: Arc<AppState>, authorization: Option<String>, path: warp::path::FullPath| async move {
                if state.admin.allows(authorization.as_deref()) {
                    return Ok(state);
                }
                if let Some(held_back) = state.rejection_log.admit("admin_unauthorized") {
                    let path = telemetry::clip(path.as_str(), QUOTED_PATH);
                    let with_credentials = authorization.is_some();
                    warn!(%path, with_credentials, held_back, "admin request refused");
                }
                Err(warp::reject::custom(ApiError::unauthorized()))
            },
        )
}

/// How much of a refused request's path a log line quotes.
const QUOTED_PATH: usize = 120;

/// [`require`], then the query parameters (checked by each route, which names the bad one).
pub fn require_with_query(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Arc<AppState>, HashMap<String, String>), Error = Rejection> + Clone {
    require(state).and(warp::query::<HashMap<String, String>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_must_match_exactly() {
        let auth = AdminAuth::Token(SecretString::from("s3cret".to_owned()));
        assert!(auth.allows(Some("Bearer s3cret")));
        assert!(!auth.allows(Some("Bearer s3cre")));
        assert!(!auth.allows(Some("Bearer s3cret ")));
        assert!(!auth.allows(Some("s3cret")));
        assert!(!auth.allows(None));
        assert!(!AdminAuth::Closed.allows(Some("Bearer s3cret")));
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        let auth = AdminAuth::Token(SecretString::from("s3cret".to_owned()));
        for header in [
            "bearer s3cret",
            "BEARER s3cret",
            "Bearer  s3cret",
            "bEaReR s3cret",
        ] {
            assert!(auth.allows(Some(header)), "{header}");
        }
        for header in ["Bearers3cret", "Basic s3cret", "Bearer", "Bearer s3cret\t"] {
            assert!(!auth.allows(Some(header)), "{header}");
        }
    }
}
