//! The words a name can be made of, found by hand, and what may join two of them into one
//! run.

use crate::text::words::NAME_PARTICLES;

/// The words a name can be made of, in order: a capitalised word (`\p{Lu}` then letters,
/// apostrophes and hyphens with at least one lower-case letter, then up to three ASCII digits:
/// `Andrew29`), or an initial (`\p{Lu}` alone, with or without its dot). It finds what the
/// regex `\p{Lu}[\p{L}'’-]*\p{Ll}[\p{L}'’-]*[0-9]{0,3}|\b\p{Lu}(?:\.|\b)` finds
/// (tested), by hand because names are looked up on every text and most bytes are skipped
/// at once.
pub(super) struct NameTokens<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> NameTokens<'t> {
    /// The words of `text`, from its start.
    pub(super) fn new(text: &'t str) -> Self {
        NameTokens { text, at: 0 }
    }
}

/// What a capitalised word runs on with: a letter, an apostrophe or a hyphen.
fn is_name_char(c: char) -> bool {
    c.is_alphabetic() || matches!(c, '\'' | '’' | '-')
}

impl Iterator for NameTokens<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let bytes = self.text.as_bytes();
        loop {
            // Skip to the next byte that may start an upper-case letter.
            let rest = bytes.get(self.at..)?;
            let skip = rest
                .iter()
                .position(|b| b.is_ascii_uppercase() || *b >= 0x80)?;
            let start = self.at + skip;
            let tail = self.text.get(start..)?;
            let mut chars = tail.chars();
            let first = chars.next()?;
            let after_first = start + first.len_utf8();
            if !first.is_uppercase() {
                self.at = after_first;
                continue;
            }
            // A capitalised word: the run of name characters after the capital, which must
            // hold a lower-case letter.
            let mut end = after_first;
            let mut lower = false;
            for c in chars.by_ref() {
                if !is_name_char(c) {
                    break;
                }
                lower |= c.is_lowercase();
                end += c.len_utf8();
            }
            if lower {
                let digits = self
                    .text
                    .get(end..)
                    .unwrap_or("")
                    .chars()
                    .take(3)
                    .take_while(char::is_ascii_digit)
                    .count();
                self.at = end + digits;
                return Some((start, end + digits));
            }
            // An initial (`J.`, `Á`): no letter or digit before the capital, then a dot or
            // no letter or digit after it.
            self.at = after_first;
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            let before = self.text.get(..start).and_then(|t| t.chars().next_back());
            if !word(before) {
                if bytes.get(after_first) == Some(&b'.') {
                    self.at = after_first + 1;
                    return Some((start, after_first + 1));
                }
                if !word(self.text.get(after_first..).and_then(|t| t.chars().next())) {
                    return Some((start, after_first));
                }
            }
        }
    }
}

/// What may stand between two words of one name: a space, or up to two particles.
pub(super) fn name_gap(gap: &str) -> bool {
    if gap == " " {
        return true;
    }
    let Some(inner) = gap.strip_prefix(' ').and_then(|g| g.strip_suffix(' ')) else {
        return false;
    };
    inner.len() <= 9
        && inner.split(' ').count() <= 2
        && inner.split(' ').all(|w| NAME_PARTICLES.contains(w))
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    #[test]
    fn one_space_or_up_to_two_particles_join_a_name() {
        for gap in [" ", " van ", " van de ", " ten "] {
            assert!(name_gap(gap), "{gap:?}");
        }
        for gap in ["  ", " of ", " van de der ", ", ", " Van "] {
            assert!(!name_gap(gap), "{gap:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn name_tokens_find_what_the_regex_finds(
            text in "[A-Za-z0-9 .,'’_\\-ÁéłØßΣσ\n]{0,40}"
        ) {
            let re = Regex::new(
                r"\p{Lu}[\p{L}'’-]*\p{Ll}[\p{L}'’-]*[0-9]{0,3}|\b\p{Lu}(?:\.|\b)",
            )
            .unwrap();
            let by_regex: Vec<(usize, usize)> =
                re.find_iter(&text).map(|m| (m.start(), m.end())).collect();
            let by_hand: Vec<(usize, usize)> = NameTokens::new(&text).collect();
            proptest::prop_assert_eq!(by_hand, by_regex);
        }
    }
}
