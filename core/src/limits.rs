//! Caps that keep memory and time bounded on hostile input. Every cap is checked before the
//! work it bounds, and going over one is an error naming the cap, never a truncation.

use crate::error::{Error, Result};

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

impl Limits {
    /// Every cap's name, as [`Limits::get`] and [`Limits::set`] take it (the field names).
    pub const NAMES: [&'static str; 5] = [
        "max_field_bytes",
        "max_depth",
        "max_policies",
        "max_text_bytes",
        "max_record_bytes",
    ];

    fn slot(&mut self, name: &str) -> Option<&mut usize> {
        Some(match name {
            "max_field_bytes" => &mut self.max_field_bytes,
            "max_depth" => &mut self.max_depth,
            "max_policies" => &mut self.max_policies,
            "max_text_bytes" => &mut self.max_text_bytes,
            "max_record_bytes" => &mut self.max_record_bytes,
            _ => return None,
        })
    }

    /// The cap named `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<usize> {
        let mut copy = *self;
        copy.slot(name).copied()
    }

    /// Every cap with its name, in [`Limits::NAMES`] order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        Self::NAMES
            .into_iter()
            .filter_map(|n| Some((n, self.get(n)?)))
    }

    /// Sets the cap named `name` (how the bindings take caps from a dict or an object).
    ///
    /// # Errors
    /// [`Error::Request`] for an unknown name (listing the known ones) or a zero: a cap of 0
    /// would refuse everything, which is never what was meant.
    ///
    /// # Examples
    /// ```
    /// let mut limits = phiguard::Limits::default();
    /// limits.set("max_depth", 8).unwrap();
    /// assert_eq!(limits.get("max_depth"), Some(8));
    /// assert_eq!(limits.set("max_rows", 5).unwrap_err().code(), "request");
    /// assert_eq!(limits.set("max_depth", 0).unwrap_err().code(), "request");
    /// ```
    pub fn set(&mut self, name: &str, value: usize) -> Result<()> {
        let slot = self.slot(name).ok_or_else(|| {
            Error::request(format!(
                "unknown limit `{name}` (known: {})",
                Self::NAMES.join(", ")
            ))
        })?;
        if value == 0 {
            return Err(Error::request(format!(
                "limit `{name}` must be a positive integer"
            )));
        }
        *slot = value;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reaches_its_own_field() {
        let mut l = Limits::default();
        for (i, name) in Limits::NAMES.iter().enumerate() {
            l.set(name, 1000 + i).unwrap();
        }
        let got: Vec<usize> = l.iter().map(|(_, v)| v).collect();
        assert_eq!(got, [1000, 1001, 1002, 1003, 1004]);
        assert_eq!(
            (
                l.max_field_bytes,
                l.max_depth,
                l.max_policies,
                l.max_text_bytes,
                l.max_record_bytes
            ),
            (1000, 1001, 1002, 1003, 1004)
        );
    }
}
