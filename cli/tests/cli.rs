//! End-to-end tests of the `phiguard` binary: the main job, explain, check, keygen, audit
//! verification, and bad input (every failure exits non-zero, names where, leaves no output).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/patients.csv");

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_phiguard"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn keygen(dir: &Path) -> PathBuf {
    let key = dir.join("k.key");
    let o = run(&["keygen", "-o", key.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    key
}

fn csv_column(text: &str, name: &str) -> Vec<String> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let i = r.headers().unwrap().iter().position(|h| h == name).unwrap();
    r.records()
        .map(|x| x.unwrap().get(i).unwrap().to_owned())
        .collect()
}

#[test]
fn demo_writes_every_role_and_a_verified_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = run(&["demo", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("chain verified"), "{stdout}");
    for role in [
        "physician",
        "nurse",
        "coder",
        "billing_analyst",
        "data_analyst",
        "researcher",
        "supervisor",
        "compliance_specialist",
        "patient",
        "physician-break-glass",
    ] {
        let text = std::fs::read_to_string(out.join(format!("{role}.csv"))).unwrap();
        assert_eq!(text.lines().count(), 1145, "{role}: every row is written");
    }
    let html = std::fs::read_to_string(out.join("matrix.html")).unwrap();
    assert!(
        html.contains("payment.never-clear-ssn") || html.contains("payment.identifiers-masked")
    );
    let v = run(&[
        "audit",
        "verify",
        out.join("audit.jsonl").to_str().unwrap(),
        "--key-file",
        out.join("demo.key").to_str().unwrap(),
    ]);
    assert!(v.status.success(), "{}", stderr(&v));
    // The break-glass run's decision and disclosure events are all flagged, and only those.
    let audit = std::fs::read_to_string(out.join("audit.jsonl")).unwrap();
    let flagged = audit
        .lines()
        .filter(|l| l.contains("\"break_glass\":true"))
        .count();
    let btg = audit
        .lines()
        .filter(|l| l.contains("\"purpose\":\"BTG\""))
        .count();
    assert!(
        flagged >= 2 && flagged == btg,
        "{flagged} flagged, {btg} break-glass events"
    );
    assert!(String::from_utf8_lossy(&v.stdout).contains(&format!("{flagged} break-glass")));
}

#[test]
fn safe_harbor_csv_has_no_identifier_from_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sh.csv");
    let o = run(&[
        "deidentify",
        "--role",
        "data_analyst",
        "--purpose",
        "HRESCH",
        "--as-of-year",
        "2026",
        SAMPLE,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("1144 rows"), "{}", stderr(&o));
    let input = std::fs::read_to_string(SAMPLE).unwrap();
    let output = std::fs::read_to_string(&out).unwrap();
    for col in [
        "id",
        "ssn",
        "given",
        "family",
        "phone",
        "address_line",
        "drivers_license",
        "passport",
        "birth_date",
        "latitude",
    ] {
        for v in csv_column(&input, col).iter().filter(|v| v.len() >= 5) {
            assert!(!output.contains(v.as_str()), "{col} value leaked");
        }
    }
    assert!(
        csv_column(&output, "birth_date")
            .iter()
            .all(|y| y.len() == 4 || y == "90+" || y.is_empty())
    );
    assert!(
        csv_column(&output, "postal_code")
            .iter()
            .all(|z| z.len() == 3 || z.is_empty())
    );
}

#[test]
fn coder_needs_a_key_and_pseudonyms_are_stable_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.csv");
    let o = run(&[
        "deidentify",
        "--role",
        "coder",
        "--purpose",
        "HOPERAT",
        SAMPLE,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("error[key]"), "{}", stderr(&o));
    assert!(!out.exists(), "no output on failure");
    let key = keygen(dir.path());
    let log = dir.path().join("audit.jsonl");
    let mut first = String::new();
    for _ in 0..2 {
        let o = run(&[
            "deidentify",
            "--role",
            "coder",
            "--purpose",
            "HOPERAT",
            "--key-file",
            key.to_str().unwrap(),
            "--audit-log",
            log.to_str().unwrap(),
            SAMPLE,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(&out).unwrap();
        if first.is_empty() {
            first = text;
        } else {
            assert_eq!(first, text, "same key and input give the same output");
        }
    }
    assert!(
        csv_column(&first, "mrn")
            .iter()
            .all(|m| m.starts_with("mrn-") && m.len() == 20)
    );
    let v = run(&[
        "audit",
        "verify",
        log.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
    ]);
    assert!(v.status.success(), "{}", stderr(&v));
    // Tamper with one entry: verify names it.
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replacen("HOPERAT", "HPAYMT", 1)).unwrap();
    let v = run(&[
        "audit",
        "verify",
        log.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
    ]);
    assert_eq!(v.status.code(), Some(2));
    assert!(stderr(&v).contains("at entry 1"), "{}", stderr(&v));
}

fn expect_input_error(content: &[u8], ext: &str, want: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join(format!("bad.{ext}"));
    std::fs::write(&input, content).unwrap();
    let out = dir.path().join(format!("out.{ext}"));
    let o = run(&[
        "deidentify",
        "--catalog",
        "synthea-patients",
        "--role",
        "data_analyst",
        "--purpose",
        "HRESCH",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    for w in want {
        assert!(err.contains(w), "`{w}` not in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists(), "no output left behind");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "temporary files cleaned up: {leftovers:?}"
    );
}

#[test]
fn malformed_inputs_fail_with_location_and_leave_no_output() {
    expect_input_error(
        b"id,ssn\n1,999-00-1111\n2,999-00-2222,extra\n",
        "csv",
        &[
            "error[input]",
            "bad.csv:3",
            "row has 3 fields",
            "header has 2",
        ],
    );
    expect_input_error(
        b"id,ssn\n1,\xff\xfe\n",
        "csv",
        &["bad.csv:2", "field `ssn`", "utf-8"],
    );
    expect_input_error(b"id,ssn\n1,\"unterminated\n", "csv", &["error[input]"]);
    expect_input_error(
        b"{\"id\": \"1\"}\n{\"id\": \n",
        "ndjson",
        &["bad.ndjson:2", "malformed json"],
    );
    expect_input_error(
        b"[1, 2]\n",
        "json",
        &["bad.json:1", "must be a JSON object"],
    );
    let deep = format!("{{\"id\": {}1{}}}", "[".repeat(100), "]".repeat(100));
    expect_input_error(
        deep.as_bytes(),
        "ndjson",
        &["bad.ndjson:1", "nesting deeper"],
    );
}

#[test]
fn bad_requests_and_keys_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.csv");
    let o = run(&[
        "deidentify",
        "--role",
        "janitor",
        "--purpose",
        "TREAT",
        SAMPLE,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        stderr(&o).contains("unknown role `janitor`"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "deidentify",
        "--role",
        "physician",
        "--purpose",
        "BTG",
        SAMPLE,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        stderr(&o).contains("needs a stated reason"),
        "{}",
        stderr(&o)
    );
    let short = dir.path().join("short.key");
    std::fs::write(&short, "phiguard-key-v1:deadbeefdeadbeef\n").unwrap();
    let o = run(&[
        "deidentify",
        "--role",
        "coder",
        "--purpose",
        "HOPERAT",
        "--key-file",
        short.to_str().unwrap(),
        SAMPLE,
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(
        err.contains("error[key]") && err.contains("8-byte key"),
        "{err}"
    );
    assert!(!err.contains("deadbeef"), "key bytes never echoed");
    assert!(!out.exists());
    // keygen never overwrites
    let key = keygen(dir.path());
    let again = run(&["keygen", "-o", key.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn explain_names_the_deciding_policies_and_check_validates() {
    let o = run(&[
        "explain",
        "--role",
        "billing_analyst",
        "--purpose",
        "HPAYMT",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    let ssn = text
        .lines()
        .find(|l| l.trim_start().starts_with("ssn "))
        .unwrap();
    assert!(
        ssn.contains("mask") && ssn.contains("payment.identifiers-masked"),
        "{ssn}"
    );
    let o = run(&["check"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("ok: "));

    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("pack");
    std::fs::create_dir_all(pack.join("catalogs")).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, pack.join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(pack.join("typo.cedar"), "permit (principal in Phi::Role::\"coder\", action == Phi::Action::\"clear\", resource)\nwhen { context.purpose in Phi::Purpose::\"HOPERAT\" && context.labls.isEmpty() };\n").unwrap();
    let o = run(&["check", "--policies", pack.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("typo.cedar:2:"), "{err}");
    let html = dir.path().join("m.html");
    let o = run(&["explain", "--all-roles", "--html", html.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(html)
            .unwrap()
            .contains("<th>compliance_specialist")
    );
}

#[test]
fn json_and_ndjson_round_trip_with_fhir_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("p.ndjson");
    let rec = r#"{"resourceType":"Patient","id":"x1","name":[{"family":"Doe","given":["Jane"]}],"birthDate":"1980-02-29","address":[{"postalCode":"12345","state":"KS"}]}"#;
    std::fs::write(&input, format!("{rec}\n{rec}\n")).unwrap();
    let out = dir.path().join("o.ndjson");
    let o = run(&[
        "deidentify",
        "--role",
        "data_analyst",
        "--purpose",
        "HRESCH",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(
        !text.contains("Doe")
            && !text.contains("Jane")
            && !text.contains("02-29")
            && !text.contains("12345")
    );
    assert!(
        text.contains("\"birthDate\":\"1980\"") && text.contains("\"postalCode\":\"123\""),
        "{text}"
    );
}

const ENCOUNTERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/encounters.csv");

fn encounters_as(role: &str, purpose: &str, user: &str, extra: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("e.csv");
    let key = keygen(dir.path());
    let mut args = vec![
        "deidentify",
        "--role",
        role,
        "--purpose",
        purpose,
        "--user",
        user,
        "--as-of-year",
        "2026",
        "--key-file",
        key.to_str().unwrap(),
        ENCOUNTERS,
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    (std::fs::read_to_string(&out).unwrap(), stderr(&o))
}

/// Per-row record attributes: sensitivity labels, confidentiality, care team and consent pick
/// a plan per row, and sensitive rows stay hidden from everyone but the care team with consent.
#[test]
fn record_attributes_choose_the_plan_per_row() {
    let (out, err) = encounters_as("physician", "TREAT", "dr-1", &[]);
    assert!(err.contains("plan(s)"), "{err}");
    let notes = csv_column(&out, "note");
    let names = csv_column(&out, "patient_name");
    // e-0001: dr-1 on the care team: full record.
    assert!(notes[0].starts_with("Stable on room air"));
    // e-0002: HIV, dr-1 treating with consent to TREAT: visible.
    assert_eq!(names[1], "Xenia801 Brown30");
    // e-0003: SUD / 42 CFR Part 2, R, dr-1 not on the care team: nothing.
    assert!(
        csv::Reader::from_reader(out.as_bytes())
            .records()
            .nth(2)
            .unwrap()
            .unwrap()
            .iter()
            .all(str::is_empty)
    );
    // e-0004: not dr-1's patient, normal record: identity and clinical content (care context)
    // in clear, other identifiers such as the account masked.
    assert_eq!(names[3], "Andrew29 Goldner995");
    assert!(csv_column(&out, "account")[3].starts_with('*'));
    // e-0005: PSY, very restricted, dr-1 treating with consent: visible.
    assert_eq!(names[4], "Ada17 Ruecker44");

    let (out, _) = encounters_as("data_analyst", "HRESCH", "analyst-1", &[]);
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(out.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    for sensitive in [1, 2, 4] {
        assert!(
            rows[sensitive].iter().all(str::is_empty),
            "row {sensitive} must be fully hidden"
        );
    }
    assert_eq!(rows[0].get(5), Some("J18.9 Pneumonia"));
    assert_eq!(rows[0].get(3), Some("2024"));
    assert!(!out.contains("Goldner995") && !out.contains("A-100") && !out.contains("e-000"));

    let (out, _) = encounters_as("billing_analyst", "HPAYMT", "billing-1", &[]);
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(out.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows[0].get(11), Some("1520.00"));
    assert_eq!(rows[0].get(6), Some(""), "no notes for payment");
    assert!(
        rows[1].iter().all(str::is_empty),
        "HIV record hidden from billing"
    );
}

#[test]
fn scrub_plain_text_and_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("n.txt");
    std::fs::write(
        &input,
        "Seen by Dr. Maria Lopez on 03/04/2024. MRN: 00412345.\n",
    )
    .unwrap();
    let out = dir.path().join("o.txt");
    let o = run(&[
        "scrub",
        "--role",
        "data_analyst",
        "--purpose",
        "HRESCH",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "Seen by Dr. [NAME] on 2024. MRN: [MRN].\n"
    );

    let jl = dir.path().join("n.jsonl");
    std::fs::write(&jl, "{\"id\": 7, \"text\": \"Call (316) 555-0123.\"}\n").unwrap();
    let out = dir.path().join("o.jsonl");
    let o = run(&[
        "scrub",
        "--jsonl",
        "--role",
        "data_analyst",
        "--purpose",
        "HRESCH",
        jl.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "{\"id\":7,\"text\":\"Call [PHONE].\"}\n"
    );

    std::fs::write(&input, b"Name: \xff\xfe Smith").unwrap();
    let out = dir.path().join("bad.txt");
    let o = run(&[
        "scrub",
        "--role",
        "data_analyst",
        "--purpose",
        "HRESCH",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not valid utf-8") && stderr(&o).contains("offset 6"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn detect_and_eval_refuse_a_text_over_the_detector_limit() {
    let dir = tempfile::tempdir().unwrap();
    // One byte over `Limits::max_text_bytes` (1 MiB by default).
    let long = "a".repeat((1 << 20) + 1);
    let plain = dir.path().join("long.txt");
    std::fs::write(&plain, &long).unwrap();
    let jsonl = dir.path().join("long.jsonl");
    std::fs::write(
        &jsonl,
        format!("{{\"text\": \"SSN 123-45-6789\", \"spans\": []}}\n{{\"text\": \"{long}\", \"spans\": []}}\n"),
    )
    .unwrap();
    let runs: [(&[&str], &Path, &str); 3] = [
        (&["detect"], &plain, "long.txt: input error"),
        (&["detect", "--jsonl"], &jsonl, "long.jsonl:2: input error"),
        (&["eval"], &jsonl, "long.jsonl:2: input error"),
    ];
    for (args, file, place) in runs {
        let mut all = args.to_vec();
        all.push(file.to_str().unwrap());
        let o = run(&all);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(place) && err.contains("exceeds the detector limit of 1048576 bytes"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // Under the limit the same commands succeed and find the SSN.
    std::fs::write(&plain, "SSN 123-45-6789").unwrap();
    let o = run(&["detect", plain.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"category\":\"ssn\""));
}

#[test]
fn fhir_files_and_directories_in_one_run_with_clean_names() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    // A file named after its patient, as Synthea names them: the output name must not be.
    let bundle = serde_json::json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:5d6d1f0e-0000-4000-8000-000000000001",
         "resource": {"resourceType": "Patient", "id": "5d6d1f0e-0000-4000-8000-000000000001",
                      "name": [{"family": "Quarrie", "given": ["Oswin"]}], "birthDate": "1980-04-02"}},
        {"fullUrl": "urn:uuid:5d6d1f0e-0000-4000-8000-000000000002",
         "resource": {"resourceType": "Encounter", "id": "5d6d1f0e-0000-4000-8000-000000000002",
                      "status": "finished", "class": {"code": "AMB"},
                      "subject": {"reference": "urn:uuid:5d6d1f0e-0000-4000-8000-000000000001"},
                      "period": {"start": "2020-01-02T10:00:00Z"}}}]});
    std::fs::write(input.join("Oswin_Quarrie_5d6d.json"), bundle.to_string()).unwrap();
    std::fs::write(
        input.join("Observation.000.ndjson"),
        "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/5d6d1f0e-0000-4000-8000-000000000001\",\"display\":\"Oswin Quarrie\"}}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = run(&[
        "fhir",
        "--role",
        "data_analyst",
        "--purpose",
        "HRESCH",
        "--as-of-year",
        "2026",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["Observation.000.ndjson", "bundle-0001.json"]);
    let b = std::fs::read_to_string(out.join("bundle-0001.json")).unwrap();
    let n = std::fs::read_to_string(out.join("Observation.000.ndjson")).unwrap();
    assert!(!b.contains("Quarrie") && !n.contains("Quarrie") && !b.contains("1980-04"));
    let b: serde_json::Value = serde_json::from_str(&b).unwrap();
    // The Observation (another file) refers to the same patient id the Bundle's Patient got.
    let pid = b["entry"][0]["resource"]["id"].as_str().unwrap().to_owned();
    let obs: serde_json::Value = serde_json::from_str(n.trim()).unwrap();
    assert_eq!(obs["subject"]["reference"], format!("Patient/{pid}"));
    assert_eq!(
        b["entry"][1]["resource"]["subject"]["reference"],
        b["entry"][0]["fullUrl"]
    );
    assert!(stderr(&o).contains("4 resources"), "{}", stderr(&o));

    // A file that is not FHIR: a located error naming the output, no value, no partial file.
    std::fs::write(input.join("zz.ndjson"), "{\"name\": \"Quarrie\"}\n").unwrap();
    let out2 = dir.path().join("out2");
    let o = run(&[
        "fhir",
        "--role",
        "data_analyst",
        "--purpose",
        "HRESCH",
        input.to_str().unwrap(),
        "-o",
        out2.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("part-0001.ndjson:1") && e.contains("resourceType") && !e.contains("Quarrie"),
        "{e}"
    );
    assert!(
        std::fs::read_dir(&out2).unwrap().all(|f| !f
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("partial"))
    );

    let o = run(&[
        "explain",
        "--fhir",
        "Patient",
        "--role",
        "data_analyst",
        "--purpose",
        "HRESCH",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(
        t.contains("birthDate") && t.contains("generalize") && t.contains("contact.name"),
        "{t}"
    );
}

#[test]
fn fhir_on_error_stops_or_withholds_the_entry_and_as_of_takes_a_date() {
    let dir = tempfile::tempdir().unwrap();
    // Entry 1 is not a resource (no resourceType); entry 0 and 2 are.
    let bundle = serde_json::json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:5d6d1f0e-0000-4000-8000-000000000001",
         "resource": {"resourceType": "Patient", "id": "5d6d1f0e-0000-4000-8000-000000000001",
                      "birthDate": "1936-04-02", "gender": "female"}},
        {"fullUrl": "urn:uuid:5d6d1f0e-0000-4000-8000-000000000009",
         "resource": {"name": [{"family": "Quarrie"}]}},
        {"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                      "subject": {"reference": "urn:uuid:5d6d1f0e-0000-4000-8000-000000000001"}}}]});
    let input = dir.path().join("b.json");
    std::fs::write(&input, bundle.to_string()).unwrap();
    let out = dir.path().join("out.json");
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "fhir",
            "--role",
            "data_analyst",
            "--purpose",
            "HRESCH",
            "--as-of",
            "2026-12-02",
        ];
        a.extend_from_slice(extra);
        a
    };
    let mut a = args(&[]);
    a.extend([input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let o = run(&a);
    assert!(!o.status.success());
    let e = stderr(&o);
    // Input names can carry PHI (Synthea names files after patients): errors name the job.
    assert!(
        e.contains("bundle-0001.json") && e.contains("entry[1].resource"),
        "{e}"
    );
    assert!(!e.contains("Quarrie") && !out.exists(), "{e}");

    let mut a = args(&["--on-error", "withhold"]);
    a.extend([input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let o = run(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("withheld: ") && e.contains("entry[1].resource"),
        "{e}"
    );
    assert!(!e.contains("Quarrie"), "{e}");
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let entries = b["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "the bad entry goes with its fullUrl");
    // Born 1936: 90 or older on 2026-12-02 is possible, so the year itself is withheld.
    assert!(entries[0]["resource"].get("birthDate").is_none());
    assert_eq!(entries[1]["resource"]["resourceType"], "Observation");

    let mut a = args(&[]);
    a[6] = "2026-13-02";
    a.extend([input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let o = run(&a);
    assert!(!o.status.success() && stderr(&o).contains("a date (2026-12-02)"));
}

#[test]
fn serve_check_validates_the_configuration() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let example = root.join("server/serve.example.toml");
    let o = run(&["serve", "--config", example.to_str().unwrap(), "--check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open.toml");
    std::fs::write(
        &open,
        "listen = \"0.0.0.0:8707\"\n[auth]\nmode = \"development\"\n",
    )
    .unwrap();
    let o = run(&["serve", "--config", open.to_str().unwrap(), "--check"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("loopback"), "{}", stderr(&o));
}
