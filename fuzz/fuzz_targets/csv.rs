//! Arbitrary bytes as a CSV file, for several roles: an error or output, never a panic, and
//! never fewer output rows than the run reports.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
use phiguard::io::{IoOptions, deidentify_csv};

fuzz_target!(|data: &[u8]| {
    for v in common::views("synthea-patients") {
        let mut out = Vec::new();
        let opts = IoOptions { max_field_bytes: 4096, ..IoOptions::default() };
        if let Ok(summary) = deidentify_csv(v, data, &mut out, &opts, &|_| {}) {
            let records = csv::ReaderBuilder::new().has_headers(true).from_reader(&out[..])
                .into_byte_records().count() as u64;
            assert_eq!(records, summary.rows, "rows written differ from rows reported");
        }
    }
});
