//! Arbitrary text as a catalog file.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
use phiguard::Source;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(e) = common::engine().with_catalog(&Source::new("fuzz.toml", text)) {
        // A catalog that loads must serve a view.
        let name = e.pack().catalogs().last().map(|c| c.name.clone()).unwrap_or_default();
        let req = phiguard::AccessRequest {
            as_of_year: Some(2026),
            ..phiguard::AccessRequest::new("u", ["data_analyst"], "HRESCH", name)
        };
        let _ = e.view(&req).and_then(|v| v.plan_for_others().map(|_| ()));
    }
});
