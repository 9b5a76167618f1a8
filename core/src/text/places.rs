//! Places below the state — cities, towns, villages, counties — which Safe Harbor removes
//! (§164.514(b)(2)(i)(B)). Three mechanisms, from surest to least sure:
//!
//! 1. A form label (`City:`, `Localidad/ Provincia:`, `Wohnort:`, `Ville :`): the capitalised
//!    phrase after it is a place, in the gazetteer or not.
//! 2. A postcode before a gazetteer name (`28004 Madrid`, `81671 München`): both are reported,
//!    the code as a ZIP.
//! 3. A gazetteer name (`core/data/places/places.txt`, GeoNames) in running text, taken as a
//!    place when the words around it say so: a phrase of residence or origin before it (`lives
//!    in`, `natural de`, `wohnhaft in`), a preposition of place, a state or country after it
//!    (`Tacoma, WA`, `Casablanca (Marruecos)`). How much context a name needs depends on what
//!    else it could be: an English word (`Mobile`) needs a phrase of residence, a label or a
//!    state after it; a person's name (`Jackson`) a preposition too; any other single word a
//!    preposition; a name of several words (`Ciudad Real`) nothing more.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::span::Span;

const COUNTY: u8 = 1;
const WORD: u8 = 2;
const PERSON: u8 = 4;

type Fast = foldhash::fast::FixedState;

struct Gazetteer {
    /// Name (as written) -> flags.
    places: HashMap<&'static str, u8, Fast>,
    /// The first word of every name: most capitalised words start none, and are passed over
    /// after one lookup.
    first_words: HashSet<&'static str, Fast>,
    /// The most words one name has.
    max_words: usize,
}

/// Whether `name` (as written, capitalised) is a place that is also a common word
/// (`Reading`, `Mobile`).
pub(super) fn is_place_word(name: &str) -> bool {
    GAZETTEER.places.get(name).is_some_and(|f| f & WORD != 0)
}

static GAZETTEER: LazyLock<Gazetteer> = LazyLock::new(|| {
    let mut places = HashMap::with_hasher(Fast::default());
    let mut first_words = HashSet::with_hasher(Fast::default());
    let mut max_words = 1;
    for line in include_str!("../../data/places/places.txt").lines() {
        if line.starts_with('#') {
            continue;
        }
        let (name, flags) = line.split_once('\t').unwrap_or((line, ""));
        let f = flags.bytes().fold(0u8, |acc, b| {
            acc | match b {
                b'c' => COUNTY,
                b'w' => WORD,
                b'p' => PERSON,
                _ => 0,
            }
        });
        max_words = max_words.max(name.split(' ').count());
        first_words.insert(name.split(' ').next().unwrap_or(name));
        places.insert(name, f);
    }
    Gazetteer {
        places,
        first_words,
        max_words,
    }
});

/// Words that may stand inside a place name (`Santiago de Compostela`, `Frankfurt am Main`).
const CONNECTORS: &[&str] = &[
    "de", "del", "la", "las", "los", "el", "y", "i", "am", "an", "der", "im", "ob", "upon", "on",
    "sur", "le", "les", "di", "da", "do", "dos", "das", "en", "sul", "of",
];

/// Phrases of residence or origin: the place after one is certain enough for any name.
const RESIDENCE: &[&str] = &[
    "lives in",
    "living in",
    "resides in",
    "residing in",
    "resident of",
    "native of",
    "born in",
    "moved to",
    "moved from",
    "relocated to",
    "hometown of",
    "home in",
    "natural de",
    "residente en",
    "reside en",
    "residía en",
    "vive en",
    "vecino de",
    "vecina de",
    "procedente de",
    "nacido en",
    "nacida en",
    "originario de",
    "originaria de",
    "wohnhaft in",
    "wohnt in",
    "geboren in",
    "stammt aus",
    "originaire de",
    "domicilié à",
    "domiciliée à",
    "né à",
    "née à",
    "habite à",
    "residente a",
    "nato a",
    "nata a",
    "residente em",
    "natural do",
    "natural da",
    "mora em",
];

/// Prepositions of place (lower case). Spanish and Portuguese `de` is not one: `síndrome de
/// Down`, `enfermedad de Crohn`.
const PREPOSITIONS: &[&str] = &[
    "in", "at", "from", "near", "to", "outside", "around", "en", "desde", "hasta", "hacia", "aus",
    "nach", "bei", "à", "em", "no", "na", "a", "von",
];

/// Form labels whose value is a street address, at the start of a line.
const STREET_LABELS: &str = r"domicilio|direcci[óo]n|address|home address|street address|anschrift|adresse|wohnadresse|indirizzo|morada|endere[çc]o|residenza";

/// Form labels whose value is a place (lower case, before a colon or slash).
const LABELS: &str = r"localidad(?:\s*/\s*provincia)?|provincia|ciudad|municipio|poblaci[óo]n|lugar de (?:nacimiento|residencia)|residencia|city|town|township|county|parish|place of (?:birth|residence)|birthplace|hometown|wohnort|ort|stadt|gemeinde|landkreis|kreis|geburtsort|ville|commune|lieu de (?:naissance|r[ée]sidence)|citt[àa]|comune|provincia di|cidade|localidade|naturalidade|concelho|distrito";

/// The patterns of the place detector, compiled once with the detector.
pub(super) struct PlaceFinder {
    labelled: Regex,
    street_label: Regex,
    postcode: Regex,
    after: Regex,
}

impl PlaceFinder {
    pub(super) fn load() -> Result<Self, regex::Error> {
        Ok(PlaceFinder {
            labelled: Regex::new(&format!(r"(?im)(?:^|[\s(])(?:{LABELS})[ \t]*[:/][ \t]*"))?,
            street_label: Regex::new(&format!(r"(?im)^[ \t]*(?:{STREET_LABELS})[ \t]*:[ \t]*"))?,
            postcode: Regex::new(r"(?-u:\b)(?:[A-Z]{1,2}-)?(\d{4,5})[ \t]+\p{Lu}")?,
            after: Regex::new(&format!(
                r"^(?:,[ \t]*(?:{}|{})(?-u:\b)|[ \t]*\((?:{})\))",
                super::patterns::US_STATES,
                COUNTRIES_AND_STATES,
                COUNTRIES_AND_STATES
            ))?,
        })
    }

    /// Finds places in `text` and pushes them (and the postcodes before them) to `found`.
    pub(super) fn find(&self, text: &str, found: &mut Vec<Span>) {
        let g = &*GAZETTEER;
        let mut taken: Vec<(usize, usize)> = Vec::new();
        for m in self.labelled.find_iter(text) {
            for (s, e) in labelled_value(text, m.end()) {
                push(found, s, e, "city", "place-labelled", 0.7);
                taken.push((s, e));
            }
        }
        // A form's address line: all of it is the street (`Domicilio: Calle Losada Martí 23,
        // 5 B.`), units and floors included, as no street grammar reads every country's.
        for m in self.street_label.find_iter(text) {
            let line_end = text[m.end()..]
                .find('\n')
                .map_or(text.len(), |i| m.end() + i);
            let value = text[m.end()..line_end].trim_end_matches([' ', '\t', '.', ',', ';']);
            if value.chars().any(|c| c.is_alphabetic()) {
                push(
                    found,
                    m.end(),
                    m.end() + value.len(),
                    "street",
                    "street-labelled",
                    0.9,
                );
            }
        }
        for c in self.postcode.captures_iter(text) {
            let (Some(code), Some(all)) = (c.get(1), c.get(0)) else {
                continue;
            };
            let capital = text[..all.end()]
                .chars()
                .next_back()
                .map_or(0, char::len_utf8);
            let at = all.end() - capital;
            if let Some((end, _)) = longest_place(g, text, at) {
                push(
                    found,
                    code.start(),
                    code.end(),
                    "zip",
                    "place-postcode",
                    0.6,
                );
                if !taken.iter().any(|&(s, e)| s < end && at < e) {
                    push(found, at, end, "city", "place-postcode", 0.6);
                    taken.push((at, end));
                }
            }
        }
        for start in capitalised_starts(text) {
            if taken.iter().any(|&(s, e)| s <= start && start < e) {
                continue;
            }
            let Some((end, flags)) = longest_place(g, text, start) else {
                continue;
            };
            if self.accepted(text, start, end, flags) {
                let category = if flags & COUNTY != 0 {
                    "county"
                } else {
                    "city"
                };
                push(found, start, end, category, "place-gazetteer", 0.5);
                taken.push((start, end));
            }
        }
    }

    /// Whether the words around a gazetteer name at `start..end` make it a place.
    fn accepted(&self, text: &str, start: usize, end: usize, flags: u8) -> bool {
        let before = text[..start].trim_end_matches([' ', '\t']);
        let before_lower = tail(before, 32).to_lowercase();
        let residence = RESIDENCE.iter().any(|p| {
            before_lower
                .strip_suffix(p)
                .is_some_and(|r| r.is_empty() || !r.ends_with(char::is_alphanumeric))
        });
        let after = &text[end..];
        // More of a proper name after it: `Jackson Smith`, `Orange Grove` (a longer name the
        // gazetteer lacks), not this place.
        let continues = after
            .strip_prefix(' ')
            .is_some_and(|a| a.starts_with(char::is_uppercase));
        let state_after = self.after.is_match(after);
        // A number after it makes it a room, a ward or a bed (`Ward 7`), not a place.
        if after
            .strip_prefix(' ')
            .is_some_and(|a| a.starts_with(|c: char| c.is_ascii_digit()))
        {
            return false;
        }
        if residence || state_after {
            return !continues || state_after;
        }
        if flags & WORD != 0 || continues {
            return false;
        }
        let prev_word: String = before_lower
            .chars()
            .rev()
            .take_while(|c| c.is_alphabetic())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let preposition = PREPOSITIONS.contains(&prev_word.as_str());
        let facility_after = facility_head(after);
        if flags & PERSON != 0 {
            return (preposition || facility_after) && !person_cue_before(&before_lower);
        }
        preposition || facility_after || text[start..end].contains(' ')
    }
}

/// The last `n` bytes of `s` or a little more, cut at a character boundary.
fn tail(s: &str, n: usize) -> &str {
    let mut at = s.len().saturating_sub(n);
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    &s[at..]
}

/// A facility's head noun right after a place name (`Tacoma clinic`, `Yonkers General`).
fn facility_head(after: &str) -> bool {
    let next: String = after
        .trim_start_matches(' ')
        .chars()
        .take_while(|c| c.is_alphabetic())
        .collect::<String>()
        .to_lowercase();
    [
        "clinic",
        "hospital",
        "medical",
        "health",
        "general",
        "memorial",
        "regional",
        "community",
        "infirmary",
        "clínica",
        "klinikum",
        "krankenhaus",
        "klinik",
        "hôpital",
    ]
    .contains(&next.as_str())
}

fn push(
    found: &mut Vec<Span>,
    start: usize,
    end: usize,
    category: &'static str,
    id: &'static str,
    confidence: f32,
) {
    found.push(Span::found(start, end, category, id, confidence));
}

/// The places after a form label: capitalised phrases up to the end of the line, split at
/// commas (`Vigo, Pontevedra`), a lower-case word or a period ending the value.
fn labelled_value(text: &str, at: usize) -> Vec<(usize, usize)> {
    let line_end = text[at..].find(['\n', ';']).map_or(text.len(), |i| at + i);
    let mut out = Vec::new();
    let mut pos = at;
    for part in text[at..line_end].split(',') {
        let lead = part.len() - part.trim_start().len();
        let (s, e) = (pos + lead, pos + part.trim_end().len());
        pos += part.len() + 1;
        let value = text[s..e].trim_end_matches('.');
        if value.is_empty() || !value.starts_with(char::is_uppercase) {
            break;
        }
        // Up to the first word that is neither capitalised nor a connector.
        let mut end = s;
        let mut off = 0;
        for w in value.split(' ') {
            let ok = w.starts_with(char::is_uppercase) || CONNECTORS.contains(&w);
            if !ok || w.chars().any(|c| c.is_ascii_digit()) {
                break;
            }
            off += w.len();
            if w.starts_with(char::is_uppercase) {
                end = s + off;
            }
            off += 1;
        }
        if end > s {
            out.push((s, end));
        }
    }
    out
}

/// Byte offsets of the words of `text` that start with a capital letter.
fn capitalised_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    let mut prev: Option<char> = None;
    text.char_indices().filter_map(move |(i, c)| {
        let start =
            c.is_uppercase() && prev.is_none_or(|p| !p.is_alphanumeric() && p != '\'' && p != '-');
        prev = Some(c);
        start.then_some(i)
    })
}

/// The longest gazetteer name starting at `start`, as its end and flags.
fn longest_place(g: &Gazetteer, text: &str, start: usize) -> Option<(usize, u8)> {
    let word_at = |pos: usize| -> Option<&str> {
        let rest = text.get(pos..)?;
        let len = rest
            .char_indices()
            .find(|&(_, c)| !(c.is_alphabetic() || c == '\'' || c == '-' || c == '.'))
            .map_or(rest.len(), |(i, _)| i);
        let word = rest.get(..len)?.trim_end_matches(['.', '-', '\'']);
        (!word.is_empty()).then_some(word)
    };
    let first = word_at(start)?;
    if !g.first_words.contains(first) {
        return None;
    }
    // Ends of the first 1..=max_words words, on the stack: this runs for every capitalised
    // word of every note.
    let mut ends = [0usize; 16];
    let mut n = 0;
    let mut pos = start;
    while n < g.max_words.min(ends.len()) {
        let Some(word) = word_at(pos) else { break };
        if let Some(slot) = ends.get_mut(n) {
            *slot = pos + word.len();
        }
        n += 1;
        if text.as_bytes().get(pos + word.len()) != Some(&b' ') {
            break;
        }
        pos += word.len() + 1;
    }
    ends.get(..n)?.iter().rev().find_map(|&end| {
        let name = text.get(start..end)?;
        let last = name.rsplit(' ').next().unwrap_or(name);
        // A name ends in a capitalised word, never a connector.
        if !last.starts_with(char::is_uppercase) {
            return None;
        }
        g.places.get(name).map(|&f| (end, f))
    })
}

/// A title or honorific right before (`before` in lower case): `Dr. Jackson`, `Sra. Toledo`.
fn person_cue_before(before: &str) -> bool {
    [
        "dr.", " dr", "mr.", "mrs.", "ms.", "sr.", "sra.", "hr.", "fr.", "dña.",
    ]
    .iter()
    .any(|t| before.ends_with(t))
}

/// US states and the countries place names in clinical text most often come with.
const COUNTRIES_AND_STATES: &str = r"Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming|USA|U\.S\.A?\.|United States|España|Espanya|Spain|Deutschland|Germany|France|Francia|Frankreich|Italia|Italy|Italien|Portugal|Mexico|México|Marruecos|Morocco|Marokko|Colombia|Argentina|Perú|Peru|Ecuador|Venezuela|Bolivia|Chile|Cuba|Brasil|Brazil|Österreich|Austria|Schweiz|Suiza|Switzerland|Reino Unido|United Kingdom|UK|England|Inglaterra|Canada|Canadá|China|India|Rumanía|Romania|Polonia|Poland|Türkei|Turquía|Turkey";

#[cfg(test)]
mod tests {
    use super::*;

    fn places(text: &str) -> Vec<(String, String)> {
        let mut found = Vec::new();
        PlaceFinder::load().unwrap().find(text, &mut found);
        found.sort_by_key(|s| s.start);
        found
            .into_iter()
            .map(|s| (s.category.into_owned(), text[s.start..s.end].to_owned()))
            .collect()
    }

    fn city(v: &str) -> (String, String) {
        ("city".into(), v.into())
    }

    #[test]
    fn the_gazetteer_loads_and_patterns_compile() {
        assert!(GAZETTEER.places.len() > 50_000);
        assert!(GAZETTEER.places.contains_key("Yonkers"));
        let f = PlaceFinder::load().unwrap();
        assert!(f.labelled.is_match("City: Reno"));
        assert!(f.after.is_match(", WA 98402"));
    }

    #[test]
    fn context_decides_how_sure_a_name_must_be() {
        assert_eq!(
            places("a 58-year-old man who lives in Yonkers."),
            [city("Yonkers")]
        );
        assert_eq!(places("seen at our Tacoma clinic"), [city("Tacoma")]);
        assert_eq!(
            places("She moved from Tacoma, WA in May."),
            [city("Tacoma")]
        );
        assert_eq!(
            places("transferred to Ciudad Real for surgery"),
            [city("Ciudad Real")]
        );
        assert_eq!(
            places("40 Jahre, wohnhaft in 81671 München"),
            [("zip".into(), "81671".into()), city("München")]
        );
        assert_eq!(
            places("Localidad: Alcorcón.\nCP: 28921"),
            [city("Alcorcón")]
        );
        assert_eq!(
            places("Localidad/ Provincia: Vigo, Pontevedra.\n"),
            [city("Vigo"), city("Pontevedra")]
        );
        assert_eq!(
            places("natural de Casablanca (Marruecos)"),
            [city("Casablanca")]
        );
        assert_eq!(
            places("works for Mobile Health in Mobile, AL"),
            [city("Mobile")]
        );
    }

    #[test]
    fn words_people_and_eponyms_stay() {
        for text in [
            "Reading is difficult for him.",
            "síndrome de Down y enfermedad de Crohn",
            "Dr. Jackson reviewed the chart.",
            "Jackson Smith called.",
            "The orange juice was given.",
            "Seen in Clinic today.",
        ] {
            assert_eq!(places(text), [], "{text}");
        }
    }
}
