//! Every case of Stripe's signature vectors gets the official SDK's verdict.

use payments::error::ErrorCode;
use payments::stripe::signature::Verifier;
use secrecy::SecretString;
use serde::Deserialize;

use crate::helpers::fixture;

#[derive(Deserialize)]
struct Vectors {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    body_file: Option<String>,
    body: Option<String>,
    header: String,
    secrets: Vec<String>,
    tolerance_secs: i64,
    now: i64,
    expect: String,
    official_sdk_message: Option<String>,
}

/// The error code the service answers for each message of the official SDK.
fn expected_code(sdk_message: &str) -> &'static str {
    if sdk_message.starts_with("No Stripe-Signature header") {
        "missing_signature"
    } else if sdk_message.starts_with("Unable to extract timestamp")
        || sdk_message.starts_with("No signatures found with expected scheme")
    {
        "malformed_signature"
    } else if sdk_message.starts_with("No signatures found matching") {
        "no_matching_signature"
    } else if sdk_message.starts_with("Timestamp outside the tolerance zone") {
        "timestamp_outside_tolerance"
    } else {
        panic!("unmapped SDK message: {sdk_message}")
    }
}

#[test]
fn every_signature_vector_gets_the_official_sdk_verdict() {
    let vectors: Vectors =
        serde_json::from_slice(&fixture("signature-vectors.json")).expect("vectors parse");
    assert!(vectors.cases.len() >= 20, "the vector file looks truncated");
    for case in vectors.cases {
        let body = match (&case.body_file, &case.body) {
            (Some(file), _) => fixture(file),
            (None, Some(body)) => body.as_bytes().to_vec(),
            (None, None) => panic!("{}: no body", case.name),
        };
        let secrets: Vec<SecretString> = case
            .secrets
            .iter()
            .map(|s| SecretString::from(s.clone()))
            .collect();
        let verdict =
            Verifier::new(&secrets, case.tolerance_secs).verify(&body, &case.header, case.now);
        match case.expect.as_str() {
            "accept" => assert_eq!(verdict, Ok(()), "{}", case.name),
            "reject" => {
                let err = verdict.expect_err(&case.name);
                let message = case.official_sdk_message.as_deref().unwrap_or_default();
                assert_eq!(
                    ErrorCode::from(&err).as_str(),
                    expected_code(message),
                    "{}",
                    case.name
                );
            }
            other => panic!("{}: unknown verdict {other}", case.name),
        }
    }
}
