//! The treatments: pure functions of (value, parameters, key material).
//!
//! No policy knowledge lives here: the plan decides *which* treatment a field gets, this
//! module only knows *how* to apply it. Every function writes into a caller-owned `String` so
//! the hot path allocates nothing per value, and returns `false` when the value cannot be
//! treated as asked (an unparseable date under `generalize`, say); callers then redact, so a
//! value that cannot be treated is never let out in clear.

pub(crate) mod kind;

pub(crate) use kind::TreatmentKind;

use hmac::Mac;
use serde::{Deserialize, Serialize};

use crate::keys::{HmacSha256, KeyRing};
use crate::util::calendar::{DateForm, civil_from_days, days_from_civil, digits, parse_date};
use crate::util::hex;

/// Partial mask: keep the first/last `n` characters, mask the rest, keep separators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskParams {
    /// Characters kept at the start.
    #[serde(default)]
    pub keep_first: usize,
    /// Characters kept at the end (`keep_last = 4` gives `***-**-6789`).
    #[serde(default)]
    pub keep_last: usize,
    /// The mask character.
    #[serde(default = "default_mask_char")]
    pub mask_char: char,
}

fn default_mask_char() -> char {
    '*'
}

/// Keyed pseudonym: `prefix` + the first `length` hex digits of
/// HMAC-SHA256(pseudonym key, domain ‖ 0x1f ‖ value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PseudonymParams {
    /// Text put before the hex digits, e.g. `MRN-`.
    #[serde(default)]
    pub prefix: String,
    /// Hex digits kept, 8 to 64.
    #[serde(default = "default_pseudonym_len")]
    pub length: usize,
    /// Domain separating namespaces: the same value in two domains gets unrelated pseudonyms.
    /// Defaults to the field's category, so an MRN links across tables but never to an SSN.
    #[serde(default)]
    pub domain: Option<String>,
    /// Lower-case the value first (emails).
    #[serde(default)]
    pub case_insensitive: bool,
}

fn default_pseudonym_len() -> usize {
    16
}

/// Per-patient date shift: every date of one patient moves by the same number of days, between
/// 1 and `max_days` either way, derived from the key and the patient id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftParams {
    /// Largest shift in days.
    #[serde(default = "default_shift_days")]
    pub max_days: u32,
}

fn default_shift_days() -> u32 {
    365
}

/// Generalization to a coarser value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum GeneralizeParams {
    /// A date to its year. With `fold_age_over = 89` a birth year that could reveal an age of 90
    /// or more on the reference date (HIPAA §164.514(b)(2)(i)(C)) becomes `90+`: that is any
    /// year more than 89 years before the reference year.
    Year {
        /// Fold years revealing an age above this into `90+`.
        #[serde(default)]
        fold_age_over: Option<u32>,
    },
    /// A ZIP code to its first three digits; `000` for the restricted 3-digit areas of
    /// 20,000 people or fewer (HIPAA §164.514(b)(2)(i)(B)) in `census` (2020 unless set).
    Zip3 {
        /// Whose counts decide the restricted areas (`policies/zip3/restricted-*.txt`).
        #[serde(default)]
        census: ZipCensus,
    },
    /// An age in years; above 89 becomes `90+`.
    Age,
    /// A number to the bucket `lo-hi` (lo inclusive, hi exclusive) of ascending `edges`;
    /// `<first` below and `>=last` above.
    Buckets {
        /// Ascending bucket edges.
        edges: Vec<f64>,
    },
    /// A code to the coarser code `values` maps it to (`en-AU` to `en`); a value not listed
    /// is kept with `keep_others`, else it cannot be generalized (and is redacted).
    Map {
        /// Value -> its generalization.
        values: std::collections::BTreeMap<String, String>,
        /// Keep values the map does not list.
        #[serde(default)]
        keep_others: bool,
    },
}

/// Free-text scrubbing: detected spans below `min_confidence` are left as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrubParams {
    /// Lowest detector confidence acted upon.
    #[serde(default = "default_min_confidence")]
    pub min_confidence: f32,
}

fn default_min_confidence() -> f32 {
    0.5
}

/// Redaction: null by default, a placeholder text, or the field dropped from the output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactParams {
    /// Text written instead of null.
    #[serde(default)]
    pub placeholder: Option<String>,
    /// Remove the field (JSON key or CSV column) instead of nulling it.
    #[serde(default)]
    pub drop: bool,
    /// A fixed value written instead (FHIR: any JSON value, an object replacing a data type
    /// whole; tables: a string as is, any other value as its JSON text).
    #[serde(default)]
    pub substitute: Option<serde_json::Value>,
}

impl RedactParams {
    /// The text written instead of the value in a table or free text, if any: the
    /// placeholder, else the substitute (a string as is, any other value as JSON).
    ///
    /// # Examples
    /// ```
    /// let r: phiguard::treat::RedactParams =
    ///     serde_json::from_value(serde_json::json!({"substitute": {"family": "X"}})).unwrap();
    /// assert_eq!(r.placeholder_text().as_deref(), Some(r#"{"family":"X"}"#));
    /// ```
    pub fn placeholder_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        match (&self.placeholder, &self.substitute) {
            (Some(p), _) => Some(Cow::Borrowed(p)),
            (None, Some(serde_json::Value::String(s))) => Some(Cow::Borrowed(s)),
            (None, Some(v)) => Some(Cow::Owned(v.to_string())),
            (None, None) => None,
        }
    }
}

/// The census whose population counts decide Safe Harbor's restricted 3-digit ZIP areas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ZipCensus {
    /// The 2000 Census: the list HHS's guidance prints (17 areas).
    #[serde(rename = "2000")]
    Y2000,
    /// The 2020 Census (18 areas): the current publicly available data the rule asks for.
    #[default]
    #[serde(rename = "2020")]
    Y2020,
}

impl ZipCensus {
    /// The restricted 3-digit areas of this census, from `policies/zip3/`.
    ///
    /// # Examples
    /// ```
    /// use phiguard::treat::ZipCensus;
    /// assert!(ZipCensus::Y2020.restricted().contains(&"772"));
    /// assert!(ZipCensus::Y2000.restricted().contains(&"790"));
    /// assert_eq!((ZipCensus::Y2000.restricted().len(), ZipCensus::Y2020.restricted().len()), (17, 18));
    /// ```
    pub fn restricted(self) -> &'static [&'static str] {
        static LISTS: std::sync::OnceLock<[Vec<&'static str>; 2]> = std::sync::OnceLock::new();
        let lists = LISTS.get_or_init(|| {
            let parse = |text: &'static str| {
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .collect::<Vec<_>>()
            };
            [
                parse(include_str!("../../../policies/zip3/restricted-2000.txt")),
                parse(include_str!("../../../policies/zip3/restricted-2020.txt")),
            ]
        });
        let [y2000, y2020] = lists;
        match self {
            ZipCensus::Y2000 => y2000,
            ZipCensus::Y2020 => y2020,
        }
    }
}

/// The label Safe Harbor's "90 or older" group gets.
pub const AGE_90_PLUS: &str = "90+";

/// Writes `value` masked into `out`.
///
/// Letters, digits and the mask character itself are maskable slots; everything else
/// (dashes, spaces, `@`, dots) is kept so the shape stays readable. At most half of the slots
/// are ever kept, so a short value is never shown whole, and masking is idempotent.
///
/// # Examples
/// ```
/// use phiguard::treat::{mask, MaskParams};
/// let p = MaskParams { keep_first: 0, keep_last: 4, mask_char: '*' };
/// let mut out = String::new();
/// mask("123-45-6789", &p, &mut out);
/// assert_eq!(out, "***-**-6789");
/// ```
pub fn mask(value: &str, p: &MaskParams, out: &mut String) {
    let is_slot = |c: char| c.is_alphanumeric() || c == p.mask_char;
    let slots = value.chars().filter(|&c| is_slot(c)).count();
    let half = slots / 2;
    let first = p.keep_first.min(half);
    let last = p.keep_last.min(half - first);
    let mut i = 0usize;
    for c in value.chars() {
        if is_slot(c) {
            let keep = i < first || i >= slots - last;
            out.push(if keep { c } else { p.mask_char });
            i += 1;
        } else {
            out.push(c);
        }
    }
}

/// Writes the keyed pseudonym of `value` in `domain` into `out`.
///
/// # Examples
/// ```
/// use phiguard::treat::{pseudonym, PseudonymParams};
/// let key = phiguard::KeyRing::from_bytes(&[1u8; 32]).unwrap();
/// let p = PseudonymParams { prefix: "mrn-".into(), length: 16, domain: None, case_insensitive: false };
/// let (mut a, mut b) = (String::new(), String::new());
/// pseudonym("12345", &key, "mrn", &p, &mut a);
/// pseudonym("12345", &key, "mrn", &p, &mut b);
/// assert_eq!(a, b);
/// assert_eq!(a.len(), 4 + 16);
/// ```
pub fn pseudonym(value: &str, key: &KeyRing, domain: &str, p: &PseudonymParams, out: &mut String) {
    pseudonymize(value, key.pseudonym_mac(), domain, p, out);
}

/// The per-patient date offset in days (never 0, at most `max_days` either way).
pub fn patient_offset(key: &KeyRing, patient_id: &str, max_days: u32) -> i64 {
    date_offset(key.date_shift_mac(), patient_id, max_days)
}

pub(crate) fn pseudonymize(
    value: &str,
    key: &HmacSha256,
    domain: &str,
    p: &PseudonymParams,
    out: &mut String,
) {
    let mut mac = key.clone();
    mac.update(domain.as_bytes());
    mac.update(&[0x1f]);
    if p.case_insensitive {
        let lower = value.to_lowercase();
        mac.update(lower.as_bytes());
    } else {
        mac.update(value.as_bytes());
    }
    let digest = mac.finalize().into_bytes();
    out.push_str(&p.prefix);
    hex::push(out, &digest, p.length.clamp(8, 64));
}

/// The per-patient date offset in days (never 0) for `patient_id`.
pub(crate) fn date_offset(key: &HmacSha256, patient_id: &str, max_days: u32) -> i64 {
    let mut mac = key.clone();
    mac.update(patient_id.as_bytes());
    let d = mac.finalize().into_bytes();
    let mut eight = [0u8; 8];
    eight.copy_from_slice(d.get(..8).unwrap_or(&[0; 8]));
    let v = u64::from_be_bytes(eight);
    let max = u64::from(max_days.max(1));
    let magnitude = 1 + (v >> 1) % max;
    let magnitude = i64::try_from(magnitude).unwrap_or(1);
    if v & 1 == 1 { magnitude } else { -magnitude }
}

/// Writes `value` moved by `offset_days` in its own format. `false` if it is not a date.
///
/// # Examples
/// ```
/// let mut out = String::new();
/// assert!(phiguard::treat::shift_date("2020-02-28T10:00:00Z", 2, &mut out));
/// assert_eq!(out, "2020-03-01T10:00:00Z");
/// ```
pub fn shift_date(value: &str, offset_days: i64, out: &mut String) -> bool {
    let Some(d) = parse_date(value) else {
        return false;
    };
    let (y, m, day) = civil_from_days(days_from_civil(d.year, d.month, d.day) + offset_days);
    if !(0..=9999).contains(&y) {
        return false;
    }
    use std::fmt::Write;
    let _ = match d.form {
        DateForm::Iso => write!(out, "{y:04}-{m:02}-{day:02}{}", d.rest),
        DateForm::Compact => write!(out, "{y:04}{m:02}{day:02}"),
        DateForm::Us => write!(out, "{m:02}/{day:02}/{y:04}{}", d.rest),
    };
    true
}

/// Writes the generalization of `value` into `out`; `false` if the value does not fit the kind.
/// `as_of_year` is the reference year for ages (fixed per run so output is reproducible).
///
/// # Examples
/// ```
/// use phiguard::treat::{generalize, GeneralizeParams, ZipCensus};
/// let mut out = String::new();
/// assert!(generalize("03601-1234", &GeneralizeParams::Zip3 { census: ZipCensus::Y2020 }, 2026, &mut out));
/// assert_eq!(out, "000");
/// ```
pub fn generalize(value: &str, p: &GeneralizeParams, as_of_year: i64, out: &mut String) -> bool {
    use std::fmt::Write;
    match p {
        GeneralizeParams::Year { fold_age_over } => {
            let year = match parse_date(value) {
                Some(d) => d.year,
                // A bare year is already generalized; keep treating it (idempotence).
                None => match digits(value) {
                    Some(y) if value.len() == 4 => i64::from(y),
                    _ => return value == AGE_90_PLUS && push(out, AGE_90_PLUS),
                },
            };
            match fold_age_over {
                Some(limit) if as_of_year - year > i64::from(*limit) => out.push_str(AGE_90_PLUS),
                _ => {
                    let _ = write!(out, "{year:04}");
                }
            }
            true
        }
        GeneralizeParams::Zip3 { census } => {
            let restricted_areas = census.restricted();
            let zip = value.trim();
            let five = zip.get(..5).unwrap_or("");
            let tail_ok = match zip.len() {
                5 => true,
                10 => zip.get(5..6) == Some("-") && digits(zip.get(6..).unwrap_or("")).is_some(),
                9 => digits(zip.get(5..).unwrap_or("")).is_some(),
                _ => false,
            };
            if zip.len() == 3 && digits(zip).is_some() {
                // Already a ZIP3: idempotent.
                let restricted = restricted_areas.contains(&zip);
                return push(out, if restricted { "000" } else { zip });
            }
            if !tail_ok || digits(five).is_none() {
                return false;
            }
            let three = five.get(..3).unwrap_or("000");
            push(
                out,
                if restricted_areas.contains(&three) {
                    "000"
                } else {
                    three
                },
            )
        }
        GeneralizeParams::Map {
            values,
            keep_others,
        } => match values.get(value) {
            Some(g) => push(out, g),
            None => *keep_others && push(out, value),
        },
        GeneralizeParams::Age => {
            let v = value.trim();
            if v == AGE_90_PLUS {
                return push(out, AGE_90_PLUS);
            }
            match v.parse::<u32>() {
                Ok(age) if age > 89 => push(out, AGE_90_PLUS),
                Ok(age) => {
                    let _ = write!(out, "{age}");
                    true
                }
                Err(_) => false,
            }
        }
        GeneralizeParams::Buckets { edges } => {
            let Ok(x) = value.trim().parse::<f64>() else {
                return false;
            };
            if !x.is_finite() || edges.is_empty() {
                return false;
            }
            let (Some(first), Some(last)) = (edges.first(), edges.last()) else {
                return false;
            };
            if x < *first {
                let _ = write!(out, "<{first}");
            } else if x >= *last {
                let _ = write!(out, ">={last}");
            } else {
                for w in edges.windows(2) {
                    if let [lo, hi] = w
                        && x >= *lo
                        && x < *hi
                    {
                        let _ = write!(out, "{lo}-{hi}");
                        break;
                    }
                }
            }
            true
        }
    }
}

fn push(out: &mut String, s: &str) -> bool {
    out.push_str(s);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::KeyInit;

    fn m(v: &str, f: usize, l: usize) -> String {
        let mut out = String::new();
        mask(
            v,
            &MaskParams {
                keep_first: f,
                keep_last: l,
                mask_char: '*',
            },
            &mut out,
        );
        out
    }

    #[test]
    fn mask_keeps_separators_and_never_shows_whole_value() {
        assert_eq!(m("123-45-6789", 0, 4), "***-**-6789");
        assert_eq!(m("555-806-9773", 0, 4), "***-***-9773");
        assert_eq!(m("Andrew29", 1, 0), "A*******");
        assert_eq!(m("Al", 1, 1), "A*");
        assert_eq!(m("7", 0, 4), "*");
        assert_eq!(m("", 0, 4), "");
        let once = m("123-45-6789", 0, 4);
        assert_eq!(m(&once, 0, 4), once);
    }

    #[test]
    fn pseudonym_is_keyed_and_domain_separated() {
        let k1 = HmacSha256::new_from_slice(&[1; 32]).unwrap();
        let k2 = HmacSha256::new_from_slice(&[2; 32]).unwrap();
        let p = PseudonymParams {
            prefix: "MRN-".into(),
            length: 16,
            domain: None,
            case_insensitive: false,
        };
        let run = |k: &HmacSha256, d: &str, v: &str| {
            let mut o = String::new();
            pseudonymize(v, k, d, &p, &mut o);
            o
        };
        let a = run(&k1, "mrn", "12345");
        assert!(a.starts_with("MRN-") && a.len() == 20);
        assert_eq!(a, run(&k1, "mrn", "12345"));
        assert_ne!(a, run(&k2, "mrn", "12345"));
        assert_ne!(a, run(&k1, "ssn", "12345"));
    }

    #[test]
    fn date_offset_is_nonzero_and_bounded() {
        let k = HmacSha256::new_from_slice(&[3; 32]).unwrap();
        for id in ["a", "b", "patient-17", ""] {
            let o = date_offset(&k, id, 30);
            assert!(o != 0 && o.abs() <= 30, "{o}");
            assert_eq!(o, date_offset(&k, id, 30));
        }
    }

    #[test]
    fn shift_keeps_format() {
        let mut o = String::new();
        assert!(shift_date("03/01/2021", -1, &mut o));
        assert_eq!(o, "02/28/2021");
        o.clear();
        assert!(shift_date("20201231", 1, &mut o));
        assert_eq!(o, "20210101");
        o.clear();
        assert!(!shift_date("2021-02-30", 1, &mut o));
        assert!(!shift_date("yesterday", 1, &mut o));
        assert!(!shift_date("2021-03-04junk", 1, &mut o));
    }

    fn g(v: &str, p: &GeneralizeParams) -> Option<String> {
        let mut o = String::new();
        generalize(v, p, 2026, &mut o).then_some(o)
    }

    #[test]
    fn generalize_year_folds_old_ages() {
        let p = GeneralizeParams::Year {
            fold_age_over: Some(89),
        };
        assert_eq!(g("1943-03-17", &p).as_deref(), Some("1943"));
        // 2026 - 1937 = 89: at most 89 years old.
        assert_eq!(g("1937-12-31", &p).as_deref(), Some("1937"));
        // Born in 1936: 89 or 90 in 2026, so the year may reveal 90: folded.
        assert_eq!(g("1936-12-31", &p).as_deref(), Some("90+"));
        assert_eq!(g("1930", &p).as_deref(), Some("90+"));
        assert_eq!(g("90+", &p).as_deref(), Some("90+"));
        assert_eq!(g("bogus", &p), None);
    }

    #[test]
    fn generalize_zip_and_age_and_buckets() {
        let map = GeneralizeParams::Map {
            values: [("en-AU".to_owned(), "en".to_owned())].into(),
            keep_others: false,
        };
        assert_eq!(g("en-AU", &map).as_deref(), Some("en"));
        assert_eq!(g("fr-CA", &map), None);
        assert_eq!(
            g(
                "67880",
                &GeneralizeParams::Zip3 {
                    census: ZipCensus::Y2020
                }
            )
            .as_deref(),
            Some("678")
        );
        assert_eq!(
            g(
                "82301",
                &GeneralizeParams::Zip3 {
                    census: ZipCensus::Y2020
                }
            )
            .as_deref(),
            Some("000")
        );
        assert_eq!(
            g(
                "678",
                &GeneralizeParams::Zip3 {
                    census: ZipCensus::Y2020
                }
            )
            .as_deref(),
            Some("678")
        );
        assert_eq!(
            g(
                "6788",
                &GeneralizeParams::Zip3 {
                    census: ZipCensus::Y2020
                }
            ),
            None
        );
        // Dallas 790 fell off the list by 2020; Houston's 77204 came on.
        let y2000 = GeneralizeParams::Zip3 {
            census: ZipCensus::Y2000,
        };
        let y2020 = GeneralizeParams::Zip3 {
            census: ZipCensus::Y2020,
        };
        assert_eq!(g("79012", &y2000).as_deref(), Some("000"));
        assert_eq!(g("79012", &y2020).as_deref(), Some("790"));
        assert_eq!(g("77204", &y2000).as_deref(), Some("772"));
        assert_eq!(g("77204", &y2020).as_deref(), Some("000"));
        let parsed: GeneralizeParams =
            toml::from_str("kind = \"zip3\"\ncensus = \"2000\"").unwrap();
        assert_eq!(parsed, y2000);
        let parsed: GeneralizeParams = toml::from_str("kind = \"zip3\"").unwrap();
        assert_eq!(parsed, y2020);
        assert_eq!(
            g(
                "67880-12",
                &GeneralizeParams::Zip3 {
                    census: ZipCensus::Y2020
                }
            ),
            None
        );
        assert_eq!(g("91", &GeneralizeParams::Age).as_deref(), Some("90+"));
        assert_eq!(g("89", &GeneralizeParams::Age).as_deref(), Some("89"));
        let b = GeneralizeParams::Buckets {
            edges: vec![0.0, 100.0, 1000.0],
        };
        assert_eq!(g("150.5", &b).as_deref(), Some("100-1000"));
        assert_eq!(g("1000", &b).as_deref(), Some(">=1000"));
        assert_eq!(g("-3", &b).as_deref(), Some("<0"));
        assert_eq!(g("NaN", &b), None);
    }

    proptest::proptest! {
    #[test]
    fn date_shift_is_constant_per_patient(
        patient in "[a-z0-9-]{1,36}", d1 in 0i64..40_000, d2 in 0i64..40_000, max in 1u32..1000
    ) {
        let key = KeyRing::from_bytes(&[7; 32]).unwrap();
        let fmt = |d: i64| { let (y, m, dd) = civil_from_days(d); format!("{y:04}-{m:02}-{dd:02}") };
        let off = patient_offset(&key, &patient, max);
        proptest::prop_assert!(off != 0 && off.abs() <= i64::from(max));
        proptest::prop_assert_eq!(off, patient_offset(&key, &patient, max));
        let (mut s1, mut s2) = (String::new(), String::new());
        proptest::prop_assert!(shift_date(&fmt(d1), off, &mut s1));
        proptest::prop_assert!(shift_date(&fmt(d2), off, &mut s2));
        let back = |s: &str| { let d = parse_date(s).unwrap(); days_from_civil(d.year, d.month, d.day) };
        proptest::prop_assert_eq!(back(&s1) - back(&s2), d1 - d2);
    }

    }
}
