//! Arbitrary text through the detector and through each role's scrubbing.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The shared engine: compiling a detector per input would spend each run on regex
    // compilation. An error (a text over the limit) is fine; a panic or a bad offset is not.
    if let Ok(spans) = common::engine().detect(&text) {
        for span in spans {
            assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        }
    }
    for v in common::views("free-text") {
        let _ = v.scrub_text(&text);
    }
});
