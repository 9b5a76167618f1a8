//! Property tests: pseudonyms are stable per key and differ across keys, date shifts keep
//! intervals within a patient, generalization and masking are idempotent, and the Safe Harbor
//! role releases no input identifier.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use phiguard::io::{IoOptions, deidentify_csv};
use phiguard::treat::{self, GeneralizeParams, MaskParams, PseudonymParams};
use phiguard::{AccessRequest, Engine, KeyRing};
use proptest::prelude::*;

fn params() -> PseudonymParams {
    PseudonymParams {
        prefix: String::new(),
        length: 64,
        domain: None,
        case_insensitive: false,
    }
}

proptest! {
    #[test]
    fn pseudonyms_are_deterministic_per_key_and_differ_across_keys(
        value in "\\PC{1,40}", k1 in any::<[u8; 32]>(), k2 in any::<[u8; 32]>()
    ) {
        prop_assume!(k1 != k2);
        let (a, b) = (KeyRing::from_bytes(&k1).unwrap(), KeyRing::from_bytes(&k2).unwrap());
        let run = |k: &KeyRing| { let mut o = String::new(); treat::pseudonym(&value, k, "mrn", &params(), &mut o); o };
        prop_assert_eq!(run(&a), run(&a));
        prop_assert_ne!(run(&a), run(&b));
        prop_assert!(!run(&a).contains(value.as_str()) || value.len() < 2);
    }

    #[test]
    fn generalize_is_idempotent(v in "[0-9]{1,6}|[0-9]{4}-[01][0-9]-[0-3][0-9]|[0-9]{5}-[0-9]{4}|90\\+") {
        for p in [
            GeneralizeParams::Zip3 { census: phiguard::treat::ZipCensus::Y2020 },
            GeneralizeParams::Zip3 { census: phiguard::treat::ZipCensus::Y2000 },
            GeneralizeParams::Age,
            GeneralizeParams::Year { fold_age_over: Some(89) },
            GeneralizeParams::Year { fold_age_over: None },
        ] {
            let mut once = String::new();
            if treat::generalize(&v, &p, 2026, &mut once) {
                let mut twice = String::new();
                prop_assert!(treat::generalize(&once, &p, 2026, &mut twice), "{:?} of {} gave {}", p, v, once);
                prop_assert_eq!(&once, &twice);
            }
        }
    }

    #[test]
    fn mask_is_idempotent_and_hides_at_least_half(v in "\\PC{0,30}", first in 0usize..6, last in 0usize..6) {
        let p = MaskParams { keep_first: first, keep_last: last, mask_char: '*' };
        let mut once = String::new();
        treat::mask(&v, &p, &mut once);
        let mut twice = String::new();
        treat::mask(&once, &p, &mut twice);
        prop_assert_eq!(&once, &twice);
        let slots = v.chars().filter(|c| c.is_alphanumeric() || *c == '*').count();
        let kept = once.chars().zip(v.chars()).filter(|(o, i)| o == i && i.is_alphanumeric()).count();
        prop_assert!(kept <= slots / 2);
    }
}

#[derive(Debug, Clone)]
struct Person {
    id: String,
    ssn: String,
    given: String,
    family: String,
    phone: String,
    email: String,
    street: String,
    birth: String,
    zip: String,
}

fn person() -> impl Strategy<Value = Person> {
    (
        "[0-9a-f]{8}-[0-9a-f]{4}",
        "[0-9]{3}-[0-9]{2}-[0-9]{4}",
        "[A-Z][a-z]{3,9}[0-9]{0,3}",
        "[A-Z][a-z]{3,9}",
        "\\([2-9][0-9]{2}\\) [0-9]{3}-[0-9]{4}",
        "[a-z]{4,8}@[a-z]{4,8}\\.org",
        "[1-9][0-9]{1,4} [A-Z][a-z]{4,8} (Street|Avenue|Road)",
        (1900i64..2024, 1u32..13, 1u32..29),
        "[0-9]{5}",
    )
        .prop_map(
            |(id, ssn, given, family, phone, email, street, (y, m, d), zip)| Person {
                id,
                ssn,
                given,
                family,
                phone,
                email,
                street,
                birth: format!("{y:04}-{m:02}-{d:02}"),
                zip,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Safe Harbor: no name, SSN, MRN, phone, email, street or full date of the input appears
    /// anywhere in the output.
    #[test]
    fn safe_harbor_output_contains_no_input_identifier(people in proptest::collection::vec(person(), 1..40)) {
        let engine = Engine::builder().build().unwrap();
        let req = AccessRequest { as_of_year: Some(2026), ..AccessRequest::new("a1", ["data_analyst"], "HRESCH", "synthea-patients") };
        let view = engine.view(&req).unwrap();
        let mut csv = String::from("id,mrn,ssn,given,family,phone,email,address_line,birth_date,postal_code,gender\n");
        for p in &people {
            csv.push_str(&format!("{},{},{},{},{},{},{},{},{},{},female\n", p.id, p.id, p.ssn, p.given, p.family, p.phone, p.email, p.street, p.birth, p.zip));
        }
        let mut out = Vec::new();
        let summary = deidentify_csv(&view, csv.as_bytes(), &mut out, &IoOptions::default(), &|_| {}).unwrap();
        prop_assert_eq!(summary.rows, people.len() as u64);
        let out = String::from_utf8(out).unwrap();
        prop_assert_eq!(out.lines().count(), people.len() + 1);
        for p in &people {
            for v in [&p.id, &p.ssn, &p.given, &p.family, &p.phone, &p.email, &p.street, &p.birth] {
                prop_assert!(!out.contains(v.as_str()), "{} leaked", v);
            }
            // The 5-digit ZIP never survives: only ZIP3 or 000.
            prop_assert!(!out.contains(p.zip.as_str()));
        }
    }
}

proptest! {
    /// Whenever a later date (death, visit) could reveal an age over 89 next to the birth
    /// year, the birth year is already folded into 90+: the reference year is never earlier
    /// than the events in the data.
    #[test]
    fn a_kept_birth_year_never_reveals_an_age_over_89(birth in 1850i64..2026, gap in 0i64..130, extra in 0i64..40) {
        let event = birth + gap;
        let as_of = event + extra;
        let p = GeneralizeParams::Year { fold_age_over: Some(89) };
        let mut out = String::new();
        let date = format!("{birth:04}-06-15");
        let ok = treat::generalize(&date, &p, as_of, &mut out);
        prop_assert!(ok);
        if event - birth > 89 {
            prop_assert_eq!(out.as_str(), "90+");
        }
    }
}
