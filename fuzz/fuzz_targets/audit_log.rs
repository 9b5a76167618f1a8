//! Arbitrary bytes as an audit log, with and without an anchor.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phiguard::KeyRing;
use phiguard::audit::{Tail, verify, verify_anchored};

fuzz_target!(|data: &[u8]| {
    let key = KeyRing::from_bytes(&[3; 32]).expect("key");
    let _ = verify(data, &key);
    let anchor = Tail { seq: 2, mac: "a".repeat(64) };
    let _ = verify_anchored(data, &key, &anchor);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Tail::parse_anchor(text);
    }
});
