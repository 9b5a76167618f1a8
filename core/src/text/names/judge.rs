//! Judging a run of capitalised words: which of them a name anchors (a lexicon name, the
//! shape `Word X. Word`, or a name's letters where the words around allow it), and how far
//! the name reaches.
//!
//! [`NameFinder::judge`] walks the run word by word, each step a function of [`Run`]:
//! [`Run::anchor`] says whether (and why) a name starts at a word, then
//! [`Run::extend_right`], [`Run::extend_left`] and [`Run::drop_trailing_initials`] say
//! which words it takes, [`Run::with_suffix`] takes a generational suffix, and
//! [`Run::confidence`] says how sure it is. An eponym after it (`Parkinson's disease`)
//! drops it.

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
        let run = Run::new(self, text, run, cased);
        let mut i = 0;
        while i < run.words.len() {
            let Some(anchor) = run.anchor(i) else {
                i += 1;
                continue;
            };
            let j = run.extend_right(i);
            let a = run.extend_left(i);
            let j = run.drop_trailing_initials(i, j);
            let (Some(&(s, _)), Some(&(_, e))) = (run.words.get(a), run.words.get(j - 1)) else {
                break;
            };
            let e = run.with_suffix(e);
            let confidence = run.confidence(i, a, j);
            i = j;
            if self.eponym.is_match(window_after(text, e, 48))
                || self.eponym_before.is_match(window_before(text, s, 48))
                || (j - a == 1
                    && anchor != Anchor::Shape
                    && !mid_sentence(text, s)
                    && written_lower(text, s, e))
            {
                continue;
            }
            out.push(name_span(s, e, anchor.detector(), confidence));
        }
    }
}

/// What makes a word the anchor of a name, which names the span's detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    /// A lexicon name (`name-lexicon`).
    Lexicon,
    /// A word, a middle initial and a word (`name-shape`).
    Shape,
    /// A word no lexicon knows, with a name's letters (`name-letters`).
    Letters,
}

impl Anchor {
    fn detector(self) -> &'static str {
        match self {
            Anchor::Lexicon => "name-lexicon",
            Anchor::Shape => "name-shape",
            Anchor::Letters => "name-letters",
        }
    }
}

/// A run of capitalised words being judged: the words, their tokens, and the text they
/// stand in. Out-of-range indices read as no word (empty key, no flags).
struct Run<'a> {
    finder: &'a NameFinder,
    text: &'a str,
    /// Byte ranges of the words in `text`.
    words: &'a [(usize, usize)],
    tokens: Vec<Token>,
    /// False for a text without capitals, read title-cased.
    cased: bool,
}

impl<'a> Run<'a> {
    /// The run's tokens, as the lexicons and the stop words see its words.
    fn new(
        finder: &'a NameFinder,
        text: &'a str,
        words: &'a [(usize, usize)],
        cased: bool,
    ) -> Self {
        let mut tokens: Vec<Token> = words
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
                let mut stop = finder.stop.contains(key.as_str());
                let mut flags = finder.flags(&key);
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
        middle_article(&mut tokens, cased);
        Run {
            finder,
            text,
            words,
            tokens,
            cased,
        }
    }

    fn key(&self, i: usize) -> &str {
        self.tokens.get(i).map_or("", |t| t.key.as_str())
    }

    fn initial(&self, i: usize) -> bool {
        self.tokens.get(i).is_some_and(|t| t.initial)
    }

    fn stop(&self, i: usize) -> bool {
        self.tokens.get(i).is_some_and(|t| t.stop)
    }

    fn flags(&self, i: usize) -> u8 {
        self.tokens.get(i).map_or(0, |t| t.flags)
    }

    /// A word that may be part of a name: not an initial, not a stop word.
    fn is_word(&self, i: usize) -> bool {
        self.tokens.get(i).is_some_and(|t| !t.initial && !t.stop)
    }

    /// Byte offset of word `i` (0 past the end).
    fn start_of(&self, i: usize) -> usize {
        self.words.get(i).map_or(0, |r| r.0)
    }

    /// A lexicon name that is no English word, initial or stop word.
    fn strong(&self, i: usize) -> bool {
        !self.initial(i) && !self.stop(i) && self.flags(i) & ENGLISH == 0
    }

    /// A strong given name.
    fn first(&self, i: usize) -> bool {
        self.strong(i) && self.flags(i) & GIVEN != 0
    }

    /// A strong surname.
    fn last(&self, i: usize) -> bool {
        self.strong(i) && self.flags(i) & SURNAME != 0
    }

    /// An unknown word of `min_chars` letters or more that may be a name and whose letters
    /// score `threshold` or more.
    fn lettered(&self, t: usize, min_chars: usize, threshold: i32) -> bool {
        self.flags(t) == 0
            && self.is_word(t)
            && self.key(t).chars().count() >= min_chars
            && plausible(self.key(t))
            && self.finder.shape.score(self.key(t)) >= threshold
    }

    /// Whether a name starts at word `i`, and what says so, tried from the surest evidence.
    fn anchor(&self, i: usize) -> Option<Anchor> {
        if self.lexicon_name(i) || self.given_word_in_prose(i) {
            Some(Anchor::Lexicon)
        } else if self.middle_initial(i) {
            Some(Anchor::Shape)
        } else if self.by_letters(i) {
            Some(Anchor::Letters)
        } else {
            None
        }
    }

    /// A given name or surname that is no English word. Without capitals, two-letter words
    /// (`ok`, `al`) are too often not names.
    fn lexicon_name(&self, i: usize) -> bool {
        (self.first(i) || self.last(i)) && (self.cased || self.key(i).chars().count() > 2)
    }

    /// A given name that is also an English word (`Frank`, `Brad`), capitalised alone right
    /// after a lower-case word: prose writes the word in lower case there. Not a place with
    /// its number (`moved to Ward 7`) or a role.
    fn given_word_in_prose(&self, i: usize) -> bool {
        let k = self.key(i);
        self.cased
            && self.words.len() == 1
            && !self.initial(i)
            && !self.stop(i)
            && self.flags(i) & GIVEN != 0
            && k.chars().count() >= 3
            && !ROLE_NOUNS.contains(k)
            && !LABEL_WORDS.contains(k)
            && titled(self.text, self.words.get(i))
            && self.words.get(i).is_some_and(|r| {
                after_lowercase(self.text, r.0)
                    && !in_heading(self.text, r.0)
                    && !window_after(self.text, r.1, 4)
                        .trim_start_matches([' ', '\t', '#'])
                        .starts_with(|c: char| c.is_ascii_digit())
            })
    }

    /// `Faina D. Yefremova`: a middle initial between two words is a name's shape.
    fn middle_initial(&self, i: usize) -> bool {
        self.cased
            && self.is_word(i)
            && i + 2 < self.words.len()
            && self.initial(i + 1)
            && self.is_word(i + 2)
    }

    /// A word no lexicon knows, with a name's letters: mid-sentence alone (`met Usamov`), or
    /// with another such word (`Tomomi Nishiyama`), or at a sentence's start with a surer
    /// score.
    fn by_letters(&self, i: usize) -> bool {
        let k = self.key(i);
        // Cheap tests first: most capitalised words fail them.
        if !(self.cased && self.is_word(i) && self.flags(i) == 0 && k.chars().count() >= 4) {
            return false;
        }
        // Alone: inside a sentence, or after another capitalised word (`ex-Zombie Ryhänen`,
        // `Mr Usamov`).
        let alone = i > 0 || mid_sentence(self.text, self.start_of(0));
        let pair = i + 1 < self.words.len()
            && self.is_word(i + 1)
            && self.flags(i + 1) == 0
            && self.key(i + 1).chars().count() >= 4;
        // A lone word at a sentence's start needs a surer score: every sentence starts with a
        // capital.
        let start = !alone && !pair && self.words.len() == 1 && k.chars().count() >= 5;
        (alone || pair || start)
            && titled(self.text, self.words.get(i))
            && !in_heading(self.text, self.start_of(0))
            && !after_number(self.text, self.start_of(i))
            && self.letters_say_name(i, alone, pair, start)
            && plausible(k)
    }

    /// Whether the letters of word `i` (and of the next, in a pair) score high enough for
    /// where it stands; a middling score will do with a person's verb around a lone word.
    fn letters_say_name(&self, i: usize, alone: bool, pair: bool, start: bool) -> bool {
        let k = self.key(i);
        let score = self.finder.shape.score(k);
        (alone && score >= SHAPE_ALONE)
            || (start && score >= SHAPE_START)
            || (pair && {
                let next = self.key(i + 1);
                let next = if plausible(next) {
                    self.finder.shape.score(next)
                } else {
                    i32::MIN / 2
                };
                (score >= SHAPE_PAIR && next >= SHAPE_PAIR)
                    || (score.min(next) >= -SHAPE_PAIR_SUM && score + next >= SHAPE_PAIR_SUM)
            })
            || ((alone || start)
                && self.words.len() == 1
                && score >= SHAPE_CUED
                && !ROLE_NOUNS.contains(k)
                && self.cued())
    }

    /// A speaker's verb before the run's word (`said Maslin`) or a person's verb after it
    /// (`Irenka lives`).
    fn cued(&self) -> bool {
        self.words.first().is_some_and(|&(s, e)| {
            self.finder
                .cue_before
                .is_match(window_before(self.text, s, 32))
                || self
                    .finder
                    .cue_after
                    .is_match(window_after(self.text, e, 40))
        })
    }

    /// The end (exclusive word index) of a name anchored at `i`: right over capitalised
    /// words and initials that may be names, at most 3. Without capitals, an unknown word
    /// joins with a name's letters (`olga krylova`).
    fn extend_right(&self, i: usize) -> usize {
        let known = |t: usize| self.initial(t) || self.flags(t) & (GIVEN | SURNAME) != 0;
        let mut j = i + 1;
        while j < self.words.len()
            && j < i + 4
            && !self.stop(j)
            && (self.cased || known(j) || self.initial(j - 1) || self.lettered(j, 4, SHAPE_ALONE))
        {
            j += 1;
        }
        j
    }

    /// The first word of a name anchored at `i`: left over initials and given names, and
    /// over one unknown word: before a surname (`Tintin Forsberg`), after a lower-case word,
    /// or with a name's letters.
    fn extend_left(&self, i: usize) -> usize {
        let (first, last) = (self.first(i), self.last(i));
        let takes_unknown = |t: usize| {
            if self.cased {
                (last && !first)
                    || after_lowercase(self.text, self.start_of(t))
                    || self.lettered(t, 5, SHAPE_JOIN)
            } else {
                self.lettered(t, 4, SHAPE_ALONE)
            }
        };
        let mut a = i;
        let mut unknown_taken = false;
        while a > 0 && a + 3 > i {
            if self.stop(a - 1) {
                break;
            }
            // Before a middle initial stands the given name (`emidio p lombardo`), which
            // needs fewer letters' evidence than a word alone.
            let before_initial = a < i && self.initial(a) && self.lettered(a - 1, 3, -SHAPE_SCALE);
            if self.initial(a - 1) || self.flags(a - 1) & GIVEN != 0 {
                a -= 1;
            } else if !unknown_taken && (takes_unknown(a - 1) || before_initial) {
                unknown_taken = true;
                a -= 1;
            } else {
                break;
            }
        }
        a
    }

    /// `j` without the initials that end the name (anchored at `i`): they belong to the next
    /// sentence more often than to the name.
    fn drop_trailing_initials(&self, i: usize, mut j: usize) -> usize {
        while j > i + 1 && self.initial(j - 1) {
            j -= 1;
        }
        j
    }

    /// The end of a name ending at byte `e`, over a generational suffix after it
    /// (`Kevin Veitonen II`, `John Smith, Jr.`).
    fn with_suffix(&self, e: usize) -> usize {
        let after = window_after(self.text, e, 8);
        let next = after
            .trim_start_matches([',', ' ', '\t'])
            .as_bytes()
            .first();
        match next {
            Some(b'J' | b'S' | b'I') => self.finder.suffix.find(after).map_or(e, |m| e + m.end()),
            _ => e,
        }
    }

    /// How sure a name of words `a..j`, anchored at `i`, is: several words, then a given
    /// name, then anything else.
    fn confidence(&self, i: usize, a: usize, j: usize) -> f32 {
        if j - a >= 2 {
            0.75
        } else if self.first(i) {
            0.6
        } else {
            0.55
        }
    }
}

/// `Juliusz A Kwiatkowski`: the article `A` between two words is a middle initial (without
/// capitals, only between two lexicon names).
fn middle_article(tokens: &mut [Token], cased: bool) {
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
}

/// Whether the text writes the one word at `s..e` in lower case elsewhere (`Durante` at the
/// start of a sentence, `durante` in the middle of one): then, where a sentence starts, it
/// is a word of the text's language, not a name, whatever the lexicons hold. A name is
/// written capitalised wherever it stands; this holds in every language that capitalises
/// names. Mid-sentence, a capital says more than the lower-case word elsewhere (`Will`).
fn written_lower(text: &str, s: usize, e: usize) -> bool {
    let word = &text[s..e];
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !first.is_uppercase() || !chars.as_str().chars().all(char::is_lowercase) || word.len() < 2 {
        return false;
    }
    let lower = word.to_lowercase();
    let mut from = 0;
    while let Some(k) = text.get(from..).and_then(|t| t.find(lower.as_str())) {
        let at = from + k;
        let end = at + lower.len();
        let before = text[..at].chars().next_back();
        let after = text[end..].chars().next();
        if before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
        {
            return true;
        }
        from = end;
    }
    false
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
