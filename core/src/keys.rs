//! Key material: the master key, its id, and the separate keys derived from it.
//!
//! One master key (32+ random bytes) yields one subkey per purpose — pseudonyms, date shifts,
//! audit chaining, key id — by HMAC-SHA256 over a fixed label, so a leak of one derived key
//! (say, the audit key handed to a verifier) does not expose the others. All secret bytes live
//! in zeroized buffers, and no type here prints them: `Debug` shows the key id only.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::util::hex;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// Minimum master key length in bytes (256 bits).
const MIN_KEY_BYTES: usize = 32;

const FILE_PREFIX: &str = "phiguard-key-v1:";

/// A master key and the keyed HMAC states derived from it.
///
/// Cheap to clone (the HMAC states are precomputed, so a pseudonym costs two SHA-256
/// compressions per 64-byte block, not a key schedule).
///
/// # Examples
/// ```
/// let key = phiguard::KeyRing::from_bytes(&[7u8; 32]).unwrap();
/// assert_eq!(key.id().len(), 16);
/// assert!(!format!("{key:?}").contains("0707"));
/// ```
#[derive(Clone)]
pub struct KeyRing {
    id: String,
    pseudonym: HmacSha256,
    date_shift: HmacSha256,
    audit: HmacSha256,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn derive(master: &[u8], label: &str) -> Result<Zeroizing<[u8; 32]>> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(master)
        .map_err(|_| Error::key("cannot initialise hmac with the master key"))?;
    mac.update(b"phiguard/v1/");
    mac.update(label.as_bytes());
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    Ok(out)
}

fn keyed(bytes: &[u8]) -> Result<HmacSha256> {
    <HmacSha256 as KeyInit>::new_from_slice(bytes).map_err(|_| Error::key("cannot initialise hmac"))
}

impl KeyRing {
    /// Derives the key ring from master key bytes.
    ///
    /// # Errors
    /// [`Error::Key`] when the key is shorter than [`KeyRing::MIN_KEY_BYTES`].
    pub fn from_bytes(master: &[u8]) -> Result<Self> {
        if master.len() < MIN_KEY_BYTES {
            return Err(Error::key(format!(
                "master key is {} bytes; at least {MIN_KEY_BYTES} are required",
                master.len()
            )));
        }
        let id_bytes = derive(master, "key-id")?;
        let id = hex::lower(id_bytes.get(..8).unwrap_or(&[]));
        Ok(KeyRing {
            id,
            pseudonym: keyed(&*derive(master, "pseudonym")?)?,
            date_shift: keyed(&*derive(master, "date-shift")?)?,
            audit: keyed(&*derive(master, "audit")?)?,
        })
    }

    /// Parses the text of a key file: `phiguard-key-v1:` followed by 64+ hex digits (the
    /// format `phiguard keygen` writes), or bare hex. Surrounding white space is ignored.
    ///
    /// # Errors
    /// [`Error::Key`] naming `source` when the text is not a key; the text is never echoed.
    pub fn from_key_text(text: &str, source: &str) -> Result<Self> {
        let body = text.trim();
        let body = body.strip_prefix(FILE_PREFIX).unwrap_or(body);
        let bad = || {
            Error::key(format!(
                "`{source}` is not a phiguard key: expected `{FILE_PREFIX}` and {} or more hex digits",
                MIN_KEY_BYTES * 2
            ))
        };
        let mut bytes = Zeroizing::new(Vec::with_capacity(body.len() / 2));
        if !hex::decode_into(body, &mut bytes) {
            return Err(bad());
        }
        if bytes.len() < MIN_KEY_BYTES {
            return Err(Error::key(format!(
                "`{source}` holds a {}-byte key; at least {MIN_KEY_BYTES} bytes are required",
                bytes.len()
            )));
        }
        Self::from_bytes(&bytes)
    }

    /// Reads a key file (what [`KeyRing::generate_file`] and `phiguard keygen` write).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::Key`] when it holds no key; neither
    /// echoes the file's contents.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_file(path: &std::path::Path) -> Result<Self> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path).map_err(|e| Error::io(path.display(), e))?,
        );
        Self::from_key_text(&text, &path.display().to_string())
    }

    /// Shortest master key accepted, in bytes (256 bits).
    pub const MIN_KEY_BYTES: usize = MIN_KEY_BYTES;

    /// Writes a new random key to `path` and returns it. The file is created readable and
    /// writable by its owner only (mode 0600 on Unix, set when it is created, so the key is
    /// never readable by others even for a moment) and never replaces an existing file: a
    /// lost key loses every pseudonym and date shift made with it.
    ///
    /// # Errors
    /// [`Error::Io`] when the file exists or cannot be written, [`Error::Key`] when the system
    /// has no randomness.
    ///
    /// # Examples
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("site.key");
    /// let key = phiguard::KeyRing::generate_file(&path).unwrap();
    /// assert_eq!(phiguard::KeyRing::from_file(&path).unwrap().id(), key.id());
    /// assert_eq!(phiguard::KeyRing::generate_file(&path).unwrap_err().code(), "io");
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn generate_file(path: &std::path::Path) -> Result<Self> {
        use std::io::Write;
        let mut random = Zeroizing::new([0u8; MIN_KEY_BYTES]);
        getrandom::fill(random.as_mut())
            .map_err(|e| Error::key(format!("no system randomness: {e}")))?;
        let text = Self::key_file_text(random.as_ref())?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts.open(path).map_err(|e| Error::io(path.display(), e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(path.display(), e))?;
        Self::from_key_text(&text, &path.display().to_string())
    }

    /// Formats fresh random bytes as key file text.
    #[cfg(any(test, not(target_arch = "wasm32")))]
    fn key_file_text(random: &[u8]) -> Result<Zeroizing<String>> {
        if random.len() < MIN_KEY_BYTES {
            return Err(Error::key("a key needs at least 32 random bytes"));
        }
        let mut s = Zeroizing::new(String::from(FILE_PREFIX));
        s.push_str(&hex::lower(random));
        s.push('\n');
        Ok(s)
    }

    /// The key id: 16 hex digits derived from the key, safe to publish, for rotation.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn pseudonym_mac(&self) -> &HmacSha256 {
        &self.pseudonym
    }

    pub(crate) fn date_shift_mac(&self) -> &HmacSha256 {
        &self.date_shift
    }

    pub(crate) fn audit_mac(&self) -> &HmacSha256 {
        &self.audit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_malformed_keys_are_rejected_without_echo() {
        let short = "phiguard-key-v1:00112233";
        let err = KeyRing::from_key_text(short, "k.key").unwrap_err();
        assert_eq!(err.code(), "key");
        assert!(!err.to_string().contains("00112233"));
        let err = KeyRing::from_key_text("not hex at all zz", "k.key").unwrap_err();
        assert!(!err.to_string().contains("zz"));
    }

    #[test]
    fn key_file_round_trip_and_id_stable() {
        let text = KeyRing::key_file_text(&[0xab; 32]).unwrap();
        let a = KeyRing::from_key_text(&text, "a").unwrap();
        let b = KeyRing::from_key_text(&format!("  {}  ", "ab".repeat(32)), "b").unwrap();
        assert_eq!(a.id(), b.id());
        assert_eq!(a.id().len(), 16);
        let c = KeyRing::from_bytes(&[0xac; 32]).unwrap();
        assert_ne!(a.id(), c.id());
    }

    #[test]
    fn debug_never_shows_key_bytes() {
        let k = KeyRing::from_bytes(&[0x5a; 40]).unwrap();
        let dbg = format!("{k:?}");
        assert!(dbg.contains(k.id()));
        assert!(!dbg.to_lowercase().contains("5a5a"));
    }

    /// Found by the `key_file` fuzz target (its oracle, not the parser, was wrong): a malformed
    /// key file gets one fixed message, whatever it holds.
    #[test]
    fn malformed_key_text_gets_the_fixed_message() {
        for text in [
            "   ard-key-v1:",
            "phiguard-key-v1:zz",
            "012",
            "phiguard-key-v1:abc",
        ] {
            let err = KeyRing::from_key_text(text, "k").unwrap_err().to_string();
            assert_eq!(
                err,
                "key error: `k` is not a phiguard key: expected `phiguard-key-v1:` and 64 or more hex digits",
                "{text:?}"
            );
        }
        let err = KeyRing::from_key_text(&"ab".repeat(31), "k")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "key error: `k` holds a 31-byte key; at least 32 bytes are required"
        );
    }
}
