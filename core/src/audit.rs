//! Audit events, the HMAC-chained JSON-lines log, and its verification.
//!
//! Each log line is `{"seq":N,"prev":MAC(N-1),"event":{...},"mac":MAC(N)}` where
//! `MAC(N) = HMAC-SHA256(audit key, N ‖ "\n" ‖ MAC(N-1) ‖ "\n" ‖ event bytes)`. Editing,
//! deleting, inserting or reordering an entry breaks the chain at that entry; [`verify`] names
//! the first bad one. The audit key is derived from the master key and is separate from the
//! pseudonym and date-shift keys, so a verifier holding it learns nothing about pseudonyms.

use std::io::{BufRead, Write};
use std::sync::Mutex;

use hmac::Mac;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::keys::{HmacSha256, KeyRing};
use crate::record::RecordAttrs;
use crate::util::hex;

/// One field's treatment in a decision event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldAudit {
    /// Column or path.
    pub field: String,
    /// Treatment name.
    pub treatment: String,
    /// Deciding policy ids.
    pub policies: Vec<String>,
}

/// An audit event: who saw what, why, and under which policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// `decision` (a plan was compiled) or `disclosure` (records were released under a plan).
    pub kind: String,
    /// RFC 3339 UTC time.
    pub time: String,
    /// User id of the principal.
    pub user: String,
    /// Roles of the principal.
    pub roles: Vec<String>,
    /// Operation (`read`, `export`).
    pub operation: String,
    /// Purpose of use (HL7 code).
    pub purpose: String,
    /// Break-glass access: every event of such a view is flagged for review.
    pub break_glass: bool,
    /// The stated break-glass reason.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub break_glass_reason: Option<String>,
    /// Catalog name.
    pub catalog: String,
    /// Plan id.
    pub plan: String,
    /// Key id in use, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_id: Option<String>,
    /// Record attributes of the decision.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub attrs: Option<RecordAttrs>,
    /// Per-field treatments and deciding policies (decision events).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub fields: Vec<FieldAudit>,
    /// Record ids released (disclosure events).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub records: Vec<String>,
    /// Number of records released (disclosure events).
    #[serde(default)]
    pub count: u64,
}

/// Where audit events go. A failing sink fails the operation: nothing is released unaudited.
pub trait AuditSink: Send + Sync {
    /// Records one event.
    ///
    /// # Errors
    /// [`Error::Audit`] when the event cannot be stored.
    fn record(&self, event: &AuditEvent) -> Result<()>;
}

/// Keeps events in memory (tests, bindings that hand events to their host).
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<AuditEvent>>,
}

impl MemorySink {
    /// A copy of the events so far.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// The events so far, removed from the sink (a host ships them to durable storage).
    pub fn take(&self) -> Vec<AuditEvent> {
        self.events
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default()
    }
}

impl AuditSink for MemorySink {
    fn record(&self, event: &AuditEvent) -> Result<()> {
        self.events
            .lock()
            .map_err(|_| audit_err(None, "memory sink poisoned"))?
            .push(event.clone());
        Ok(())
    }
}

fn audit_err(entry: Option<u64>, message: impl Into<String>) -> Error {
    Error::Audit {
        entry,
        message: message.into(),
    }
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn entry_mac(key: &HmacSha256, seq: u64, prev: &str, event: &str) -> HmacSha256 {
    let mut mac = key.clone();
    mac.update(seq.to_string().as_bytes());
    mac.update(b"\n");
    mac.update(prev.as_bytes());
    mac.update(b"\n");
    mac.update(event.as_bytes());
    mac
}

struct ChainState<W> {
    out: W,
    seq: u64,
    prev: String,
}

/// The HMAC-chained JSON-lines audit log.
pub struct ChainedLog<W: Write + Send> {
    key: HmacSha256,
    state: Mutex<ChainState<W>>,
}

impl<W: Write + Send> std::fmt::Debug for ChainedLog<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainedLog").finish_non_exhaustive()
    }
}

impl<W: Write + Send> ChainedLog<W> {
    /// A new chain written to `out`.
    pub fn new(out: W, key: &KeyRing) -> Self {
        Self::resume(
            out,
            key,
            Tail {
                seq: 0,
                mac: GENESIS.to_owned(),
            },
        )
    }

    /// Continues a chain whose last verified entry is `tail` (see [`verify`]).
    pub fn resume(out: W, key: &KeyRing, tail: Tail) -> Self {
        ChainedLog {
            key: key.audit_mac().clone(),
            state: Mutex::new(ChainState {
                out,
                seq: tail.seq,
                prev: tail.mac,
            }),
        }
    }

    /// Flushes the writer.
    ///
    /// # Errors
    /// [`Error::Audit`] when the writer fails.
    pub fn flush(&self) -> Result<()> {
        let mut s = self
            .state
            .lock()
            .map_err(|_| audit_err(None, "audit log poisoned"))?;
        s.out
            .flush()
            .map_err(|e| audit_err(None, format!("cannot flush audit log: {e}")))
    }
}

impl ChainedLog<std::io::BufWriter<std::fs::File>> {
    /// Opens the log file at `path` for appending: an existing log is verified first and its
    /// chain continued; a missing one is created.
    ///
    /// # Errors
    /// [`Error::Audit`] when the existing log fails verification (wrong key or tampering),
    /// [`Error::Io`] when the file cannot be read or opened.
    pub fn open(path: &std::path::Path, key: &KeyRing) -> Result<Self> {
        let tail = match std::fs::File::open(path) {
            Ok(f) => verify(std::io::BufReader::new(f), key)?.0,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Tail {
                seq: 0,
                mac: GENESIS.to_owned(),
            },
            Err(e) => return Err(Error::io(path.display(), e)),
        };
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path.display(), e))?;
        Ok(Self::resume(std::io::BufWriter::new(f), key, tail))
    }
}

impl<W: Write + Send> AuditSink for ChainedLog<W> {
    fn record(&self, event: &AuditEvent) -> Result<()> {
        let body = serde_json::to_string(event).map_err(|e| audit_err(None, e.to_string()))?;
        let mut s = self
            .state
            .lock()
            .map_err(|_| audit_err(None, "audit log poisoned"))?;
        let seq = s.seq + 1;
        let mac = hex::lower(
            &entry_mac(&self.key, seq, &s.prev, &body)
                .finalize()
                .into_bytes(),
        );
        let line = format!(
            "{{\"seq\":{seq},\"prev\":\"{}\",\"event\":{body},\"mac\":\"{mac}\"}}\n",
            s.prev
        );
        s.out
            .write_all(line.as_bytes())
            .map_err(|e| audit_err(Some(seq), format!("cannot write audit log: {e}")))?;
        s.seq = seq;
        s.prev = mac;
        Ok(())
    }
}

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
        None => Err(audit_err(
            Some(tail.seq + 1),
            format!(
                "the log ends at entry {} but the anchor names entry {}: entries were removed \
                 from its end",
                tail.seq, anchor.seq
            ),
        )),
        Some(mac) if !bool::from(mac.as_bytes().ct_eq(anchor.mac.as_bytes())) => Err(audit_err(
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
            audit_err(
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
        let line = line.map_err(|e| audit_err(Some(n), format!("cannot read: {e}")))?;
        if line.is_empty() {
            return Err(audit_err(Some(n), "empty line"));
        }
        let parsed: Line<'_> = serde_json::from_str(&line)
            .map_err(|e| audit_err(Some(n), format!("malformed entry: {e}")))?;
        if parsed.seq != seq + 1 {
            return Err(audit_err(
                Some(n),
                format!(
                    "sequence {} where {} was expected (entry deleted, inserted or reordered)",
                    parsed.seq,
                    seq + 1
                ),
            ));
        }
        if parsed.prev != expect_prev {
            return Err(audit_err(
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
        let given = hex::decode(&parsed.mac).ok_or_else(|| audit_err(Some(n), "mac is not hex"))?;
        mac.verify_slice(&given)
            .map_err(|_| audit_err(Some(n), "mac mismatch: the entry was altered"))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(i: u64) -> AuditEvent {
        AuditEvent {
            kind: "disclosure".into(),
            time: crate::util::calendar::rfc3339(1_700_000_000 + i as i64),
            user: "u1".into(),
            roles: vec!["coder".into()],
            operation: "read".into(),
            purpose: "HOPERAT".into(),
            break_glass: false,
            break_glass_reason: None,
            catalog: "c".into(),
            plan: "p".into(),
            key_id: None,
            attrs: None,
            fields: vec![],
            records: vec![format!("r{i}")],
            count: 1,
        }
    }

    fn log_of(n: u64, key: &KeyRing) -> Vec<String> {
        let mut buf = Vec::new();
        {
            let log = ChainedLog::new(&mut buf, key);
            for i in 0..n {
                log.record(&event(i)).unwrap();
            }
        }
        String::from_utf8(buf)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn check(lines: &[String], key: &KeyRing) -> Result<(Tail, u64)> {
        let mut text = lines.join("\n");
        text.push('\n');
        verify(text.as_bytes(), key)
    }

    #[test]
    fn every_single_edit_is_detected_at_its_entry() {
        let key = KeyRing::from_bytes(&[1; 32]).unwrap();
        let lines = log_of(5, &key);
        assert_eq!(check(&lines, &key).unwrap().0.seq, 5);
        for i in 0..5 {
            // edit
            let mut l = lines.clone();
            l[i] = l[i].replacen(&format!("\"r{i}\""), "\"rX\"", 1);
            assert_eq!(
                check(&l, &key)
                    .unwrap_err()
                    .to_string()
                    .split(':')
                    .next()
                    .unwrap(),
                format!("audit error at entry {}", i + 1)
            );
            // delete (detected at the entry that now stands in its place, unless it was the last)
            let mut l = lines.clone();
            l.remove(i);
            if i < 4 {
                assert!(
                    matches!(check(&l, &key), Err(Error::Audit { entry: Some(e), .. }) if e == i as u64 + 1)
                );
            }
            // insert a copy
            let mut l = lines.clone();
            l.insert(i, lines[(i + 1) % 5].clone());
            assert!(check(&l, &key).is_err());
        }
        // reorder
        let mut l = lines.clone();
        l.swap(1, 2);
        assert!(matches!(
            check(&l, &key),
            Err(Error::Audit { entry: Some(2), .. })
        ));
        // wrong key
        let other = KeyRing::from_bytes(&[2; 32]).unwrap();
        assert!(matches!(
            check(&lines, &other),
            Err(Error::Audit { entry: Some(1), .. })
        ));
    }

    #[test]
    fn resume_continues_the_chain() {
        let key = KeyRing::from_bytes(&[1; 32]).unwrap();
        let mut lines = log_of(2, &key);
        let (tail, _) = check(&lines, &key).unwrap();
        let mut buf = Vec::new();
        ChainedLog::resume(&mut buf, &key, tail)
            .record(&event(9))
            .unwrap();
        lines.push(String::from_utf8(buf).unwrap().trim_end().to_owned());
        assert_eq!(check(&lines, &key).unwrap().0.seq, 3);
    }
}
