//! The Arrow columnar path gives exactly what the CSV path gives, cell for cell.
#![cfg(feature = "arrow")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use phiguard::io::arrow::{deidentify_batch, deidentify_batches};
use phiguard::io::{IoOptions, deidentify_csv};
use phiguard::{AccessRequest, Engine, KeyRing};

#[allow(dead_code, reason = "each test uses some of the shared helpers")]
mod common;

const SAMPLE: &str = include_str!("../../tests/data/patients.csv");

fn sample_batch() -> RecordBatch {
    common::csv_batch(SAMPLE)
}

fn view(role: &str, purpose: &str) -> phiguard::View {
    let e = Engine::builder().build().unwrap();
    let req = AccessRequest {
        as_of_year: Some(2026),
        ..AccessRequest::new("u", [role], purpose, "synthea-patients")
    };
    e.view(&req)
        .unwrap()
        .with_key(KeyRing::from_bytes(&[5; 32]).unwrap())
}

#[test]
fn columnar_equals_csv_for_every_role() {
    let batch = sample_batch();
    for (role, purpose) in [
        ("data_analyst", "HRESCH"),
        ("coder", "HOPERAT"),
        ("billing_analyst", "HPAYMT"),
        ("physician", "TREAT"),
    ] {
        let v = view(role, purpose);
        let mut csv_out = Vec::new();
        deidentify_csv(
            &v,
            SAMPLE.as_bytes(),
            &mut csv_out,
            &IoOptions::default(),
            &|_| {},
        )
        .unwrap();
        let mut rdr = csv::Reader::from_reader(&csv_out[..]);
        let expected: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
        let (out, summary) = deidentify_batch(&v, &batch).unwrap();
        assert_eq!(summary.rows, 1144);
        for c in 0..out.num_columns() {
            let col = out.column(c);
            for (r, exp) in expected.iter().enumerate() {
                let got = if col.is_null(r) {
                    ""
                } else {
                    col.as_string::<i32>().value(r)
                };
                assert_eq!(
                    got,
                    exp.get(c).unwrap(),
                    "{role}: row {r} column {}",
                    out.schema().field(c).name()
                );
            }
        }
        // Parallel slices give the same cells.
        let (parts, _) =
            deidentify_batches(&v, &[batch.slice(0, 1000), batch.slice(1000, 144)]).unwrap();
        assert_eq!(parts.iter().map(RecordBatch::num_rows).sum::<usize>(), 1144);
        assert_eq!(
            parts[1].column(0).as_ref().to_data(),
            out.column(0).slice(1000, 144).to_data()
        );
    }
}

#[test]
fn clear_columns_are_zero_copy_and_types_survive() {
    let schema = Schema::new(vec![
        Field::new("gender", DataType::Utf8, true),
        Field::new("ssn", DataType::Utf8, true),
        Field::new("postal_code", DataType::Int64, true),
    ]);
    let gender: ArrayRef = Arc::new(StringArray::from(vec![Some("female"), None]));
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            gender.clone(),
            Arc::new(StringArray::from(vec![
                Some("999-12-3456"),
                Some("999-65-4321"),
            ])),
            Arc::new(Int64Array::from(vec![Some(82301), None])),
        ],
    )
    .unwrap();
    let (out, _) = deidentify_batch(&view("data_analyst", "HRESCH"), &batch).unwrap();
    assert!(
        Arc::ptr_eq(out.column(0), &gender),
        "clear column passed through"
    );
    assert_eq!(out.column(1).null_count(), 2, "ssn redacted");
    assert_eq!(out.column(1).data_type(), &DataType::Utf8);
    let zip = out.column(2).as_string::<i32>();
    assert_eq!((zip.value(0), zip.is_null(1)), ("000", true));
}

#[test]
fn untreatable_types_are_errors_not_leaks() {
    let schema = Schema::new(vec![Field::new("birth_date", DataType::Binary, true)]);
    let col: ArrayRef = Arc::new(arrow_array::BinaryArray::from(vec![&b"1943-03-17"[..]]));
    let batch = RecordBatch::try_new(Arc::new(schema), vec![col]).unwrap();
    let err = deidentify_batch(&view("data_analyst", "HRESCH"), &batch).unwrap_err();
    assert_eq!(err.code(), "input");
    assert!(err.to_string().contains("birth_date"), "{err}");
}

#[test]
fn audit_names_released_records_by_their_original_ids() {
    let batch = sample_batch();
    let sink = Arc::new(phiguard::audit::MemorySink::default());
    let v = view("data_analyst", "HRESCH").with_audit(sink.clone());
    let (out, _) = deidentify_batch(&v, &batch.slice(0, 3)).unwrap();
    assert_eq!(
        out.column(0).null_count(),
        3,
        "ids are redacted in the output"
    );
    let events = sink.events();
    let disclosure = events.iter().find(|e| e.kind == "disclosure").unwrap();
    let ids = batch.column(0).as_string::<i32>();
    assert_eq!(
        disclosure.records,
        (0..3).map(|r| ids.value(r).to_owned()).collect::<Vec<_>>()
    );
    assert_eq!(disclosure.count, 3);
}

#[test]
fn output_schema_is_every_batch_schema() {
    let batch = sample_batch();
    // A patient reading a table that holds their own row and others' rows, with one-row
    // slices: per-row plans must not change column types from slice to slice.
    let own = batch.column(0).as_string::<i32>().value(3).to_owned();
    let e = Engine::builder().build().unwrap();
    let patient = e
        .view(&AccessRequest {
            as_of_year: Some(2026),
            ..AccessRequest::new(own, ["patient"], "PATRQT", "synthea-patients")
        })
        .unwrap()
        .with_key(KeyRing::from_bytes(&[5; 32]).unwrap());
    for v in [
        view("data_analyst", "HRESCH"),
        view("coder", "HOPERAT"),
        view("physician", "TREAT"),
        patient,
    ] {
        let want = phiguard::io::arrow::output_schema(&v, &batch.schema()).unwrap();
        for (offset, len) in [(0, 1), (3, 1), (0, 10), (0, batch.num_rows())] {
            let (out, _) = deidentify_batch(&v, &batch.slice(offset, len)).unwrap();
            assert_eq!(
                out.schema().as_ref(),
                &want,
                "{:?} rows {offset}+{len}",
                v.request().roles
            );
        }
    }
}
