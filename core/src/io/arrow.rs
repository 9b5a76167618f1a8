//! The columnar fast path over Arrow record batches (feature `arrow`).
//!
//! Column by column, not row by row: a column in clear is passed through without a copy, a
//! redacted one becomes a null array, and only treated columns are rebuilt, value by value,
//! into new string arrays. Null stays null. Large batches are sliced and treated on all cores.
//! This is what the Python binding hands pandas, polars and pyarrow tables to.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch, new_null_array};
use arrow_schema::{DataType, Field, Schema};

use crate::engine::{AttrUse, Disclosures, View};
use crate::error::{Error, Location, Result};
use crate::io::Summary;
use crate::plan::{Applied, Counted, Plan, RowCtx, Tally, Treatment};
use crate::record::RecordAttrs;
use crate::treat::TreatmentKind;

/// Rows per slice when a batch is split across cores.
pub const SLICE_ROWS: usize = 65_536;

/// Reads cell `row` of `array` as text into `scratch`; `None` for null. Errors for types that
/// have no faithful text form here.
fn cell_text<'a>(
    array: &'a dyn Array,
    row: usize,
    scratch: &'a mut String,
    column: &str,
) -> Result<Option<&'a str>> {
    use std::fmt::Write;
    if array.is_null(row) {
        return Ok(None);
    }
    scratch.clear();
    macro_rules! prim {
        ($t:ty) => {{
            let _ = write!(scratch, "{}", array.as_primitive::<$t>().value(row));
        }};
    }
    match array.data_type() {
        DataType::Utf8 => return Ok(Some(array.as_string::<i32>().value(row))),
        DataType::LargeUtf8 => return Ok(Some(array.as_string::<i64>().value(row))),
        DataType::Utf8View => return Ok(Some(array.as_string_view().value(row))),
        DataType::Int8 => prim!(Int8Type),
        DataType::Int16 => prim!(Int16Type),
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt8 => prim!(UInt8Type),
        DataType::UInt16 => prim!(UInt16Type),
        DataType::UInt32 => prim!(UInt32Type),
        DataType::UInt64 => prim!(UInt64Type),
        DataType::Float32 => prim!(Float32Type),
        DataType::Float64 => prim!(Float64Type),
        DataType::Boolean => {
            let _ = write!(scratch, "{}", array.as_boolean().value(row));
        }
        DataType::Date32 => {
            let days = array
                .as_primitive::<arrow_array::types::Date32Type>()
                .value(row);
            let (y, m, d) = crate::util::calendar::civil_from_days(i64::from(days));
            let _ = write!(scratch, "{y:04}-{m:02}-{d:02}");
        }
        other => {
            return Err(Error::input(
                Location::line("<batch>", 0).with_field(column),
                format!("a column of type {other} can only be kept in clear or redacted"),
            ));
        }
    }
    Ok(Some(scratch.as_str()))
}

struct Bound {
    /// Plan field index per column.
    field: Vec<Option<usize>>,
    names: Vec<String>,
    patient: Option<usize>,
}

impl Bound {
    /// Column name -> position.
    fn by_name(&self) -> HashMap<String, usize> {
        self.names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect()
    }
}

fn bind(view: &View, schema: &Schema) -> Bound {
    let catalog = view.catalog();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let field = names
        .iter()
        .map(|n| catalog.fields.iter().position(|f| &f.name == n))
        .collect();
    let patient = catalog
        .record
        .patient
        .as_ref()
        .and_then(|p| names.iter().position(|n| n == p));
    Bound {
        field,
        names,
        patient,
    }
}

/// Like [`View::attr_use_in`], except that a patient column only matters when the user's own
/// record is treated differently from others' (the principal is a patient).
fn effective_attr_use(view: &View, columns: &HashMap<String, usize>) -> Result<AttrUse> {
    match view.attr_use_in(columns) {
        AttrUse::OwnRecordOnly { .. } => {
            let others = view.plan_for_others()?;
            let own = view.plan(&RecordAttrs {
                confidentiality: "N".into(),
                own_record: true,
                ..RecordAttrs::default()
            })?;
            let same = others
                .fields
                .iter()
                .zip(&own.fields)
                .all(|(a, b)| a.treatment == b.treatment)
                && others.spans.len() == own.spans.len()
                && others
                    .spans
                    .iter()
                    .zip(&own.spans)
                    .all(|((ka, a), (kb, b))| ka == kb && a.treatment == b.treatment);
            Ok(if same { AttrUse::None } else { AttrUse::Full })
        }
        other => Ok(other),
    }
}

/// The schema [`deidentify_batch`] gives batches of `input` under `view`: the same for every
/// batch, so it can be declared up front (Spark's `mapInArrow`, a Parquet writer).
///
/// When one plan serves every row, a column in clear and a redacted column keep their type
/// (redacted ones become nullable); every other catalog column becomes `Utf8`. When rows carry
/// attributes that change their plan, every catalog column becomes `Utf8`. Columns not in the
/// catalog keep their type, nullable (they are all null).
///
/// # Errors
/// The errors of [`View::plan`].
pub fn output_schema(view: &View, input: &Schema) -> Result<Schema> {
    let bound = bind(view, input);
    let by_name = bound.by_name();
    let uniform = effective_attr_use(view, &by_name)? == AttrUse::None;
    let plan = view.plan_for_others()?;
    let fields: Vec<Field> = input
        .fields()
        .iter()
        .zip(&bound.field)
        .map(|(f, fi)| {
            let treatment = fi.and_then(|i| plan.fields.get(i)).map(|p| &p.treatment);
            match treatment {
                None => f.as_ref().clone().with_nullable(true),
                Some(Treatment::Clear) if uniform => f.as_ref().clone(),
                Some(Treatment::Redact(r)) if uniform && r.placeholder_text().is_none() => {
                    f.as_ref().clone().with_nullable(true)
                }
                Some(_) => Field::new(f.name(), DataType::Utf8, true),
            }
        })
        .collect();
    Ok(Schema::new_with_metadata(fields, input.metadata().clone()))
}

/// De-identifies one record batch; returns the treated batch and what was done.
///
/// Columns keep their position and name. A column in clear keeps its type and buffers; a
/// redacted column keeps its type, all null; any other treatment yields a `Utf8` column.
///
/// # Errors
/// [`Error::Input`] for a column type that cannot be treated as planned (never released in
/// clear instead), plus the errors of [`View::plan`] and of keyed treatments.
pub fn deidentify_batch(view: &View, batch: &RecordBatch) -> Result<(RecordBatch, Summary)> {
    let schema = batch.schema();
    let bound = bind(view, &schema);
    let rows = batch.num_rows();
    let by_name = bound.by_name();
    let mut summary = Summary {
        rows: rows as u64,
        unknown_columns: bound
            .names
            .iter()
            .zip(&bound.field)
            .filter(|(_, f)| f.is_none())
            .map(|(n, _)| n.clone())
            .collect(),
        ..Summary::default()
    };
    // One plan per row when rows carry attributes that change it; usually one plan for all.
    let attr_use = effective_attr_use(view, &by_name)?;
    let plans: Vec<Arc<Plan>> = if attr_use == AttrUse::Full {
        let r = &view.catalog().record;
        let attr_cols: Vec<(&str, usize)> = [
            &r.labels,
            &r.confidentiality,
            &r.care_team,
            &r.consent,
            &r.patient,
        ]
        .into_iter()
        .flatten()
        .filter_map(|c| by_name.get(c).map(|&i| (c.as_str(), i)))
        .collect();
        let mut cache: HashMap<RecordAttrs, Arc<Plan>> = HashMap::new();
        let mut values: Vec<String> = vec![String::new(); attr_cols.len()];
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            for ((name, i), v) in attr_cols.iter().zip(values.iter_mut()) {
                let mut tmp = String::new();
                *v = cell_text(batch.column(*i).as_ref(), row, &mut tmp, name)?
                    .unwrap_or("")
                    .to_owned();
            }
            let attrs = view.record_attrs(|c| {
                attr_cols
                    .iter()
                    .position(|(n, _)| *n == c)
                    .and_then(|k| values.get(k))
                    .map(String::as_str)
            });
            let plan = match cache.get(&attrs) {
                Some(p) => p.clone(),
                None => {
                    let p = view.plan(&attrs)?;
                    cache.insert(attrs, p.clone());
                    p
                }
            };
            out.push(plan);
        }
        out
    } else {
        vec![view.plan_for_others()?]
    };
    let plan_of = |r: usize| plans.get(r).or_else(|| plans.first());
    // Decided by the columns, not the rows, so every batch of a table gets the same schema.
    let uniform = attr_use == AttrUse::None;

    let mut columns: Vec<ArrayRef> = Vec::with_capacity(bound.names.len());
    let mut fields: Vec<Field> = Vec::with_capacity(bound.names.len());
    let patient_col = bound.patient.map(|i| batch.column(i).clone());
    // Columns whose values a scrubbed note of the same row is searched for.
    let term_cols: Vec<(usize, usize)> = match plans.first() {
        Some(p) if p.scrubs() => bound
            .field
            .iter()
            .enumerate()
            .filter_map(|(c, f)| {
                let fi = (*f)?;
                crate::text::record_category(&p.fields.get(fi)?.category).map(|_| (c, fi))
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut counts = Tally::default();
    for (i, col) in batch.columns().iter().enumerate() {
        let name = bound.names.get(i).cloned().unwrap_or_default();
        let in_field = schema.field(i);
        let non_null = (rows - col.null_count()) as u64;
        let Some(fi) = bound.field.get(i).copied().flatten() else {
            counts.add(Counted::UnknownField, non_null);
            columns.push(new_null_array(col.data_type(), rows));
            fields.push(in_field.as_ref().clone().with_nullable(true));
            continue;
        };
        let treatment = plans
            .first()
            .and_then(|p| p.fields.get(fi))
            .map(|f| &f.treatment);
        if uniform {
            match treatment {
                Some(Treatment::Clear) => {
                    counts.add(Counted::Treated(TreatmentKind::Clear), non_null);
                    columns.push(col.clone());
                    fields.push(in_field.as_ref().clone());
                    continue;
                }
                Some(t @ Treatment::Redact(r)) if r.placeholder_text().is_none() => {
                    counts.add(Counted::Treated(t.kind()), non_null);
                    columns.push(new_null_array(col.data_type(), rows));
                    fields.push(in_field.as_ref().clone().with_nullable(true));
                    continue;
                }
                _ => {}
            }
        }
        // Rebuild the column value by value. Strings are read straight from the array; the
        // patient id is read only when a date shift needs it.
        let mut builder = StringBuilder::with_capacity(rows, rows * 16);
        let mut text = String::new();
        let mut out = String::with_capacity(64);
        let mut pid = String::new();
        let needs_patient = !uniform || matches!(treatment, Some(Treatment::Shift(_)));
        let strings = col.as_string_opt::<i32>();
        let (mut treated, mut untreatable) = (0u64, 0u64);
        let kind = treatment.map_or(TreatmentKind::Redact, Treatment::kind);
        for r in 0..rows {
            let Some(plan) = plan_of(r) else { continue };
            let patient = match (&patient_col, needs_patient) {
                (Some(pc), true) => cell_text(pc.as_ref(), r, &mut pid, "patient")?,
                _ => None,
            };
            let terms = match plan.fields.get(fi) {
                Some(f) if matches!(f.treatment, Treatment::Scrub(_)) => {
                    let mut values = Vec::with_capacity(term_cols.len());
                    for &(c, tfi) in &term_cols {
                        let mut tmp = String::new();
                        if let Some(v) = cell_text(batch.column(c).as_ref(), r, &mut tmp, "")? {
                            values.push((tfi, v.to_owned()));
                        }
                    }
                    plan.record_terms(values.iter().map(|(i, v)| (*i, v.as_str())))
                }
                _ => None,
            };
            let ctx = RowCtx::new(view.key(), patient, view.as_of_year())
                .with_detector(view.custom_detector())
                .with_record(terms.as_ref());
            let value = match strings {
                Some(a) if a.is_null(r) => None,
                Some(a) => Some(a.value(r)),
                None => cell_text(col.as_ref(), r, &mut text, &name)?,
            };
            let Some(value) = value else {
                builder.append_null();
                continue;
            };
            out.clear();
            let res = plan.apply_value(fi, value, &ctx, &mut out)?;
            if !value.is_empty() {
                if uniform {
                    if res == Applied::Untreatable {
                        untreatable += 1;
                    } else {
                        treated += 1;
                    }
                } else {
                    counts.add(
                        match res {
                            Applied::Untreatable => Counted::Untreatable,
                            _ => Counted::Treated(
                                plan.fields
                                    .get(fi)
                                    .map_or(TreatmentKind::Redact, |f| f.treatment.kind()),
                            ),
                        },
                        1,
                    );
                }
            }
            match res {
                Applied::Clear => builder.append_value(value),
                Applied::Written => builder.append_value(&out),
                Applied::Null | Applied::Drop | Applied::Untreatable => builder.append_null(),
            }
        }
        counts.add(Counted::Treated(kind), treated);
        counts.add(Counted::Untreatable, untreatable);
        columns.push(Arc::new(builder.finish()));
        fields.push(Field::new(name, DataType::Utf8, true));
    }
    summary.treatments = counts;
    summary.plans = view.plans_compiled();
    let out_schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let out_batch = RecordBatch::try_new(out_schema, columns).map_err(|e| {
        Error::input(
            Location::line("<batch>", 0),
            format!("cannot assemble the output batch: {e}"),
        )
    })?;
    if view.is_audited() {
        // The audit names the records released by their original ids, read from the input.
        let id_col = view
            .catalog()
            .record
            .id
            .as_ref()
            .and_then(|c| by_name.get(c))
            .map(|&i| batch.column(i).clone());
        let mut released = Disclosures::default();
        let mut scratch = String::new();
        for row in 0..rows {
            let Some(plan) = plan_of(row) else { continue };
            let id = match &id_col {
                Some(c) => cell_text(c.as_ref(), row, &mut scratch, "id")?,
                None => None,
            };
            released.add(&plan.id, id);
        }
        view.audit_disclosures(released)?;
    }
    Ok((out_batch, summary))
}

/// De-identifies batches on all cores, slicing large ones into [`SLICE_ROWS`] rows; the output
/// batches are in input order.
///
/// # Errors
/// The first error of [`deidentify_batch`] on any slice.
pub fn deidentify_batches(
    view: &View,
    batches: &[RecordBatch],
) -> Result<(Vec<RecordBatch>, Summary)> {
    let slices: Vec<RecordBatch> = batches
        .iter()
        .flat_map(|b| {
            let n = b.num_rows();
            (0..n.div_ceil(SLICE_ROWS).max(1))
                .map(move |k| b.slice(k * SLICE_ROWS, SLICE_ROWS.min(n - (k * SLICE_ROWS).min(n))))
        })
        .collect();
    let done = crate::util::par::map(&slices, |b| deidentify_batch(view, b));
    let mut total = Summary::default();
    let mut out = Vec::with_capacity(done.len());
    for d in done {
        let (b, s) = d?;
        total.rows += s.rows;
        total.treatments.merge(&s.treatments);
        if total.unknown_columns.is_empty() {
            total.unknown_columns = s.unknown_columns;
        }
        out.push(b);
    }
    total.plans = view.plans_compiled();
    Ok((out, total))
}
