//! The one thing detection returns: a span of text, its category, the detector that found it
//! and how sure it was.

use std::borrow::Cow;

use serde::Serialize;

/// A detected PHI span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Span {
    /// Byte offset of the start (slice Rust strings with these).
    pub start: usize,
    /// Byte offset of the end (exclusive).
    pub end: usize,
    /// Unicode code point offset of the start.
    pub char_start: usize,
    /// Unicode code point offset of the end (exclusive).
    pub char_end: usize,
    /// PHI category (a category of the pack, e.g. `ssn`, `event_date`, `name`).
    pub category: Cow<'static, str>,
    /// Detector id (`ssn-dashed`, `phone-nanp`, or a custom detector's id).
    pub detector: Cow<'static, str>,
    /// Confidence in 0..=1.
    pub confidence: f32,
}

impl Span {
    /// A span of a built-in detector, with character offsets left for `resolve` to fill in.
    pub(super) fn found(
        start: usize,
        end: usize,
        category: &'static str,
        detector: &'static str,
        confidence: f32,
    ) -> Self {
        Span {
            start,
            end,
            char_start: 0,
            char_end: 0,
            category: Cow::Borrowed(category),
            detector: Cow::Borrowed(detector),
            confidence,
        }
    }
}
