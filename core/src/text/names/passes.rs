//! The passes after the runs are judged: a given name spoken to or speaking, the other
//! members of a list of names, and a found name's words wherever else they stand.

use super::lexicon::{ENGLISH, GIVEN, SURNAME};
use super::{NameFinder, name_span};
use crate::text::span::Span;
use crate::text::words::{LABEL_WORDS, ROLE_NOUNS};

impl NameFinder {
    /// A given name, even one that is also an English word, spoken to or speaking: a
    /// speaker's label at the start of a line (`John: You saved my life!`), or a vocative
    /// after a comma at the end of a sentence (`Remember me, Maria?`).
    pub(super) fn addressed(&self, text: &str, words: &[(usize, usize)], out: &mut Vec<Span>) {
        let mut added = Vec::new();
        for &(s, e) in words {
            let Some(word) = text.get(s..e) else {
                continue;
            };
            let lead = text.get(..s).unwrap_or("");
            let after = text.get(e..).unwrap_or("");
            let line_start = {
                let l = lead.trim_end_matches([' ', '\t']);
                l.is_empty() || l.ends_with('\n')
            };
            let speaker = line_start && after.starts_with(':');
            let vocative = lead.ends_with(", ") && after.starts_with(['!', '?']);
            if !(speaker || vocative) || word.chars().count() < 3 {
                continue;
            }
            let key = word.to_uppercase();
            if self.is_given(&key)
                && !self.stop.contains(key.as_str())
                && !LABEL_WORDS.contains(key.as_str())
                && !ROLE_NOUNS.contains(key.as_str())
                && !out.iter().any(|n| n.start < e && s < n.end)
            {
                added.push(name_span(s, e, "name-addressed", 0.55));
            }
        }
        out.extend(added);
    }

    /// In a list of single capitalised words (`Kónya, Becker and Vasquez`), the others are
    /// names too when one of them was found as a name, or when most of them are lexicon names
    /// that are not English words. Lists are read off the words `find` already matched.
    pub(super) fn lists(&self, text: &str, words: &[(usize, usize)], out: &mut Vec<Span>) {
        let mut added = Vec::new();
        let mut group: Vec<(usize, usize)> = Vec::new();
        for &w in words {
            // In a title-cased text the conjunction is a word itself; the gap holds it.
            if text.get(w.0..w.1) == Some("And") {
                continue;
            }
            let gap = group
                .last()
                .and_then(|&(_, e)| text.get(e..w.0))
                .map(list_gap);
            match gap {
                Some(Some(false)) => group.push(w),
                Some(Some(true)) => {
                    group.push(w);
                    self.judge_list(text, &group, out, &mut added);
                    group.clear();
                }
                _ => {
                    group.clear();
                    group.push(w);
                }
            }
        }
        out.extend(added);
    }

    /// Adds the words of the list `items` that no name covers yet, when the list is one of
    /// persons.
    fn judge_list(
        &self,
        text: &str,
        items: &[(usize, usize)],
        out: &[Span],
        added: &mut Vec<Span>,
    ) {
        let word = |&(s, e): &(usize, usize)| text.get(s..e).unwrap_or("");
        // Initials and prose words (`The`, `Hospital`) make it something else than a list
        // of persons.
        let keys: Vec<String> = items.iter().map(|w| word(w).to_uppercase()).collect();
        if keys
            .iter()
            .any(|k| k.chars().count() < 2 || self.stop.contains(k.as_str()))
        {
            return;
        }
        let found = |&(s, e): &(usize, usize)| {
            out.iter()
                .any(|n| n.category == "name" && n.start <= s && e <= n.end)
        };
        let in_lexicon = keys
            .iter()
            .filter(|k| {
                let f = self.flags(k);
                f & (GIVEN | SURNAME) != 0 && f & ENGLISH == 0
            })
            .count();
        if !(items.iter().any(found) || (in_lexicon >= 2 && 2 * in_lexicon >= items.len())) {
            return;
        }
        for w in items.iter().filter(|w| !found(w)) {
            added.push(name_span(w.0, w.1, "name-list", 0.5));
        }
    }

    /// A word of a name found anywhere in the text is that name wherever else it stands
    /// (`Jindřich Holinka ... Holinka was seen`): notes name a person in full once, then by
    /// surname or given name alone.
    pub(super) fn repeat(&self, text: &str, words: &[(usize, usize)], out: &mut Vec<Span>) {
        let mut names: Vec<(usize, usize)> = out
            .iter()
            .filter(|s| s.category == "name")
            .map(|s| (s.start, s.end))
            .collect();
        if names.is_empty() {
            return;
        }
        names.sort_unstable();
        let inside = |&(s, e): &(usize, usize)| {
            let k = names.partition_point(|&(ns, _)| ns <= s);
            k > 0 && names.get(k - 1).is_some_and(|&(_, ne)| e <= ne)
        };
        let word = |&(s, e): &(usize, usize)| text.get(s..e).unwrap_or("");
        // Words of at least three letters that are not prose (`The`, `Hospital`).
        // A text names few people, so a short list beats a hash set here.
        let mut known: Vec<&str> = words
            .iter()
            .filter(|w| inside(w))
            .map(word)
            .filter(|w| {
                w.chars().filter(|c| c.is_alphabetic()).count() >= 3
                    && !self.stop.contains(w.to_uppercase().as_str())
            })
            .collect();
        if known.is_empty() {
            return;
        }
        known.sort_unstable();
        known.dedup();
        for w in words {
            if known.contains(&word(w)) && !inside(w) {
                out.push(name_span(w.0, w.1, "name-repeat", 0.5));
            }
        }
    }
}

/// What joins two words of a list: `Some(false)` for a comma, `Some(true)` for the last
/// `and` or `&` (with or without a comma before it), `None` for anything else.
fn list_gap(gap: &str) -> Option<bool> {
    let rest = gap.strip_prefix(',');
    let spaced = rest.unwrap_or(gap);
    if !spaced.starts_with([' ', '\t']) {
        return None;
    }
    match spaced.trim_matches([' ', '\t']) {
        "" if rest.is_some() => Some(false),
        // `And`: texts without capitals are searched title-cased.
        "and" | "And" | "&" if spaced.ends_with([' ', '\t']) => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::list_gap;

    #[test]
    fn list_gaps_are_commas_then_a_last_and() {
        assert_eq!(list_gap(", "), Some(false));
        for last in [" and ", ", and ", " & ", " And "] {
            assert_eq!(list_gap(last), Some(true), "{last:?}");
        }
        for other in [" ", ",", " or ", " and", "; "] {
            assert_eq!(list_gap(other), None, "{other:?}");
        }
    }
}
