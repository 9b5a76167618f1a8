//! Address blocks: a street span widened over the lines that belong to it (building number,
//! unit, city, state or province, postcode, country), and the prose test that keeps a
//! lower-case sentence from reading as a street.

use regex::Regex;

use super::patterns::UNIT_DESIGNATORS;
use super::span::Span;
use super::window::{window_after, window_before};
use super::words::{LOWER_PROSE, NAME_STOP, PLACE_WORDS};

/// Whether `s` holds a word of [`LOWER_PROSE`], in any case.
pub(super) fn holds_prose(s: &str) -> bool {
    s.split(|c: char| !c.is_alphabetic())
        .any(|w| LOWER_PROSE.contains(w.to_ascii_lowercase().as_str()))
}

/// Widens a street span to its whole address block: a building number before it, and after
/// it the unit, city, state or province, postcode and country lines (Safe Harbor removes all
/// geographic subdivisions smaller than a state).
pub(super) struct AddressBlock {
    /// One or two building numbers just before a street (`704 1436 Redbud Drive`).
    head: Regex,
    /// One address line after the block so far, by kind (unit, postcode, region, place...).
    segment: Regex,
    /// What may follow a place name in an address block.
    place_end: Regex,
    /// A span that starts at a unit designator (`Apt. 5`)...
    unit: Regex,
    /// ...takes the street line before it (`Jagerij 64`, `23100 Ilichova 23`)...
    line_before: Regex,
    /// ...or the building number and street name before it on its line
    /// (`at 17224 Þverbraut 66 Suite 991`)...
    inline_before: Regex,
    /// ...or the end of the line above from a building number on (`Meet me at 5100 Quadra
    /// 104\n Suite 845`).
    tail_before: Regex,
}

/// A quoting or bullet mark at the start of a line, which an address block reads through
/// (`> Apt. 342` in a quoted e-mail).
const QUOTE: &str = r"(?:(?:>+|\?{2,})[ \t]*)?";

/// The most address lines that join a street.
const ADDRESS_SEGMENTS: usize = 6;
/// The bytes one address line may span (and a street line taken before a unit).
const ADDRESS_SEGMENT_BYTES: usize = 64;

impl AddressBlock {
    /// Compiles the block's patterns (once per detector).
    pub(super) fn load() -> std::result::Result<Self, regex::Error> {
        Ok(AddressBlock {
            head: Regex::new(r"(?:^|[^\p{L}\p{N}])((?:\d{1,6}[ \t]+){1,2})$")?,
            unit: Regex::new(&format!(r"^(?i:{UNIT_DESIGNATORS})\b"))?,
            place_end: Regex::new(r"^[ \t]*(?:$|[,;)\r\n]|[.!?](?:\s|$)|\d{3}|[A-Z]{1,2}[\d-])")?,
            line_before: Regex::new(&format!(
                r"(?:^|\n)[ \t]*{QUOTE}((?:[\p{{L}}'’.-]+|\d{{1,6}}[A-Za-z]?)(?:[ \t]+(?:[\p{{L}}'’.-]+|\d{{1,6}}[A-Za-z]?)){{1,5}})[ \t]*,?[ \t]*(?:\n[ \t]*{QUOTE})?$",
            ))?,
            inline_before: Regex::new(
                r"(?:^|[^\p{L}\p{N}\n])(\d{1,6}[ \t]+(?:[\p{L}'’.-]+[ \t]+){1,3})$",
            )?,
            tail_before: Regex::new(&format!(
                r"(?:^|[^\p{{L}}\p{{N}}\n])(\d{{1,6}}[A-Za-z]?(?:[ \t]+(?:[\p{{L}}'’.-]+|\d{{1,6}}[A-Za-z]?)){{1,4}})[ \t]*,?[ \t]*\n[ \t]*{QUOTE}$",
            ))?,
            // One address line: after a comma or line break (`strong`), or a space.
            segment: Regex::new(&format!(
                r"^(?:(?P<strong>[ \t]*\.?[ \t]*(?:(?:,|\n[ \t]*(?:>+|\?{{2,}})?)[ \t]*)+)|(?P<dot>[ \t]*\.)?[ \t]+)(?:(?P<missing>(?i:nan|n/a|none|null))|(?P<unit>(?i:{UNIT_DESIGNATORS}|floor|fl|room|rm|bldg|building|level|appartamento|interno|scala|piano|piso|depto|dpto|interior|edif|bloco|andar|lote)\b\.?[ \t]*#?[ \t]*[A-Za-z]?\d{{1,5}}[A-Za-z]?|RD[ \t]\d{{1,3}}|(?:Bl|Sc|Ap|Et)\.[ \t]*\d{{1,4}})|(?P<post>[A-Z]{{1,2}}-\d{{4,5}}|[AC-FHKNPRTV-Y]\d{{2}}[ \t]?[AC-FHKNPRTV-Y\d]{{4}}|\d{{5}}-\d{{3,4}}|\d{{4}}-\d{{3}}|\d{{2}}-\d{{3}}|\d{{3}}[ \t]\d{{2}}|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d|\d{{3,6}}|\d{{4}}[ \t]?[A-Z]{{2}}|[A-Z]{{1,2}}\d[A-Z\d]?[ \t]?\d[A-Z]{{2}})|(?P<region>\d{{1,2}})|(?P<caps>[\p{{Lu}}∆]{{2,}}(?:['’-][\p{{Lu}}∆]+)*(?:[ \t]+[\p{{Lu}}∆]+(?:['’-][\p{{Lu}}∆]+)*){{0,2}})|(?P<place>\p{{Lu}}[\p{{L}}'’.-]*(?:[ \t]+(?:(?:de|del|la|le|las|los|el|am|an|der|im|di|da|do|dos|du|sur|upon|on|u|v|z|na|nad|pod|ob|bei|lui)[ \t]+){{0,2}}\p{{Lu}}[\p{{L}}'’.-]*){{0,3}}))(?:[ \t]*\(\p{{Lu}}\p{{L}}*\)|\b)",
            ))?,
        })
    }

    /// Widens `span` (a street) over the rest of its address block, within `floor..limit`
    /// (the neighbouring spans of other categories).
    pub(super) fn widen(&self, text: &str, span: &mut Span, floor: usize, limit: usize) {
        let unit = self
            .unit
            .is_match(text.get(span.start..span.end).unwrap_or(""));
        let before = window_before(text, span.start, 16);
        if let Some(m) = self.head.captures(before).and_then(|c| c.get(1)) {
            span.start = span.start - before.len() + m.start();
        }
        if unit {
            self.take_street_line(text, span, floor);
        }
        let mut end = span.end;
        let mut after_unit = unit;
        let mut after_post = false;
        for _ in 0..ADDRESS_SEGMENTS {
            let Some(c) = self
                .segment
                .captures(window_after(text, end, ADDRESS_SEGMENT_BYTES))
            else {
                break;
            };
            let strong = c.name("strong").is_some();
            // Only a unit follows a house number's period (`Belgrád rkp. 18. Apt. 417`);
            // anything else after a period starts a sentence.
            if c.name("dot").is_some() && c.name("unit").is_none() {
                break;
            }
            let Some(whole) = c.get(0) else {
                break;
            };
            if end + whole.end() > limit {
                break;
            }
            // A place name needs a comma or line break before it, or to follow a unit or a
            // postcode on its line (`Apt. 615 Moosleerau`, `4943 Traismauer`), or to end in a
            // country (`BIBER Upper Austria`),
            // and must not be prose (`..., She`, `\nPatient`).
            if let Some(p) = c.name("place") {
                let word = |w: Option<&str>| w.unwrap_or("").to_uppercase();
                let first = word(p.as_str().split([' ', '\t']).next());
                let country = || {
                    let last = word(p.as_str().rsplit([' ', '\t']).next());
                    PLACE_WORDS.contains(last.as_str())
                };
                // On a line of its own, a place ends its line or its comma-separated part,
                // or a postcode follows it (`\nNuuk, 3900`); a word that goes on into a
                // sentence there is prose (`\nFamily lives on`, `\nAddress:`).
                let rest = text.get(end + whole.end()..).unwrap_or("");
                let new_line = c
                    .name("strong")
                    .is_some_and(|sep| sep.as_str().contains('\n'));
                if !(strong || after_unit || after_post || country())
                    || NAME_STOP.contains(first.as_str())
                    || (new_line && !self.place_end.is_match(rest))
                    || holds_prose(p.as_str())
                {
                    break;
                }
            }
            // A one- or two-digit region code (`, 32`) stands alone between separators.
            if c.name("region").is_some() {
                let rest = text.get(end + whole.end()..).unwrap_or("");
                let next = rest.trim_start_matches([' ', '\t']).chars().next();
                if !strong || !matches!(next, None | Some('\n' | ',')) {
                    break;
                }
            }
            after_unit = c.name("unit").is_some();
            after_post = c.name("post").is_some();
            end += whole.end();
        }
        span.end = end;
    }

    /// Moves the start of a span that begins at a unit designator back over the street line
    /// before it: the rest of its own line, or the line above, when that is a short run of
    /// words and numbers with at least one number and no prose word.
    fn take_street_line(&self, text: &str, span: &mut Span, floor: usize) {
        let before = window_before(text, span.start, ADDRESS_SEGMENT_BYTES);
        let from = span.start - before.len();
        // A short run of words and numbers, with a number and no prose word, after `floor`.
        let street = |m: regex::Match<'_>| {
            let mut has_number = false;
            for token in m.as_str().split_whitespace() {
                if token.starts_with(|c: char| c.is_ascii_digit()) {
                    has_number = true;
                } else if NAME_STOP.contains(token.to_uppercase().as_str()) {
                    return None;
                }
            }
            let start = from + m.start();
            (has_number && start >= floor).then_some(start)
        };
        let line = self.line_before.captures(before).and_then(|c| {
            let (whole, m) = (c.get(0)?, c.get(1)?);
            // A match at the window's edge must also be at a line start in `text`.
            let cut = whole.start() == 0
                && !before.starts_with('\n')
                && from > 0
                && text.as_bytes().get(from - 1) != Some(&b'\n');
            if cut { None } else { street(m) }
        });
        let start = line
            .or_else(|| street(self.inline_before.captures(before)?.get(1)?))
            .or_else(|| {
                let m = self.tail_before.captures(before)?.get(1)?;
                // A capitalised street name, not a count (`3 times`) or numbers (`BP 120 80`).
                let named = m.as_str().split_whitespace().any(|t| {
                    t.starts_with(char::is_uppercase)
                        && t.chars().count() > 1
                        && t.chars().all(|c| c.is_alphabetic() || "'’.-".contains(c))
                });
                street(m).filter(|_| named)
            });
        if let Some(start) = start {
            span.start = start;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::holds_prose;

    #[test]
    fn prose_words_count_in_any_case_and_whole_words_only() {
        assert!(holds_prose("3 Miles In The Park"));
        assert!(holds_prose("12 main st and"));
        assert!(!holds_prose("3911 Fourth Avenue Suite 112"));
        // `Theodor` holds `the`, but not as a word.
        assert!(!holds_prose("Theodor-Körner-Straße 5"));
    }
}
