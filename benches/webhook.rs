//! Micro-benchmarks of the CPU work the webhook does per delivery, on a realistic 5 KB
//! `charge.succeeded` event: signature verification and envelope parsing. The figures are
//! in `BENCHMARKS.md`; run with `cargo bench --bench webhook`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use payments::stripe::envelope::Envelope;
use payments::stripe::signature::{Verifier, signature_header};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

/// Stripe's published charge.succeeded example (about 4.5 KB as Stripe formats it).
const FIXTURE: &[u8] = include_bytes!("../tests/data/stripe/charge.succeeded.json");
const EVENT_BYTES: usize = 5 * 1024;
const NOW: i64 = 1_721_948_700;
const TOLERANCE_SECS: i64 = 300;

/// The fixture with the metadata a marketplace attaches to a charge (order, seller, cart
/// lines) until it reaches 5 KB, formatted like Stripe's deliveries (2-space indent).
fn event_5kb() -> Vec<u8> {
    let mut event: Value = serde_json::from_slice(FIXTURE).expect("the fixture is JSON");
    let mut metadata = Map::new();
    metadata.insert("order_id".into(), json!("ord_8f3c2a91d4e6"));
    metadata.insert("seller_id".into(), json!("acct_1PgafTB7WZ01zgkW"));
    metadata.insert("channel".into(), json!("web"));
    for line in 0.. {
        event["data"]["object"]["metadata"] = Value::Object(metadata.clone());
        let body = serde_json::to_vec_pretty(&event).expect("a Value serialises");
        if body.len() >= EVENT_BYTES {
            return body;
        }
        metadata.insert(
            format!("cart_line_{line:02}"),
            json!(format!("sku_tee_{line:03}|qty=1|unit_amount=2500")),
        );
    }
    unreachable!("the loop returns once the event is large enough")
}

fn secret(value: &str) -> SecretString {
    SecretString::from(value.to_owned())
}

fn webhook_5kb(c: &mut Criterion) {
    let body = event_5kb();
    let signed_at = NOW - 5;
    let current = secret("whsec_bench_current");
    let header = signature_header(&current, signed_at, &body);
    let verifier = Verifier::new(std::slice::from_ref(&current), TOLERANCE_SECS);
    assert_eq!(verifier.verify(&body, &header, NOW), Ok(()));

    // While a secret is rolled: two configured secrets, one `v1` per secret.
    let previous = secret("whsec_bench_previous");
    let old_v1 = signature_header(&previous, signed_at, &body);
    let rolling_header = format!("{header},v1={}", old_v1.split_once(",v1=").unwrap().1);
    let rolling = Verifier::new(&[previous, current], TOLERANCE_SECS);
    assert_eq!(rolling.verify(&body, &rolling_header, NOW), Ok(()));
    assert!(Envelope::parse(&body).is_ok());

    let mut group = c.benchmark_group("webhook_5kb");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("verify_signature", |b| {
        b.iter(|| verifier.verify(black_box(&body), black_box(&header), NOW))
    });
    group.bench_function("verify_signature_2_secrets_2_v1", |b| {
        b.iter(|| rolling.verify(black_box(&body), black_box(&rolling_header), NOW))
    });
    group.bench_function("parse_envelope", |b| {
        b.iter(|| Envelope::parse(black_box(&body)))
    });
    group.finish();
}

criterion_group!(benches, webhook_5kb);
criterion_main!(benches);
