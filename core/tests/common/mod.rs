//! Helpers shared by the integration tests.

use phiguard::{PackSources, Source};

/// The default pack with `extra_schema` added to the `Access` context and `policy` added as
/// one more policy file.
pub fn sources_with(extra_schema: &str, policy: &str) -> PackSources {
    let mut src = PackSources::default_pack();
    if let Some(s) = src.schema.as_mut() {
        s.text = s.text.replace(
            "\"consent\": Set<String>,",
            &format!("\"consent\": Set<String>,{extra_schema}"),
        );
    }
    src.policies.push(Source::new("extra.cedar", policy));
    src
}

/// A CSV text (header first) as an Arrow batch of UTF-8 columns, as a Parquet or DataFrame
/// reader would hand it over.
#[cfg(feature = "arrow")]
#[allow(dead_code, reason = "used by the Arrow tests only")]
pub fn csv_batch(text: &str) -> arrow_array::RecordBatch {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_owned).collect();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let cols: Vec<ArrayRef> = (0..headers.len())
        .map(|i| {
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.get(i).unwrap()),
            )) as ArrayRef
        })
        .collect();
    let schema = Schema::new(
        headers
            .iter()
            .map(|h| Field::new(h, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), cols).unwrap()
}
