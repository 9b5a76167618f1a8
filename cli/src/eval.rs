//! Scoring the free-text detector against labelled sets (`phiguard eval`): the gold labels of
//! the development sets mapped to our categories, the Safe Harbor exceptions they label, and
//! recall and precision per category. Only the command line measures; the library detects.

use std::collections::BTreeMap;

use phiguard::{Engine, Error};

/// Maps a gold label of the labelled sets to our category; `None` for labels that are not
/// PHI under Safe Harbor (organisations, titles, nationalities, countries, sex, professions).
/// The sets' label names do not collide: Presidio's entity names and the Synthea notes' NAME /
/// DATE (upper case, English), MEDDOCAN's (upper case, Spanish), the deidgate seed's (lower
/// case). Places below the state and facilities are scored as `city` and `facility` although
/// the detector has no such category yet: recall counts what survives scrubbing, whatever
/// category a detector gave it.
pub(crate) fn category_of_label(label: &str) -> Option<&'static str> {
    Some(match label {
        "PERSON" | "NAME" | "name" => "name",
        "NOMBRE_SUJETO_ASISTENCIA"
        | "NOMBRE_PERSONAL_SANITARIO"
        | "FAMILIARES_SUJETO_ASISTENCIA" => "name",
        "STREET_ADDRESS" | "ADDRESS" | "CALLE" => "street",
        "PHONE_NUMBER" | "NUMERO_TELEFONO" | "phone" => "phone",
        "NUMERO_FAX" | "fax" => "fax",
        "EMAIL_ADDRESS" | "CORREO_ELECTRONICO" | "email" => "email",
        "US_SSN" | "ssn" => "ssn",
        "CREDIT_CARD" | "IBAN_CODE" | "US_BANK_NUMBER" | "account" => "account",
        "IP_ADDRESS" | "ip" => "ip_address",
        "DATE_TIME" | "DATE" | "FECHAS" | "date" => "event_date",
        "ZIP_CODE" => "zip",
        "AGE" | "EDAD_SUJETO_ASISTENCIA" => "age",
        "URL" | "DOMAIN_NAME" | "url" => "url",
        "US_DRIVER_LICENSE" | "MEDICAL_LICENSE" | "license" => "license",
        "ID_TITULACION_PERSONAL_SANITARIO" | "ID_EMPLEO_PERSONAL_SANITARIO" => "license",
        "US_PASSPORT" => "passport",
        "ID_SUJETO_ASISTENCIA" | "mrn" => "mrn",
        "ID_ASEGURAMIENTO" | "health_plan" => "health_plan_id",
        "ID_CONTACTO_ASISTENCIAL" | "OTROS_SUJETO_ASISTENCIA" | "other" => "other_id",
        "vehicle" => "vehicle_id",
        "device" => "device_id",
        "biometric" | "photo" => "other_id",
        "TERRITORIO" | "geo" => "city",
        "HOSPITAL" | "INSTITUCION" | "CENTRO_SALUD" => "facility",
        _ => return None,
    })
}

/// Whether a gold value is PHI under Safe Harbor: a year alone, a weekday, a time of day or an
/// age up to 89 is not (§164.514(b)(2)(i)(C) keeps years and ages under 90), so gold sets that
/// label them are not scored on them.
pub(crate) fn phi_under_safe_harbor(category: &str, value: &str) -> bool {
    let v = value.trim();
    match category {
        "event_date" => {
            let lower = v.to_lowercase();
            let weekday = [
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
            ]
            .iter()
            .any(|d| lower.trim_end_matches(['.', ',']) == *d || lower.trim_end_matches('s') == *d);
            // A year alone, or with a word that says it is one (`año 1978`, `im Jahr 2004`).
            let year_words = [
                "año", "el", "del", "de", "en", "year", "the", "in", "jahr", "im", "an", "anno",
            ];
            let is_year = |t: &str| t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit());
            let tokens: Vec<&str> = lower.split_whitespace().collect();
            let year = tokens.iter().filter(|t| is_year(t)).count() == 1
                && tokens.iter().all(|t| is_year(t) || year_words.contains(t));
            let time_only = !v.is_empty()
                && v.bytes()
                    .all(|b| b.is_ascii_digit() || b" :apmAPM.".contains(&b))
                && v.contains(':');
            !(weekday || year || time_only)
        }
        // "70 años", "45-year-old": the number that starts it.
        "age" => {
            let n: String = v.chars().take_while(char::is_ascii_digit).collect();
            match n.parse::<u32>() {
                Ok(a) => a > 89,
                // In words (`sesenta y tres años`, `Recién nacido`): PHI only from ninety on.
                Err(_) => {
                    let lower = v.to_lowercase();
                    [
                        "noventa",
                        "ninety",
                        "neunzig",
                        "novanta",
                        "quatre-vingt-dix",
                        "cien",
                        "hundred",
                        "hundert",
                    ]
                    .iter()
                    .any(|w| lower.contains(w))
                }
            }
        }
        _ => true,
    }
}

/// A labelled text for evaluation: spans in byte offsets.
#[derive(Debug, Clone)]
pub(crate) struct GoldCase {
    /// The text.
    pub text: String,
    /// (byte start, byte end, label).
    pub spans: Vec<(usize, usize, String)>,
    /// The file and line it came from, for errors.
    pub source: (String, u64),
}

/// Scores of one category.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Score {
    /// Gold spans of the category.
    pub gold: u64,
    /// Gold spans whose letters and digits detected spans cover entirely.
    pub covered: u64,
    /// Gold spans some detected span overlaps.
    pub overlapped: u64,
    /// Gold spans a detected span matches exactly.
    pub exact: u64,
    /// Detected spans of the category.
    pub predicted: u64,
    /// Detected spans that overlap some gold span (of any label).
    pub predicted_true: u64,
}

impl Score {
    /// Recall with covering matches.
    pub fn recall(&self) -> f64 {
        ratio(self.covered, self.gold)
    }
    /// Recall with overlapping matches.
    pub fn recall_overlap(&self) -> f64 {
        ratio(self.overlapped, self.gold)
    }
    /// Recall with exact matches.
    pub fn recall_exact(&self) -> f64 {
        ratio(self.exact, self.gold)
    }
    /// Precision: detected spans that overlap a gold span.
    pub fn precision(&self) -> f64 {
        ratio(self.predicted_true, self.predicted)
    }
    /// F1 of covering recall and precision.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    /// The counts as JSON, in field order (the form `eval --json` has always printed).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "gold": self.gold,
            "covered": self.covered,
            "overlapped": self.overlapped,
            "exact": self.exact,
            "predicted": self.predicted,
            "predicted_true": self.predicted_true,
        })
    }
    fn add(&mut self, o: &Score) {
        self.gold += o.gold;
        self.covered += o.covered;
        self.overlapped += o.overlapped;
        self.exact += o.exact;
        self.predicted += o.predicted;
        self.predicted_true += o.predicted_true;
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

/// Scores per category, `overall` among them.
pub(crate) type Scores = BTreeMap<String, Score>;
/// Gold spans not scored, counted per label (and per reason when the label maps to a category).
pub(crate) type Unmapped = BTreeMap<String, u64>;

/// Scores per category, plus `overall`, and the count of gold spans per unmapped label.
///
/// # Errors
/// As [`Engine::detect`] (a text over `max_text_bytes`), located at the case's file and line.
pub(crate) fn evaluate(engine: &Engine, cases: &[GoldCase]) -> Result<(Scores, Unmapped), Error> {
    let mut by = Scores::new();
    let mut unmapped = Unmapped::new();
    for case in cases {
        let found = crate::detect_at(engine, &case.text, &case.source.0, case.source.1)?;
        for (s, e, label) in &case.spans {
            let Some(cat) = category_of_label(label) else {
                *unmapped.entry(label.clone()).or_insert(0) += 1;
                continue;
            };
            if !phi_under_safe_harbor(cat, case.text.get(*s..*e).unwrap_or("")) {
                *unmapped
                    .entry(format!(
                        "{label} (not PHI: year, weekday, time or age under 90)"
                    ))
                    .or_insert(0) += 1;
                continue;
            }
            let sc = by.entry(cat.to_owned()).or_default();
            sc.gold += 1;
            let overlaps = found.iter().any(|f| f.start < *e && f.end > *s);
            let exact = found.iter().any(|f| f.start == *s && f.end == *e);
            let covered = case.text.get(*s..*e).is_some_and(|g| {
                g.char_indices().all(|(i, c)| {
                    !c.is_alphanumeric() || found.iter().any(|f| f.start <= s + i && s + i < f.end)
                })
            });
            sc.overlapped += u64::from(overlaps);
            sc.exact += u64::from(exact);
            sc.covered += u64::from(covered);
        }
        for f in &found {
            let sc = by.entry(f.category.to_string()).or_default();
            sc.predicted += 1;
            sc.predicted_true += u64::from(
                case.spans
                    .iter()
                    .any(|(s, e, _)| f.start < *e && f.end > *s),
            );
        }
    }
    let mut overall = Score::default();
    for s in by.values() {
        overall.add(s);
    }
    by.insert("overall".into(), overall);
    Ok((by, unmapped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_harbor_keeps_years_weekdays_times_and_ages_under_90() {
        for v in [
            "2021",
            "Monday",
            "Tuesdays",
            "10:30 am",
            "año 1978",
            "el año 2004",
        ] {
            assert!(!phi_under_safe_harbor("event_date", v), "{v}");
        }
        assert!(phi_under_safe_harbor("event_date", "03/04/2021"));
        assert!(phi_under_safe_harbor("event_date", "octubre de 2016"));
        assert!(!phi_under_safe_harbor("age", "45"));
        assert!(!phi_under_safe_harbor("age", "70 años"));
        assert!(phi_under_safe_harbor("age", "93 años"));
        assert!(!phi_under_safe_harbor("age", "sesenta y tres años"));
        assert!(phi_under_safe_harbor("age", "noventa y dos años"));
        assert!(phi_under_safe_harbor("age", "92"));
        assert_eq!(category_of_label("PERSON"), Some("name"));
        assert_eq!(category_of_label("ORGANIZATION"), None);
    }

    #[test]
    fn scores_count_cover_overlap_and_exact() {
        let engine = Engine::builder().build().unwrap();
        let text = "SSN 123-45-6789, ORG Acme".to_owned();
        let cases = [GoldCase {
            spans: vec![(4, 15, "US_SSN".into()), (21, 25, "ORGANIZATION".into())],
            text,
            source: ("<test>".into(), 1),
        }];
        let (scores, unmapped) = evaluate(&engine, &cases).unwrap();
        let ssn = &scores["ssn"];
        assert_eq!(
            (ssn.gold, ssn.covered, ssn.exact, ssn.predicted),
            (1, 1, 1, 1)
        );
        assert_eq!(unmapped["ORGANIZATION"], 1);
        assert_eq!(scores["overall"].gold, 1);
        assert!(Score::default().recall().is_nan());
    }
}
