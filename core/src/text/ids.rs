//! Identifiers by their label, in one detector family for every language the cue table
//! covers: a cue (`MRN`, `Member ID`, `NHC`, `Nº Col`, `Versichertennummer`, ...), an optional
//! separator (`:`, `#`, `=`, `is`, `no.`, `nº`, ...), then a value of identifier shape (letters,
//! digits, dashes, slashes, dots, `#`, groups of digits split by single spaces). The cue gives
//! the category; the shape rules and a stop list (units, blood pressures, decimals) keep doses,
//! vitals and lab values out. One pattern per format would only ever know the formats it was
//! written for; labels and shapes carry over to numbering schemes never seen.

use regex::Regex;

use super::span::Span;

/// Cue words per category, most specific first (leftmost-first alternation takes the first
/// that matches, so `record number` must come before `record`). Lower case; the pattern is
/// case-insensitive. `strong`: the cue alone says the next value is an identifier.
const CUES: &[(&str, &str, bool)] = &[
    (
        "mrn",
        r"mrn|medical record(?: number| no| nr)?|hospital (?:number|no)|unit number|record (?:number|no)|chart (?:number|no)|chart|n\.?\s?h\.?\s?c|historia cl[ií]nica|(?:n[º°]|n[úu]m(?:ero)?\.?) (?:de )?historia|patientennummer|patienten-?id|pat\.?-?nr|ipp|num[ée]ro de dossier|n[º°] de dossier|cartella clinica|prontu[áa]rio|processo cl[íi]nico|cipa",
        true,
    ),
    (
        "health_plan_id",
        r"member (?:id|number|no)|member|subscriber (?:id|number|no)|subscriber|insurance (?:id|number|no)|insurance|policy (?:number|no|id)|policy|plan (?:id|number|no)|group (?:number|no)|medicaid(?: id| number| no)?|medicare(?: id| number| no)?|mbi|hicn|n\.?\s?a\.?\s?s\.?\s?s|n\.?\s?u\.?\s?s\.?\s?s|n\.?\s?a\.?\s?s|tarjeta sanitaria|(?:n[º°]|n[úu]m(?:ero)?\.?) (?:de )?afiliaci[óo]n|seguridad social|versichertennummer|versicherungsnummer|versicherten-?nr|kv-?nr|krankenversichertennummer|sozialversicherungsnummer|num[ée]ro de s[ée]curit[ée] sociale|tessera sanitaria|cart[ãa]o (?:do )?sus|cns",
        true,
    ),
    (
        "license",
        r"licen[cs]e (?:number|no)|licen[cs]e|lic\.? no|npi|dea(?: number| no)?|(?:n[º°]|n[úu]m(?:ero)?\.?)\s?(?:de )?col(?:egiado)?|colegiado|col\.? n[º°]|lanr|bsnr|rpps|adeli|numero di iscrizione|crm",
        true,
    ),
    (
        "account",
        r"account (?:number|no)|account|acct|cuenta|kontonummer|konto",
        true,
    ),
    (
        "encounter_id",
        r"encounter (?:id|number|no)|encounter|visit (?:id|number|no)|admission (?:id|number|no)|case (?:id|number|no)|case|claim (?:id|number|no)|claim|accession (?:number|no)?|specimen (?:id|number|no)|order (?:id|number|no)|episodio|episode (?:id|number|no)|fallnummer|fall-?nr|aufnahmenummer|auftragsnummer|ref(?:erence)?(?: number| no)?|r[ée]f[ée]rence",
        true,
    ),
    (
        "zip",
        r"zip(?: code)?|postal code|postcode|c\.\s?p|cp|c[óo]digo postal|plz|postleitzahl|code postal|cap|cep",
        true,
    ),
    (
        "patient_id",
        r"patient (?:id|number|no)|pt\.? id|client id|person id|identifier|identification (?:number|no)|id (?:number|no)|(?:n[º°]|n[úu]m(?:ero)?\.?) (?:de )?identificaci[óo]n|identificaci[óo]n|ausweisnummer|dni|nie|nif|codice fiscale|id",
        false,
    ),
];

/// Words that may stand between a cue and its value (`Policy number is`, `Nº de`).
const FILLERS: &[&str] = &[
    "is", "es", "ist", "est", "number", "no", "nº", "n°", "nr", "num", "núm", "id", "de", "del",
];

/// A value followed by one of these is a measurement, not an identifier.
const UNITS: &[&str] = &[
    "mg", "mcg", "µg", "g", "kg", "lb", "lbs", "ml", "l", "dl", "cm", "mm", "mmhg", "bpm", "min",
    "h", "hr", "hrs", "hours", "days", "weeks", "months", "years", "años", "jahre", "ans", "anni",
    "units", "iu", "ui", "meq", "mmol", "mol", "mg/dl", "%", "°", "x",
];

/// Finds labelled identifiers.
pub(super) struct IdFinder {
    /// Every cue, for the one search over the text.
    cues: Regex,
    /// Each category's cues alone, anchored: which one a match is (run on the cue only,
    /// so the search over the text needs no capture groups).
    each: Vec<Regex>,
}

impl IdFinder {
    pub(super) fn load() -> Result<Self, regex::Error> {
        let groups: Vec<String> = CUES
            .iter()
            .map(|(_, alts, _)| format!("(?:{alts})"))
            .collect();
        // ASCII word boundary at the start only: the end is checked in code, because a cue
        // may end in a non-ASCII letter (`Nº`).
        let cues = Regex::new(&format!("(?i)(?-u:\\b)(?:{})", groups.join("|")))?;
        let each = groups
            .iter()
            .map(|g| Regex::new(&format!("(?i)^{g}$")))
            .collect::<Result<_, _>>()?;
        Ok(IdFinder { cues, each })
    }

    /// Pushes a span for each labelled identifier in `text`.
    pub(super) fn find(&self, text: &str, found: &mut Vec<Span>) {
        for m in self.cues.find_iter(text) {
            // The first category whose cues match the whole cue, as the alternation chose.
            let Some(i) = self.each.iter().position(|re| re.is_match(m.as_str())) else {
                continue;
            };
            let Some(&(category, _, strong)) = CUES.get(i) else {
                continue;
            };
            if text[m.end()..]
                .chars()
                .next()
                .is_some_and(char::is_alphanumeric)
            {
                continue; // `member` in `membership`
            }
            let Some((start, end)) = value_after(text, m.end(), strong) else {
                continue;
            };
            // Below every validated pattern: a phone or a card number after `ref` is still a
            // phone or a card; the label decides only what no pattern claims.
            let confidence = if strong { 0.5 } else { 0.45 };
            found.push(Span::found(start, end, category, "id-labelled", confidence));
        }
    }
}

/// The identifier that follows a cue ending at `at`, as byte offsets, if one does.
fn value_after(text: &str, at: usize, strong: bool) -> Option<(usize, usize)> {
    let start = skip_separators(text, at)?;
    let rest = &text[start..];
    let b = rest.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'#'));
    let (mut alnum, mut digits, mut letters) = (0usize, 0usize, 0usize);
    let mut end = i;
    loop {
        // One group of letters and digits.
        let g0 = i;
        let (mut gd, mut gl) = (0, 0);
        while let Some(&c) = b.get(i) {
            if c.is_ascii_digit() {
                gd += 1;
            } else if c.is_ascii_alphabetic() {
                gl += 1;
            } else {
                break;
            }
            i += 1;
        }
        if i == g0 {
            break;
        }
        // A group of letters alone after a space is the next word, not part of the value.
        if gd == 0 && end > 0 && b.get(g0 - 1) == Some(&b' ') {
            break;
        }
        alnum += gd + gl;
        digits += gd;
        letters += gl;
        let last_group_digits = gl == 0;
        end = i;
        match (b.get(i), b.get(i + 1)) {
            (Some(b'-' | b'/' | b'.' | b'_'), Some(n)) if n.is_ascii_alphanumeric() => i += 1,
            // Spaced groups of digits (`28 28 70973`, `26 63514095`).
            (Some(b' '), Some(n)) if n.is_ascii_digit() && last_group_digits => i += 1,
            _ => break,
        }
        if alnum > 40 {
            return None;
        }
    }
    let value = &rest[..end];
    let plausible = (4..=30).contains(&alnum)
        && digits >= 2
        && (digits >= 4 || (letters > 0 && alnum >= 5))
        && (strong || digits >= 4);
    if !plausible || measurement(value, &rest[end..]) {
        return None;
    }
    Some((start, start + end))
}

/// Past separators and filler words after a cue (at most 24 bytes of them); `None` when a
/// line break or anything else comes first.
fn skip_separators(text: &str, mut at: usize) -> Option<usize> {
    let limit = at + 24;
    loop {
        let rest = text.get(at..)?;
        let trimmed = rest.trim_start_matches([' ', '\t', ':', '=', '.', '-']);
        at += rest.len() - trimmed.len();
        let word: String = trimmed
            .chars()
            .take_while(|c| c.is_alphabetic() || matches!(c, 'º' | '°'))
            .collect();
        let filler = !word.is_empty()
            && FILLERS
                .iter()
                .any(|f| word.eq_ignore_ascii_case(f) || word.to_lowercase() == *f);
        // A filler counts only when more separator or a value follows (`No` alone is a word).
        let after = trimmed.get(word.len()..).and_then(|r| r.chars().next());
        if filler && after.is_some_and(|c| matches!(c, ' ' | ':' | '.' | '#' | '-' | '=')) {
            at += word.len();
        } else {
            break;
        }
        if at > limit {
            return None;
        }
    }
    (at <= limit
        && text
            .get(at..)?
            .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '#'))
    .then_some(at)
}

/// A blood pressure (`120/80`), a decimal (`1.16`), or a number followed by a unit.
fn measurement(value: &str, after: &str) -> bool {
    let parts: Vec<&str> = value.split(['/', '.']).collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if numeric && parts.len() == 2 && parts.iter().all(|p| p.len() <= 3) {
        return true;
    }
    let next: String = after
        .trim_start_matches(' ')
        .chars()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '%' | '°' | '/' | 'µ'))
        .collect::<String>()
        .to_lowercase();
    UNITS.contains(&next.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<(&'static str, String)> {
        let finder = IdFinder::load().unwrap();
        let mut found = Vec::new();
        finder.find(text, &mut found);
        found
            .into_iter()
            .map(|s| {
                let cat: &'static str = match s.category {
                    std::borrow::Cow::Borrowed(c) => c,
                    std::borrow::Cow::Owned(_) => "owned",
                };
                (cat, text[s.start..s.end].to_owned())
            })
            .collect()
    }

    #[test]
    fn labels_in_several_languages_give_their_category() {
        assert_eq!(ids("MRN: #QW-448812."), [("mrn", "#QW-448812".into())]);
        assert_eq!(
            ids("Insurance: KLM-203344"),
            [("health_plan_id", "KLM-203344".into())]
        );
        assert_eq!(
            ids("Patient ID: ZXCV0912"),
            [("patient_id", "ZXCV0912".into())]
        );
        assert_eq!(ids("NHC: 3391025."), [("mrn", "3391025".into())]);
        assert_eq!(
            ids("Nº Col: 28 28 11111"),
            [("license", "28 28 11111".into())]
        );
        assert_eq!(
            ids("Versichertennummer A123456789 liegt vor"),
            [("health_plan_id", "A123456789".into())]
        );
        assert_eq!(
            ids("Member ID is XJH448812301, group no. 77120"),
            [
                ("health_plan_id", "XJH448812301".into()),
                ("health_plan_id", "77120".into())
            ]
        );
        assert_eq!(ids("colegiado nº 4412"), [("license", "4412".into())]);
        assert_eq!(
            ids("Fallnummer: 2019-004471"),
            [("encounter_id", "2019-004471".into())]
        );
    }

    #[test]
    fn measurements_and_words_are_not_identifiers() {
        for text in [
            "Policy: none on file",
            "case 2 of 4",
            "record 120/80 today",
            "ID 3 mg daily",
            "membership 44120",
            "order 500 mg",
            "claim was filed",
            "Plan: follow up in 2 weeks",
            "id 123",
        ] {
            assert_eq!(ids(text), [], "{text}");
        }
    }
}
