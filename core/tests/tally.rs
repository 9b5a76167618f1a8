//! One tally for every path: the same table counted through CSV, NDJSON and Arrow gives the
//! same values per treatment, scrubbed notes included.
#![cfg(feature = "arrow")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use phiguard::io::arrow::deidentify_batch;
use phiguard::io::{IoOptions, deidentify_csv, deidentify_ndjson};
use phiguard::{AccessRequest, Counted, Engine, KeyRing, TreatmentKind};

const ENCOUNTERS: &str = include_str!("../../tests/data/encounters.csv");

fn table() -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr = csv::Reader::from_reader(ENCOUNTERS.as_bytes());
    let headers = rdr.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = rdr
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (headers, rows)
}

#[test]
fn scrubbed_notes_are_counted_as_scrub_in_every_path() {
    let req = AccessRequest {
        as_of_year: Some(2026),
        ..AccessRequest::new("a-1", ["data_analyst"], "HRESCH", "encounters")
    };
    let view = Engine::builder()
        .build()
        .unwrap()
        .view(&req)
        .unwrap()
        .with_key(KeyRing::from_bytes(&[5; 32]).unwrap());
    let (headers, rows) = table();
    let note = headers.iter().position(|h| h == "note").unwrap();

    let mut out = Vec::new();
    let csv = deidentify_csv(
        &view,
        ENCOUNTERS.as_bytes(),
        &mut out,
        &IoOptions::default(),
        &|_| {},
    )
    .unwrap();
    // Notes released (scrubbed) are those of records without a sensitive label.
    let notes = csv::Reader::from_reader(&out[..])
        .records()
        .filter(|r| !r.as_ref().unwrap()[note].is_empty())
        .count() as u64;
    assert!(notes > 0);
    let scrub = Counted::Treated(TreatmentKind::Scrub);
    // Before the one tally, CSV counted these as `redact` while the notes were kept.
    assert_eq!(csv.treatments.get(scrub), notes, "{:?}", csv.treatments);
    assert!(String::from_utf8(out).unwrap().contains("discharged home"));

    // The same rows as JSON lines (empty cells left out: CSV does not count empty values).
    let ndjson: String = rows
        .iter()
        .map(|r| {
            let obj: serde_json::Map<String, serde_json::Value> = headers
                .iter()
                .zip(r)
                .filter(|(_, v)| !v.is_empty())
                .map(|(h, v)| (h.clone(), serde_json::Value::String(v.clone())))
                .collect();
            format!("{}\n", serde_json::Value::Object(obj))
        })
        .collect();
    let json = deidentify_ndjson(
        &view,
        ndjson.as_bytes(),
        &mut Vec::new(),
        &IoOptions::default(),
        &|_| {},
    )
    .unwrap();

    // And as an Arrow batch (empty cells null).
    let cols: Vec<ArrayRef> = (0..headers.len())
        .map(|i| {
            Arc::new(StringArray::from(
                rows.iter()
                    .map(|r| Some(r[i].as_str()).filter(|v| !v.is_empty()))
                    .collect::<Vec<_>>(),
            )) as ArrayRef
        })
        .collect();
    let schema = Schema::new(
        headers
            .iter()
            .map(|h| Field::new(h, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    );
    let batch = RecordBatch::try_new(Arc::new(schema), cols).unwrap();
    let (_, arrow) = deidentify_batch(&view, &batch).unwrap();

    assert_eq!(csv.treatments, json.treatments);
    assert_eq!(csv.treatments, arrow.treatments);
    assert_eq!(
        serde_json::to_value(csv.treatments).unwrap()["scrub"],
        notes,
        "summaries serialize the tally by name"
    );
}
