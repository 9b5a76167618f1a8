//! Lower-case hex text of bytes, and back: key files, key ids, plan ids and audit MACs.

const HEX: &[u8; 16] = b"0123456789abcdef";

fn digit(nibble: u8) -> char {
    char::from(HEX.get(usize::from(nibble & 0x0f)).copied().unwrap_or(b'0'))
}

/// Lower-case hex of `bytes`.
pub(crate) fn lower(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push(&mut s, bytes, bytes.len() * 2);
    s
}

/// Appends the first `n` lower-case hex digits of `bytes` to `out` (no allocation beyond `out`).
pub(crate) fn push(out: &mut String, bytes: &[u8], n: usize) {
    for (i, b) in bytes.iter().enumerate() {
        if 2 * i >= n {
            break;
        }
        out.push(digit(b >> 4));
        if 2 * i + 1 < n {
            out.push(digit(*b));
        }
    }
}

/// The bytes of an even-length hex text (either case); `None` for anything else.
///
/// The output is plain `Vec<u8>`: callers decoding key material wrap it in `Zeroizing`
/// straight away, or use [`decode_into`].
pub(crate) fn decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 2);
    decode_into(s, &mut out).then_some(out)
}

/// Appends the bytes of an even-length hex text to `out`; `false` (and `out` unchanged in
/// length beyond what was decoded) for anything that is not hex.
pub(crate) fn decode_into(s: &str, out: &mut Vec<u8>) -> bool {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    for pair in s.as_bytes().chunks_exact(2) {
        let [hi, lo] = [pair.first(), pair.get(1)].map(|b| value(b.copied().unwrap_or(b'0')));
        out.push(hi << 4 | lo);
    }
    true
}

fn value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_truncates() {
        let mut s = String::new();
        push(&mut s, &[0xde, 0xad, 0xbe], 5);
        assert_eq!(s, "deadb");
    }

    #[test]
    fn round_trip_and_refusals() {
        assert_eq!(lower(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(decode("00AbfF"), Some(vec![0x00, 0xab, 0xff]));
        assert_eq!(decode("abc"), None, "odd length");
        assert_eq!(decode("zz"), None, "not hex");
        assert_eq!(decode("+1"), None, "a sign is not a digit");
    }
}
