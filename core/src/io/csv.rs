//! CSV: cutting a stream into chunks of whole records, treating chunks in parallel, writing
//! them in order.

use std::io::{Read, Write};

use ::csv::ByteRecord;

use crate::engine::{Disclosures, View};
use crate::error::{Error, Location, Result};
use crate::plan::Tally;
use crate::util::par;

use super::rows::{RowApplier, RowOut};
use super::{IoOptions, Summary};

pub(super) struct ChunkOut {
    pub(super) bytes: Vec<u8>,
    pub(super) rows: u64,
    pub(super) counts: Tally,
    pub(super) disclosures: Disclosures,
}

/// A run of whole CSV records and the line its first record starts on.
pub(super) struct Chunk {
    pub(super) bytes: Vec<u8>,
    pub(super) first_line: u64,
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
pub(super) struct Splitter<R> {
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
    pub(super) eof: bool,
    max_record: usize,
}

impl<R: Read> Splitter<R> {
    pub(super) fn new(input: R, max_record: usize, delimiter: u8) -> Self {
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
    pub(super) fn feed(&mut self, bytes: &[u8], src: &str) -> Result<()> {
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
    pub(super) fn cut(&mut self, target: usize, src: &str) -> Result<Option<Chunk>> {
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

pub(super) fn process_batch(
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

/// Parses the header (first record of `head`); returns it, its column names, and the rest of
/// `head` as the first data chunk; `None` when `head` holds no record (only blank lines).
pub(super) fn read_header(
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
pub(super) fn header_bytes(headers: &ByteRecord, src: &str, delimiter: u8) -> Result<Vec<u8>> {
    let mut wtr = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::new());
    wtr.write_byte_record(headers)
        .map_err(|e| Error::io(src, e.into()))?;
    wtr.into_inner().map_err(|e| Error::io(src, e.into_error()))
}
