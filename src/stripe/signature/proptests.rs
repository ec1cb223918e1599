//! Property tests: the `Stripe-Signature` parser and [`Verifier::verify`] on any input.
//!
//! "Fast on any input" is argued, not timed: `parse` is one pass over the header
//! (`split(',')`, then `split_once('=')` per item) and keeps at most one `v1` per item,
//! which the tests check; `verify` then computes one HMAC per configured secret (not per
//! `v1`) and makes `secrets × v1` comparisons of 64 bytes, so its work is linear in the
//! header's and the body's lengths.

use proptest::prelude::*;

use super::*;
use crate::stripe::fuzz;

/// One comma-separated item of a generated header, with what the parser must make of it.
#[derive(Debug, Clone)]
enum Item {
    /// `t=<text>`; the parsed value when the text is a valid `i64`.
    Timestamp(String, Option<i64>),
    V1(String),
    /// `v0=...`, unknown schemes, and items without `=`: all ignored.
    Ignored(String),
}

impl Item {
    fn text(&self) -> String {
        match self {
            Self::Timestamp(text, _) => format!("t={text}"),
            Self::V1(value) => format!("v1={value}"),
            Self::Ignored(text) => text.clone(),
        }
    }
}

fn timestamp_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|t| t.to_string()),
        // Out of range, signs, spaces, non-ASCII digits, empty.
        "[0-9]{19,400}",
        "[+-]?[0-9 ]{0,5}",
        "[^,]{0,12}",
    ]
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        timestamp_text().prop_map(|text| {
            let parsed = text.parse().ok();
            Item::Timestamp(text, parsed)
        }),
        "[^,]{0,80}".prop_map(Item::V1),
        "[0-9a-f]{64}".prop_map(Item::V1),
        "v0=[^,]{0,70}".prop_map(Item::Ignored),
        ("[^,=]{0,8}", "[^,]{0,20}")
            .prop_filter("a known key", |(key, _)| key != "t" && key != "v1")
            .prop_map(|(key, value)| Item::Ignored(format!("{key}={value}"))),
        "[^,=]{0,20}".prop_map(Item::Ignored),
    ]
}

/// What the parser must answer, worked out from the items rather than from the text.
fn expected(items: &[Item], header: &str) -> Result<(i64, Vec<String>), SignatureError> {
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let first_timestamp = items.iter().find_map(|item| match item {
        Item::Timestamp(_, parsed) => Some(*parsed),
        _ => None,
    });
    let v1: Vec<String> = items
        .iter()
        .filter_map(|item| match item {
            Item::V1(value) => Some(value.clone()),
            _ => None,
        })
        .collect();
    match first_timestamp {
        Some(Some(timestamp)) if !v1.is_empty() => Ok((timestamp, v1)),
        _ => Err(SignatureError::Malformed),
    }
}

fn secret(value: &str) -> SecretString {
    SecretString::from(value.to_owned())
}

proptest! {
    #[test]
    fn any_bytes_never_panic_the_parser_or_verify(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        fuzz::parse_signature_header(&data);
        fuzz::verify(&data);
    }

    #[test]
    fn any_string_never_panics_the_parser_or_verify(header in any::<String>(), body in any::<String>()) {
        fuzz::parse_signature_header(header.as_bytes());
        fuzz::verify(format!("{header}\n{body}").as_bytes());
    }

    #[test]
    fn structured_headers_parse_to_the_first_timestamp_and_every_v1(
        items in proptest::collection::vec(item(), 0..64)
    ) {
        let header = items.iter().map(Item::text).collect::<Vec<_>>().join(",");
        let parsed = SignatureHeader::parse(&header)
            .map(|parsed| (parsed.timestamp, parsed.v1.iter().map(|v| v.to_string()).collect::<Vec<_>>()));
        prop_assert_eq!(parsed, expected(&items, &header));
    }

    #[test]
    fn signed_payloads_verify_and_any_change_is_refused(
        key in "[ -~]{0,80}",
        other_key in "[ -~]{0,80}",
        timestamp in any::<i64>(),
        payload in proptest::collection::vec(any::<u8>(), 0..512),
        flip in any::<prop::sample::Index>(),
    ) {
        prop_assume!(key != other_key);
        let header = signature_header(&secret(&key), timestamp, &payload);
        let verifier = Verifier::new(&[secret(&other_key), secret(&key)], 300);
        prop_assert_eq!(verifier.verify(&payload, &header, timestamp), Ok(()));
        let forged = Verifier::new(&[secret(&other_key)], 300);
        prop_assert_eq!(forged.verify(&payload, &header, timestamp), Err(SignatureError::NoMatch));
        // Stripe signs lowercase hex and the SDKs compare text: uppercase must not match.
        let (t, v1) = header.split_once(",v1=").unwrap();
        let upper = format!("{t},v1={}", v1.to_uppercase());
        prop_assume!(upper != header);
        prop_assert_eq!(verifier.verify(&payload, &upper, timestamp), Err(SignatureError::NoMatch));
        if !payload.is_empty() {
            let mut tampered = payload.clone();
            tampered[flip.index(payload.len())] ^= 1;
            prop_assert_eq!(verifier.verify(&tampered, &header, timestamp), Err(SignatureError::NoMatch));
        }
    }
}

proptest! {
    // Large inputs: fewer cases keep the debug-build test run short.
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn thousands_of_v1_pairs_are_all_kept_and_one_genuine_one_matches(
        decoys in 1_000usize..10_000,
        genuine_at in any::<prop::sample::Index>(),
    ) {
        let key = secret("whsec_many");
        let genuine = signature_header(&key, 7, b"{}");
        let decoy = format!(",v1={}", "0".repeat(64));
        let at = genuine_at.index(decoys);
        let genuine_v1 = genuine.strip_prefix("t=7").unwrap();
        let header = format!("t=7{}{genuine_v1}{}", decoy.repeat(at), decoy.repeat(decoys - at));
        let parsed = SignatureHeader::parse(&header).unwrap();
        prop_assert_eq!(parsed.v1.len(), decoys + 1);
        let verifier = Verifier::new(&[secret("whsec_old"), key], 0);
        prop_assert_eq!(verifier.verify(b"{}", &header, 7), Ok(()));
        prop_assert_eq!(verifier.verify(b"{ }", &header, 7), Err(SignatureError::NoMatch));
    }

    #[test]
    fn huge_and_non_ascii_values_are_refused_not_panicked_on(
        length in 10_000usize..200_000,
        filler in "[0-9a-zé€😀]",
    ) {
        let huge = filler.repeat(length / filler.len());
        let verifier = Verifier::new(&[secret("whsec_a")], 300);
        let timestamp = format!("t={huge},v1=00");
        let expected = huge.parse::<i64>().map_or(Err(SignatureError::Malformed), |_| Err(SignatureError::NoMatch));
        prop_assert_eq!(verifier.verify(b"{}", &timestamp, 0), expected);
        let value = format!("t=1,v1={huge},v0={huge},{huge}={huge}");
        prop_assert_eq!(verifier.verify(b"{}", &value, 0), Err(SignatureError::NoMatch));
    }
}
