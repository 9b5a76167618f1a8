//! Caps that keep memory and time bounded on hostile input. Every cap is checked before the
//! work it bounds, and going over one is an error naming the cap, never a truncation.

/// Default deepest nesting of a JSON record ([`Limits::max_depth`]).
pub(crate) const MAX_JSON_DEPTH: usize = 64;

/// The caps of an [`crate::Engine`] and its views.
///
/// # Examples
/// ```
/// use phiguard::{Engine, Limits};
/// let limits = Limits { max_text_bytes: 16, ..Limits::default() };
/// let engine = Engine::builder().limits(limits).build().unwrap();
/// let req = phiguard::AccessRequest { as_of_year: Some(2026),
///     ..phiguard::AccessRequest::new("u", ["data_analyst"], "HRESCH", "free-text") };
/// let view = engine.view(&req).unwrap();
/// assert!(view.scrub_text("short note").is_ok());
/// assert_eq!(view.scrub_text("a note longer than sixteen bytes").unwrap_err().code(), "input");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest string value of a JSON record, in bytes (CSV fields: `IoOptions::max_field_bytes`).
    pub max_field_bytes: usize,
    /// Deepest nesting of a JSON record.
    pub max_depth: usize,
    /// Most policies a pack may hold.
    pub max_policies: usize,
    /// Longest text one detector call (free-text scrubbing) takes, in bytes.
    pub max_text_bytes: usize,
    /// Largest record read from a file or stream (a CSV record, a JSON line), in bytes: the
    /// reader refuses a longer one after reading this much of it.
    pub max_record_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_field_bytes: 1 << 20,
            max_depth: MAX_JSON_DEPTH,
            max_policies: 10_000,
            max_text_bytes: 1 << 20,
            max_record_bytes: 64 << 20,
        }
    }
}
