//! Free-text PHI detection: finds spans, never decides their treatment.
//!
//! Each detector is a pattern, an optional validator (checksums, calendar and numbering
//! rules) and, for identifiers that only context makes PHI (`MRN: 12345`), a capture group
//! naming the part to report. One [`regex::RegexSet`] pass tells which detectors can match a
//! text at all; only those then search it. All patterns run on the `regex` crate, whose
//! matching is linear in the input for every pattern (no catastrophic backtracking, so a
//! hostile note or a custom pattern cannot stall a pipeline). Overlapping candidates are
//! resolved by confidence, then length.
//!
//! The public way in is [`crate::Engine::detect`] (what is there) and
//! [`crate::View::scrub_text`] (what a principal may see). The detector runs the pipeline,
//! each step in its module:
//!
//! 1. `patterns`: the built-in detectors (pattern fragments and the spec table), with
//!    `config`'s custom ones from `detectors.toml`, checked by `validate`'s validators;
//!    `scan` runs them in one [`regex::RegexSet`] pass (a text without capitals is also read
//!    title-cased, for street names).
//!    `ids` adds identifiers by their label (`MRN:`, `Member ID`, `NHC:`, `Nº Col:`) in
//!    several languages, below every validated pattern.
//! 2. `address`: each street span widens over its address block (building number, unit,
//!    city, region, postcode, country lines).
//!    `places` then finds places below the state (a form label, a postcode, a gazetteer name
//!    in a context that makes it a place), and `facilities` the names of hospitals and
//!    clinics by their head nouns.
//! 3. `names`: runs of capitalised words judged by the name lexicons, the letter model and
//!    the words around them (`window`), then the names that lists, vocatives and repeats add.
//! 4. `record`: when the text is a note of a record, the record's own identifying values
//!    (names and their parts, ids, phones, streets, places) are found wherever they stand,
//!    above every detector.
//! 5. `resolve`: overlaps resolved (same category merged, then the best span kept, the
//!    loser keeping what no better span covers) and character offsets filled in.
//!
//! `words` holds the word lists those steps consult.

mod address;
mod config;
mod facilities;
mod ids;
mod names;
mod patterns;
mod places;
mod record;
mod resolve;
mod scan;
mod span;
mod validate;
mod window;
mod words;

pub(crate) use config::{CONTEXT_WINDOW, parse_detectors};
pub use record::{RecordTerms, record_category};
pub(crate) use scan::Detector;
pub use span::Span;

use crate::error::{Error, Location, Result};

/// Every category the built-in detectors report.
pub const CATEGORIES: &[&str] = &[
    "account",
    "age",
    "city",
    "county",
    "device_id",
    "email",
    "encounter_id",
    "facility",
    "event_date",
    "fax",
    "health_plan_id",
    "ip_address",
    "license",
    "mrn",
    "name",
    "passport",
    "patient_id",
    "phone",
    "ssn",
    "street",
    "url",
    "vehicle_id",
    "zip",
];

/// The built-in detector, compiled once per process.
///
/// # Errors
/// Only if a built-in pattern failed to compile (tested).
pub(crate) fn builtin() -> Result<&'static Detector> {
    static DETECTOR: std::sync::OnceLock<std::result::Result<Detector, String>> =
        std::sync::OnceLock::new();
    DETECTOR
        .get_or_init(|| Detector::builtin().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| Error::Policy {
            location: Location {
                source: "<detectors>".into(),
                line: 0,
                column: 0,
                field: None,
            },
            message: e.clone(),
        })
}
