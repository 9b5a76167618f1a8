//! Record-aware (contextual) scrubbing: the identifiers a record holds in its own fields
//! (names and their parts, MRN, phone, street, city) are found in the record's notes and
//! treated as their category, whatever the detectors make of the text around them.
//!
//! Detection is best effort on text it has never seen; a record's own values are known
//! exactly. A nurse's note that writes the patient's surname in lower case, an MRN without
//! its label or a phone number split oddly is still found when the same record holds it.
//!
//! Words (names, places, streets, alphanumeric ids) are matched with Aho-Corasick, ASCII
//! case-insensitively, on word boundaries; a one-word name or place that is also a common
//! word must be capitalised where it stands in a text with capitals (`Rose` the patient,
//! not `rose` the verb), while `quarrie` is found as written. Numbers
//! with seven digits or more (phones, MRNs, SSNs) are matched on their digits whatever
//! separates them (`(555) 123-4567`, `555.123.4567`, `+1 555 123 4567`).

use aho_corasick::{AhoCorasick, MatchKind};

use super::span::Span;
use super::words::{NAME_PARTICLES, ROLE_NOUNS};

/// Confidence of a record's own value: above every detector, since it is known, not guessed.
const CONFIDENCE: f32 = 0.99;

/// Fewest digits a number needs to be matched on its digits alone.
const MIN_DIGITS: usize = 7;

/// The text category a field of `category` gives its values in free text, if its values
/// are identifying there. Ages and coded values are not searched: `45` or `E11.9` would
/// be found everywhere.
///
/// # Examples
/// ```
/// use phiguard::text::record_category;
/// assert_eq!(record_category("relative_name"), Some("name"));
/// assert_eq!(record_category("birth_date"), Some("event_date"));
/// assert_eq!(record_category("diagnosis"), None);
/// ```
pub fn record_category(category: &str) -> Option<&'static str> {
    Some(match category {
        "name" | "relative_name" => "name",
        "birth_date" | "death_date" | "event_date" => "event_date",
        "age" => return None,
        c => super::CATEGORIES.iter().copied().find(|&k| k == c)?,
    })
}

/// How a term is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A name or place word: capitalised where it stands, in a text with capitals.
    Proper,
    /// An identifier, a date, an address line: as written, ASCII case aside.
    Literal,
}

/// A record's own identifying values, ready to be found in its free text.
///
/// Built once per record by the input paths (CSV rows, JSON and Arrow records) when a field
/// of the record is scrubbed; [`crate::View::scrub_text_in`] builds one from values the
/// caller gives.
#[derive(Debug, Default)]
pub struct RecordTerms {
    words: Option<AhoCorasick>,
    /// Per word pattern: its category and how it is matched.
    word_info: Vec<(&'static str, Kind)>,
    /// Digit strings of numbers, longest first, with their category.
    numbers: Vec<(String, &'static str)>,
}

impl RecordTerms {
    /// Terms from `(text category, value)` pairs (see [`record_category`]); values too short
    /// to identify anyone (one letter, a three-digit number) are left out.
    pub fn new<'v>(values: impl IntoIterator<Item = (&'static str, &'v str)>) -> Self {
        let mut patterns: Vec<String> = Vec::new();
        let mut word_info = Vec::new();
        let mut numbers: Vec<(String, &'static str)> = Vec::new();
        let mut add = |p: &str, cat: &'static str, kind: Kind| {
            if !patterns.iter().any(|q| q.eq_ignore_ascii_case(p)) {
                patterns.push(p.to_owned());
                word_info.push((cat, kind));
            }
        };
        for (cat, value) in values {
            let value = value.trim();
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= MIN_DIGITS && is_number(value) {
                if !numbers.iter().any(|(d, _)| *d == digits) {
                    numbers.push((digits, cat));
                }
                continue;
            }
            let proper = matches!(cat, "name" | "city" | "county" | "facility");
            let kind = if proper { Kind::Proper } else { Kind::Literal };
            if cat != "name" {
                // A number too short to be read on its digits identifies only at ZIP length.
                let alnum = value.chars().filter(|c| c.is_alphanumeric()).count();
                if alnum >= 3 && (digits.len() < alnum || digits.len() >= 5) {
                    add(value, cat, kind);
                }
                continue;
            }
            // A name is found whole and by its parts: each word, and each run of letters in
            // a word (`Sumiko254` holds `Sumiko`); honorifics and particles alone name no one.
            let mut parts = Vec::new();
            for token in value.split(|c: char| c.is_whitespace() || c == ',') {
                for part in std::iter::once(token).chain(token.split(|c: char| !c.is_alphabetic()))
                {
                    let part = part.trim_matches(|c: char| !c.is_alphanumeric());
                    if part.chars().count() >= 2 && !affix(part) {
                        parts.push(part);
                    }
                }
            }
            if !parts.is_empty() {
                add(value, cat, kind);
            }
            for part in parts {
                add(part, cat, kind);
            }
        }
        numbers.sort_by_key(|(d, _)| std::cmp::Reverse(d.len()));
        let words = (!patterns.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&patterns)
                    .ok()
            })
            .flatten();
        RecordTerms {
            words,
            word_info,
            numbers,
        }
    }

    /// Whether there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.words.is_none() && self.numbers.is_empty()
    }

    /// Adds a span for each place `text` holds one of the terms. `common` tells a one-word
    /// name or place that is also a common word (`rose`, `reading`): in a text with capitals
    /// it is found only where it is capitalised.
    pub(super) fn find(&self, text: &str, common: &dyn Fn(&str) -> bool, found: &mut Vec<Span>) {
        let cased = text.chars().any(char::is_uppercase);
        if let Some(ac) = &self.words {
            for m in ac.find_overlapping_iter(text) {
                let (start, end) = (m.start(), m.end());
                let Some(&(cat, kind)) = self.word_info.get(m.pattern().as_usize()) else {
                    continue;
                };
                if !bounded(text, start, end) {
                    continue;
                }
                let term = &text[start..end];
                if kind == Kind::Proper
                    && cased
                    && !term.chars().next().is_some_and(char::is_uppercase)
                    && !term.contains(char::is_whitespace)
                    && common(term)
                {
                    continue;
                }
                found.push(Span::found(start, end, cat, "record", CONFIDENCE));
            }
        }
        if !self.numbers.is_empty() {
            self.find_numbers(text, found);
        }
    }

    /// Numbers whose digits, read across single separators, equal a term's digits (a
    /// leading country code `1` aside).
    fn find_numbers(&self, text: &str, found: &mut Vec<Span>) {
        let groups = digit_groups(text);
        let longest = self.numbers.first().map_or(0, |(d, _)| d.len() + 1);
        let mut digits = String::new();
        let mut covered = 0;
        for (i, &(start, _)) in groups.iter().enumerate() {
            if start < covered {
                continue;
            }
            digits.clear();
            for (j, &(s, e)) in groups.iter().enumerate().skip(i) {
                if j > i {
                    let prev_end = groups.get(j - 1).map_or(0, |g| g.1);
                    if !joins(&text[prev_end..s]) {
                        break;
                    }
                }
                digits.push_str(&text[s..e]);
                if digits.len() > longest {
                    break;
                }
                let hit = self.numbers.iter().find(|(d, _)| {
                    *d == digits
                        || (digits.len() == d.len() + 1 && digits.strip_prefix('1') == Some(d))
                });
                if let Some(&(_, cat)) = hit {
                    // The parenthesis of an area code and the plus of a country code belong
                    // to the number.
                    let start = match text[..start].chars().next_back() {
                        Some(c @ ('(' | '+')) => start - c.len_utf8(),
                        _ => start,
                    };
                    found.push(Span::found(start, e, cat, "record", CONFIDENCE));
                    covered = e;
                    break;
                }
            }
        }
    }
}

/// Whether `value` is a number written with separators only (`555-123-4567`, `123 45 6789`).
fn is_number(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '/' | '+'))
}

/// Whether the text between two digit groups keeps them one number: one separator, or a
/// closing parenthesis and a space (`(555) 123`).
fn joins(between: &str) -> bool {
    matches!(
        between,
        " " | "-" | "." | "/" | ") " | ")" | " - " | "\u{a0}"
    )
}

/// Byte ranges of the maximal runs of ASCII digits in `text`.
fn digit_groups(text: &str) -> Vec<(usize, usize)> {
    let mut groups = Vec::new();
    let mut start = None;
    for (i, b) in text.bytes().enumerate() {
        match (b.is_ascii_digit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                groups.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        groups.push((s, text.len()));
    }
    groups
}

/// Whether `start..end` stands on word boundaries: the characters on each side are not of
/// the same class (letter, digit) as the term's edge, so `Ann` is not found in `Anna` nor
/// `1234567` in `12345678`, but `Sumiko` is in `Sumiko254`.
fn bounded(text: &str, start: usize, end: usize) -> bool {
    let same = |a: char, b: char| {
        (a.is_alphabetic() && b.is_alphabetic()) || (a.is_numeric() && b.is_numeric())
    };
    let (Some(first), Some(last)) = (
        text[start..end].chars().next(),
        text[..end].chars().next_back(),
    ) else {
        return false;
    };
    let before_ok = text[..start]
        .chars()
        .next_back()
        .is_none_or(|c| !same(c, first));
    let after_ok = text[end..].chars().next().is_none_or(|c| !same(c, last));
    before_ok && after_ok
}

/// Honorifics, degrees, generations and particles: parts of a name field that name no one.
fn affix(part: &str) -> bool {
    const AFFIXES: &[&str] = &[
        "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sr", "sra", "srta", "jr", "ii",
        "iii", "iv", "md", "phd", "rn", "np", "pa", "do", "dds", "herr", "frau", "mme", "mlle",
    ];
    let lower = part.to_lowercase();
    AFFIXES.contains(&lower.as_str())
        || NAME_PARTICLES.contains(lower.as_str())
        || ROLE_NOUNS.contains(part.to_uppercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(terms: &[(&'static str, &str)], text: &str) -> Vec<(String, &'static str)> {
        let t = RecordTerms::new(terms.iter().copied());
        let mut found = Vec::new();
        let common = |w: &str| ["rose", "reading"].contains(&w.to_lowercase().as_str());
        t.find(text, &common, &mut found);
        found.sort_by_key(|s| (s.start, s.end));
        found
            .iter()
            .map(|s| {
                let cat = match s.category {
                    std::borrow::Cow::Borrowed(c) => c,
                    std::borrow::Cow::Owned(_) => "",
                };
                (text[s.start..s.end].to_owned(), cat)
            })
            .collect()
    }

    #[test]
    fn names_by_their_parts_capitalised_where_they_stand() {
        let got = find(
            &[("name", "Rose Whitfield")],
            "Whitfield, seen today; the rash rose overnight. ROSE called back. Whitfields",
        );
        let texts: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["Whitfield", "ROSE"]);
    }

    #[test]
    fn lower_case_text_matches_any_case() {
        let got = find(
            &[("name", "Rose Whitfield")],
            "pt whitfield seen, rose from bed",
        );
        let texts: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["whitfield", "rose"]);
    }

    #[test]
    fn generated_names_with_digits_and_their_letters() {
        let got = find(
            &[("name", "Sumiko254 Larue605")],
            "Sumiko254 Larue605 is 60. Sumiko said",
        );
        let texts: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
        assert!(texts.contains(&"Sumiko254 Larue605"), "{texts:?}");
        assert!(texts.contains(&"Larue605"), "{texts:?}");
        assert_eq!(texts.last(), Some(&"Sumiko"));
    }

    #[test]
    fn numbers_by_their_digits() {
        let got = find(
            &[("phone", "555-123-4567"), ("mrn", "00482213")],
            "Call (555) 123-4567 or +1 555.123.4567; chart 00482213, not 004822134.",
        );
        assert_eq!(
            got,
            [
                ("(555) 123-4567".to_owned(), "phone"),
                ("+1 555.123.4567".to_owned(), "phone"),
                ("00482213".to_owned(), "mrn"),
            ]
        );
    }

    #[test]
    fn ids_and_streets_as_written_any_case() {
        let got = find(
            &[
                ("mrn", "QW-448812"),
                ("street", "12 Elm St"),
                ("city", "Reading"),
            ],
            "mrn qw-448812, lives at 12 elm st in Reading; reading glasses",
        );
        assert_eq!(
            got,
            [
                ("qw-448812".to_owned(), "mrn"),
                ("12 elm st".to_owned(), "street"),
                ("Reading".to_owned(), "city"),
            ]
        );
    }

    #[test]
    fn short_values_affixes_and_categories_left_out() {
        assert!(RecordTerms::new([("name", "Dr. J"), ("zip", "021")]).is_empty());
        assert_eq!(record_category("age"), None);
        assert_eq!(record_category("mrn"), Some("mrn"));
        assert_eq!(record_category("note"), None);
    }
}
