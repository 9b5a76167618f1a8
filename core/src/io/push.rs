//! CSV pushed in pieces (a browser's file reader, a socket) rather than pulled from a reader.

use std::sync::Arc;

use crate::engine::View;
use crate::error::{Error, Location, Result};

use super::csv::{Chunk, Splitter, header_bytes, process_batch, read_header};
use super::rows::RowApplier;
use super::{IoOptions, Summary};

/// Push-based CSV de-identification, for callers that receive input in pieces (a browser
/// reading a dropped file slice by slice). Each [`CsvPush::push`] returns the output of the
/// records completed so far (the header row first); [`CsvPush::finish`] treats the rest. The
/// output is byte for byte what [`deidentify_csv`](super::deidentify_csv) writes for the whole input.
///
/// # Examples
/// ```
/// use std::sync::Arc;
/// use phiguard::io::{CsvPush, IoOptions};
/// use phiguard::{AccessRequest, Engine};
/// let engine = Engine::builder().build().unwrap();
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
    /// As [`deidentify_csv`](super::deidentify_csv); after an error the stream must not be used further.
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
    /// As [`deidentify_csv`](super::deidentify_csv), e.g. a quote left open or no header at all.
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
