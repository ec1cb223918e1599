//! The `Stripe-Signature` header parser on any bytes.
//! The checks live in `payments::stripe::fuzz`, which `cargo test` also runs on the corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| payments::stripe::fuzz::parse_signature_header(data));
