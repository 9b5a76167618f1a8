#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use std::sync::Arc;
fn main() {
    let sample = include_str!("../../tests/data/patients.csv");
    let mut rdr = csv::Reader::from_reader(sample.as_bytes());
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_owned).collect();
    let base: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let n = 1_000_000;
    let cols: Vec<ArrayRef> = (0..headers.len())
        .map(|i| {
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|k| base[k % base.len()][i].as_str()),
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
    let engine = phiguard::Engine::default_pack().unwrap();
    let req = phiguard::AccessRequest {
        as_of_year: Some(2026),
        ..phiguard::AccessRequest::new("u", ["data_analyst"], "HRESCH", "synthea-patients")
    };
    let view = engine.view(&req).unwrap();
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let (out, _) = phiguard::columnar::deidentify_batch(&view, &batch).unwrap();
        eprintln!("{:?} {}", t.elapsed(), out.num_rows());
    }
}
