//! Person names in free text: runs of capitalised words and initials (`tokens`), judged
//! against the lexicons (`lexicon`) and the letter model (`shape`) in `judge`, then widened
//! to the names that lists, vocatives and repeats add (`passes`).

mod judge;
mod lexicon;
mod passes;
mod shape;
mod tokens;

use regex::Regex;

use lexicon::NameLexicon;
use shape::NameShape;
use tokens::{NameTokens, name_gap};

use super::span::Span;
use super::words::{NAME_STOP, PLACE_WORDS, WordSet};

/// Finds names: the lexicons, the words that stop a name, the letter model, and the patterns
/// for what stands around a name.
pub(super) struct NameFinder {
    lexicon: NameLexicon,
    /// Words that never extend a name, and places.
    stop: WordSet,
    /// A generational suffix after a name (`Jr.`, `III`).
    suffix: Regex,
    /// What follows an eponym rather than a person (`Parkinson's disease`, `Foley catheter`).
    eponym: Regex,
    /// What stands before one in the Romance languages and German (`enfermedad de Crohn`,
    /// `escala de Glasgow`, `Morbus von`).
    eponym_before: Regex,
    /// A speaker's verb or an introduction just before a word (`said `, `call me `).
    cue_before: Regex,
    /// A person's verb just after a word (` lives`, ` is from`, ` was born`).
    cue_after: Regex,
    shape: NameShape,
}

impl NameFinder {
    /// The lexicon flags of `key` (upper case).
    fn flags(&self, key: &str) -> u8 {
        self.lexicon.flags(key)
    }

    /// Whether `key` (upper case) is a given name.
    fn is_given(&self, key: &str) -> bool {
        self.lexicon.is_given(key)
    }

    /// Whether `key` (upper case) is a name that is also a common English word (`ROSE`).
    pub(super) fn is_english_word(&self, key: &str) -> bool {
        self.lexicon.flags(key) & lexicon::ENGLISH != 0
    }

    /// The lexicons, the model and the context patterns, loaded once per detector.
    pub(super) fn load() -> std::result::Result<Self, regex::Error> {
        Ok(NameFinder {
            lexicon: NameLexicon::load(),
            stop: NAME_STOP.union(&PLACE_WORDS).copied().collect(),
            suffix: Regex::new(r"^,?[ \t]+(?:Jr\.?|Sr\.?|II|III|IV)(?-u:\b)")?,
            shape: NameShape::load(include_bytes!("../../../data/names/shape.bin")),
            cue_before: Regex::new(
                r"(?:^|[^\p{L}])(?i:says|said|asked|asks|replied|told|named(?:[ \t]+(?:him|her))?|call(?:ed)?[ \t]+me|my[ \t]+name[ \t]+is|producer|songwriter|author)[ \t]+$",
            )?,
            cue_after: Regex::new(
                r"^,?[ \t]+(?:(?:(?:has|had|will|would|could|did|does|can)[ \t]+(?:not[ \t]+|never[ \t]+|also[ \t]+)?)?(?:lives|lived|said|says|told|tells|asked|asks|explained|explains|replied|answered|whispered|shouted|yelled|smiled|laughed|cried|wrote|writes|sang|sings|thinks|thought|believes|believed|feels|felt|knows|knew|wants|wanted|loves|loved|speaks|spoke|studied|studies|teaches|taught|married|died|retired|graduated)|(?:is|was|comes|came)[ \t]+from|(?:was|were)[ \t]+born|(?:will[ \t]+be|is|was)[ \t]+(?:talking|speaking))(?-u:\b)",
            )?,
            eponym_before: Regex::new(
                r"(?:^|[^\p{L}])(?i:enfermedad|síndrome|sindrome|signo|test|prueba|escala|maniobra|malformación|tinción|índice|criterios?|clasificación|reacción|técnica|puntuación|score|quiste|tumor|hernia|maladie|syndrome|signe|échelle|classification|morbus|doença|síndroma|sinal|malattia|sindrome|segno|scala|manovra)(?:[ \t]+(?:de|del|di|da|do|von|der))?[ \t]+$",
            )?,
            eponym: Regex::new(
                r"^(?:'s|’s)?[ \t]+(?i:disease|syndrome|palsy|sign|test|score|scale|catheter|lymphoma|sarcoma|phenomenon|reflex|maneuver|manoeuvre|criteria|classification|procedure|operation|fracture|ulcer|tumou?r|ratio|law|method|technique|solution|agar|stain|nodes?|triad|index|equation|formula|tube|bag|forceps|incision|hernia|cyst|anomaly|encephalopathy|contracture|neuroma|aneurysm)\b",
            )?,
        })
    }

    /// Name spans: runs of capitalised words and initials joined by single spaces, where a
    /// given name (or a surname that is not an English word) anchors the run, or where the
    /// run has the shape `Word X. Word`.
    ///
    /// `cased` is false for a text written without capitals, given here title-cased: then
    /// every word is capitalised, so only lexicon names and initials join a run.
    pub(super) fn find(&self, text: &str, cased: bool, out: &mut Vec<Span>) {
        let mut run: Vec<(usize, usize)> = Vec::new();
        let mut words: Vec<(usize, usize)> = Vec::new();
        let flush = |run: &mut Vec<(usize, usize)>, out: &mut Vec<Span>| {
            self.judge(text, run, cased, out);
            run.clear();
        };
        for (m_start, m_end) in NameTokens::new(text) {
            // A possessive or a trailing hyphen is not part of the name (`Jennifer's`).
            let t = text.get(m_start..m_end).unwrap_or("");
            let t = t
                .strip_suffix("'s")
                .or_else(|| t.strip_suffix("’s"))
                .unwrap_or(t)
                .trim_end_matches(['\'', '’', '-']);
            if t.is_empty() {
                continue;
            }
            let (start, end) = (m_start, m_start + t.len());
            let joined = run
                .last()
                .is_some_and(|&(_, e)| text.get(e..start).is_some_and(name_gap));
            if !joined && !run.is_empty() {
                flush(&mut run, out);
            }
            run.push((start, end));
            words.push((start, end));
        }
        flush(&mut run, out);
        if cased {
            self.addressed(text, &words, out);
        }
        self.lists(text, &words, out);
        self.repeat(text, &words, out);
    }
}

/// A name span, with character offsets left for `resolve` to fill in.
fn name_span(start: usize, end: usize, detector: &'static str, confidence: f32) -> Span {
    Span::found(start, end, "name", detector, confidence)
}
