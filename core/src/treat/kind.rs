//! The names of the treatments: one vocabulary for plans, summaries, audit and bindings.

use serde::{Deserialize, Serialize};

/// The kinds of treatment, most revealing first: the one vocabulary of plans, summaries,
/// audit events, the explain matrix and the bindings. The first six are also the disclosure
/// levels a policy can permit ([`crate::Level`]); `redact` and `drop` are what a field gets
/// when none is permitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TreatmentKind {
    /// The value as is.
    Clear,
    /// Part of the value, the rest masked.
    Mask,
    /// A date moved by the patient's offset.
    Shift,
    /// A keyed pseudonym.
    Pseudonymize,
    /// A coarser value (year, ZIP3, 90+, a bucket).
    Generalize,
    /// Free text with each detected identifier treated as its category is.
    Scrub,
    /// Null or a placeholder.
    Redact,
    /// The field removed (an empty column in tables).
    Drop,
}

impl TreatmentKind {
    /// Every kind, most revealing first.
    pub const ALL: [TreatmentKind; 8] = [
        TreatmentKind::Clear,
        TreatmentKind::Mask,
        TreatmentKind::Shift,
        TreatmentKind::Pseudonymize,
        TreatmentKind::Generalize,
        TreatmentKind::Scrub,
        TreatmentKind::Redact,
        TreatmentKind::Drop,
    ];

    /// The name used in plans, summaries, audit events and policies (`clear`, `mask`, ...).
    ///
    /// # Examples
    /// ```
    /// use phiguard::TreatmentKind;
    /// assert_eq!(TreatmentKind::Pseudonymize.name(), "pseudonymize");
    /// assert_eq!(TreatmentKind::from_name("scrub"), Some(TreatmentKind::Scrub));
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            TreatmentKind::Clear => "clear",
            TreatmentKind::Mask => "mask",
            TreatmentKind::Shift => "shift",
            TreatmentKind::Pseudonymize => "pseudonymize",
            TreatmentKind::Generalize => "generalize",
            TreatmentKind::Scrub => "scrub",
            TreatmentKind::Redact => "redact",
            TreatmentKind::Drop => "drop",
        }
    }

    /// The kind named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether applying it needs key material.
    pub const fn needs_key(self) -> bool {
        matches!(self, TreatmentKind::Shift | TreatmentKind::Pseudonymize)
    }
}

impl std::fmt::Display for TreatmentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
