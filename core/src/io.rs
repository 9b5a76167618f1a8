//! Streaming readers and writers: CSV and JSON / NDJSON in, the same format out.
//!
//! Input is read in chunks (1 MiB of whole records for CSV, a number of lines for NDJSON), so
//! memory stays constant; each chunk is treated in parallel and written in order. Every malformed input — ragged rows, bad quoting, invalid UTF-8, broken
//! JSON, excessive nesting, oversized fields — stops the run with an error naming the source,
//! line and field. A row is never skipped: the run fails instead, and callers write to a
//! temporary file so no partial output is left looking complete.

use std::fs::File;
use std::io::{BufRead, Read, Write};
#[cfg(not(target_arch = "wasm32"))]
use std::io::{BufReader, BufWriter};
use std::path::Path;
#[cfg(not(target_arch = "wasm32"))]
use std::path::PathBuf;
use std::sync::Arc;
#[cfg(not(target_arch = "wasm32"))]
use std::sync::atomic::{AtomicU64, Ordering};

use csv::ByteRecord;

use crate::engine::{Disclosures, View};
use crate::error::{Error, Location, Result};
use crate::plan::Tally;
use crate::rows::{RowApplier, RowOut};
use crate::util::par;

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

struct ChunkOut {
    bytes: Vec<u8>,
    rows: u64,
    counts: Tally,
    disclosures: Disclosures,
}

/// A run of whole CSV records and the line its first record starts on.
struct Chunk {
    bytes: Vec<u8>,
    first_line: u64,
}

/// Where the CSV parser is within a record, as far as quotes go: the states of `csv-core`'s
/// reader that decide whether a newline ends a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    /// Outside a quoted field: a quote opens one only at the start of a field (after a
    /// delimiter or a line break); elsewhere it is text (`5'10"`).
    Outside,
    /// In a quoted field: newlines and delimiters are text.
    Quoted,
    /// Just after a quote in a quoted field: a second quote right away is an escaped `""`;
    /// anything else ends the quoted part.
    QuoteInQuoted,
}

/// Cuts a CSV byte stream into chunks of whole records, so chunks parse in parallel.
///
/// A newline ends a record only outside a quoted field. The scanner follows the csv parser's
/// own rules for quotes (they open a quoted field only at the start of a field; elsewhere they
/// are text), visiting only quotes and newlines with `memchr`, so every cut falls where the
/// parser reading the whole input would end a record. At the end, a quoted field left open is
/// an error (the parser would silently take the rest of the file as one field).
struct Splitter<R> {
    input: R,
    buf: Vec<u8>,
    delimiter: u8,
    /// Bytes of `buf` already scanned, and the quote state after them.
    scanned: usize,
    state: QuoteState,
    /// Last record boundary (just after a newline outside quotes) within `scanned`.
    boundary: usize,
    /// Newlines before `buf[0]`, and within `buf[..boundary]`.
    line: u64,
    lines_to_boundary: u64,
    lines_scanned: u64,
    eof: bool,
    max_record: usize,
}

impl<R: Read> Splitter<R> {
    fn new(input: R, max_record: usize, delimiter: u8) -> Self {
        Splitter {
            input,
            buf: Vec::new(),
            delimiter,
            scanned: 0,
            state: QuoteState::Outside,
            boundary: 0,
            line: 1,
            lines_to_boundary: 0,
            lines_scanned: 0,
            eof: false,
            max_record,
        }
    }

    fn scan(&mut self) {
        use QuoteState::{Outside, QuoteInQuoted, Quoted};
        let mut i = self.scanned;
        let buf = &self.buf;
        let delim = self.delimiter;
        // Only quotes and newlines are visited; whether a quote opens a field is told by the
        // byte before it (`buf` always starts at a record boundary).
        while let Some(off) = buf
            .get(i..)
            .and_then(|rest| memchr::memchr2(b'"', b'\n', rest))
        {
            if off > 0 && self.state == QuoteInQuoted {
                self.state = Outside;
            }
            let pos = i + off;
            let byte = buf.get(pos).copied().unwrap_or(b'\n');
            self.state = match (byte, self.state) {
                (b'\n', Quoted) => {
                    self.lines_scanned += 1;
                    Quoted
                }
                (b'\n', _) => {
                    self.lines_scanned += 1;
                    self.boundary = pos + 1;
                    self.lines_to_boundary = self.lines_scanned;
                    Outside
                }
                (_, Quoted) => QuoteInQuoted,
                (_, QuoteInQuoted) => Quoted,
                (_, Outside) => {
                    let field_start = pos
                        .checked_sub(1)
                        .and_then(|p| buf.get(p))
                        .is_none_or(|&b| b == delim || b == b'\n' || b == b'\r');
                    if field_start { Quoted } else { Outside }
                }
            };
            i = pos + 1;
        }
        if buf.len() > i && self.state == QuoteInQuoted {
            self.state = Outside;
        }
        self.scanned = buf.len();
    }

    /// The next chunk of about `target` bytes of whole records; `None` at the end.
    fn next_chunk(&mut self, target: usize, src: &str) -> Result<Option<Chunk>> {
        loop {
            if self.boundary >= target || (self.eof && self.scanned == self.buf.len()) {
                break;
            }
            self.check_record_size(src)?;
            let old = self.buf.len();
            let want = target.max(64 * 1024);
            self.buf.resize(old + want, 0);
            let n = loop {
                match self.input.read(self.buf.get_mut(old..).unwrap_or(&mut [])) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(Error::input(
                            Location::line(src, self.line + self.lines_scanned),
                            format!("cannot read: {e}"),
                        ));
                    }
                }
            };
            self.buf.truncate(old + n);
            if n == 0 {
                self.eof = true;
            }
            self.scan();
        }
        self.cut(target, src)
    }

    /// Appends pushed bytes (the push API has no reader).
    fn feed(&mut self, bytes: &[u8], src: &str) -> Result<()> {
        self.buf.extend_from_slice(bytes);
        self.scan();
        self.check_record_size(src)
    }

    /// Bytes after the last record boundary are one unfinished record: it must stay bounded.
    fn check_record_size(&self, src: &str) -> Result<()> {
        if self.buf.len() - self.boundary > self.max_record {
            return Err(Error::input(
                Location::line(src, self.line + self.lines_to_boundary),
                format!(
                    "a record exceeds {} bytes (or a quote is never closed)",
                    self.max_record
                ),
            ));
        }
        Ok(())
    }

    /// Cuts the whole records scanned so far (at the end: everything) into a chunk.
    fn cut(&mut self, target: usize, src: &str) -> Result<Option<Chunk>> {
        let cut = if self.eof && self.boundary < self.buf.len() && self.boundary < target {
            if self.state == QuoteState::Quoted {
                return Err(Error::input(
                    Location::line(src, self.line + self.lines_to_boundary),
                    "unbalanced quote: a quoted field opened in this record is never closed",
                ));
            }
            // The last record has no final newline.
            self.lines_to_boundary = self.lines_scanned;
            self.buf.len()
        } else {
            self.boundary
        };
        if cut == 0 {
            return Ok(None);
        }
        let rest = self.buf.split_off(cut);
        let bytes = std::mem::replace(&mut self.buf, rest);
        let chunk = Chunk {
            bytes,
            first_line: self.line,
        };
        self.line += self.lines_to_boundary;
        self.lines_scanned -= self.lines_to_boundary;
        self.lines_to_boundary = 0;
        self.scanned -= cut;
        self.boundary = 0;
        Ok(Some(chunk))
    }
}

/// Bytes per parallel chunk.
const CHUNK_BYTES: usize = 1 << 20;

/// De-identifies CSV from `input` to `output` under `view`.
///
/// The stream is cut into chunks of whole records that are parsed, treated and serialized in
/// parallel, then written in order; memory stays around `2 × threads × 1 MiB`. `progress` is
/// called with the number of rows done after each batch of chunks.
///
/// # Errors
/// [`Error::Input`] with line and column name for malformed input (ragged rows, an unclosed
/// quote, invalid UTF-8, oversized fields); [`Error::Key`] / [`Error::Audit`] from the view;
/// [`Error::Io`] when writing fails.
pub fn deidentify_csv<R: Read + Send, W: Write + Send>(
    view: &View,
    input: R,
    output: W,
    opts: &IoOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary> {
    let opts = &opts.capped_by(view);
    let src = opts.source.as_str();
    let mut splitter = Splitter::new(input, opts.max_record_bytes, opts.delimiter);
    // The header is the first record of the first chunk; the rest of that chunk is data.
    // The header is the first record; chunks of blank lines before it are skipped, as the
    // parser skips them.
    let (headers, names, first_rows) = loop {
        let head = splitter
            .next_chunk(1, src)?
            .ok_or_else(|| Error::input(Location::line(src, 1), "empty input: no header"))?;
        if let Some(header) = read_header(head, src, opts.delimiter)? {
            break header;
        }
    };
    let rows = RowApplier::new(view, &names)?;
    let mut summary = Summary {
        unknown_columns: rows.unknown_columns(),
        ..Summary::default()
    };

    let mut out = output;
    out.write_all(&header_bytes(&headers, src, opts.delimiter)?)
        .map_err(|e| Error::io("<output>", e))?;

    let per_batch = 2 * par::threads();
    let read_batch = |s: &mut Splitter<R>| -> Result<Vec<Chunk>> {
        let mut v = Vec::with_capacity(per_batch);
        while v.len() < per_batch {
            match s.next_chunk(CHUNK_BYTES, src)? {
                Some(c) => v.push(c),
                None => break,
            }
        }
        Ok(v)
    };
    // Three stages overlap: batch N is treated in parallel while batch N-1 is written and
    // batch N+1 is read. Audit events for a batch are recorded before its bytes are written.
    let mut write_batch = |parts: Vec<ChunkOut>, summary: &mut Summary| -> Result<()> {
        for part in parts {
            view.audit_disclosures(part.disclosures)?;
            out.write_all(&part.bytes)
                .map_err(|e| Error::io("<output>", e))?;
            summary.treatments.merge(&part.counts);
            summary.rows += part.rows;
        }
        progress(summary.rows);
        Ok(())
    };
    let mut cur = vec![first_rows];
    cur.extend(read_batch(&mut splitter)?);
    let mut pending: Vec<ChunkOut> = Vec::new();
    while !cur.is_empty() {
        let (done, next) = par::join(
            || process_batch(view, &rows, &names, &cur, opts),
            || -> Result<Vec<Chunk>> {
                write_batch(std::mem::take(&mut pending), &mut summary)?;
                read_batch(&mut splitter)
            },
        );
        pending = done?;
        cur = next?;
    }
    write_batch(pending, &mut summary)?;
    out.flush().map_err(|e| Error::io("<output>", e))?;
    summary.plans = view.plans_compiled();
    Ok(summary)
}

fn csv_err(src: &str, line_offset: u64, e: &csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line() + line_offset);
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("field {} is not valid utf-8", err.field() + 1),
        csv::ErrorKind::Io(err) => format!("cannot read: {err}"),
        _ => format!("malformed csv: {e}"),
    };
    Error::input(Location::line(src, line), message)
}

fn process_batch(
    view: &View,
    rows: &RowApplier<'_>,
    names: &[String],
    chunks: &[Chunk],
    opts: &IoOptions,
) -> Result<Vec<ChunkOut>> {
    par::map(chunks, |c| process_chunk(view, rows, names, c, opts))
        .into_iter()
        .collect()
}

fn process_chunk(
    view: &View,
    rows: &RowApplier<'_>,
    names: &[String],
    chunk: &Chunk,
    opts: &IoOptions,
) -> Result<ChunkOut> {
    let src = opts.source.as_str();
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(opts.delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(&chunk.bytes[..]);
    let mut wtr = csv::WriterBuilder::new()
        .delimiter(opts.delimiter)
        .from_writer(Vec::with_capacity(chunk.bytes.len()));
    let mut disclosures = Disclosures::default();
    let mut out = RowOut::default();
    let mut rec = ByteRecord::new();
    let mut n = 0u64;
    let audited = view.is_audited();
    let write_err = |e: csv::Error| Error::io("<output>", std::io::Error::other(e.to_string()));
    let offset = chunk.first_line - 1;
    let mut fields: Vec<&str> = Vec::with_capacity(names.len());
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| csv_err(src, offset, &e))?
    {
        let line = rec.position().map_or(0, |p| p.line() + offset);
        let located = |i: usize| {
            Location::line(src, line).with_field(names.get(i).cloned().unwrap_or_default())
        };
        if rec.len() != names.len() {
            return Err(Error::input(
                Location::line(src, line),
                format!(
                    "row has {} fields; the header has {}",
                    rec.len(),
                    names.len()
                ),
            ));
        }
        // Validate the record once; fields are then sliced out of it. A field boundary inside
        // a multi-byte character is caught by `str::get`.
        let whole = match std::str::from_utf8(rec.as_slice()) {
            Ok(w) => w,
            Err(e) => {
                let bad = (0..rec.len())
                    .find(|&i| rec.range(i).is_some_and(|r| r.contains(&e.valid_up_to())))
                    .unwrap_or(0);
                return Err(Error::input(located(bad), "invalid utf-8"));
            }
        };
        let mut row = std::mem::take(&mut fields);
        for i in 0..rec.len() {
            let r = rec.range(i).unwrap_or(0..0);
            if r.len() > opts.max_field_bytes {
                return Err(Error::input(
                    located(i),
                    format!(
                        "field is {} bytes; the limit is {}",
                        r.len(),
                        opts.max_field_bytes
                    ),
                ));
            }
            row.push(
                whole
                    .get(r)
                    .ok_or_else(|| Error::input(located(i), "invalid utf-8"))?,
            );
        }
        rows.apply(&row, &mut out)?;
        for i in 0..row.len() {
            wtr.write_field(out.cell(&row, i).unwrap_or("").as_bytes())
                .map_err(write_err)?;
        }
        wtr.write_record(std::iter::empty::<&[u8]>())
            .map_err(write_err)?;
        n += 1;
        if audited && let Some(plan) = out.plan() {
            disclosures.add(&plan.id, rows.id_column().and_then(|i| row.get(i)).copied());
        }
        // Keep the allocation, drop the borrows of `rec`.
        row.clear();
        fields = row.into_iter().map(|_| "").collect();
    }
    let bytes = wtr
        .into_inner()
        .map_err(|e| Error::io("<output>", e.into_error()))?;
    Ok(ChunkOut {
        bytes,
        rows: n,
        counts: out.counts(),
        disclosures,
    })
}

/// De-identifies newline-delimited JSON (one object per line).
///
/// # Errors
/// Reads one line (without its `\n` or `\r\n`), never buffering more than `max` bytes of
/// it: a hostile line without a newline ends in an error, not in memory exhaustion.
fn read_line_bounded<R: BufRead>(
    input: &mut R,
    max: usize,
    src: &str,
    line_no: u64,
) -> Result<Option<String>> {
    let at = || Location::line(src, line_no);
    let mut buf = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(2);
    let n = input
        .by_ref()
        .take(limit)
        .read_until(b'\n', &mut buf)
        .map_err(|e| Error::input(at(), format!("cannot read line: {e}")))?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    if buf.len() > max {
        return Err(Error::input(at(), "record exceeds the size limit"));
    }
    String::from_utf8(buf).map(Some).map_err(|e| {
        Error::input(
            at(),
            format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()),
        )
    })
}

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
    let opts = &opts.capped_by(view);
    let mut input = input;
    let max_line = opts.max_record_bytes;
    let mut line_no = 0u64;
    loop {
        let mut chunk = Vec::with_capacity(opts.chunk_rows.min(4096));
        while let Some(line) = read_line_bounded(&mut input, max_line, src, line_no + 1)? {
            line_no += 1;
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
        let done = par::map(&chunk, treat);
        let mut disclosures = Disclosures::default();
        for r in done {
            let (s, o) = r?;
            output
                .write_all(s.as_bytes())
                .and_then(|()| output.write_all(b"\n"))
                .map_err(|e| Error::io("<output>", e))?;
            summary.treatments.merge(&o.counts);
            disclosures.add(&o.plan, o.record_id.as_deref());
            summary.rows += 1;
        }
        view.audit_disclosures(disclosures)?;
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
    let mut disclosures = Disclosures::default();
    let mut one = |v: &mut serde_json::Value, n: u64| -> Result<()> {
        let o = view.apply_json(v, src, n)?;
        summary.treatments.merge(&o.counts);
        disclosures.add(&o.plan, o.record_id.as_deref());
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
    view.audit_disclosures(disclosures)?;
    serde_json::to_writer_pretty(&mut output, &doc).map_err(|e| Error::io("<output>", e.into()))?;
    output
        .write_all(b"\n")
        .map_err(|e| Error::io("<output>", e))?;
    summary.plans = view.plans_compiled();
    Ok(summary)
}

/// Parses the header (first record of `head`); returns it, its column names, and the rest of
/// `head` as the first data chunk; `None` when `head` holds no record (only blank lines).
fn read_header(
    head: Chunk,
    src: &str,
    delimiter: u8,
) -> Result<Option<(ByteRecord, Vec<String>, Chunk)>> {
    let mut hdr_reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(&head.bytes[..]);
    let mut headers = ByteRecord::new();
    if !hdr_reader
        .read_byte_record(&mut headers)
        .map_err(|e| csv_err(src, head.first_line - 1, &e))?
    {
        return Ok(None);
    }
    let after = hdr_reader.position().clone();
    let first_rows = Chunk {
        bytes: head
            .bytes
            .get(usize::try_from(after.byte()).unwrap_or(usize::MAX)..)
            .unwrap_or(&[])
            .to_vec(),
        first_line: head.first_line + after.line() - 1,
    };
    let mut names = Vec::with_capacity(headers.len());
    for (i, h) in headers.iter().enumerate() {
        let name = std::str::from_utf8(h).map_err(|_| {
            Error::input(
                Location::line(src, head.first_line),
                format!("header column {} is not valid utf-8", i + 1),
            )
        })?;
        names.push(name.to_owned());
    }
    Ok(Some((headers, names, first_rows)))
}

/// The header row as written to the output.
fn header_bytes(headers: &ByteRecord, src: &str, delimiter: u8) -> Result<Vec<u8>> {
    let mut wtr = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::new());
    wtr.write_byte_record(headers)
        .map_err(|e| Error::io(src, e.into()))?;
    wtr.into_inner().map_err(|e| Error::io(src, e.into_error()))
}

/// Push-based CSV de-identification, for callers that receive input in pieces (a browser
/// reading a dropped file slice by slice). Each [`CsvPush::push`] returns the output of the
/// records completed so far (the header row first); [`CsvPush::finish`] treats the rest. The
/// output is byte for byte what [`deidentify_csv`] writes for the whole input.
///
/// # Examples
/// ```
/// use std::sync::Arc;
/// use phiguard::io::{CsvPush, IoOptions};
/// use phiguard::{AccessRequest, Engine};
/// let engine = Engine::default_pack().unwrap();
/// let req = AccessRequest::new("u", ["billing_analyst"], "HPAYMT", "synthea-patients");
/// let mut csv = CsvPush::new(Arc::new(engine.view(&req).unwrap()), IoOptions::default());
/// let mut out = csv.push(b"ssn,gender\n999-53-85").unwrap();
/// out.extend(csv.push(b"47,male\n").unwrap());
/// let (rest, summary) = csv.finish().unwrap();
/// out.extend(rest);
/// assert_eq!(String::from_utf8(out).unwrap(), "ssn,gender\n***-**-8547,male\n");
/// assert_eq!(summary.rows, 1);
/// ```
pub struct CsvPush {
    view: Arc<View>,
    opts: IoOptions,
    splitter: Splitter<std::io::Empty>,
    names: Option<Vec<String>>,
    summary: Summary,
}

impl std::fmt::Debug for CsvPush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvPush")
            .field("source", &self.opts.source)
            .field("rows", &self.summary.rows)
            .finish_non_exhaustive()
    }
}

impl CsvPush {
    /// A stream treated by `view`.
    pub fn new(view: Arc<View>, opts: IoOptions) -> Self {
        let opts = opts.capped_by(&view);
        let splitter = Splitter::new(std::io::empty(), opts.max_record_bytes, opts.delimiter);
        CsvPush {
            view,
            opts,
            splitter,
            names: None,
            summary: Summary::default(),
        }
    }

    /// Takes the next piece of input (cut anywhere, even inside a UTF-8 character); returns
    /// the output for the records it completes.
    ///
    /// # Errors
    /// As [`deidentify_csv`]; after an error the stream must not be used further.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<u8>> {
        let src = self.opts.source.clone();
        self.splitter.feed(bytes, &src)?;
        match self.splitter.cut(usize::MAX, &src)? {
            Some(chunk) => self.process(chunk),
            None => Ok(Vec::new()),
        }
    }

    /// Ends the input: treats the last record and returns its output and the run's summary.
    ///
    /// # Errors
    /// As [`deidentify_csv`], e.g. a quote left open or no header at all.
    pub fn finish(&mut self) -> Result<(Vec<u8>, Summary)> {
        let src = self.opts.source.clone();
        self.splitter.eof = true;
        let out = match self.splitter.cut(usize::MAX, &src)? {
            Some(chunk) => self.process(chunk)?,
            None => Vec::new(),
        };
        if self.names.is_none() {
            return Err(Error::input(
                Location::line(&src, 1),
                "empty input: no header",
            ));
        }
        let mut summary = std::mem::take(&mut self.summary);
        summary.plans = self.view.plans_compiled();
        Ok((out, summary))
    }

    fn process(&mut self, chunk: Chunk) -> Result<Vec<u8>> {
        let src = self.opts.source.as_str();
        let mut out = Vec::new();
        let (names, chunk) = match self.names.take() {
            Some(n) => (n, chunk),
            None => match read_header(chunk, src, self.opts.delimiter)? {
                Some((headers, names, rest)) => {
                    out.extend(header_bytes(&headers, src, self.opts.delimiter)?);
                    (names, rest)
                }
                // Blank lines before the header: the parser skips them, so do we.
                None => return Ok(out),
            },
        };
        let rows = RowApplier::new(&self.view, &names)?;
        if self.summary.unknown_columns.is_empty() {
            self.summary.unknown_columns = rows.unknown_columns();
        }
        let parts = process_batch(&self.view, &rows, &names, &[chunk], &self.opts)?;
        self.names = Some(names);
        for part in parts {
            self.view.audit_disclosures(part.disclosures)?;
            out.extend(part.bytes);
            self.summary.treatments.merge(&part.counts);
            self.summary.rows += part.rows;
        }
        Ok(out)
    }
}

/// A data file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON document: an array of records or one record.
    Json,
    /// JSON lines: one record per line.
    Ndjson,
}

impl Format {
    /// The format named `name`: `csv`, `json`, `ndjson` or `jsonl`.
    ///
    /// # Errors
    /// [`Error::Request`] for any other name.
    pub fn parse(name: &str) -> Result<Format> {
        match name.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "ndjson" | "jsonl" => Ok(Format::Ndjson),
            other => Err(Error::request(format!(
                "unknown format `{other}`: expected csv, json, ndjson or jsonl"
            ))),
        }
    }

    /// The format of `path` by its extension.
    ///
    /// # Errors
    /// [`Error::Request`] when the extension does not tell.
    ///
    /// # Examples
    /// ```
    /// use phiguard::io::Format;
    /// assert_eq!(Format::from_path("in/patients.jsonl".as_ref()).unwrap(), Format::Ndjson);
    /// assert!(Format::from_path("notes.txt".as_ref()).is_err());
    /// ```
    pub fn from_path(path: &Path) -> Result<Format> {
        path.extension()
            .and_then(|e| e.to_str())
            .and_then(|e| Format::parse(e).ok())
            .ok_or_else(|| {
                Error::request(format!(
                    "cannot tell the format of `{}` from its extension; name the format",
                    path.display()
                ))
            })
    }
}

/// The column names (CSV header) or top-level keys of the first record (JSON), for
/// [`crate::Engine::match_catalog`]. Reads at most the header or the first MiB.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened; [`Error::Input`] for an unreadable header.
pub fn peek_columns(path: &Path, format: Format) -> Result<Vec<String>> {
    let f = File::open(path).map_err(|e| Error::io(path.display(), e))?;
    match format {
        Format::Csv => {
            let mut rdr = csv::Reader::from_reader(f);
            let h = rdr.headers().map_err(|e| {
                Error::input(
                    Location::line(&path.display().to_string(), 1),
                    format!("cannot read the header: {e}"),
                )
            })?;
            Ok(h.iter().map(str::to_owned).collect())
        }
        Format::Json | Format::Ndjson => {
            let mut first = Vec::new();
            f.take(1 << 20)
                .read_to_end(&mut first)
                .map_err(|e| Error::io(path.display(), e))?;
            let text = String::from_utf8_lossy(&first);
            let head = match format {
                Format::Ndjson => text.lines().find(|l| !l.trim().is_empty()).unwrap_or(""),
                _ => &text,
            };
            // A JSON document's first record: parse the stream up to the first complete value.
            let head = head.trim_start().strip_prefix('[').unwrap_or(head);
            let keys = serde_json::Deserializer::from_str(head)
                .into_iter::<serde_json::Value>()
                .next()
                .and_then(std::result::Result::ok)
                .and_then(|v| v.as_object().map(|m| m.keys().cloned().collect()))
                .unwrap_or_default();
            Ok(keys)
        }
    }
}

/// How far [`deidentify_file`] has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileProgress {
    /// Records written so far.
    pub rows: u64,
    /// Input bytes read so far.
    pub bytes_read: u64,
    /// Size of the input file.
    pub total_bytes: u64,
}

#[cfg(not(target_arch = "wasm32"))]
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

#[cfg(not(target_arch = "wasm32"))]
impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(not(target_arch = "wasm32"))]
/// De-identifies the file `input` into `output`, streaming.
///
/// Output goes to a temporary file beside `output`, synced and renamed over it only when the
/// whole input was treated: a failed run leaves no partial file looking complete.
///
/// # Errors
/// The errors of [`deidentify_csv`], [`deidentify_ndjson`] and [`deidentify_json`], and
/// [`Error::Io`] for the files.
pub fn deidentify_file(
    view: &View,
    input: &Path,
    output: &Path,
    format: Format,
    opts: &IoOptions,
    progress: &(dyn Fn(FileProgress) + Sync),
) -> Result<Summary> {
    let file = File::open(input).map_err(|e| Error::io(input.display(), e))?;
    let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let count = Arc::new(AtomicU64::new(0));
    let reader = CountingReader {
        inner: file,
        count: count.clone(),
    };
    let tick = |rows: u64| {
        progress(FileProgress {
            rows,
            bytes_read: count.load(Ordering::Relaxed),
            total_bytes,
        });
    };
    let summary = write_atomically(output, |out| match format {
        Format::Csv => deidentify_csv(
            view,
            BufReader::with_capacity(1 << 20, reader),
            out,
            opts,
            &tick,
        ),
        Format::Ndjson => deidentify_ndjson(view, BufReader::new(reader), out, opts, &tick),
        Format::Json => deidentify_json(view, reader, out, opts),
    })?;
    tick(summary.rows);
    Ok(summary)
}

/// Writes `output` through `write` into a temporary file beside it, then syncs the file and
/// renames it over `output`; when `write` fails, `output` is left untouched and the temporary
/// file removed.
///
/// # Errors
/// The error of `write`, or [`Error::Io`] for the files.
#[cfg(not(target_arch = "wasm32"))]
pub fn write_atomically<T>(
    output: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> Result<T>,
) -> Result<T> {
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".phiguard-")
        .suffix(".partial")
        .tempfile_in(&dir)
        .map_err(|e| Error::io(dir.display(), e))?;
    let mut out = BufWriter::with_capacity(1 << 20, tmp.as_file());
    let value = write(&mut out)?;
    out.flush().map_err(|e| Error::io(output.display(), e))?;
    drop(out);
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(output.display(), e))?;
    tmp.persist(output)
        .map_err(|e| Error::io(output.display(), e.error))?;
    Ok(value)
}
