//! Applying a compiled plan to values: no Cedar call, no allocation per value beyond the
//! caller's buffer.

use std::cell::Cell;

use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::text::{RecordTerms, record_category};
use crate::treat::{self, ScrubParams};

use super::{Plan, Treatment};

impl Plan {
    /// Whether any field is scrubbed free text.
    pub(crate) fn scrubs(&self) -> bool {
        self.fields
            .iter()
            .any(|f| matches!(f.treatment, Treatment::Scrub(_)))
    }

    /// The record's identifying values for its scrubbed text, from `(field index, value)`
    /// pairs of one record: `None` when no field is scrubbed, so records without notes pay
    /// nothing.
    pub(crate) fn record_terms<'v>(
        &self,
        values: impl IntoIterator<Item = (usize, &'v str)>,
    ) -> Option<RecordTerms> {
        if !self.scrubs() {
            return None;
        }
        Some(RecordTerms::new(values.into_iter().filter_map(|(i, v)| {
            let f = self.fields.get(i)?;
            Some((record_category(&f.category)?, v))
        })))
    }

    /// Applies field `i`'s treatment to `value`, appending to `out` when the result is new text.
    ///
    /// # Errors
    /// [`Error::Key`] when the treatment needs a key and `ctx` has none.
    pub(crate) fn apply_value(
        &self,
        i: usize,
        value: &str,
        ctx: &RowCtx<'_>,
        out: &mut String,
    ) -> Result<Applied> {
        let Some(f) = self.fields.get(i) else {
            return Ok(Applied::Null);
        };
        match &f.treatment {
            Treatment::Scrub(p) if !value.is_empty() => self.scrub(value, p, ctx, out),
            t => apply_treatment(t, &f.field, value, ctx, out),
        }
    }

    /// Free text with each detected span replaced as [`Plan::spans`] says: kept, masked,
    /// pseudonymized (`[name-3fa8...]`), generalized or shifted where the span's category
    /// allows, else a label such as `[NAME]`.
    fn scrub(
        &self,
        value: &str,
        p: &ScrubParams,
        ctx: &RowCtx<'_>,
        out: &mut String,
    ) -> Result<Applied> {
        let detector = match ctx.detector {
            Some(d) => d,
            None => crate::text::builtin()?,
        };
        let mut last = 0;
        let mut piece = String::new();
        for span in detector.detect_in(value, ctx.record) {
            if span.confidence < p.min_confidence {
                continue;
            }
            out.push_str(value.get(last..span.start).unwrap_or(""));
            let original = value.get(span.start..span.end).unwrap_or("");
            let label = |out: &mut String| {
                out.push('[');
                out.push_str(&span.category.to_uppercase());
                out.push(']');
            };
            match self.spans.get(span.category.as_ref()).map(|f| &f.treatment) {
                Some(Treatment::Clear) => out.push_str(original),
                Some(Treatment::Redact(r)) => match r.placeholder_text() {
                    Some(ph) => out.push_str(&ph),
                    None => label(out),
                },
                Some(t @ Treatment::Pseudonymize { .. }) => {
                    piece.clear();
                    apply_treatment(t, &span.category, original, ctx, &mut piece)?;
                    out.push('[');
                    out.push_str(&piece);
                    out.push(']');
                }
                Some(t) => {
                    piece.clear();
                    match apply_treatment(t, &span.category, original, ctx, &mut piece)? {
                        Applied::Written => out.push_str(&piece),
                        Applied::Clear => out.push_str(original),
                        _ => label(out),
                    }
                }
                None => label(out),
            }
            last = span.end;
        }
        out.push_str(value.get(last..).unwrap_or(""));
        Ok(Applied::Written)
    }
}

/// Outcome of applying a treatment to one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applied {
    /// Write the input value unchanged.
    Clear,
    /// Write the text now in `out`.
    Written,
    /// Write null (empty in CSV).
    Null,
    /// Remove the field.
    Drop,
    /// The value could not be treated as the plan says (not a date, no patient id): it is
    /// redacted, and counted so the caller can report it.
    Untreatable,
}

/// Per-row context: keys, the patient id for date shifts, the reference year for ages.
#[derive(Debug)]
pub(crate) struct RowCtx<'a> {
    key: Option<&'a KeyRing>,
    /// The pack's detector when it has custom detectors (else the built-in one is used).
    detector: Option<&'a crate::text::Detector>,
    /// The record's own identifying values, found in its scrubbed text.
    record: Option<&'a RecordTerms>,
    patient: Option<&'a str>,
    as_of_year: i64,
    offset: Cell<Option<(u32, i64)>>,
}

impl<'a> RowCtx<'a> {
    /// A context for one row.
    pub(crate) fn new(key: Option<&'a KeyRing>, patient: Option<&'a str>, as_of_year: i64) -> Self {
        RowCtx {
            key,
            detector: None,
            record: None,
            patient: patient.filter(|p| !p.is_empty()),
            as_of_year,
            offset: Cell::new(None),
        }
    }

    /// The same context scrubbing text with `detector` (a pack's custom detectors).
    #[must_use]
    pub(crate) fn with_detector(mut self, detector: Option<&'a crate::text::Detector>) -> Self {
        self.detector = detector;
        self
    }

    /// The same context scrubbing text of a record that holds `record`'s values.
    #[must_use]
    pub(crate) fn with_record(mut self, record: Option<&'a RecordTerms>) -> Self {
        self.record = record.filter(|r| !r.is_empty());
        self
    }

    fn key(&self, field: &str, what: &str) -> Result<&'a KeyRing> {
        self.key.ok_or_else(|| {
            Error::key(format!(
                "treatment `{what}` of field `{field}` needs a key (pass a key file)"
            ))
        })
    }

    fn offset(&self, key: &KeyRing, max_days: u32) -> Option<i64> {
        if let Some((m, o)) = self.offset.get()
            && m == max_days
        {
            return Some(o);
        }
        let o = treat::date_offset(key.date_shift_mac(), self.patient?, max_days);
        self.offset.set(Some((max_days, o)));
        Some(o)
    }
}

/// Appends the treated value to `out` (never touching what `out` already holds).
pub(crate) fn apply_treatment(
    t: &Treatment,
    field: &str,
    value: &str,
    ctx: &RowCtx<'_>,
    out: &mut String,
) -> Result<Applied> {
    if value.is_empty() {
        // Nothing to protect; keeps empties distinguishable from redactions... except drop.
        return Ok(match t {
            Treatment::Redact(r) if r.drop => Applied::Drop,
            _ => Applied::Clear,
        });
    }
    let start = out.len();
    Ok(match t {
        Treatment::Clear => Applied::Clear,
        Treatment::Mask(p) => {
            treat::mask(value, p, out);
            Applied::Written
        }
        Treatment::Pseudonymize { params } => {
            let key = ctx.key(field, "pseudonymize")?;
            let domain = params.domain.as_deref().unwrap_or("");
            treat::pseudonymize(value, key.pseudonym_mac(), domain, params, out);
            Applied::Written
        }
        Treatment::Shift(p) => {
            let key = ctx.key(field, "shift")?;
            match ctx.offset(key, p.max_days) {
                Some(o) if treat::shift_date(value, o, out) => Applied::Written,
                _ => {
                    out.truncate(start);
                    Applied::Untreatable
                }
            }
        }
        Treatment::Generalize(p) => {
            if treat::generalize(value, p, ctx.as_of_year, out) {
                Applied::Written
            } else {
                out.truncate(start);
                Applied::Untreatable
            }
        }
        Treatment::Redact(r) => match (r.placeholder_text(), r.drop) {
            (_, true) => Applied::Drop,
            (Some(ph), false) => {
                out.push_str(&ph);
                Applied::Written
            }
            (None, false) => Applied::Null,
        },
        // Scrubbing needs the plan's span treatments (`Plan::apply_value`); reaching here
        // means a caller bypassed it, so nothing is released.
        Treatment::Scrub(_) => Applied::Null,
    })
}
