//! Streaming readers and writers: CSV and JSON / NDJSON in, the same format out.
//!
//! Input is read in chunks (1 MiB of whole records for CSV, a number of lines for NDJSON), so
//! memory stays constant; each chunk is treated in parallel and written in order. Every malformed input — ragged rows, bad quoting, invalid UTF-8, broken
//! JSON, excessive nesting, oversized fields — stops the run with an error naming the source,
//! line and field. A row is never skipped: the run fails instead, and callers write to a
//! temporary file so no partial output is left looking complete.

#[cfg(feature = "arrow")]
pub mod arrow;
mod csv;
mod files;
mod json;
mod ndjson;
mod push;
mod rows;

pub use self::csv::deidentify_csv;
pub use files::{FileProgress, Format, peek_columns};
#[cfg(not(target_arch = "wasm32"))]
pub use files::{deidentify_file, scrub_text_file};
pub use json::{JsonOutcome, deidentify_json};
pub use ndjson::deidentify_ndjson;
pub use push::CsvPush;
pub use rows::{RowApplier, RowOut};

use crate::engine::View;
use crate::plan::Tally;

/// Options for the streaming de-identifiers.
#[derive(Debug, Clone)]
pub struct IoOptions {
    /// Name of the input used in error locations.
    pub source: String,
    /// NDJSON records treated per parallel batch (memory: about `chunk_rows` × record size,
    /// twice). CSV is cut into 1 MiB chunks of whole records instead.
    pub chunk_rows: usize,
    /// Largest accepted field, in bytes (the view's engine limit applies too: the smaller wins).
    pub max_field_bytes: usize,
    /// Largest accepted record (CSV record, JSON line), in bytes (the smaller of this and the
    /// engine's `Limits::max_record_bytes` applies).
    pub max_record_bytes: usize,
    /// CSV delimiter.
    pub delimiter: u8,
}

impl Default for IoOptions {
    fn default() -> Self {
        IoOptions {
            source: "<input>".into(),
            chunk_rows: 16_384,
            max_field_bytes: 1 << 20,
            max_record_bytes: 64 << 20,
            delimiter: b',',
        }
    }
}

impl IoOptions {
    /// These options with the view's engine limits applied where they are stricter.
    fn capped_by(&self, view: &View) -> IoOptions {
        let limits = view.limits();
        IoOptions {
            max_field_bytes: self.max_field_bytes.min(limits.max_field_bytes),
            max_record_bytes: self.max_record_bytes.min(limits.max_record_bytes),
            ..self.clone()
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Records read and written.
    pub rows: u64,
    /// Values per treatment (`clear`, `mask`, ..., `untreatable`, `unknown_field`).
    pub treatments: Tally,
    /// Input columns not in the catalog (redacted).
    pub unknown_columns: Vec<String>,
    /// Distinct plans used.
    pub plans: usize,
}
