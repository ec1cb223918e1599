//! Entry points shared by the fuzz targets (`fuzz/fuzz_targets/`) and the corpus regression
//! test (`tests/api/fuzz_corpus.rs`): both feed raw bytes to these functions, so every input
//! the fuzzer keeps in `fuzz/corpus/` is replayed by `cargo test`.
//!
//! Each function panics when an invariant of the parser breaks: a panic is what the fuzzer
//! reports, and what fails the regression test.

use secrecy::SecretString;

use super::envelope::Envelope;
use super::signature::{SignatureError, SignatureHeader, Verifier, signature_header};

/// The webhook secret the `verify` target checks against.
pub const SECRET: &str = "whsec_fuzz";
/// The clock of the `verify` target: the fixtures' delivery time (`signature-vectors.json`).
pub const NOW: i64 = 1_721_948_700;
const TOLERANCE_SECS: i64 = 300;

/// The checks of one fuzz target: they panic on an input that breaks an invariant.
pub type Check = fn(&[u8]);

/// The fuzz targets, by name: each is a directory of `fuzz/corpus/`.
pub const TARGETS: &[(&str, Check)] = &[
    ("signature_header", parse_signature_header),
    ("envelope", parse_envelope),
    ("verify", verify),
];

/// Parses any bytes as a `Stripe-Signature` header. The HTTP layer only passes visible
/// ASCII, but the parser takes any `str`, so invalid UTF-8 is replaced rather than skipped.
pub fn parse_signature_header(data: &[u8]) {
    let header = String::from_utf8_lossy(data);
    let Ok(parsed) = SignatureHeader::parse(&header) else {
        return;
    };
    // At most one `v1` per comma-separated item: the work of `verify` is bounded by the
    // header's length.
    assert!(!parsed.v1.is_empty() && parsed.v1.len() <= header.split(',').count());
    assert!(parsed.v1.iter().all(|v1| !v1.contains(',')));
}

/// Parses any bytes as an event body.
pub fn parse_envelope(data: &[u8]) {
    let Ok(envelope) = Envelope::parse(data) else {
        return;
    };
    assert!(!envelope.id.is_empty() && !envelope.event_type.is_empty());
    assert!(!envelope.store_key.is_empty());
    if let Some(account) = &envelope.account {
        assert_eq!(
            &envelope.store_key, account,
            "a Connect event belongs to its account"
        );
    }
    // The webhook stores accepted bodies as text.
    assert!(
        std::str::from_utf8(data).is_ok(),
        "an accepted body is UTF-8"
    );
}

/// Verifies any delivery: the first line is the header, the rest the body. The verdict
/// must agree with the header parser, and the genuine signature, once added, must verify.
pub fn verify(data: &[u8]) {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let header = String::from_utf8_lossy(&data[..split]);
    let body = data.get(split + 1..).unwrap_or_default();
    let secret = SecretString::from(SECRET.to_owned());
    let verifier = Verifier::new(std::slice::from_ref(&secret), TOLERANCE_SECS);
    let verdict = verifier.verify(body, &header, NOW);
    let timestamp = match SignatureHeader::parse(&header) {
        Ok(parsed) => parsed.timestamp,
        Err(err) => return assert_eq!(verdict, Err(err)),
    };
    let genuine = signature_header(&secret, timestamp, body);
    let v1 = genuine.split_once(",v1=").expect("one v1").1;
    let resigned = format!("{header},v1={v1}");
    let age_secs = NOW.saturating_sub(timestamp);
    let expected = if age_secs > TOLERANCE_SECS {
        Err(SignatureError::TimestampOutsideTolerance {
            age_secs,
            tolerance_secs: TOLERANCE_SECS,
        })
    } else {
        Ok(())
    };
    assert_eq!(verifier.verify(body, &resigned, NOW), expected);
}
