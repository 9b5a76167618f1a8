//! Arbitrary text as a key file: a key or an error that never echoes the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phiguard::KeyRing;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(e) = KeyRing::from_key_text(text, "fuzz.key") {
        let body = text.trim().trim_start_matches("phiguard-key-v1:");
        if body.len() >= 8 {
            assert!(!e.to_string().contains(body), "a key error echoed the key text");
        }
    }
});
