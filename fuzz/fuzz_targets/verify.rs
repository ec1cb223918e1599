//! Signature verification of any delivery (first line: header; rest: body).
//! The checks live in `payments::stripe::fuzz`, which `cargo test` also runs on the corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| payments::stripe::fuzz::verify(data));
