//! Writing the chained log: each entry's MAC covers its sequence number, the previous
//! entry's MAC and the event, so an edit, deletion, insertion or reordering breaks the chain.

use std::io::Write;
use std::sync::Mutex;

use hmac::Mac;

use crate::error::{Error, Result};
use crate::keys::{HmacSha256, KeyRing};
use crate::util::hex;

use super::{AuditEvent, AuditSink, Tail, verify};

pub(super) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub(super) fn entry_mac(key: &HmacSha256, seq: u64, prev: &str, event: &str) -> HmacSha256 {
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
            .map_err(|_| Error::audit(None, "audit log poisoned"))?;
        s.out
            .flush()
            .map_err(|e| Error::audit(None, format!("cannot flush audit log: {e}")))
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
        let body = serde_json::to_string(event).map_err(|e| Error::audit(None, e.to_string()))?;
        let mut s = self
            .state
            .lock()
            .map_err(|_| Error::audit(None, "audit log poisoned"))?;
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
            .map_err(|e| Error::audit(Some(seq), format!("cannot write audit log: {e}")))?;
        s.seq = seq;
        s.prev = mac;
        Ok(())
    }
}
