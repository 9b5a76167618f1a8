//! Verifying a chained log, from its start or from an anchor kept elsewhere.

use std::io::BufRead;

use hmac::Mac;
use serde::Deserialize;
use serde_json::value::RawValue;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::util::hex;

use super::chain::{GENESIS, entry_mac};

/// Verifies a chained log like [`verify`], and also that it still holds the entry `anchor`
/// names — a tail recorded elsewhere (printed by `phiguard audit verify`, kept by the host).
/// A chain alone cannot tell that its last entries were cut off; the anchor can.
///
/// # Errors
/// As [`verify`], and [`Error::Audit`] when the log ends before the anchored entry
/// (truncation) or holds a different entry there.
///
/// # Examples
/// ```
/// use phiguard::audit::{verify, verify_anchored, AuditEvent, AuditSink, ChainedLog, Tail};
/// let key = phiguard::KeyRing::from_bytes(&[9u8; 32]).unwrap();
/// let mut buf = Vec::new();
/// {
///     let log = ChainedLog::new(&mut buf, &key);
///     let ev = AuditEvent { kind: "decision".into(), time: "t".into(), user: "u".into(),
///         roles: vec![], operation: "read".into(), purpose: "TREAT".into(), break_glass: false,
///         break_glass_reason: None, catalog: "c".into(), plan: "p".into(), key_id: None,
///         attrs: None, fields: vec![], records: vec![], count: 0 };
///     log.record(&ev).unwrap();
///     log.record(&ev).unwrap();
/// }
/// let anchor: Tail = verify(&buf[..], &key).unwrap().0;
/// let text = String::from_utf8(buf).unwrap();
/// let first_line_only = text.lines().next().unwrap().to_owned() + "\n";
/// assert!(verify(first_line_only.as_bytes(), &key).is_ok()); // the chain alone looks fine
/// let err = verify_anchored(first_line_only.as_bytes(), &key, &anchor).unwrap_err();
/// assert!(err.to_string().contains("entry 2"));
/// ```
pub fn verify_anchored(input: impl BufRead, key: &KeyRing, anchor: &Tail) -> Result<(Tail, u64)> {
    let mut at_anchor: Option<String> = None;
    let (tail, break_glass) = verify_each(input, key, |seq, mac| {
        if seq == anchor.seq {
            at_anchor = Some(mac.to_owned());
        }
    })?;
    if anchor.seq == 0 {
        return Ok((tail, break_glass));
    }
    match at_anchor {
        None => Err(Error::audit(
            Some(tail.seq + 1),
            format!(
                "the log ends at entry {} but the anchor names entry {}: entries were removed \
                 from its end",
                tail.seq, anchor.seq
            ),
        )),
        Some(mac) if !bool::from(mac.as_bytes().ct_eq(anchor.mac.as_bytes())) => Err(Error::audit(
            Some(anchor.seq),
            "the entry differs from the anchor: the log was rewritten",
        )),
        Some(_) => Ok((tail, break_glass)),
    }
}

impl Tail {
    /// The anchor text `SEQ:MAC` (not secret: it proves nothing without the key).
    pub fn anchor_text(&self) -> String {
        format!("{}:{}", self.seq, self.mac)
    }

    /// Parses anchor text `SEQ:MAC`.
    ///
    /// # Errors
    /// [`Error::Audit`] for malformed text.
    pub fn parse_anchor(text: &str) -> Result<Tail> {
        let bad = || {
            Error::audit(
                None,
                "an anchor is `SEQ:MAC` as `phiguard audit verify` prints it",
            )
        };
        let (seq, mac) = text.trim().split_once(':').ok_or_else(bad)?;
        let seq: u64 = seq.parse().map_err(|_| bad())?;
        if mac.len() != 64 || !mac.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Tail {
            seq,
            mac: mac.to_ascii_lowercase(),
        })
    }
}

/// The last entry of a verified chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    /// Its sequence number (0 for an empty log).
    pub seq: u64,
    /// Its MAC.
    pub mac: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    seq: u64,
    prev: String,
    #[serde(borrow)]
    event: &'a RawValue,
    mac: String,
}

/// Verifies a chained log read from `input`; returns its tail and the number of break-glass
/// events (each one flagged for review).
///
/// # Errors
/// [`Error::Audit`] naming the first entry (1-based line) that is malformed, out of sequence,
/// not chained to its predecessor, or whose MAC does not match.
///
/// # Examples
/// ```
/// use phiguard::audit::{verify, AuditEvent, AuditSink, ChainedLog};
/// let key = phiguard::KeyRing::from_bytes(&[9u8; 32]).unwrap();
/// let mut buf = Vec::new();
/// {
///     let log = ChainedLog::new(&mut buf, &key);
///     let ev = AuditEvent { kind: "decision".into(), time: "t".into(), user: "u".into(),
///         roles: vec![], operation: "read".into(), purpose: "TREAT".into(), break_glass: false,
///         break_glass_reason: None, catalog: "c".into(), plan: "p".into(), key_id: None,
///         attrs: None, fields: vec![], records: vec![], count: 0 };
///     log.record(&ev).unwrap();
///     log.record(&ev).unwrap();
/// }
/// assert_eq!(verify(&buf[..], &key).unwrap().0.seq, 2);
/// let tampered = String::from_utf8(buf).unwrap().replacen("TREAT", "HPAYMT", 1);
/// assert_eq!(verify(tampered.as_bytes(), &key).unwrap_err().to_string(),
///            "audit error at entry 1: mac mismatch: the entry was altered");
/// ```
pub fn verify(input: impl BufRead, key: &KeyRing) -> Result<(Tail, u64)> {
    verify_each(input, key, |_, _| {})
}

fn verify_each(
    input: impl BufRead,
    key: &KeyRing,
    mut on_entry: impl FnMut(u64, &str),
) -> Result<(Tail, u64)> {
    let mut expect_prev = GENESIS.to_owned();
    let mut seq = 0u64;
    let mut break_glass = 0u64;
    for (i, line) in input.lines().enumerate() {
        let n = i as u64 + 1;
        let line = line.map_err(|e| Error::audit(Some(n), format!("cannot read: {e}")))?;
        if line.is_empty() {
            return Err(Error::audit(Some(n), "empty line"));
        }
        let parsed: Line<'_> = serde_json::from_str(&line)
            .map_err(|e| Error::audit(Some(n), format!("malformed entry: {e}")))?;
        if parsed.seq != seq + 1 {
            return Err(Error::audit(
                Some(n),
                format!(
                    "sequence {} where {} was expected (entry deleted, inserted or reordered)",
                    parsed.seq,
                    seq + 1
                ),
            ));
        }
        if parsed.prev != expect_prev {
            return Err(Error::audit(
                Some(n),
                "not chained to the previous entry (entry deleted, inserted or reordered)",
            ));
        }
        let mac = entry_mac(
            key.audit_mac(),
            parsed.seq,
            &parsed.prev,
            parsed.event.get(),
        );
        let given =
            hex::decode(&parsed.mac).ok_or_else(|| Error::audit(Some(n), "mac is not hex"))?;
        mac.verify_slice(&given)
            .map_err(|_| Error::audit(Some(n), "mac mismatch: the entry was altered"))?;
        if parsed.event.get().contains("\"break_glass\":true") {
            break_glass += 1;
        }
        on_entry(parsed.seq, &parsed.mac);
        seq = parsed.seq;
        expect_prev = parsed.mac;
    }
    Ok((
        Tail {
            seq,
            mac: expect_prev,
        },
        break_glass,
    ))
}
