//! Audit events, the HMAC-chained JSON-lines log, and its verification.
//!
//! Each log line is `{"seq":N,"prev":MAC(N-1),"event":{...},"mac":MAC(N)}` where
//! `MAC(N) = HMAC-SHA256(audit key, N ‖ "\n" ‖ MAC(N-1) ‖ "\n" ‖ event bytes)`. Editing,
//! deleting, inserting or reordering an entry breaks the chain at that entry; [`verify`] names
//! the first bad one. The audit key is derived from the master key and is separate from the
//! pseudonym and date-shift keys, so a verifier holding it learns nothing about pseudonyms.

mod chain;
mod verify;

pub use chain::ChainedLog;
pub use verify::{Tail, verify, verify_anchored};

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::record::RecordAttrs;

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
            .map_err(|_| Error::audit(None, "memory sink poisoned"))?
            .push(event.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyRing;

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
