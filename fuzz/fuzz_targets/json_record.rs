//! Arbitrary text as a JSON record for the flat and the nested (FHIR) catalogs.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { return };
    for catalog in ["synthea-patients", "fhir-patient"] {
        for v in common::views(catalog) {
            let mut record = value.clone();
            let _ = v.apply_json(&mut record, "<fuzz>", 1);
        }
    }
});
