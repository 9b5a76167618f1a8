//! Arbitrary text as a custom-detector file (patterns from configuration): a pack that loads
//! scrubs text in bounded time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phiguard::{AccessRequest, Engine, PackSources, Source};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut src = PackSources::default_pack();
    src.detectors = Some(Source::new("detectors.toml", text));
    if let Ok(e) = Engine::builder().sources(src).build() {
        let req = AccessRequest {
            as_of_year: Some(2026),
            ..AccessRequest::new("u", ["data_analyst"], "HRESCH", "free-text")
        };
        if let Ok(v) = e.view(&req) {
            let _ = v.scrub_text("Pt John Smith MRN 12345678 seen 03/04/2024 SUBJ-123456");
        }
    }
});
