//! Names of hospitals, clinics, practices and health systems, by their form: a head noun
//! (`Hospital`, `Medical Center`, `Clinic`, `Klinikum`, `Centro de Salud`, `Hôpital`) with the
//! proper name that goes with it — before it in English and German (`St. Agnes Medical
//! Center`, `Mercy General Hospital`), after it in the Romance languages (`Hospital
//! Universitario La Paz`, `Centre Hospitalier de Lyon`) — and `X General`, `X Memorial`,
//! `Children's of X`. No list of facilities: the grammar has to carry to names it never saw.

use regex::Regex;

use super::span::Span;

/// Heads that end an English or German name (`... Medical Center`), longest first.
const HEAD_LAST: &str = r"Medical Cent(?:er|re)s?|Med(?:ical|\.)? Ctr\.?|Medical Campus|Campus|Health Cent(?:er|re)|Health System|Health Services|Healthcare System|Health Care|Healthcare|Health|Hospitals?|Clinics?|Infirmary|Medical Group|Medical Associates|Family Practice|Family Medicine|Nursing Home|Nursing Center|Rehabilitation Cent(?:er|re)|Rehabilitation Hospital|Care Cent(?:er|re)|Surgery Cent(?:er|re)|Surgical Cent(?:er|re)|Cancer Cent(?:er|re)|Hospice|Sanatorium|Memorial|General|Klinikum|Klinik|Krankenhaus|Kliniken|Praxis";

/// Heads that start a Romance-language name (`Hospital de León`), longest first.
const HEAD_FIRST: &str = r"Complejo Hospitalario|Hospital Universitario|Hospital General|Hospital Cl[ií]nico|Hospital|Hospitales|Cl[ií]nica|Policl[ií]nica|Centro de Salud|Centro M[ée]dico|Centro Hospitalario|Centro de Atenci[óo]n Primaria|Sanatorio|Fundaci[óo]n|Instituto|Universidad|Facultad|Ospedale|Policlinico|Casa di Cura|Azienda Ospedaliera|H[ôo]pital|Clinique|Centre Hospitalier(?: Universitaire)?|Centre de Sant[ée]|Institut|Universitätsklinikum|Uniklinik|Krankenhaus|Klinikum|Klinik|Hospital|Centro Hospitalar|Centro de Sa[úu]de";

/// Words that stand inside a name without a capital (`Hospital de la Santa Creu i Sant Pau`).
const CONNECTORS: &[&str] = &[
    "de", "del", "la", "las", "los", "el", "y", "i", "e", "di", "della", "du", "des", "da", "do",
    "dos", "das", "of", "the", "and", "für", "am", "an", "der", "zum", "st.", "&",
];

/// Capitalised words after a head that start the next item of a letterhead, not the name.
const STOPS: &[&str] = &[
    "Avenida",
    "Avda",
    "Av",
    "Calle",
    "C",
    "Paseo",
    "Plaza",
    "Pza",
    "Ctra",
    "Carretera",
    "Servicio",
    "Departamento",
    "Unidad",
    "Planta",
    "Street",
    "St",
    "Road",
    "Avenue",
    "Suite",
    "Department",
    "Dept",
    "Division",
    "Unit",
    "Ward",
    "Floor",
    "Room",
    "Tel",
    "Phone",
    "Fax",
    "Email",
    "E",
    "Abteilung",
    "Station",
    "Straße",
    "Strasse",
    "Rue",
    "Via",
    "Service",
    "Course",
    "Day",
    "Stay",
    "Admission",
    "Discharge",
    "Records",
    "Policy",
    "Number",
    "Account",
    "Bed",
];

/// Words before a head that describe, not name (`our`, `the`): a name needs another word.
const GENERIC: &[&str] = &[
    "The",
    "A",
    "An",
    "Our",
    "This",
    "That",
    "Your",
    "His",
    "Her",
    "Their",
    "Local",
    "Area",
    "General",
    "Community",
    "Regional",
    "County",
    "City",
    "State",
    "University",
    "Memorial",
    "Medical",
    "Health",
    "Family",
    "Children's",
    "Women's",
    "Veterans",
    "Private",
    "Public",
    "Outpatient",
    "Inpatient",
    "Urgent",
    "Primary",
    "Specialty",
    "Dental",
    "Eye",
    "Mental",
    "Behavioral",
];

/// Finds facility names.
pub(super) struct FacilityFinder {
    head_last: Regex,
    head_first: Regex,
    children: Regex,
}

impl FacilityFinder {
    pub(super) fn load() -> Result<Self, regex::Error> {
        Ok(FacilityFinder {
            head_last: Regex::new(&format!(r"(?-u:\b)(?:{HEAD_LAST})(?-u:\b)"))?,
            head_first: Regex::new(&format!(r"(?-u:\b)(?:{HEAD_FIRST})(?-u:\b)"))?,
            children: Regex::new(
                r"(?-u:\b)Children'?s (?:Hospital |Healthcare )?of (?:the )?\p{Lu}\p{L}+(?: \p{Lu}\p{L}+)?",
            )?,
        })
    }

    /// Pushes a span for each facility name in `text`.
    pub(super) fn find(&self, text: &str, found: &mut Vec<Span>) {
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for m in self.children.find_iter(text) {
            spans.push((m.start(), m.end()));
        }
        for m in self.head_first.find_iter(text) {
            let end = extend_right(text, m.end());
            if end > m.end() {
                spans.push((m.start(), end));
            }
        }
        for m in self.head_last.find_iter(text) {
            let start = extend_left(text, m.start());
            if start < m.start() {
                // Romance heads may also close a name (`Hospital Clínico ... Hospital`): keep
                // whatever is longest, merged below.
                // What follows a named head also belongs to the name: another head (`Mercy
                // General Hospital`), a place or campus (`Adventist Health Bakersfield`), `of X`.
                spans.push((start, extend_right(text, m.end())));
            }
        }
        spans.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (s, e) in spans {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        for (start, end) in merged {
            // Above names: a person's name inside a facility's (`St. Agnes`, `Ramón y Cajal`)
            // is part of it, and the whole name is treated as one.
            found.push(Span::found(start, end, "facility", "facility-name", 0.9));
        }
    }
}

/// The words of `text` from `at` on, with their byte offsets.
fn words_from(text: &str, at: usize) -> impl Iterator<Item = (usize, &str)> + '_ {
    let rest = &text[at..];
    let mut pos = 0;
    std::iter::from_fn(move || {
        let tail = rest.get(pos..)?;
        // One space (or a space after a comma inside a name) separates words of a name.
        let skip = if tail.starts_with(' ') { 1 } else { 0 };
        let tail = &tail[skip..];
        if pos > 0 && skip == 0 {
            return None;
        }
        let len = tail
            .char_indices()
            .find(|&(_, c)| !(c.is_alphanumeric() || matches!(c, '\'' | '’' | '-' | '.' | '&')))
            .map_or(tail.len(), |(i, _)| i);
        if len == 0 {
            return None;
        }
        let start = at + pos + skip;
        pos += skip + len;
        Some((start, &tail[..len]))
    })
}

/// Past the proper name after a head-first noun: capitalised words, connectors and numbers
/// (`12 de octubre`), up to a stop word, punctuation or a lower-case word.
fn extend_right(text: &str, at: usize) -> usize {
    let mut end = at;
    let mut words = 0;
    for (start, raw) in words_from(text, at) {
        let word = raw.trim_end_matches('.');
        let capital = word.starts_with(char::is_uppercase);
        let number = !word.is_empty() && word.chars().all(|c| c.is_ascii_digit());
        let month = MONTHS.contains(&word);
        if capital && STOPS.contains(&word) {
            break;
        }
        if !(capital || number || month || is_connector(word)) {
            break;
        }
        if capital || number || month {
            end = start + word.len();
        }
        words += 1;
        if words >= 8 || raw.ends_with('.') && !is_abbreviation(raw) {
            break;
        }
    }
    end
}

/// Back over the proper name before a head-last noun: capitalised words and connectors, with
/// at least one word that is not generic (`Community Hospital` alone names nothing).
fn extend_left(text: &str, at: usize) -> usize {
    let before = &text[..at];
    let mut start = at;
    let mut named = false;
    let mut rest = before;
    for _ in 0..6 {
        let Some(trimmed) = rest.strip_suffix(' ') else {
            break;
        };
        let len = trimmed
            .char_indices()
            .rev()
            .take_while(|&(_, c)| c.is_alphanumeric() || matches!(c, '\'' | '’' | '-' | '.' | '&'))
            .last()
            .map_or(trimmed.len(), |(i, _)| i);
        let word = &trimmed[len..];
        // A word that ends a sentence (`Urología. Hospital ...`) is not part of the name.
        if word.is_empty() || word.ends_with('.') && !is_abbreviation(word) {
            break;
        }
        let capital = word.starts_with(char::is_uppercase);
        let connector = is_connector(word) && word != "The";
        if !(capital || connector) || word == "The" {
            break;
        }
        if capital {
            if !GENERIC.contains(&word) && !STOPS.contains(&word.trim_end_matches('.')) {
                named = true;
            }
            start = len;
        }
        rest = &trimmed[..len];
    }
    if named { start } else { at }
}

fn is_connector(word: &str) -> bool {
    CONNECTORS.iter().any(|c| c.eq_ignore_ascii_case(word))
}

fn is_abbreviation(word: &str) -> bool {
    matches!(
        word,
        "St." | "Dr." | "Sta." | "Sto." | "Mt." | "Ft." | "Gral."
    )
}

/// Lower-case month names that may stand inside a name (`Hospital 12 de octubre`).
const MONTHS: &[&str] = &[
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn facilities(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        FacilityFinder::load().unwrap().find(text, &mut found);
        found
            .into_iter()
            .map(|s| text[s.start..s.end].to_owned())
            .collect()
    }

    #[test]
    fn names_before_and_after_their_heads() {
        assert_eq!(
            facilities("admitted to St. Agnes Medical Center today"),
            ["St. Agnes Medical Center"]
        );
        assert_eq!(
            facilities("transferred from Mercy General for a scan"),
            ["Mercy General"]
        );
        assert_eq!(
            facilities("seen at Mercy General Hospital."),
            ["Mercy General Hospital"]
        );
        assert_eq!(
            facilities("Servicio de Urología. Hospital Universitario La Paz. Madrid"),
            ["Hospital Universitario La Paz"]
        );
        assert_eq!(
            facilities("Hospital de León Altos de Nava"),
            ["Hospital de León Altos de Nava"]
        );
        assert_eq!(
            facilities("Hospital Universitario 12 de octubre. Avenida"),
            ["Hospital Universitario 12 de octubre"]
        );
        assert_eq!(
            facilities("Verlegung ins Klinikum Rechts der Isar"),
            ["Klinikum Rechts der Isar"]
        );
        assert_eq!(
            facilities("suivi au Centre Hospitalier de Lyon"),
            ["Centre Hospitalier de Lyon"]
        );
        assert_eq!(
            facilities("a patient of Children's of Alabama"),
            ["Children's of Alabama"]
        );
    }

    #[test]
    fn heads_without_a_name_are_not_facilities() {
        for text in [
            "discharged from the hospital",
            "seen at the Community Hospital",
            "General appearance: well",
            "Hospital course was uneventful",
            "follow up in clinic",
        ] {
            assert_eq!(facilities(text), Vec::<String>::new(), "{text}");
        }
    }
}
