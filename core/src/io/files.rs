//! Files: formats by extension, the columns of a file, whole-file runs with progress, and
//! output written beside its destination and renamed only when complete.

use std::fs::File;
use std::io::Read;
#[cfg(not(target_arch = "wasm32"))]
use std::io::Write;
#[cfg(not(target_arch = "wasm32"))]
use std::io::{BufReader, BufWriter};
use std::path::Path;
#[cfg(not(target_arch = "wasm32"))]
use std::path::PathBuf;
#[cfg(not(target_arch = "wasm32"))]
use std::sync::Arc;
#[cfg(not(target_arch = "wasm32"))]
use std::sync::atomic::{AtomicU64, Ordering};

#[cfg(not(target_arch = "wasm32"))]
use crate::engine::View;
use crate::error::{Error, Location, Result};

#[cfg(not(target_arch = "wasm32"))]
use super::{IoOptions, Summary, deidentify_csv, deidentify_json, deidentify_ndjson};

/// A data file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

/// Scrubs free text in a file for `view`'s principal and writes the result to `output`
/// atomically (as [`deidentify_file`] does). With `jsonl_field`, `input` is JSON Lines and
/// only that string field of each record is scrubbed (records without it pass unchanged);
/// without, the whole file is one text. A note the principal may not see at all becomes
/// `null` (JSON Lines) or an empty file.
///
/// # Errors
/// [`Error::Io`] for the files; [`Error::Input`] naming the line for malformed JSON, a
/// record that is not an object or a field that is not a string, and for a file that is not
/// UTF-8; the errors of [`View::scrub_text`]. Nothing is written on error.
#[cfg(not(target_arch = "wasm32"))]
pub fn scrub_text_file(
    view: &View,
    input: &Path,
    output: &Path,
    jsonl_field: Option<&str>,
) -> Result<()> {
    let src = input.display().to_string();
    let bytes = std::fs::read(input).map_err(|e| Error::io(&src, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::input(
            Location::line(&src, 0),
            format!(
                "not valid utf-8 (first bad byte at offset {}); nothing was written",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    let result = match jsonl_field {
        None => view.scrub_text(&text)?.unwrap_or_default(),
        Some(field) => {
            let mut result = String::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let n = i as u64 + 1;
                let mut v: serde_json::Value =
                    serde_json::from_str(line).map_err(|e| Error::malformed_json(&src, n, &e))?;
                let Some(obj) = v.as_object_mut() else {
                    return Err(Error::input(
                        Location::line(&src, n),
                        "a record must be a JSON object",
                    ));
                };
                if let Some(t) = obj.get(field) {
                    let Some(note) = t.as_str() else {
                        return Err(Error::input(
                            Location::line(&src, n).with_field(field),
                            "the field is not a string",
                        ));
                    };
                    let scrubbed = view.scrub_text(note)?;
                    obj.insert(
                        field.to_owned(),
                        scrubbed.map_or(serde_json::Value::Null, serde_json::Value::String),
                    );
                }
                result.push_str(&v.to_string());
                result.push('\n');
            }
            result
        }
    };
    write_atomically(output, |out| {
        out.write_all(result.as_bytes())
            .map_err(|e| Error::io(output.display(), e))
    })
}

/// Writes `output` through `write` into a temporary file beside it, then syncs the file and
/// renames it over `output`; when `write` fails, `output` is left untouched and the temporary
/// file removed.
///
/// # Errors
/// The error of `write`, or [`Error::Io`] for the files.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn write_atomically<T>(
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
