//! Arbitrary text through the detector and through each role's scrubbing.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The shared detector: compiling one per input would spend each run on regex compilation.
    if let Ok(d) = phiguard::text::builtin() {
        for span in d.detect(&text) {
            assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        }
    }
    for v in common::views("free-text") {
        let _ = v.scrub_text(&text);
    }
});
