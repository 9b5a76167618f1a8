//! Newline-delimited JSON: lines read with a bound on their length, treated in parallel
//! batches, written in order.

use std::io::{BufRead, Read, Write};

use crate::engine::{Disclosures, View};
use crate::error::{Error, Location, Result};
use crate::util::par;

use super::json::JsonOutcome;
use super::{IoOptions, Summary};

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

/// De-identifies newline-delimited JSON (one object per line), in parallel batches of
/// `opts.chunk_rows` lines written in order.
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
        let treat = |(n, line): &(u64, String)| -> Result<(String, JsonOutcome)> {
            let mut v: serde_json::Value =
                serde_json::from_str(line).map_err(|e| Error::malformed_json(src, *n, &e))?;
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
