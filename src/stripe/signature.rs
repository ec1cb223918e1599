//! Verification of the `Stripe-Signature` header, as Stripe's official SDKs do it.
//!
//! The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=<hex>]`. Each `v1` is the
//! lowercase hex HMAC-SHA256 of `"{t}." + raw body`, keyed with the whole secret string
//! (`whsec_...` included, not base64-decoded). While a secret is being rolled Stripe sends
//! one `v1` per active secret, so every `v1` is tried against every configured secret.
//! `v0` and unknown schemes are ignored: a valid `v0` must never count (downgrade attack).
//! The tolerance is one-sided, like the SDKs': old timestamps are refused, future ones are
//! accepted (a slow local clock must not drop every delivery).

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Why a delivery's signature was refused. Each maps to one stable error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing or empty")]
    Missing,
    #[error("the Stripe-Signature header has no timestamp or no v1 signature")]
    Malformed,
    #[error("no v1 signature matches the payload under any configured webhook secret")]
    NoMatch,
    #[error("the signature timestamp is {age_secs} s old, over the {tolerance_secs} s tolerance")]
    TimestampOutsideTolerance { age_secs: i64, tolerance_secs: i64 },
}

impl SignatureError {
    /// The usual causes and fixes, for the operator (the sender only gets the error).
    pub fn advice(&self) -> &'static str {
        match self {
            Self::Missing | Self::Malformed => {
                "the sender is not Stripe, or a proxy in front of the service drops or \
                 rewrites the Stripe-Signature header"
            }
            Self::NoMatch => {
                "configure the signing secret of this very endpoint (Dashboard > Webhooks > \
                 the endpoint > Signing secret); `stripe listen` prints a secret of its own; \
                 the platform and Connect endpoints have different secrets; while rolling a \
                 secret, list the old and the new one (comma-separated)"
            }
            Self::TimestampOutsideTolerance { .. } => {
                "this machine's clock (or the sender's) is off, or the delivery was held \
                 back on its way: check NTP (timedatectl), or raise WEBHOOK_TOLERANCE_SECS"
            }
        }
    }
}

/// A parsed `Stripe-Signature` header: the timestamp and every `v1` value.
#[derive(Debug, PartialEq, Eq)]
pub struct SignatureHeader<'a> {
    pub timestamp: i64,
    pub v1: Vec<&'a str>,
}

impl<'a> SignatureHeader<'a> {
    /// Parses the header like the official SDKs: no trimming, first `t` wins, only `v1` kept.
    pub fn parse(header: &'a str) -> Result<Self, SignatureError> {
        if header.is_empty() {
            return Err(SignatureError::Missing);
        }
        let mut timestamp = None;
        let mut v1 = Vec::new();
        for item in header.split(',') {
            let Some((key, value)) = item.split_once('=') else {
                continue;
            };
            match key {
                "t" if timestamp.is_none() => {
                    timestamp = Some(
                        value
                            .parse::<i64>()
                            .map_err(|_| SignatureError::Malformed)?,
                    );
                }
                "v1" => v1.push(value),
                _ => {}
            }
        }
        match timestamp {
            Some(timestamp) if !v1.is_empty() => Ok(Self { timestamp, v1 }),
            _ => Err(SignatureError::Malformed),
        }
    }
}

/// Checks deliveries against the configured webhook secrets.
pub struct Verifier {
    keys: Vec<HmacSha256>,
    tolerance_secs: i64,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("secrets", &self.keys.len())
            .field("tolerance_secs", &self.tolerance_secs)
            .finish()
    }
}

impl Verifier {
    /// `tolerance_secs == 0` disables the age check (as in the SDKs).
    pub fn new(secrets: &[SecretString], tolerance_secs: i64) -> Self {
        let keys = secrets
            .iter()
            .map(|secret| {
                HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
                    .expect("HMAC accepts keys of any length")
            })
            .collect();
        Self {
            keys,
            tolerance_secs,
        }
    }

    /// Verifies `payload` (the raw body bytes) against `header` at time `now` (Unix seconds).
    /// The signature is checked before the timestamp, in the SDKs' order.
    pub fn verify(&self, payload: &[u8], header: &str, now: i64) -> Result<(), SignatureError> {
        let header = SignatureHeader::parse(header)?;
        if !self.any_matches(payload, &header) {
            return Err(SignatureError::NoMatch);
        }
        let age_secs = now.saturating_sub(header.timestamp);
        if self.tolerance_secs > 0 && age_secs > self.tolerance_secs {
            return Err(SignatureError::TimestampOutsideTolerance {
                age_secs,
                tolerance_secs: self.tolerance_secs,
            });
        }
        Ok(())
    }

    fn any_matches(&self, payload: &[u8], header: &SignatureHeader<'_>) -> bool {
        let mut digits = [0u8; I64_DIGITS];
        let timestamp = decimal(header.timestamp, &mut digits);
        // Every comparison runs, so timing does not tell which secret or `v1` matched.
        self.keys.iter().fold(false, |found, key| {
            // Compared as lowercase hex text, like the SDKs: an uppercase `v1` must not match.
            let mut expected = [0u8; 64];
            hex::encode_to_slice(sign(key, timestamp, payload), &mut expected)
                .expect("64 hex digits encode 32 bytes");
            header.v1.iter().fold(found, |found, candidate| {
                found | bool::from(expected.ct_eq(candidate.as_bytes()))
            })
        })
    }
}

/// The longest decimal `i64`: 19 digits and a sign.
const I64_DIGITS: usize = 20;

/// Writes `value` in decimal into `buffer`, on the stack: the verify path stays allocation-free
/// apart from the parsed header's list of `v1` values.
fn decimal(value: i64, buffer: &mut [u8; I64_DIGITS]) -> &[u8] {
    use std::io::Write;
    let mut rest = &mut buffer[..];
    write!(rest, "{value}").expect("every i64 fits in 20 bytes");
    let len = I64_DIGITS - rest.len();
    &buffer[..len]
}

fn sign(key: &HmacSha256, timestamp: &[u8], payload: &[u8]) -> [u8; 32] {
    let mut mac = key.clone();
    mac.update(timestamp);
    mac.update(b".");
    mac.update(payload);
    mac.finalize().into_bytes().into()
}

/// Builds a `Stripe-Signature` header value for `payload`, exactly as Stripe does.
/// Used by `payments trigger` and by tests.
pub fn signature_header(secret: &SecretString, timestamp: i64, payload: &[u8]) -> String {
    let key = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length");
    let v1 = hex::encode(sign(&key, timestamp.to_string().as_bytes(), payload));
    format!("t={timestamp},v1={v1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn signed_payload_verifies() {
        let header = signature_header(&secret("whsec_a"), 100, b"{}");
        let verifier = Verifier::new(&[secret("whsec_a")], 300);
        assert_eq!(verifier.verify(b"{}", &header, 150), Ok(()));
    }

    #[test]
    fn known_answer_vector_matches() {
        let header = signature_header(
            &secret("whsec_test_secret"),
            1700000000,
            br#"{"id":"evt_test_vector_1","object":"event"}"#,
        );
        assert_eq!(
            header,
            "t=1700000000,v1=412c19a771a9988418e3d02461ef8a7296b86200f4121e5959ae31e7f7312603"
        );
    }

    #[test]
    fn header_parse_keeps_every_v1_and_ignores_v0() {
        let parsed = SignatureHeader::parse("t=5,v1=a,v0=b,v1=c,x=y").unwrap();
        assert_eq!(parsed.timestamp, 5);
        assert_eq!(parsed.v1, vec!["a", "c"]);
    }

    #[test]
    fn header_without_equals_items_is_malformed() {
        assert_eq!(
            SignatureHeader::parse("garbage"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(SignatureHeader::parse(""), Err(SignatureError::Missing));
    }

    #[test]
    fn second_secret_and_second_v1_match() {
        let good = signature_header(&secret("whsec_new"), 10, b"x");
        let bad = signature_header(&secret("whsec_other"), 10, b"x");
        let header = format!("{bad},v1={}", &good["t=10,v1=".len()..]);
        let verifier = Verifier::new(&[secret("whsec_old"), secret("whsec_new")], 300);
        assert_eq!(verifier.verify(b"x", &header, 10), Ok(()));
    }

    #[test]
    fn stale_timestamp_is_refused_after_the_signature_check() {
        let verifier = Verifier::new(&[secret("whsec_a")], 300);
        let header = signature_header(&secret("whsec_a"), 0, b"x");
        assert_eq!(
            verifier.verify(b"x", &header, 301),
            Err(SignatureError::TimestampOutsideTolerance {
                age_secs: 301,
                tolerance_secs: 300
            })
        );
        let forged = signature_header(&secret("whsec_b"), 0, b"x");
        assert_eq!(
            verifier.verify(b"x", &forged, 301),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn verifier_debug_shows_no_secret() {
        let verifier = Verifier::new(&[secret("whsec_hidden")], 300);
        assert!(!format!("{verifier:?}").contains("hidden"));
    }
}

#[cfg(test)]
mod proptests;
