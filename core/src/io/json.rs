//! JSON records: the walk over a record's leaves by catalog path, a view applied to one
//! record or a slice of them, and whole JSON documents.

use std::io::{Read, Write};

use serde_json::Value;

use crate::engine::{Disclosures, View};
use crate::error::{Error, Location, Result};
use crate::limits::Limits;
use crate::plan::{Applied, Counted, Plan, RowCtx, Tally};
use crate::treat::TreatmentKind;

use super::{IoOptions, Summary};

/// What [`View::apply_json`] did to one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonOutcome {
    /// Plan id used.
    pub plan: String,
    /// Record id, when the catalog names one.
    pub record_id: Option<String>,
    /// Leaf values per treatment (plus unknown fields and untreatable values).
    pub counts: Tally,
}

/// Marker left where a leaf is to be dropped, removed after the walk.
const DROP_MARK: &str = "\u{0}phiguard-drop\u{0}";

fn apply_leaf(
    plan: &Plan,
    i: usize,
    v: &mut Value,
    ctx: &RowCtx<'_>,
    buf: &mut String,
) -> Result<Applied> {
    let text: std::borrow::Cow<'_, str> = match v {
        Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
        Value::Number(n) => std::borrow::Cow::Owned(n.to_string()),
        Value::Bool(b) => std::borrow::Cow::Owned(b.to_string()),
        _ => return Ok(Applied::Clear),
    };
    buf.clear();
    let res = plan.apply_value(i, &text, ctx, buf)?;
    let was_number = v.is_number();
    match res {
        Applied::Clear => {}
        Applied::Written => {
            *v = match (was_number, buf.parse::<serde_json::Number>()) {
                (true, Ok(n)) => Value::Number(n),
                _ => Value::String(buf.clone()),
            };
        }
        Applied::Null | Applied::Untreatable => *v = Value::Null,
        Applied::Drop => *v = Value::String(DROP_MARK.to_owned()),
    }
    Ok(res)
}

fn remove_dropped(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| x.as_str() != Some(DROP_MARK));
            m.values_mut().for_each(remove_dropped);
        }
        Value::Array(a) => {
            a.retain(|x| x.as_str() != Some(DROP_MARK));
            a.iter_mut().for_each(remove_dropped);
        }
        _ => {}
    }
}

fn walk(
    v: &mut Value,
    path: &mut String,
    depth: usize,
    limits: &Limits,
    f: &mut dyn FnMut(&str, &mut Value) -> Result<()>,
) -> Result<()> {
    if depth > limits.max_depth {
        return Err(Error::input(
            Location::line("", 0),
            format!(
                "nesting deeper than {} levels at `{path}`",
                limits.max_depth
            ),
        ));
    }
    if let Value::String(s) = v
        && s.len() > limits.max_field_bytes
    {
        return Err(Error::input(
            Location::line("", 0).with_field(path.as_str()),
            format!(
                "a value of {} bytes exceeds the field limit of {} bytes",
                s.len(),
                limits.max_field_bytes
            ),
        ));
    }
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                walk(x, path, depth + 1, limits, f)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Array(a) => {
            let len = path.len();
            path.push_str("[]");
            for x in a.iter_mut() {
                walk(x, path, depth + 1, limits, f)?;
            }
            path.truncate(len);
            Ok(())
        }
        Value::Null => Ok(()),
        leaf => f(path, leaf),
    }
}

/// Calls `f` with the path and text of every string leaf of `v`, `max_depth` levels deep at
/// most (the walk that treats the record reports deeper nesting).
fn string_leaves<'v>(
    v: &'v Value,
    path: &mut String,
    depth: usize,
    max_depth: usize,
    f: &mut dyn FnMut(&str, &'v str),
) {
    if depth > max_depth {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                string_leaves(x, path, depth + 1, max_depth, f);
                path.truncate(len);
            }
        }
        Value::Array(a) => {
            let len = path.len();
            path.push_str("[]");
            for x in a {
                string_leaves(x, path, depth + 1, max_depth, f);
            }
            path.truncate(len);
        }
        Value::String(s) => f(path, s),
        _ => {}
    }
}

/// The first scalar at `path` in `v`, as text (strings only).
fn first_leaf<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    if !path.contains("[]") {
        // Object keys only: one value at most, found without collecting candidates.
        return path.split('.').try_fold(v, |x, k| x.get(k))?.as_str();
    }
    let mut cur = vec![v];
    for seg in path.split('.') {
        let (key, arrays) = match seg.find("[]") {
            Some(i) => (seg.get(..i)?, seg.get(i..)?.matches("[]").count()),
            None => (seg, 0),
        };
        let mut next: Vec<&Value> = cur.iter().filter_map(|x| x.get(key)).collect();
        for _ in 0..arrays {
            next = next
                .iter()
                .flat_map(|x| x.as_array().into_iter().flatten())
                .collect();
        }
        cur = next;
    }
    cur.into_iter().find_map(Value::as_str)
}

impl View {
    /// De-identifies JSON records in place (on all cores with feature `parallel`), then audits
    /// the records released, once for the batch. Record `i` is line `i + 1` of `source` in
    /// errors.
    ///
    /// # Errors
    /// The first error of [`View::apply_json`]; [`Error::Audit`] when the audit fails.
    pub fn apply_json_records(&self, records: &mut [Value], source: &str) -> Result<()> {
        let apply = |i: usize, r: &mut Value| self.apply_json(r, source, i as u64 + 1);
        let outcomes = crate::util::par::map_mut(records, apply);
        if !self.is_audited() {
            return outcomes.into_iter().try_for_each(|o| o.map(drop));
        }
        let mut released = Disclosures::default();
        for o in outcomes {
            let o = o?;
            released.add(&o.plan, o.record_id.as_deref());
        }
        self.audit_disclosures(released)
    }

    /// De-identifies one JSON record in place; returns per-treatment counts of leaf values.
    ///
    /// Every leaf whose path is not in the catalog is redacted (deny by default). Paths are
    /// object keys joined by `.`, with `[]` after an array (`name[].given[]`).
    ///
    /// # Errors
    /// [`Error::Input`] for nesting deeper than [`Limits::max_depth`](crate::Limits::max_depth) or a non-object record,
    /// [`Error::Key`] when a key is needed and missing, [`Error::Audit`] for audit failures.
    ///
    /// # Examples
    /// ```
    /// use phiguard::{AccessRequest, Engine};
    /// let engine = Engine::builder().build().unwrap();
    /// let mut req = AccessRequest::new("u1", ["data_analyst"], "HRESCH", "fhir-patient");
    /// req.as_of_year = Some(2026);
    /// let view = engine.view(&req).unwrap();
    /// let mut rec = serde_json::json!({"resourceType": "Patient", "birthDate": "1931-05-02",
    ///     "name": [{"family": "Goldner995", "given": ["Andrew29"]}],
    ///     "address": [{"postalCode": "82301", "state": "KS"}]});
    /// view.apply_json(&mut rec, "<doc>", 1).unwrap();
    /// assert_eq!(rec["birthDate"], "90+");
    /// assert_eq!(rec["name"][0]["family"], serde_json::Value::Null);
    /// assert_eq!(rec["address"][0]["postalCode"], "000");
    /// ```
    pub fn apply_json(&self, record: &mut Value, source: &str, line: u64) -> Result<JsonOutcome> {
        let Value::Object(_) = record else {
            return Err(Error::input(
                Location::line(source, line),
                "a record must be a JSON object",
            ));
        };
        let get_str = |path: &str| first_leaf(record, path);
        let attrs = self.record_attrs(|p| get_str(p));
        let patient = self
            .catalog()
            .record
            .patient
            .as_deref()
            .and_then(|p| first_leaf(record, p))
            .map(str::to_owned);
        let record_id = self
            .catalog()
            .record
            .id
            .as_deref()
            .and_then(|p| first_leaf(record, p))
            .map(str::to_owned);
        let plan = self.plan(&attrs)?;
        let limits = self.limits();
        let terms = plan
            .scrubs()
            .then(|| {
                let mut values = Vec::new();
                string_leaves(
                    record,
                    &mut String::new(),
                    0,
                    limits.max_depth,
                    &mut |p, s| {
                        if let Some(i) = self.field_position(p) {
                            values.push((i, s));
                        }
                    },
                );
                plan.record_terms(values)
            })
            .flatten();
        let ctx = RowCtx::new(self.key(), patient.as_deref(), self.as_of_year())
            .with_detector(self.custom_detector())
            .with_record(terms.as_ref());
        let mut outcome = JsonOutcome {
            plan: plan.id.clone(),
            record_id,
            counts: Tally::default(),
        };
        let mut path = String::new();
        let mut buf = String::new();
        walk(record, &mut path, 0, &limits, &mut |p, v| {
            let counted = match self.field_position(p) {
                Some(i) => {
                    let kind = plan
                        .fields
                        .get(i)
                        .map_or(TreatmentKind::Redact, |f| f.treatment.kind());
                    let res = apply_leaf(&plan, i, v, &ctx, &mut buf)?;
                    if res == Applied::Untreatable {
                        Counted::Untreatable
                    } else {
                        Counted::Treated(kind)
                    }
                }
                None => {
                    *v = Value::Null;
                    Counted::UnknownField
                }
            };
            outcome.counts.add(counted, 1);
            Ok(())
        })
        .map_err(|e| match e {
            Error::Input { message, .. } => Error::input(Location::line(source, line), message),
            other => other,
        })?;
        remove_dropped(record);
        Ok(outcome)
    }
}

/// De-identifies a JSON document: an array of records, or one record.
///
/// # Errors
/// As [`deidentify_ndjson`](super::deidentify_ndjson); the whole document is held in memory.
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
    let mut doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::malformed_json(src, 1, &e))?;
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
