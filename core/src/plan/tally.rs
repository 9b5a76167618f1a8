//! Counting what happened to values, the same way for every reader and writer.

use serde::Serialize;

use crate::treat::TreatmentKind;

/// What happened to one value, as a summary counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Counted {
    /// Treated as its plan says.
    Treated(TreatmentKind),
    /// The plan's treatment did not fit the value (not a date, no patient id): redacted.
    Untreatable,
    /// A field the catalog does not know: redacted.
    UnknownField,
}

const SLOTS: usize = TreatmentKind::ALL.len() + 2;

impl Counted {
    fn slot(self) -> usize {
        match self {
            Counted::Treated(k) => k as usize,
            Counted::Untreatable => SLOTS - 2,
            Counted::UnknownField => SLOTS - 1,
        }
    }

    /// `clear`, `mask`, ... for treated values; `untreatable`, `unknown_field`.
    pub const fn name(self) -> &'static str {
        match self {
            Counted::Treated(k) => k.name(),
            Counted::Untreatable => "untreatable",
            Counted::UnknownField => "unknown_field",
        }
    }
}

/// Values counted per treatment (plus untreatable values and unknown fields): the one tally
/// of every reader and writer. It lists, and serializes as a map, only the names counted, in
/// name order.
///
/// # Examples
/// ```
/// use phiguard::{Counted, Tally, TreatmentKind};
/// let mut t = Tally::default();
/// t.add(Counted::Treated(TreatmentKind::Scrub), 2);
/// t.add(Counted::UnknownField, 1);
/// assert_eq!(t.iter().collect::<Vec<_>>(), [("scrub", 2), ("unknown_field", 1)]);
/// assert_eq!(t.get(Counted::Treated(TreatmentKind::Redact)), 0);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally([u64; SLOTS]);

impl std::fmt::Debug for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Every slot, in name order (how summaries have always listed them).
const BY_NAME: [Counted; SLOTS] = {
    use TreatmentKind as K;
    [
        Counted::Treated(K::Clear),
        Counted::Treated(K::Drop),
        Counted::Treated(K::Generalize),
        Counted::Treated(K::Mask),
        Counted::Treated(K::Pseudonymize),
        Counted::Treated(K::Redact),
        Counted::Treated(K::Scrub),
        Counted::Treated(K::Shift),
        Counted::UnknownField,
        Counted::Untreatable,
    ]
};

impl Tally {
    /// Counts `n` more values that met `what`.
    pub fn add(&mut self, what: Counted, n: u64) {
        if let Some(c) = self.0.get_mut(what.slot()) {
            *c += n;
        }
    }

    /// Adds another tally to this one.
    pub fn merge(&mut self, other: &Tally) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    /// The values counted as `what`.
    pub fn get(&self, what: Counted) -> u64 {
        self.0.get(what.slot()).copied().unwrap_or(0)
    }

    /// (name, count) of every name counted at least once, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        BY_NAME
            .iter()
            .filter_map(|c| self.0.get(c.slot()).map(|&n| (c.name(), n)))
            .filter(|(_, n)| *n > 0)
    }

    /// Values counted in all.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

impl Serialize for Tally {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}
