//! The detector: built-in and custom specs compiled into one [`RegexSet`] and their
//! regexes, and the pipeline that runs them, widens streets, finds names and resolves.

use std::borrow::Cow;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use super::address::{AddressBlock, holds_prose};
use super::config::{CustomDetector, PATTERN_SIZE_LIMIT, builtin_validator};
use super::facilities::FacilityFinder;
use super::ids::IdFinder;
use super::names::NameFinder;
use super::patterns::{Spec, specs};
use super::places::PlaceFinder;
use super::record::RecordTerms;
use super::resolve::{push_span, resolve};
use super::span::Span;
use crate::error::{Error, Location, Result};

/// The detectors, compiled once.
pub(crate) struct Detector {
    set: RegexSet,
    regexes: Vec<Regex>,
    specs: Vec<Spec>,
    names: NameFinder,
    address: AddressBlock,
    ids: IdFinder,
    places: PlaceFinder,
    facilities: FacilityFinder,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field(
                "detectors",
                &self.specs.iter().map(|s| s.id.as_ref()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Detector {
    /// The built-in detectors.
    ///
    /// # Errors
    /// Only if a built-in pattern failed to compile (tested).
    ///
    /// # Examples
    pub(crate) fn builtin() -> Result<Self> {
        Self::with_custom(&[])
    }

    /// The built-in detectors plus custom ones (checked by [`parse_detectors`]).
    ///
    /// [`parse_detectors`]: super::parse_detectors
    ///
    /// # Errors
    /// [`Error::Policy`] when the combined patterns exceed the size limits (each custom
    /// pattern was already checked on its own by [`parse_detectors`]).
    pub(crate) fn with_custom(custom: &[CustomDetector]) -> Result<Self> {
        let mut all = Vec::new();
        let mut patterns = Vec::new();
        // The built-in patterns write their word boundaries ASCII already (see `specs`, and
        // the test there); custom patterns keep what their author wrote.
        for (spec, pattern) in specs() {
            patterns.push(pattern);
            all.push(spec);
        }
        let compile_err = |e: regex::Error| Error::Policy {
            location: Location {
                source: "<detectors>".into(),
                line: 0,
                column: 0,
                field: None,
            },
            message: format!("detector pattern does not compile: {e}"),
        };
        for d in custom {
            patterns.push(d.pattern.clone());
            all.push(Spec {
                id: Cow::Owned(d.id.clone()),
                category: Cow::Owned(d.category.clone()),
                group: d.group,
                validate: d.validator.as_deref().and_then(builtin_validator),
                confidence: d.confidence,
                context: d.context.iter().map(|w| w.to_lowercase()).collect(),
            });
        }
        let set = RegexSetBuilder::new(&patterns)
            .size_limit(PATTERN_SIZE_LIMIT * 8)
            .dfa_size_limit(PATTERN_SIZE_LIMIT * 8)
            .build()
            .map_err(compile_err)?;
        let regexes = patterns
            .iter()
            .map(|p| {
                RegexBuilder::new(p)
                    .size_limit(PATTERN_SIZE_LIMIT)
                    .dfa_size_limit(PATTERN_SIZE_LIMIT)
                    .build()
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(compile_err)?;
        let names = NameFinder::load().map_err(compile_err)?;
        let address = AddressBlock::load().map_err(compile_err)?;
        let ids = IdFinder::load().map_err(compile_err)?;
        let places = PlaceFinder::load().map_err(compile_err)?;
        let facilities = FacilityFinder::load().map_err(compile_err)?;
        Ok(Detector {
            set,
            regexes,
            specs: all,
            names,
            address,
            ids,
            places,
            facilities,
        })
    }

    /// Finds PHI spans in `text`, non-overlapping, in order.
    pub(crate) fn detect(&self, text: &str) -> Vec<Span> {
        self.detect_in(text, None)
    }

    /// Finds PHI spans in `text`, a note of a record whose own identifying values are
    /// `record` (see [`RecordTerms`]): those are found wherever they stand.
    pub(crate) fn detect_in(&self, text: &str, record: Option<&RecordTerms>) -> Vec<Span> {
        let cased = text.chars().any(char::is_uppercase);
        // Without capitals, street names are read from a title-cased copy with the same byte
        // offsets (`3911 fourth avenue` as `3911 Fourth Avenue`); prose words keep a
        // lower-case sentence (`walked 3 miles in the park`) out.
        let titled = (!cased).then(|| title_case(text));
        let mut found: Vec<Span> = Vec::new();
        self.scan(text, |spec| cased || spec.category != "street", &mut found);
        if let Some(titled) = &titled {
            let mut streets = Vec::new();
            self.scan(titled, |spec| spec.category == "street", &mut streets);
            found.extend(
                streets
                    .into_iter()
                    .filter(|s| !text.get(s.start..s.end).is_some_and(holds_prose)),
            );
        }
        self.ids.find(text, &mut found);
        let street_text = titled.as_deref().unwrap_or(text);
        // An address block stops where another category's span starts (`KS 67202`: the
        // ZIP detector treats the ZIP as its category says).
        found.sort_by_key(|s| s.start);
        let starts: Vec<(usize, bool)> = found
            .iter()
            .map(|s| (s.start, s.category == "street"))
            .collect();
        let mut floor = 0;
        for span in &mut found {
            if span.category == "street" {
                let next = starts.partition_point(|&(st, _)| st < span.end);
                let limit = starts
                    .get(next..)
                    .and_then(|rest| rest.iter().find(|&&(_, street)| !street))
                    .map_or(text.len(), |&(st, _)| st);
                self.address.widen(street_text, span, floor, limit);
            } else {
                floor = floor.max(span.end);
            }
        }
        // After the widening: an address block holds its city, region and postcode whole.
        self.places.find(text, &mut found);
        self.facilities.find(text, &mut found);
        match &titled {
            None => self.names.find(text, true, &mut found),
            // Without capitals, case says nothing: look for lexicon names in the title-cased
            // copy.
            Some(titled) => self.names.find(titled, false, &mut found),
        }
        found.retain(|s| s.category != "name" || !form_label(text, s.start, s.end));
        if let Some(record) = record {
            let common = |word: &str| {
                self.names.is_english_word(&word.to_uppercase())
                    || super::places::is_place_word(&title_word(word))
                    || super::words::LOWER_PROSE.contains(word.to_lowercase().as_str())
            };
            record.find(text, &common, &mut found);
        }
        resolve(found, text)
    }

    /// Runs the pattern detectors that `wanted` selects over `text`, one pass for all.
    fn scan(&self, text: &str, wanted: impl Fn(&Spec) -> bool, found: &mut Vec<Span>) {
        for i in self.set.matches(text).iter() {
            let (Some(spec), Some(re)) = (self.specs.get(i), self.regexes.get(i)) else {
                continue;
            };
            if !wanted(spec) {
                continue;
            }
            if spec.group == 0 {
                for m in re.find_iter(text) {
                    push_span(found, spec, text, m.start(), m.as_str());
                }
            } else {
                for c in re.captures_iter(text) {
                    if let Some(m) = c.get(spec.group) {
                        push_span(found, spec, text, m.start(), m.as_str());
                    }
                }
            }
        }
    }
}

/// `word` with its first letter upper case and the rest lower case (`reading` -> `Reading`).
fn title_word(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|f| {
            f.to_uppercase()
                .chain(c.flat_map(char::to_lowercase))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the name candidate at `start..end` is the label of a form line (`Fecha de
/// nacimiento: 03/03/1946`, `Localidad/ Provincia: Madrid`): at the start of its line or
/// after other labels ending in `/`, followed by at most two lower-case words and the colon.
fn form_label(text: &str, start: usize, end: usize) -> bool {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..start];
    if before.contains(':')
        || !before
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '\t' | '/'))
    {
        return false;
    }
    // The colon must stand on the candidate's line: look no further than its end, so a
    // note of many names costs one pass over each line, not over the rest of the text.
    let after = &text[end..];
    let after = after.find('\n').map_or(after, |n| &after[..n]);
    let Some(colon) = after.find(':') else {
        return false;
    };
    let between = &after[..colon];
    // `Ella: What a wife.` alone on its line is a speaker, a name: a label has lower-case
    // words after the capitalised one (`Fecha de nacimiento:`) or other label words before.
    // Before it: nothing, or other labels ending in `/` (`Localidad/ Provincia:`); a
    // sentence (`Kevin had given Alma his address:`) is not a label.
    let before = before.trim();
    let label_list = before.ends_with('/');
    if !before.is_empty() && !label_list {
        return false;
    }
    let words: Vec<&str> = between.split_whitespace().collect();
    // The span itself may hold the label's lower-case words (`Fecha de Ingreso:`): a name's
    // particles stand between two names, a label's between two nouns, but a line that starts
    // with it and ends it with a colon is a label either way.
    let inner_lower = text[start..end]
        .split_whitespace()
        .skip(1)
        .any(|w| w.chars().all(char::is_lowercase));
    (label_list || !words.is_empty() || (inner_lower && words.is_empty() && between.is_empty()))
        && words.len() <= 2
        && !between.contains('\n')
        && words
            .iter()
            .all(|w| w.chars().all(|c| c.is_lowercase() || c == '/'))
}

/// `text` with the first letter of each word upper-cased where that keeps its UTF-8 length,
/// so byte offsets into the copy are offsets into `text`.
fn title_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word_start = true;
    for c in text.chars() {
        let mut upper = c.to_uppercase();
        match (word_start, upper.next(), upper.next()) {
            (true, Some(u), None) if u.len_utf8() == c.len_utf8() => out.push(u),
            _ => out.push(c),
        }
        word_start = !(c.is_alphanumeric() || c == '\'' || c == '’');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_input_stays_linear() {
        let d = Detector::builtin().unwrap();
        let t0 = std::time::Instant::now();
        let junk = "1-".repeat(200_000) + &"a@".repeat(200_000) + &"Dr. A ".repeat(50_000);
        let _ = d.detect(&junk);
        // Linear matching: well under a second for ~1 MB even in debug builds.
        assert!(t0.elapsed().as_secs() < 20, "{:?}", t0.elapsed());
    }
}
