//! Arbitrary text as a key file: a key, or one of the fixed error messages, which never carry
//! any of the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phiguard::KeyRing;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(e) = KeyRing::from_key_text(text, "fuzz.key") {
        let msg = e.to_string();
        let not_a_key = "key error: `fuzz.key` is not a phiguard key: expected `phiguard-key-v1:` \
                         and 64 or more hex digits";
        let short = msg.strip_prefix("key error: `fuzz.key` holds a ").and_then(|r| {
            r.strip_suffix("-byte key; at least 32 bytes are required")
        });
        assert!(
            msg == not_a_key || short.is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())),
            "unexpected key error text: {msg}"
        );
    }
});
