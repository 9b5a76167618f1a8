//! FHIR on the Synthea Bundles of `../shared/data` (read at test time; skipped, with a line
//! saying so, when the shared data is not there):
//! - Safe Harbor (`data_analyst`): no input value of a PHI element survives anywhere in the
//!   output, decoded attachments included; every reference resolves; codes and observation
//!   values are unchanged;
//! - date shifts (`coder`): every day interval between two dates of one patient is kept,
//!   and patients get different offsets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;

use base64::Engine as _;
use phiguard::fhir::Fhir;
use phiguard::{AccessRequest, Engine, KeyRing, View};
use serde_json::Value;

fn bundles() -> Option<Vec<(String, Value)>> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/synthea-fhir-bundles");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Some(
        files
            .iter()
            .map(|p| {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
                (p.file_name().unwrap().to_string_lossy().into_owned(), v)
            })
            .filter(|(_, v)| {
                // The Synthea hospital and practitioner bundles hold no patient.
                v["entry"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|x| x["resource"]["resourceType"] == "Patient"))
            })
            .collect(),
    )
}

fn view(engine: &Engine, role: &str, purpose: &str) -> View {
    let mut req = AccessRequest::new("u1", [role], purpose, "fhir");
    req.as_of_year = Some(2026);
    engine
        .view(&req)
        .unwrap()
        .with_key(KeyRing::from_bytes(&[42; 32]).unwrap())
}

/// Every string of `v`, with base64 attachments decoded.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                if k == "data"
                    && let Some(d) = x.as_str()
                    && let Ok(b) = base64::engine::general_purpose::STANDARD.decode(d)
                {
                    out.push(String::from_utf8_lossy(&b).into_owned());
                }
                strings(x, out);
            }
        }
        _ => {}
    }
}

/// Whether `hay` holds `needle` as a whole token (a ZIP code inside a SNOMED code is not it).
fn holds(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + needle.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    })
}

/// The PHI values of a Bundle's Patients (and the names its references display).
fn phi_values(bundle: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |v: &Value| {
        if let Some(s) = v.as_str().filter(|s| s.len() >= 4) {
            out.insert(s.to_owned());
        }
    };
    for e in bundle["entry"].as_array().unwrap() {
        let r = &e["resource"];
        if r["resourceType"] == "Patient" {
            for n in r["name"].as_array().into_iter().flatten() {
                add(&n["family"]);
                n["given"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .for_each(&mut add);
            }
            for t in r["telecom"].as_array().into_iter().flatten() {
                add(&t["value"]);
            }
            for a in r["address"].as_array().into_iter().flatten() {
                a["line"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .for_each(&mut add);
                add(&a["city"]);
                add(&a["postalCode"]);
                for g in a["extension"].as_array().into_iter().flatten() {
                    for x in g["extension"].as_array().into_iter().flatten() {
                        if let Some(d) = x["valueDecimal"].as_f64() {
                            add(&Value::String(d.to_string()));
                        }
                    }
                }
            }
            for i in r["identifier"].as_array().into_iter().flatten() {
                add(&i["value"]);
            }
            add(&r["birthDate"]);
            for x in r["extension"].as_array().into_iter().flatten() {
                add(&x["valueString"]);
            }
        }
    }
    // The display of every reference to a person or a place (a patient's, a clinician's, an
    // organisation's name); a reference to an observation displays its code's text.
    let types: std::collections::HashMap<&str, &str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            Some((
                e["fullUrl"].as_str()?,
                e["resource"]["resourceType"].as_str()?,
            ))
        })
        .collect();
    let mut stack = vec![bundle];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(o) => {
                if let Some(r) = o.get("reference").and_then(Value::as_str)
                    && let Some(d) = o.get("display").and_then(Value::as_str)
                    && d.len() >= 4
                {
                    let ty = types
                        .get(r)
                        .copied()
                        .unwrap_or_else(|| r.split(['?', '/']).next().unwrap_or(""));
                    if matches!(
                        ty,
                        "Patient"
                            | "Practitioner"
                            | "PractitionerRole"
                            | "Organization"
                            | "Location"
                            | "RelatedPerson"
                    ) {
                        out.insert(d.to_owned());
                    }
                }
                stack.extend(o.values());
            }
            Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
    out
}

fn codings(v: &Value, under_meta: bool, out: &mut BTreeMap<String, u64>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| codings(x, under_meta, out)),
        Value::Object(o) => {
            if !under_meta
                && let (Some(s), Some(c)) = (
                    o.get("system").and_then(Value::as_str),
                    o.get("code").and_then(Value::as_str),
                )
            {
                *out.entry(format!("{s}|{c}")).or_default() += 1;
            }
            for (k, x) in o {
                codings(x, under_meta || k == "meta", out);
            }
        }
        _ => {}
    }
}

fn observation_values(bundle: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for e in bundle["entry"].as_array().into_iter().flatten() {
        let r = &e["resource"];
        if r["resourceType"] == "Observation" {
            for (k, x) in r.as_object().unwrap() {
                if k.starts_with("value") {
                    out.push(format!("{k}={x}"));
                }
            }
        }
    }
    out
}

#[test]
fn safe_harbor_bundles_keep_no_phi_and_resolve_every_reference() {
    let Some(bundles) = bundles() else {
        println!("fhir bundles: skipped, shared data not found");
        return;
    };
    assert_eq!(bundles.len(), 11);
    let engine = Engine::builder().build().unwrap();
    let view = view(&engine, "data_analyst", "HRESCH");
    let mut fhir = Fhir::new(&view).unwrap();
    let (mut phi_checked, mut refs) = (0usize, 0usize);
    for (name, input) in &bundles {
        let mut out = input.clone();
        fhir.apply(&mut out, name).unwrap();
        let mut texts = Vec::new();
        strings(&out, &mut texts);
        let all = texts.join("\n");
        for v in phi_values(input) {
            phi_checked += 1;
            assert!(
                !all.contains(&v),
                "{name}: a PHI value survives ({} chars)",
                v.len()
            );
        }
        // Every reference resolves to an entry of the Bundle.
        let full: HashSet<&str> = out["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["fullUrl"].as_str())
            .collect();
        let mut stack = vec![&out];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(o) => {
                    if let Some(r) = o.get("reference").and_then(Value::as_str) {
                        refs += 1;
                        // `#id`: a resource contained in the one that refers to it.
                        assert!(
                            full.contains(r) || r.starts_with('#'),
                            "{name}: a reference dangles"
                        );
                    }
                    stack.extend(o.values());
                }
                Value::Array(a) => stack.extend(a.iter()),
                _ => {}
            }
        }
        let (mut before, mut after) = (BTreeMap::new(), BTreeMap::new());
        codings(input, false, &mut before);
        codings(&out, false, &mut after);
        // Identifier types and telecom codes go with their values; clinical codes stay.
        for (k, n) in &before {
            if k.contains("v2-0203") || k.contains("identifier-type") {
                continue;
            }
            assert_eq!(after.get(k), Some(n), "{name}: coding {k}");
        }
        assert_eq!(
            observation_values(input),
            observation_values(&out),
            "{name}"
        );
    }
    println!("fhir safe harbor: {phi_checked} PHI values checked, {refs} references resolve");
    assert!(phi_checked > 150 && refs > 20_000, "{phi_checked} {refs}");
}

/// All dates of each patient, in document order, as days since 1970.
fn patient_dates(bundle: &Value) -> Vec<i64> {
    let mut out = Vec::new();
    let mut stack = vec![bundle];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => {
                let b = s.as_bytes();
                if b.len() >= 10
                    && b[4] == b'-'
                    && b[7] == b'-'
                    && b[..4].iter().all(u8::is_ascii_digit)
                {
                    let (y, m, d) = (
                        s[0..4].parse::<i64>().unwrap(),
                        s[5..7].parse::<i64>().unwrap(),
                        s[8..10].parse::<i64>().unwrap_or(1),
                    );
                    out.push(days(y, m, d));
                }
            }
            Value::Array(a) => stack.extend(a.iter().rev()),
            Value::Object(o) => {
                stack.extend(o.iter().filter(|(k, _)| *k != "meta").map(|(_, x)| x).rev())
            }
            _ => {}
        }
    }
    out
}

fn days(y: i64, m: i64, d: i64) -> i64 {
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[test]
fn shifted_dates_keep_every_interval_per_patient() {
    let Some(bundles) = bundles() else {
        println!("fhir shifts: skipped, shared data not found");
        return;
    };
    let engine = Engine::builder().build().unwrap();
    let view = view(&engine, "coder", "HOPERAT");
    let mut fhir = Fhir::new(&view).unwrap();
    let mut offsets = BTreeSet::new();
    for (name, input) in &bundles {
        let mut out = input.clone();
        fhir.apply(&mut out, name).unwrap();
        let (a, b) = (patient_dates(input), patient_dates(&out));
        assert_eq!(a.len(), b.len(), "{name}: dates lost");
        let shift: BTreeSet<i64> = a.iter().zip(&b).map(|(x, y)| y - x).collect();
        assert_eq!(
            shift.len(),
            1,
            "{name}: {} different shifts in one patient",
            shift.len()
        );
        offsets.extend(shift);
    }
    println!(
        "fhir shifts: {} distinct offsets over {} patients",
        offsets.len(),
        bundles.len()
    );
    assert!(offsets.len() >= 10);
}

/// The Synthea bulk export (10 patients, every file in one run, patients first): no value
/// of a Patient's PHI elements survives in any output file or decoded note, and every
/// literal reference (`Patient/id`, `Practitioner/id`) resolves to a resource of the output.
#[test]
fn bulk_ndjson_in_one_run() {
    use phiguard::fhir::{deidentify_ndjson, learn_patients};
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/synthea-bulk/fhir/10-patients");
    let Ok(list) = std::fs::read_dir(&dir) else {
        println!("fhir bulk: skipped, shared data not found");
        return;
    };
    let mut files: Vec<PathBuf> = list
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ndjson") && !p.ends_with("log.ndjson"))
        .collect();
    files.sort();
    let engine = Engine::builder().build().unwrap();
    let view = view(&engine, "data_analyst", "HRESCH");
    let mut run = Fhir::new(&view).unwrap();
    let patients = files
        .iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("Patient")
        })
        .unwrap();
    learn_patients(
        &mut run,
        std::io::BufReader::new(std::fs::File::open(patients).unwrap()),
    );
    let mut out = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::io::BufReader::new(std::fs::File::open(f).unwrap());
        deidentify_ndjson(&mut run, input, &mut out, &name).unwrap();
    }
    let docs: Vec<Value> = out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let mut texts = Vec::new();
    docs.iter().for_each(|d| strings(d, &mut texts));
    let all = texts.join("\n");
    let phi: BTreeSet<String> = std::fs::read_to_string(patients)
        .unwrap()
        .lines()
        .flat_map(|l| {
            let p: Value = serde_json::from_str(l).unwrap();
            phi_values(&serde_json::json!({"entry": [{"resource": p}]}))
        })
        .collect();
    for v in &phi {
        assert!(!holds(&all, v), "a PHI value survives ({} chars)", v.len());
    }
    let ids: HashSet<String> = docs
        .iter()
        .map(|d| {
            format!(
                "{}/{}",
                d["resourceType"].as_str().unwrap(),
                d["id"].as_str().unwrap_or("")
            )
        })
        .collect();
    let mut refs = 0;
    let mut stack: Vec<&Value> = docs.iter().collect();
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(o) => {
                if let Some(r) = o.get("reference").and_then(Value::as_str) {
                    refs += 1;
                    assert!(ids.contains(r) || r.starts_with('#'), "a reference dangles");
                }
                stack.extend(o.values());
            }
            Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
    println!(
        "fhir bulk: {} resources, {} PHI values checked, {refs} references resolve",
        docs.len(),
        phi.len()
    );
    assert!(docs.len() > 7000 && phi.len() > 50 && refs > 10_000);
}

/// A pack brings its own FHIR rules (`fhir/rules.toml`): checked against the R4 element
/// table and the pack's categories, and used in place of the default ones.
#[test]
fn a_packs_own_rules_are_checked_and_used() {
    use phiguard::{PackSources, Source};
    let with = |rules: &str| {
        let mut src = PackSources::default_pack();
        src.fhir_rules = Some(Source::new("my/rules.toml", rules));
        Engine::builder().sources(src).build().unwrap()
    };
    let bad =
        with("[types]\nHumanName = \"keep\"\n\n[elements]\n\"Patient.nickname\" = \"name\"\n");
    let e = phiguard::fhir::check_rules(bad.pack())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("my/rules.toml:5") && e.contains("Patient.nickname"),
        "{e}"
    );
    let nom = with("[types]\nHumanName = \"nom\"\n");
    let e = phiguard::fhir::check_rules(nom.pack())
        .unwrap_err()
        .to_string();
    assert!(e.contains("`nom` is not a category"), "{e}");

    // Names kept as structure by this pack; nothing else has a rule, so it is redacted.
    let engine = with("[types]\nHumanName = \"keep\"\n");
    let view = view(&engine, "data_analyst", "HRESCH");
    let mut run = Fhir::new(&view).unwrap();
    let mut p = serde_json::json!({"resourceType": "Patient", "id": "p1",
        "name": [{"family": "Quarrie"}], "birthDate": "1980-04-02"});
    run.apply(&mut p, "<test>").unwrap();
    assert_eq!(p["name"][0]["family"], "Quarrie");
    assert!(p.get("birthDate").is_none());
    assert_eq!(
        run.summary().unknown_elements.get("Patient.birthDate"),
        Some(&1)
    );
}

/// A sensitive (HIV-labelled) resource is shown to a clinician only when the Bundle says the
/// clinician treats the patient (an Encounter participant, by NPI as Synthea writes it) and
/// the patient's active Consent permits treatment; either missing, the clinician may not see
/// it at all: it is removed, and so is a reference to it from a resource listed before it.
#[test]
fn care_team_and_consent_come_from_the_resources() {
    let engine = Engine::builder().build().unwrap();
    let bundle = |participant: bool, consent: &str| {
        let mut entries = vec![
            serde_json::json!({"fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000a1",
                "resource": {"resourceType": "Patient", "id": "00000000-0000-4000-8000-0000000000a1",
                             "gender": "female"}}),
            serde_json::json!({"resource": {"resourceType": "Observation", "status": "final",
                "code": {"text": "x"},
                "subject": {"reference": "urn:uuid:00000000-0000-4000-8000-0000000000a1"},
                "focus": [{"reference": "urn:uuid:00000000-0000-4000-8000-0000000000a3"}]}}),
            serde_json::json!({"fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000a3",
                "resource": {"resourceType": "Condition", "id": "00000000-0000-4000-8000-0000000000a3",
                    "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HIV"}]},
                    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "86406008"}]},
                    "subject": {"reference": "urn:uuid:00000000-0000-4000-8000-0000000000a1"}}}),
            serde_json::json!({"resource": {"resourceType": "Consent", "status": consent,
                "scope": {"coding": [{"code": "treatment"}]}, "category": [{"text": "x"}],
                "patient": {"reference": "urn:uuid:00000000-0000-4000-8000-0000000000a1"},
                "provision": {"type": "permit", "purpose": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}]}}}),
        ];
        if participant {
            entries.push(serde_json::json!({"resource": {"resourceType": "Encounter",
                "status": "finished", "class": {"code": "AMB"},
                "subject": {"reference": "urn:uuid:00000000-0000-4000-8000-0000000000a1"},
                "participant": [{"individual": {
                    "reference": "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999912345"}}]}}));
        }
        serde_json::json!({"resourceType": "Bundle", "type": "collection", "entry": entries})
    };
    let code_of = |participant: bool, consent: &str| {
        let mut req = AccessRequest::new("9999912345", ["clinician"], "TREAT", "fhir");
        req.as_of_year = Some(2026);
        let view = engine
            .view(&req)
            .unwrap()
            .with_key(KeyRing::from_bytes(&[42; 32]).unwrap());
        let mut run = Fhir::new(&view).unwrap();
        let mut b = bundle(participant, consent);
        run.apply(&mut b, "<test>").unwrap();
        let entries = b["entry"].as_array().unwrap().clone();
        let of = |t: &str| {
            entries
                .iter()
                .find(|e| e["resource"]["resourceType"] == t)
                .map(|e| e["resource"].clone())
        };
        let obs = of("Observation").unwrap();
        match of("Condition") {
            Some(c) => {
                assert_eq!(c["id"], obs["focus"][0]["reference"].as_str().unwrap()[9..]);
                c["code"]["coding"][0]["code"].clone()
            }
            None => {
                assert_eq!(run.summary().hidden.get("Condition"), Some(&1));
                assert!(obs.get("focus").is_none(), "{obs}");
                assert!(
                    !b.to_string()
                        .contains("00000000-0000-4000-8000-0000000000a3")
                );
                Value::Null
            }
        }
    };
    assert_eq!(code_of(true, "active"), "86406008");
    assert!(code_of(false, "active").is_null(), "not on the care team");
    assert!(code_of(true, "inactive").is_null(), "no active consent");
}

/// The NDJSON pipeline (parse, treat, write on three threads) writes the same bytes as
/// treating each line in turn, across many batches, and stops at the right line.
#[test]
fn ndjson_pipeline_matches_one_line_at_a_time() {
    use phiguard::fhir::{OnError, deidentify_ndjson};
    let engine = Engine::builder().build().unwrap();
    let view = view(&engine, "data_analyst", "HRESCH");
    let mut lines = Vec::new();
    for i in 0..1000 {
        lines.push(
            serde_json::json!({"resourceType": "Observation", "id": format!("o{i}"),
                "status": "final", "code": {"text": "x"},
                "subject": {"reference": format!("Patient/p{}", i % 37)},
                "effectiveDateTime": "2020-01-02T10:00:00Z"})
            .to_string(),
        );
    }
    lines.insert(700, "{not json".to_owned());
    let input = lines.join("\n") + "\n";

    let mut run = Fhir::new(&view).unwrap().on_error(OnError::Withhold);
    let mut piped = Vec::new();
    let n = deidentify_ndjson(&mut run, input.as_bytes(), &mut piped, "o.ndjson").unwrap();
    assert_eq!(n, 1001);
    assert_eq!(run.summary().withheld_errors.len(), 1);
    assert!(run.summary().withheld_errors[0].contains("o.ndjson:701"));

    let mut one = Fhir::new(&view).unwrap();
    let mut expected = String::new();
    for l in lines
        .iter()
        .filter(|l| l.starts_with('{') && l.ends_with('}'))
    {
        let mut v: Value = serde_json::from_str(l).unwrap();
        one.apply(&mut v, "o.ndjson").unwrap();
        expected.push_str(&serde_json::to_string(&v).unwrap());
        expected.push('\n');
    }
    assert_eq!(String::from_utf8(piped).unwrap(), expected);

    let mut stop = Fhir::new(&view).unwrap();
    let e = deidentify_ndjson(&mut stop, input.as_bytes(), Vec::new(), "o.ndjson").unwrap_err();
    assert!(e.to_string().contains("o.ndjson:701"), "{e}");
}
