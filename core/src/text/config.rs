//! Custom detectors from configuration (`policies/detectors.toml`): their fields, parsing and
//! checking, and the validators a configuration may name.

use regex::RegexBuilder;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::validate::{Validator, digits_of, luhn};
use crate::error::{Error, Location, Result};

/// How far before a match a context word may stand, in bytes.
pub const CONTEXT_WINDOW: usize = 48;

/// Compiled-program limit for any one pattern: hostile configuration gets an error, not a
/// process that eats memory.
pub(super) const PATTERN_SIZE_LIMIT: usize = 2 << 20;

/// A detector from configuration (`policies/detectors.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CustomDetector {
    /// Unique id, reported with each span.
    pub id: String,
    /// Pack category of what it finds.
    pub category: String,
    /// Regular expression (`regex` crate syntax: linear time, no backreferences).
    pub pattern: String,
    /// Capture group holding the PHI (0: the whole match).
    #[serde(default)]
    pub group: usize,
    /// Words (case-insensitive) one of which must stand shortly before a match.
    #[serde(default)]
    pub context: Vec<String>,
    /// `luhn` to require a Luhn check digit over the digits found.
    #[serde(default)]
    pub validator: Option<String>,
    /// Confidence in 0..=1 (higher wins overlaps).
    #[serde(default = "default_confidence")]
    pub confidence: f32,
}

/// A custom detector's confidence when its configuration gives none.
fn default_confidence() -> f32 {
    0.9
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DetectorsFile {
    #[serde(default)]
    detector: Vec<Spanned<CustomDetector>>,
}

/// The validator a configuration names (`luhn`: two or more digits with a Luhn check digit).
pub(super) fn builtin_validator(name: &str) -> Option<Validator> {
    match name {
        "luhn" => Some(|s: &str| luhn(&digits_of(s)) && digits_of(s).len() >= 2),
        _ => None,
    }
}

/// Parses and checks custom detectors: known category, unique id, a pattern that compiles
/// within the size limit, a group the pattern has, a known validator, confidence in 0..=1.
///
/// # Errors
/// [`Error::Catalog`] with line and column, naming the detector.
pub fn parse_detectors(
    text: &str,
    source: &str,
    is_category: impl Fn(&str) -> bool,
) -> Result<Vec<CustomDetector>> {
    let located = |offset: usize, message: String| Error::Catalog {
        location: Location::from_offset(source, text, offset),
        message,
    };
    let file: DetectorsFile = toml::from_str(text).map_err(|e| {
        located(
            e.span().map_or(0, |s| s.start),
            e.message().trim_end().to_owned(),
        )
    })?;
    let mut out: Vec<CustomDetector> = Vec::new();
    for spanned in file.detector {
        let at = spanned.span().start;
        let d = spanned.into_inner();
        let err = |m: String| located(at, format!("detector `{}`: {m}", d.id));
        if d.id.is_empty() || out.iter().any(|o| o.id == d.id) {
            return Err(err("the id is empty or used twice".into()));
        }
        if !is_category(&d.category) {
            return Err(err(format!("unknown category `{}`", d.category)));
        }
        let re = RegexBuilder::new(&d.pattern)
            .size_limit(PATTERN_SIZE_LIMIT)
            .dfa_size_limit(PATTERN_SIZE_LIMIT)
            .build()
            .map_err(|e| err(format!("pattern does not compile: {e}")))?;
        if d.group >= re.captures_len() {
            return Err(err(format!("the pattern has no capture group {}", d.group)));
        }
        if let Some(v) = &d.validator
            && builtin_validator(v).is_none()
        {
            return Err(err(format!("unknown validator `{v}` (known: luhn)")));
        }
        if !(0.0..=1.0).contains(&d.confidence) {
            return Err(err("confidence must be within 0..=1".into()));
        }
        out.push(d);
    }
    Ok(out)
}
