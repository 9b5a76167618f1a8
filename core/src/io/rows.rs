//! Applying a view to rows of a table with fixed columns, without allocating per row.
//!
//! [`RowApplier`] binds a view to a header once: which column is which catalog field, which
//! columns carry record attributes, and — when no column does — the one plan every row gets.
//! [`RowOut`] is per-thread scratch space: the treated cells of the last row, a small plan
//! cache, and per-treatment counts. The CSV reader and the in-memory row API share this code.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use crate::engine::{AttrUse, View};
use crate::error::Result;
use crate::plan::{Applied, Counted, Plan, RowCtx, Tally};
use crate::record::RecordAttrs;

/// What to do with one input column under one plan.
#[derive(Debug)]
struct ColumnOp {
    /// Plan field index; `None` for a column the catalog does not know (redacted).
    field: Option<usize>,
    /// How its values are counted.
    counted: Counted,
}

type BoundPlan = (Arc<Plan>, Arc<Vec<ColumnOp>>);

/// A view bound to the columns of one table.
///
/// # Examples
/// ```
/// use phiguard::{AccessRequest, Engine, io::{RowApplier, RowOut}};
/// let engine = Engine::builder().build().unwrap();
/// let req = AccessRequest { as_of_year: Some(2026), ..AccessRequest::new("a", ["data_analyst"], "HRESCH", "synthea-patients") };
/// let view = engine.view(&req).unwrap();
/// let rows = RowApplier::new(&view, &["ssn", "birth_date", "postal_code", "shoe_size"]).unwrap();
/// let mut out = RowOut::default();
/// let row = ["999-53-8547", "1943-03-17", "67880", "44"];
/// rows.apply(&row, &mut out).unwrap();
/// let cells: Vec<Option<&str>> = (0..4).map(|i| out.cell(&row, i)).collect();
/// assert_eq!(cells, [None, Some("1943"), Some("678"), None]);
/// ```
#[derive(Debug)]
pub struct RowApplier<'v> {
    view: &'v View,
    names: Vec<String>,
    field: Vec<Option<usize>>,
    by_name: HashMap<String, usize>,
    id: Option<usize>,
    patient: Option<usize>,
    fixed: Option<BoundPlan>,
    /// With only a patient column: (its index, the plan for rows of other patients).
    others: Option<(usize, BoundPlan)>,
}

/// Per-thread scratch: the treated cells of the last row, a plan cache and counts.
#[derive(Debug, Default)]
pub struct RowOut {
    text: String,
    cells: Vec<Cell>,
    cache: HashMap<RecordAttrs, BoundPlan, foldhash::fast::FixedState>,
    tally: Tally,
    plan: Option<Arc<Plan>>,
}

#[derive(Debug, Clone)]
enum Cell {
    Same,
    Text(Range<usize>),
    Null,
}

impl RowOut {
    /// Cell `i` of the last row applied: `None` when redacted, dropped or untreatable.
    /// `row` must be the row given to [`RowApplier::apply`].
    pub fn cell<'a>(&'a self, row: &[&'a str], i: usize) -> Option<&'a str> {
        match self.cells.get(i)? {
            Cell::Same => row.get(i).copied(),
            Cell::Text(r) => self.text.get(r.clone()),
            Cell::Null => None,
        }
    }

    /// The plan used for the last row.
    pub fn plan(&self) -> Option<&Arc<Plan>> {
        self.plan.as_ref()
    }

    /// Non-empty values per treatment name since this scratch was created.
    pub fn counts(&self) -> Tally {
        self.tally
    }
}

fn column_ops(plan: &Plan, field: &[Option<usize>]) -> Vec<ColumnOp> {
    field
        .iter()
        .map(|f| ColumnOp {
            field: *f,
            counted: f
                .and_then(|fi| plan.fields.get(fi))
                .map_or(Counted::UnknownField, |p| {
                    Counted::Treated(p.treatment.kind())
                }),
        })
        .collect()
}

impl<'v> RowApplier<'v> {
    /// Binds `view` to a table with these column names.
    ///
    /// # Errors
    /// Errors of [`View::plan`] when a single plan serves the table (no key, audit failure).
    pub fn new<S: AsRef<str>>(view: &'v View, columns: &[S]) -> Result<Self> {
        let catalog = view.catalog();
        let names: Vec<String> = columns.iter().map(|c| c.as_ref().to_owned()).collect();
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
        let bind = |p: Arc<Plan>| {
            let ops = Arc::new(column_ops(&p, &field));
            (p, ops)
        };
        let (fixed, others) = match view.attr_use_in(&by_name) {
            AttrUse::None => (Some(bind(view.plan_for_others()?)), None),
            AttrUse::OwnRecordOnly { patient_column } => {
                let i = by_name.get(&patient_column).copied().unwrap_or(usize::MAX);
                (None, Some((i, bind(view.plan_for_others()?))))
            }
            AttrUse::Full => (None, None),
        };
        Ok(RowApplier {
            view,
            id: col_of(&catalog.record.id),
            patient: col_of(&catalog.record.patient),
            names,
            field,
            by_name,
            fixed,
            others,
        })
    }

    /// Column names.
    pub fn columns(&self) -> &[String] {
        &self.names
    }

    /// Columns the catalog does not know (always redacted).
    pub fn unknown_columns(&self) -> Vec<String> {
        self.names
            .iter()
            .zip(&self.field)
            .filter(|(_, f)| f.is_none())
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Column index of the record id, if the catalog names one and the table has it.
    pub fn id_column(&self) -> Option<usize> {
        self.id
    }

    /// Treats one row (one `&str` per column) into `out`.
    ///
    /// # Errors
    /// [`crate::Error::Input`] (via the caller) is not raised here; errors come from
    /// [`View::plan`] and from treatments that need a key.
    pub fn apply(&self, row: &[&str], out: &mut RowOut) -> Result<()> {
        let user = self.view.request().user.as_str();
        let (plan, ops) = match (&self.fixed, &self.others) {
            (Some(f), _) => f.clone(),
            (None, Some((col, bound))) if row.get(*col).is_none_or(|p| *p != user) => bound.clone(),
            _ => {
                let attrs = self
                    .view
                    .record_attrs(|c| self.by_name.get(c).and_then(|&i| row.get(i).copied()));
                match out.cache.get(&attrs) {
                    Some(p) => p.clone(),
                    None => {
                        let p = self.view.plan(&attrs)?;
                        let entry = (p.clone(), Arc::new(column_ops(&p, &self.field)));
                        out.cache.insert(attrs, entry.clone());
                        entry
                    }
                }
            }
        };
        out.text.clear();
        out.cells.clear();
        let patient = self.patient.and_then(|i| row.get(i).copied());
        let terms = plan.record_terms(
            ops.iter()
                .zip(row)
                .filter_map(|(op, v)| Some((op.field?, *v))),
        );
        let ctx = RowCtx::new(self.view.key(), patient, self.view.as_of_year())
            .with_detector(self.view.custom_detector())
            .with_record(terms.as_ref());
        for (i, op) in ops.iter().enumerate() {
            let s = row.get(i).copied().unwrap_or("");
            let (cell, counted) = match op.field {
                Some(fi) => {
                    let start = out.text.len();
                    let res = plan.apply_value(fi, s, &ctx, &mut out.text)?;
                    let cell = match res {
                        Applied::Clear => Cell::Same,
                        Applied::Written => Cell::Text(start..out.text.len()),
                        Applied::Null | Applied::Drop | Applied::Untreatable => {
                            out.text.truncate(start);
                            Cell::Null
                        }
                    };
                    (
                        cell,
                        if res == Applied::Untreatable {
                            Counted::Untreatable
                        } else {
                            op.counted
                        },
                    )
                }
                None => (Cell::Null, Counted::UnknownField),
            };
            out.tally.add(counted, u64::from(!s.is_empty()));
            out.cells.push(cell);
        }
        out.plan = Some(plan);
        Ok(())
    }
}
