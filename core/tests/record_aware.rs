//! Record-aware scrubbing: a record's own identifying values are found in its notes on every
//! input path (CSV rows, JSON records, Arrow batches, `View::scrub_text_in`), whatever the
//! detectors make of the text. Notes written here hide each value where a detector alone
//! cannot be sure (a surname in lower case, an account number without its label, a phone
//! split by dots); the Synthea notes are then checked against their own patients.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

#[allow(dead_code, reason = "each test uses some of the shared helpers")]
mod common;

use phiguard::io::{IoOptions, deidentify_csv};
use phiguard::{AccessRequest, Engine, View};

const HEADER: &str = "encounter_id,patient_id,patient_name,admit_date,discharge_date,diagnosis,note,sensitivity,confidentiality,care_team,consent,charges,insurer,account";

/// Rows of the `encounters` catalog whose notes hold the row's own values in forms of their
/// own; each row's values that must not survive follow it.
const ROWS: &[(&str, &[&str])] = &[
    (
        "e-1,p-1,Oswin Quarrie,2024-01-03,2024-01-05,J18.9,\"seen with quarrie's daughter; acct ZK7781 settled\",,N,dr-1,,10.00,Aetna,ZK7781",
        &["quarrie", "ZK7781"],
    ),
    (
        "e-2,p-2,Belén Okonkwo-Hart,2024-02-10,2024-02-11,I10,\"Okonkwo-Hart stable. Belén to call back.\",,N,dr-1,,10.00,Aetna,A-2",
        &["Okonkwo-Hart", "Belén"],
    ),
    (
        "e-3,p-3,Tamsin Vey,2024-03-01,2024-03-02,E11.9,\"Vey reports no pain; ref 44190023 on file\",,N,dr-1,,10.00,Aetna,44190023",
        &["Vey", "44190023"],
    ),
];

fn view(engine: &Engine, catalog: &str) -> View {
    let mut req = AccessRequest::new("a1", ["data_analyst"], "HRESCH", catalog);
    req.as_of_year = Some(2026);
    engine.view(&req).unwrap()
}

fn survivors<'a>(out: &str, secrets: &[&'a str]) -> Vec<&'a str> {
    secrets
        .iter()
        .copied()
        .filter(|s| out.contains(s))
        .collect()
}

#[test]
fn csv_rows_hide_their_own_values_in_notes() {
    let engine = Engine::builder().build().unwrap();
    let view = view(&engine, "encounters");
    for (row, secrets) in ROWS {
        let input = format!("{HEADER}\n{row}\n");
        let mut out = Vec::new();
        deidentify_csv(
            &view,
            input.as_bytes(),
            &mut out,
            &IoOptions::default(),
            &|_| {},
        )
        .unwrap();
        let out = String::from_utf8(out).unwrap();
        let note = out.lines().nth(1).unwrap();
        assert!(survivors(note, secrets).is_empty(), "{note}");
        assert!(note.contains("[NAME]"), "{note}");
    }
}

#[test]
fn json_records_hide_their_own_values_in_notes() {
    let engine = Engine::builder().build().unwrap();
    let view = view(&engine, "encounters");
    for (row, secrets) in ROWS {
        let text = format!("{HEADER}\n{row}\n");
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let headers = rdr.headers().unwrap().clone();
        let rec = rdr.records().next().unwrap().unwrap();
        let mut obj = serde_json::Map::new();
        for (h, v) in headers.iter().zip(rec.iter()) {
            obj.insert(h.to_owned(), serde_json::Value::String(v.to_owned()));
        }
        let mut value = serde_json::Value::Object(obj);
        view.apply_json(&mut value, "<test>", 1).unwrap();
        let note = value["note"].as_str().unwrap();
        assert!(survivors(note, secrets).is_empty(), "{note}");
    }
}

#[cfg(feature = "arrow")]
#[test]
fn arrow_batches_hide_their_own_values_in_notes() {
    use arrow_array::cast::AsArray;

    let engine = Engine::builder().build().unwrap();
    let view = view(&engine, "encounters");
    let text: String = std::iter::once(HEADER.to_owned())
        .chain(ROWS.iter().map(|(r, _)| (*r).to_owned()))
        .collect::<Vec<_>>()
        .join("\n");
    let batch = common::csv_batch(&text);
    let (out, _) = phiguard::io::arrow::deidentify_batch(&view, &batch).unwrap();
    let notes = out.column_by_name("note").unwrap().as_string::<i32>();
    for (i, (_, secrets)) in ROWS.iter().enumerate() {
        let note = notes.value(i);
        assert!(survivors(note, secrets).is_empty(), "{note}");
    }
}

#[test]
fn scrub_text_in_takes_fields_or_categories_and_refuses_other_keys() {
    let engine = Engine::builder().build().unwrap();
    let view = view(&engine, "encounters");
    let note = "quarrie called about zk7781";
    let out = view
        .scrub_text_in(
            note,
            &[("patient_name", "Oswin Quarrie"), ("account", "ZK7781")],
        )
        .unwrap()
        .unwrap();
    assert_eq!(out, "[NAME] called about [ACCOUNT]");
    let by_category = view
        .scrub_text_in(note, &[("name", "Oswin Quarrie"), ("account", "ZK7781")])
        .unwrap();
    assert_eq!(by_category.as_deref(), Some(out.as_str()));
    let err = view
        .scrub_text_in(note, &[("nickname", "Ossie")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`nickname`") && !err.contains("Ossie"),
        "{err}"
    );
    // Without the record, the detector alone has nothing to go on in this note.
    assert_eq!(view.scrub_text(note).unwrap().as_deref(), Some(note));
}

/// The Synthea notes against their own patients (`../shared/data`, read at test time): with
/// the record, none of the patient's values found in a note survives the scrub.
#[test]
fn synthea_notes_with_their_patients() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    let (Ok(notes), Ok(patients)) = (
        std::fs::read_to_string(root.join("synthea-notes-silver/notes.jsonl")),
        std::fs::read_to_string(root.join("synthea-bulk/patients.csv")),
    ) else {
        println!("synthea record-aware: skipped, shared data not found");
        return;
    };
    const FIELDS: &[(&str, &str)] = &[
        ("given", "name"),
        ("family", "name"),
        ("maiden_family", "name"),
        ("ssn", "ssn"),
        ("drivers_license", "license"),
        ("passport", "passport"),
        ("phone", "phone"),
        ("address_line", "street"),
        ("city", "city"),
    ];
    let mut rdr = csv::Reader::from_reader(patients.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut by_id = std::collections::HashMap::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let values: Vec<(&'static str, String)> = FIELDS
            .iter()
            .map(|(f, cat)| (*cat, rec[col(f)].to_owned()))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        by_id.insert(rec[col("id")].to_owned(), values);
    }
    let engine = Engine::builder().build().unwrap();
    let view = view(&engine, "free-text");
    let (mut present, mut missed_alone, mut missed_with) = (0usize, 0usize, 0usize);
    for line in notes.lines() {
        let note: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = note["text"].as_str().unwrap();
        let values = &by_id[note["patient_id"].as_str().unwrap()];
        let pairs: Vec<(&str, &str)> = values.iter().map(|(c, v)| (*c, v.as_str())).collect();
        let alone = view.scrub_text(text).unwrap().unwrap();
        let with = view.scrub_text_in(text, &pairs).unwrap().unwrap();
        for (_, v) in values {
            if text.contains(v.as_str()) {
                present += 1;
                missed_alone += usize::from(alone.contains(v.as_str()));
                missed_with += usize::from(with.contains(v.as_str()));
            }
        }
    }
    println!(
        "synthea record-aware: {present} record values in the notes; survive the detector alone {missed_alone}, with the record {missed_with}"
    );
    assert!(present > 1000, "{present}");
    assert_eq!(missed_with, 0);
}
