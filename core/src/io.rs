//! Streaming readers and writers: CSV and JSON / NDJSON in, the same format out.
//!
//! Input is read in chunks of rows (constant memory); each chunk is treated in parallel and
//! written in order. Every malformed input — ragged rows, bad quoting, invalid UTF-8, broken
//! JSON, excessive nesting, oversized fields — stops the run with an error naming the source,
//! line and field. A row is never skipped: the run fails instead, and callers write to a
//! temporary file so no partial output is left looking complete.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use csv::ByteRecord;

use crate::engine::View;
use crate::error::{Error, Location, Result};
use crate::plan::{Applied, Plan, RowCtx};
use crate::policy::RecordAttrs;

/// Options for the streaming de-identifiers.
#[derive(Debug, Clone)]
pub struct IoOptions {
    /// Name of the input used in error locations.
    pub source: String,
    /// Rows per chunk (memory bound: about `chunk_rows` × row size, twice).
    pub chunk_rows: usize,
    /// Largest accepted field, in bytes.
    pub max_field_bytes: usize,
    /// CSV delimiter.
    pub delimiter: u8,
}

impl Default for IoOptions {
    fn default() -> Self {
        IoOptions {
            source: "<input>".into(),
            chunk_rows: 16_384,
            max_field_bytes: 1 << 20,
            delimiter: b',',
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Records read and written.
    pub rows: u64,
    /// Values per treatment name (`clear`, `mask`, ..., `untreatable`, `unknown_field`).
    pub treatments: BTreeMap<String, u64>,
    /// Input columns not in the catalog (redacted).
    pub unknown_columns: Vec<String>,
    /// Distinct plans used.
    pub plans: usize,
}

impl Summary {
    fn add(&mut self, counts: &HashMap<&'static str, u64>) {
        for (k, v) in counts {
            *self.treatments.entry((*k).to_owned()).or_insert(0) += v;
        }
    }
}

struct Columns {
    /// Catalog field index per input column (None: not in the catalog, redacted).
    field: Vec<Option<usize>>,
    names: Vec<String>,
    by_name: HashMap<String, usize>,
    id: Option<usize>,
    patient: Option<usize>,
}

struct ChunkOut {
    bytes: Vec<u8>,
    counts: HashMap<&'static str, u64>,
    disclosures: HashMap<String, (Vec<String>, u64)>,
}

/// De-identifies CSV from `input` to `output` under `view`.
///
/// `progress` is called with the number of rows done after each chunk.
///
/// # Errors
/// [`Error::Input`] with line and column name for malformed input; [`Error::Key`] /
/// [`Error::Audit`] from the view; [`Error::Io`] when writing fails.
pub fn deidentify_csv<R: Read + Send, W: Write>(
    view: &View,
    input: R,
    output: W,
    opts: &IoOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary> {
    let src = opts.source.as_str();
    let quotes = Arc::new(AtomicU64::new(0));
    let input = QuoteCounter {
        inner: input,
        quotes: quotes.clone(),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(opts.delimiter)
        .flexible(false)
        .from_reader(input);
    let headers = rdr.byte_headers().map_err(|e| csv_err(src, &e))?.clone();
    let mut names = Vec::with_capacity(headers.len());
    for (i, h) in headers.iter().enumerate() {
        let name = std::str::from_utf8(h).map_err(|_| {
            Error::input(
                Location::line(src, 1),
                format!("header column {} is not valid utf-8", i + 1),
            )
        })?;
        names.push(name.to_owned());
    }
    let catalog = view.catalog();
    let field: Vec<Option<usize>> = names
        .iter()
        .map(|n| catalog.fields.iter().position(|f| &f.name == n))
        .collect();
    let by_name: HashMap<String, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i))
        .collect();
    let col_of = |c: &Option<String>| c.as_ref().and_then(|c| by_name.get(c).copied());
    let cols = Columns {
        id: col_of(&catalog.record.id),
        patient: col_of(&catalog.record.patient),
        field,
        names,
        by_name: by_name.clone(),
    };
    let mut summary = Summary {
        unknown_columns: cols
            .names
            .iter()
            .zip(&cols.field)
            .filter(|(_, f)| f.is_none())
            .map(|(n, _)| n.clone())
            .collect(),
        ..Summary::default()
    };
    // One plan serves every row unless records carry attributes.
    let fixed = if view.has_record_attrs() {
        None
    } else {
        Some(view.plan(&RecordAttrs::default())?)
    };

    let mut out = output;
    let mut wtr = csv::WriterBuilder::new()
        .delimiter(opts.delimiter)
        .from_writer(Vec::new());
    wtr.write_byte_record(&headers)
        .map_err(|e| Error::io(src, e.into()))?;
    out.write_all(
        &wtr.into_inner()
            .map_err(|e| Error::io(src, e.into_error()))?,
    )
    .map_err(|e| Error::io("<output>", e))?;

    let chunk_rows = opts.chunk_rows.max(1);
    let mut cur = read_chunk(&mut rdr, chunk_rows, src)?;
    let mut last_line = 1;
    while !cur.is_empty() {
        last_line = cur
            .last()
            .and_then(|r| r.position())
            .map_or(last_line, |p| p.line());
        let (done, next) = join(
            || process_chunk(view, &cols, fixed.as_ref(), &cur, opts),
            || read_chunk(&mut rdr, chunk_rows, src),
        );
        let next = next?;
        for part in done? {
            out.write_all(&part.bytes)
                .map_err(|e| Error::io("<output>", e))?;
            summary.add(&part.counts);
            for (plan, (ids, n)) in part.disclosures {
                view.audit_disclosure(&plan, ids, n)?;
            }
        }
        summary.rows += cur.len() as u64;
        progress(summary.rows);
        cur = next;
    }
    // The csv parser takes a quote left open as a field running to the end of the input,
    // which would silently merge every later row into one field. Well-formed CSV has an even
    // number of quote characters (each quoted field opens and closes; inner quotes double).
    if quotes.load(Ordering::Relaxed) % 2 == 1 {
        return Err(Error::input(
            Location::line(src, last_line),
            "unbalanced quote: a quoted field opened at or after this record is never closed",
        ));
    }
    out.flush().map_err(|e| Error::io("<output>", e))?;
    summary.plans = view.plans_compiled();
    Ok(summary)
}

/// Counts quote characters as the input streams by (see the check at the end of the run).
struct QuoteCounter<R> {
    inner: R,
    quotes: Arc<AtomicU64>,
}

impl<R: Read> Read for QuoteCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let q = buf
            .get(..n)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'"').count());
        self.quotes.fetch_add(q as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(feature = "parallel")]
fn join<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    rayon::join(a, b)
}

#[cfg(not(feature = "parallel"))]
fn join<A, B>(a: impl FnOnce() -> A, b: impl FnOnce() -> B) -> (A, B) {
    (a(), b())
}

fn csv_err(src: &str, e: &csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("row has {len} fields; the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { err, .. } => format!("field {} is not valid utf-8", err.field() + 1),
        csv::ErrorKind::Io(err) => format!("cannot read: {err}"),
        _ => format!("malformed csv: {e}"),
    };
    Error::input(Location::line(src, line), message)
}

fn read_chunk<R: Read>(rdr: &mut csv::Reader<R>, n: usize, src: &str) -> Result<Vec<ByteRecord>> {
    let mut v = Vec::with_capacity(n.min(65_536));
    for _ in 0..n {
        let mut rec = ByteRecord::new();
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => v.push(rec),
            Ok(false) => break,
            Err(e) => return Err(csv_err(src, &e)),
        }
    }
    Ok(v)
}

const PART_ROWS: usize = 2048;

fn process_chunk(
    view: &View,
    cols: &Columns,
    fixed: Option<&Arc<Plan>>,
    rows: &[ByteRecord],
    opts: &IoOptions,
) -> Result<Vec<ChunkOut>> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        rows.par_chunks(PART_ROWS)
            .map(|part| process_part(view, cols, fixed, part, opts))
            .collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        rows.chunks(PART_ROWS)
            .map(|part| process_part(view, cols, fixed, part, opts))
            .collect()
    }
}

fn process_part(
    view: &View,
    cols: &Columns,
    fixed: Option<&Arc<Plan>>,
    rows: &[ByteRecord],
    opts: &IoOptions,
) -> Result<ChunkOut> {
    let src = opts.source.as_str();
    let mut wtr = csv::WriterBuilder::new()
        .delimiter(opts.delimiter)
        .from_writer(Vec::with_capacity(rows.len() * 256));
    let mut counts: HashMap<&'static str, u64> = HashMap::new();
    let mut tally = vec![[0u64; 9]; cols.field.len()];
    let mut disclosures: HashMap<String, (Vec<String>, u64)> = HashMap::new();
    let mut local: HashMap<RecordAttrs, Arc<Plan>> = HashMap::new();
    let mut buf = String::with_capacity(256);
    let mut strs: Vec<&str> = Vec::with_capacity(cols.field.len());
    let write_err = |e: csv::Error| Error::io("<output>", std::io::Error::other(e.to_string()));
    for rec in rows {
        let line = rec.position().map_or(0, |p| p.line());
        strs.clear();
        for (i, raw) in rec.iter().enumerate() {
            let name = || cols.names.get(i).cloned().unwrap_or_default();
            if raw.len() > opts.max_field_bytes {
                return Err(Error::input(
                    Location::line(src, line).with_field(name()),
                    format!(
                        "field is {} bytes; the limit is {}",
                        raw.len(),
                        opts.max_field_bytes
                    ),
                ));
            }
            let s = std::str::from_utf8(raw).map_err(|e| {
                Error::input(
                    Location::line(src, line).with_field(name()),
                    format!("invalid utf-8 at byte {}", e.valid_up_to()),
                )
            })?;
            strs.push(s);
        }
        let plan = match fixed {
            Some(p) => p.clone(),
            None => {
                let attrs =
                    view.record_attrs(|c| cols.by_name.get(c).and_then(|&i| strs.get(i).copied()));
                match local.get(&attrs) {
                    Some(p) => p.clone(),
                    None => {
                        let p = view.plan(&attrs)?;
                        local.insert(attrs, p.clone());
                        p
                    }
                }
            }
        };
        let patient = cols.patient.and_then(|i| strs.get(i).copied());
        let ctx = RowCtx::new(view.key(), patient, view.as_of_year());
        for (i, s) in strs.iter().enumerate() {
            let (res, kind) = match cols.field.get(i).copied().flatten() {
                Some(fi) => {
                    buf.clear();
                    let res = plan.apply_value(fi, s, &ctx, &mut buf)?;
                    let kind = match res {
                        Applied::Untreatable => 7,
                        _ => plan
                            .fields
                            .get(fi)
                            .map_or(5, |f| kind_index(f.treatment.name())),
                    };
                    (res, kind)
                }
                None => (Applied::Null, 8),
            };
            if let Some(t) = tally.get_mut(i).and_then(|t| t.get_mut(kind)) {
                *t += u64::from(!s.is_empty());
            }
            match res {
                Applied::Clear => wtr.write_field(s.as_bytes()),
                Applied::Written => wtr.write_field(buf.as_bytes()),
                Applied::Null | Applied::Drop | Applied::Untreatable => wtr.write_field(b""),
            }
            .map_err(write_err)?;
        }
        wtr.write_record(std::iter::empty::<&[u8]>())
            .map_err(write_err)?;
        let entry = disclosures.entry(plan.id.clone()).or_default();
        if let Some(id) = cols.id.and_then(|i| strs.get(i)) {
            entry.0.push((*id).to_owned());
        }
        entry.1 += 1;
    }
    for t in &tally {
        for (k, n) in t.iter().enumerate() {
            if *n > 0 {
                *counts
                    .entry(KINDS.get(k).copied().unwrap_or("redact"))
                    .or_insert(0) += n;
            }
        }
    }
    let bytes = wtr
        .into_inner()
        .map_err(|e| Error::io("<output>", e.into_error()))?;
    Ok(ChunkOut {
        bytes,
        counts,
        disclosures,
    })
}

const KINDS: [&str; 9] = [
    "clear",
    "mask",
    "shift",
    "pseudonymize",
    "generalize",
    "redact",
    "drop",
    "untreatable",
    "unknown_field",
];

fn kind_index(name: &str) -> usize {
    KINDS.iter().position(|k| *k == name).unwrap_or(5)
}

/// De-identifies newline-delimited JSON (one object per line).
///
/// # Errors
/// [`Error::Input`] naming the line for malformed JSON or non-object records, plus the errors
/// of [`View::apply_json`].
pub fn deidentify_ndjson<R: BufRead, W: Write>(
    view: &View,
    input: R,
    mut output: W,
    opts: &IoOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary> {
    let src = opts.source.as_str();
    let mut summary = Summary::default();
    let mut lines = input.lines();
    let mut line_no = 0u64;
    loop {
        let mut chunk = Vec::with_capacity(opts.chunk_rows.min(4096));
        for line in lines.by_ref() {
            line_no += 1;
            let line = line.map_err(|e| {
                Error::input(
                    Location::line(src, line_no),
                    format!("cannot read line: {e}"),
                )
            })?;
            if line.len() > opts.max_field_bytes.saturating_mul(16) {
                return Err(Error::input(
                    Location::line(src, line_no),
                    "record exceeds the size limit",
                ));
            }
            if !line.trim().is_empty() {
                chunk.push((line_no, line));
            }
            if chunk.len() >= opts.chunk_rows.max(1) {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let treat = |(n, line): &(u64, String)| -> Result<(String, crate::engine::JsonOutcome)> {
            let mut v: serde_json::Value = serde_json::from_str(line).map_err(|e| {
                Error::input(
                    Location {
                        source: src.to_owned(),
                        line: *n,
                        column: e.column() as u64,
                        field: None,
                    },
                    format!("malformed json: {e}"),
                )
            })?;
            let o = view.apply_json(&mut v, src, *n)?;
            let s = serde_json::to_string(&v)
                .map_err(|e| Error::input(Location::line(src, *n), e.to_string()))?;
            Ok((s, o))
        };
        #[cfg(feature = "parallel")]
        let done: Vec<Result<_>> = {
            use rayon::prelude::*;
            chunk.par_iter().map(treat).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let done: Vec<Result<_>> = chunk.iter().map(treat).collect();
        let mut disclosures: BTreeMap<String, (Vec<String>, u64)> = BTreeMap::new();
        for r in done {
            let (s, o) = r?;
            output
                .write_all(s.as_bytes())
                .and_then(|()| output.write_all(b"\n"))
                .map_err(|e| Error::io("<output>", e))?;
            summary.add(&o.counts);
            let d = disclosures.entry(o.plan).or_default();
            d.0.extend(o.record_id);
            d.1 += 1;
            summary.rows += 1;
        }
        for (plan, (ids, n)) in disclosures {
            view.audit_disclosure(&plan, ids, n)?;
        }
        progress(summary.rows);
    }
    output.flush().map_err(|e| Error::io("<output>", e))?;
    summary.plans = view.plans_compiled();
    Ok(summary)
}

/// De-identifies a JSON document: an array of records, or one record.
///
/// # Errors
/// As [`deidentify_ndjson`]; the whole document is held in memory.
pub fn deidentify_json<R: Read, W: Write>(
    view: &View,
    mut input: R,
    mut output: W,
    opts: &IoOptions,
) -> Result<Summary> {
    let src = opts.source.as_str();
    let mut text = String::new();
    input.read_to_string(&mut text).map_err(|e| {
        Error::input(
            Location::line(src, 0),
            format!("cannot read (is it utf-8?): {e}"),
        )
    })?;
    let mut doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::input(
            Location {
                source: src.to_owned(),
                line: e.line() as u64,
                column: e.column() as u64,
                field: None,
            },
            format!("malformed json: {e}"),
        )
    })?;
    let mut summary = Summary::default();
    let mut disclosures: BTreeMap<String, (Vec<String>, u64)> = BTreeMap::new();
    let mut one = |v: &mut serde_json::Value, n: u64| -> Result<()> {
        let o = view.apply_json(v, src, n)?;
        summary.add(&o.counts);
        let d = disclosures.entry(o.plan).or_default();
        d.0.extend(o.record_id);
        d.1 += 1;
        summary.rows += 1;
        Ok(())
    };
    match &mut doc {
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                one(v, i as u64 + 1)?;
            }
        }
        v => one(v, 1)?,
    }
    for (plan, (ids, n)) in disclosures {
        view.audit_disclosure(&plan, ids, n)?;
    }
    serde_json::to_writer_pretty(&mut output, &doc).map_err(|e| Error::io("<output>", e.into()))?;
    output
        .write_all(b"\n")
        .map_err(|e| Error::io("<output>", e))?;
    summary.plans = view.plans_compiled();
    Ok(summary)
}
