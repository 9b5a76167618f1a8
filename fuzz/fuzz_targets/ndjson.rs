//! Arbitrary bytes as JSON lines and as one JSON document.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
use phiguard::io::{IoOptions, deidentify_json, deidentify_ndjson};

fuzz_target!(|data: &[u8]| {
    let v = &common::views("synthea-patients")[0];
    let mut out = Vec::new();
    let _ = deidentify_ndjson(v, data, &mut out, &IoOptions::default(), &|_| {});
    out.clear();
    let _ = deidentify_json(v, data, &mut out, &IoOptions::default());
});
