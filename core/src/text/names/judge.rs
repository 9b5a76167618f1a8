//! Judging a run of capitalised words: which of them a name anchors (a lexicon name, the
//! shape `Word X. Word`, or a name's letters where the words around allow it), and how far
//! the name reaches.

use super::lexicon::{ENGLISH, GIVEN, SURNAME};
use super::shape::{
    SHAPE_ALONE, SHAPE_CUED, SHAPE_JOIN, SHAPE_PAIR, SHAPE_PAIR_SUM, SHAPE_SCALE, SHAPE_START,
};
use super::{NameFinder, name_span};
use crate::text::span::Span;
use crate::text::window::{
    after_lowercase, after_number, in_heading, mid_sentence, window_after, window_before,
};
use crate::text::words::{DRUG_STEMS, LABEL_WORDS, ROLE_NOUNS};

/// A capitalised word of a run, as the lexicons see it.
struct Token {
    /// Upper case, without trailing digits (`Andrew29`).
    key: String,
    /// A capital alone, with or without its dot.
    initial: bool,
    /// A word that never extends a name (`The`, `Hospital`, a place).
    stop: bool,
    /// Lexicon flags of `key`.
    flags: u8,
}

impl NameFinder {
    /// Adds the names that the run of words `run` (byte ranges of `text`) holds to `out`.
    pub(super) fn judge(
        &self,
        text: &str,
        run: &[(usize, usize)],
        cased: bool,
        out: &mut Vec<Span>,
    ) {
        let mut tokens: Vec<Token> = run
            .iter()
            .map(|&(s, e)| {
                let w = text.get(s..e).unwrap_or("");
                let trimmed = w.trim_end_matches(|c: char| c.is_ascii_digit());
                let key = if trimmed.is_ascii() {
                    trimmed.to_ascii_uppercase()
                } else {
                    trimmed.to_uppercase()
                };
                let mut c = w.chars();
                let initial =
                    c.next().is_some_and(char::is_uppercase) && matches!(c.as_str(), "" | ".");
                let mut stop = self.stop.contains(key.as_str());
                let mut flags = self.flags(&key);
                // A lexicon name with digits glued on (`Rocky100`, `An125`, as generated
                // records write names) is no English word.
                if trimmed.len() < w.len() && flags & (GIVEN | SURNAME) != 0 {
                    flags &= !ENGLISH;
                    stop = false;
                }
                Token {
                    key,
                    initial,
                    stop,
                    flags,
                }
            })
            .collect();
        // `Juliusz A Kwiatkowski`: the article `A` between two words is a middle initial.
        for i in 1..tokens.len().saturating_sub(1) {
            let word = |t: Option<&Token>| t.is_some_and(|t| !t.initial && !t.stop);
            if tokens.get(i).is_some_and(|t| t.key == "A")
                && word(tokens.get(i - 1))
                && word(tokens.get(i + 1))
                && (cased
                    || [i - 1, i + 1].iter().all(|&k| {
                        tokens
                            .get(k)
                            .is_some_and(|t| t.flags & (GIVEN | SURNAME) != 0)
                    }))
                && let Some(t) = tokens.get_mut(i)
            {
                t.stop = false;
            }
        }
        let tok = |i: usize| tokens.get(i);
        let key = |i: usize| tok(i).map_or("", |t| t.key.as_str());
        let initial = |i: usize| tok(i).is_some_and(|t| t.initial);
        let stop = |i: usize| tok(i).is_some_and(|t| t.stop);
        let flags_of = |i: usize| tok(i).map_or(0, |t| t.flags);
        let is_word = |i: usize| tok(i).is_some_and(|t| !t.initial && !t.stop);
        // An unknown word of `min_chars` letters or more that may be a name and whose letters
        // score `threshold` or more.
        let lettered = |t: usize, min_chars: usize, threshold: i32| {
            flags_of(t) == 0
                && is_word(t)
                && key(t).chars().count() >= min_chars
                && plausible(key(t))
                && self.shape.score(key(t)) >= threshold
        };
        let mut i = 0;
        while i < run.len() {
            let k = key(i);
            let flags = flags_of(i);
            let strong = !initial(i) && !stop(i) && flags & ENGLISH == 0;
            let first = strong && flags & GIVEN != 0;
            let last = strong && flags & SURNAME != 0;
            // Without capitals, two-letter words (`ok`, `al`) are too often not names.
            let anchored = strong && (first || last) && (cased || k.chars().count() > 2);
            // A given name that is also an English word (`Frank`, `Brad`), capitalised alone
            // right after a lower-case word: prose writes the word in lower case there. Not
            // a place with its number (`moved to Ward 7`) or a role.
            let anchored = anchored
                || (cased
                    && run.len() == 1
                    && !initial(i)
                    && !stop(i)
                    && flags & GIVEN != 0
                    && k.chars().count() >= 3
                    && !ROLE_NOUNS.contains(&k)
                    && !LABEL_WORDS.contains(&k)
                    && titled(text, run.get(i))
                    && run.get(i).is_some_and(|r| {
                        after_lowercase(text, r.0)
                            && !in_heading(text, r.0)
                            && !window_after(text, r.1, 4)
                                .trim_start_matches([' ', '\t', '#'])
                                .starts_with(|c: char| c.is_ascii_digit())
                    }));
            // `Faina D. Yefremova`: a middle initial between two words is a name's shape.
            let shaped = cased
                && !anchored
                && is_word(i)
                && i + 2 < run.len()
                && initial(i + 1)
                && is_word(i + 2);
            // A word no lexicon knows, with a name's letters: mid-sentence alone
            // (`met Usamov`), or with another such word (`Tomomi Nishiyama`).
            let predicted = cased
                && !anchored
                && !shaped
                && is_word(i)
                && flags == 0
                && k.chars().count() >= 4
                && {
                    // Cheap tests first: most capitalised words fail them.
                    // Alone: inside a sentence, or after another capitalised word
                    // (`ex-Zombie Ryhänen`, `Mr Usamov`).
                    let alone = i > 0 || mid_sentence(text, run.first().map_or(0, |r| r.0));
                    let pair = i + 1 < run.len()
                        && is_word(i + 1)
                        && flags_of(i + 1) == 0
                        && key(i + 1).chars().count() >= 4;
                    // A lone word at a sentence's start needs a surer score: every
                    // sentence starts with a capital.
                    let start = !alone && !pair && run.len() == 1 && k.chars().count() >= 5;
                    (alone || pair || start)
                        && titled(text, run.get(i))
                        && !in_heading(text, run.first().map_or(0, |r| r.0))
                        && !after_number(text, run.get(i).map_or(0, |r| r.0))
                        && {
                            let score = self.shape.score(k);
                            (alone && score >= SHAPE_ALONE)
                                || (start && score >= SHAPE_START)
                                || (pair && {
                                    let next = key(i + 1);
                                    let next = if plausible(next) {
                                        self.shape.score(next)
                                    } else {
                                        i32::MIN / 2
                                    };
                                    (score >= SHAPE_PAIR && next >= SHAPE_PAIR)
                                        || (score.min(next) >= -SHAPE_PAIR_SUM
                                            && score + next >= SHAPE_PAIR_SUM)
                                })
                                || ((alone || start)
                                    && run.len() == 1
                                    && score >= SHAPE_CUED
                                    && !ROLE_NOUNS.contains(&k)
                                    && run.first().is_some_and(|&(s, e)| {
                                        self.cue_before.is_match(window_before(text, s, 32))
                                            || self.cue_after.is_match(window_after(text, e, 40))
                                    }))
                        }
                        && plausible(k)
                };
            if !anchored && !shaped && !predicted {
                i += 1;
                continue;
            }
            // Extend right over capitalised words and initials that may be names, at most 3.
            let mut j = i + 1;
            let known = |t: usize| initial(t) || flags_of(t) & (GIVEN | SURNAME) != 0;
            // Without capitals, an unknown word joins a name with a name's letters
            // (`olga krylova`).
            while j < run.len()
                && j < i + 4
                && !stop(j)
                && (cased || known(j) || initial(j - 1) || lettered(j, 4, SHAPE_ALONE))
            {
                j += 1;
            }
            // Extend left over initials and given names, and over one unknown word: before a
            // surname (`Tintin Forsberg`), after a lower-case word, or with a name's letters.
            let takes_unknown = |t: usize| {
                if cased {
                    (last && !first)
                        || after_lowercase(text, run.get(t).map_or(0, |r| r.0))
                        || lettered(t, 5, SHAPE_JOIN)
                } else {
                    lettered(t, 4, SHAPE_ALONE)
                }
            };
            let mut a = i;
            let mut unknown_taken = false;
            while a > 0 && a + 3 > i {
                if stop(a - 1) {
                    break;
                }
                // Before a middle initial stands the given name (`emidio p lombardo`), which
                // needs fewer letters' evidence than a word alone.
                let before_initial = a < i && initial(a) && lettered(a - 1, 3, -SHAPE_SCALE);
                if initial(a - 1) || flags_of(a - 1) & GIVEN != 0 {
                    a -= 1;
                } else if !unknown_taken && (takes_unknown(a - 1) || before_initial) {
                    unknown_taken = true;
                    a -= 1;
                } else {
                    break;
                }
            }
            // Trailing initials belong to the next sentence more often than to the name.
            while j > i + 1 && initial(j - 1) {
                j -= 1;
            }
            let (Some(&(s, _)), Some(&(_, mut e))) = (run.get(a), run.get(j - 1)) else {
                break;
            };
            // A generational suffix (`Kevin Veitonen II`, `John Smith, Jr.`).
            let after = window_after(text, e, 8);
            let next = after
                .trim_start_matches([',', ' ', '\t'])
                .as_bytes()
                .first();
            if matches!(next, Some(b'J' | b'S' | b'I'))
                && let Some(m) = self.suffix.find(after)
            {
                e += m.end();
            }
            i = j;
            if self.eponym.is_match(window_after(text, e, 48)) {
                continue;
            }
            let confidence = if j - a >= 2 {
                0.75
            } else if first {
                0.6
            } else {
                0.55
            };
            out.push(name_span(
                s,
                e,
                if anchored {
                    "name-lexicon"
                } else if shaped {
                    "name-shape"
                } else {
                    "name-letters"
                },
                confidence,
            ));
        }
    }
}

/// Whether an unknown word may be a name at all, whatever its letters say: not a
/// contraction (`You're`) nor a drug (`Losartan`).
fn plausible(key: &str) -> bool {
    !contraction(key) && !DRUG_STEMS.iter().any(|d| key.ends_with(d))
}

/// `YOU'RE`, `DON'T`: English, whatever the letters say.
fn contraction(key: &str) -> bool {
    [
        "'S", "'RE", "'LL", "'VE", "'D", "'M", "N'T", "’S", "’RE", "’LL", "’VE", "’D", "’M", "N’T",
    ]
    .iter()
    .any(|c| key.ends_with(c))
}

/// Whether a word is written with one capital then lower case (`Usamov`, not `CEOs`).
fn titled(text: &str, word: Option<&(usize, usize)>) -> bool {
    word.and_then(|&(s, e)| text.get(s..e))
        .and_then(|w| w.chars().nth(1))
        .is_some_and(char::is_lowercase)
}
