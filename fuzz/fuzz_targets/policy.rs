//! Arbitrary text as one more policy file of the default pack; a pack that loads must plan.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
use phiguard::{AccessRequest, Engine, PackSources, Source};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut src = PackSources::default_pack();
    src.policies.push(Source::new("fuzz.cedar", text));
    if let Ok(e) = Engine::builder().sources(src).build() {
        for (role, purpose) in [("data_analyst", "HRESCH"), ("physician", "BTG")] {
            let req = AccessRequest {
                as_of_year: Some(2026),
                break_glass_reason: Some("fuzz".into()),
                ..AccessRequest::new("u", [role], purpose, "synthea-patients")
            };
            let _ = e.view(&req).and_then(|v| v.plan_for_others().map(|_| ()));
        }
    }
});
