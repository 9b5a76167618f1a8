//! `View`: one principal's access (`phiguard::View`) applied to dicts, JSON, files, pandas,
//! Arrow and Spark batches, with its audit log.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use arrow_pyarrow::{FromPyArrow, IntoPyArrow, Table, ToPyArrow};
use arrow_schema::Schema;
use phiguard::audit::{AuditSink, ChainedLog};
use phiguard::io::{Format, IoOptions, Summary};
use phiguard::{AccessRequest, KeyRing, RecordAttrs};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString, PyTuple};
use serde_json::Value;

use crate::convert::{record_keys, summary_dict, to_json, to_py_value};
use crate::engine::Engine;
use crate::errors::{guarded, input_err, request_err, to_py};
use crate::key::Key;

/// One value or several, for one key of a note's record (`scrub_text(record=...)`).
#[derive(FromPyObject)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn values(&self) -> &[String] {
        match self {
            OneOrMany::One(v) => std::slice::from_ref(v),
            OneOrMany::Many(v) => v,
        }
    }
}

pub(crate) type AuditLog = ChainedLog<BufWriter<File>>;

/// One principal's compiled access to one or more catalogs. Plans are compiled once per set
/// of record attributes and cached; applying them makes no policy call.
///
/// >>> import phiguard
/// >>> view = phiguard.Engine().view(role="billing_analyst", purpose="HPAYMT",
/// ...                               catalog="synthea-patients")
/// >>> view.apply({"ssn": "999-53-8547", "gender": "female"})["ssn"]
/// '***-**-8547'
#[pyclass(module = "phiguard._native", frozen)]
pub(crate) struct View {
    engine: phiguard::Engine,
    /// `catalog` is empty when it is chosen from the data.
    request: AccessRequest,
    fixed_catalog: bool,
    key: Option<Py<Key>>,
    ring: Option<KeyRing>,
    audit: Option<(PathBuf, Arc<AuditLog>)>,
    views: Mutex<HashMap<String, Arc<phiguard::View>>>,
}

impl View {
    pub(crate) fn new(
        engine: phiguard::Engine,
        request: AccessRequest,
        fixed_catalog: bool,
        key: Option<Py<Key>>,
        audit: Option<PathBuf>,
    ) -> PyResult<View> {
        let ring = key.as_ref().map(|k| k.get().ring.clone());
        let audit = match (audit, &ring) {
            (Some(path), Some(ring)) => {
                let log = ChainedLog::open(&path, ring).map_err(to_py)?;
                Some((path, Arc::new(log)))
            }
            (Some(_), None) => {
                return Err(to_py(phiguard::Error::key(
                    "the audit log is chained with the key: pass `key`",
                )));
            }
            (None, _) => None,
        };
        let view = View {
            engine,
            request,
            fixed_catalog,
            key,
            ring,
            audit,
            views: Mutex::new(HashMap::new()),
        };
        // Check roles, purpose and break-glass reason now, not at first use.
        let first = if view.fixed_catalog {
            view.request.catalog.clone()
        } else {
            view.engine
                .pack()
                .catalogs()
                .first()
                .map(|c| c.name.clone())
                .ok_or_else(|| request_err("the pack has no catalog"))?
        };
        view.core(&first)?;
        Ok(view)
    }

    /// The core view for `catalog`, built once.
    fn core(&self, catalog: &str) -> PyResult<Arc<phiguard::View>> {
        let mut views = self
            .views
            .lock()
            .map_err(|_| request_err("view cache poisoned"))?;
        if let Some(v) = views.get(catalog) {
            return Ok(v.clone());
        }
        let request = AccessRequest {
            catalog: catalog.to_owned(),
            ..self.request.clone()
        };
        let mut v = self.engine.view(&request).map_err(to_py)?;
        if let Some(ring) = &self.ring {
            v = v.with_key(ring.clone());
        }
        if let Some((_, log)) = &self.audit {
            v = v.with_audit(log.clone() as Arc<dyn AuditSink>);
        }
        let v = Arc::new(v);
        views.insert(catalog.to_owned(), v.clone());
        Ok(v)
    }

    /// The core view for data with these columns.
    fn core_for(&self, columns: &[&str]) -> PyResult<Arc<phiguard::View>> {
        if self.fixed_catalog {
            return self.core(&self.request.catalog);
        }
        let name = self
            .engine
            .match_catalog(columns)
            .map_err(to_py)?
            .name
            .clone();
        self.core(&name)
    }

    fn core_for_text(&self) -> PyResult<Arc<phiguard::View>> {
        if self.fixed_catalog {
            return self.core(&self.request.catalog);
        }
        let name = self
            .engine
            .pack()
            .catalogs()
            .iter()
            .find(|c| c.fields.iter().any(|f| f.params.scrub.is_some()))
            .map(|c| c.name.clone())
            .ok_or_else(|| request_err("no catalog of the pack has a free-text field"))?;
        self.core(&name)
    }

    /// The view of the pack's `fhir` catalog, unless the view's catalog was given.
    fn core_for_fhir(&self) -> PyResult<Arc<phiguard::View>> {
        if self.fixed_catalog {
            return self.core(&self.request.catalog);
        }
        self.core("fhir")
    }

    fn flush_audit(&self) -> PyResult<()> {
        if let Some((_, log)) = &self.audit {
            log.flush().map_err(to_py)?;
        }
        Ok(())
    }
}

#[pymethods]
impl View {
    /// De-identifies one record (a dict) and returns the treated copy. Keys the catalog does
    /// not know are redacted (None); nested records follow the catalog's JSON paths.
    fn apply<'py>(
        &self,
        py: Python<'py>,
        record: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(|| {
            let mut value = to_json(record, &mut String::new(), 0)?;
            let view = self.core_for(&record_keys(&value))?;
            py.detach(|| {
                view.apply_json_records(std::slice::from_mut(&mut value), "<record>")
                    .map_err(to_py)
            })?;
            self.flush_audit()?;
            to_py_value(py, &value)
        })
    }

    /// De-identifies FHIR R4: a resource or a Bundle (a dict, returned as a dict), an iterable
    /// of them, or a file path (``.json``: a resource or a Bundle, returned as a dict;
    /// ``.ndjson``: one resource a line, returned as a list). Lists and NDJSON are one run:
    /// ids, references and date shifts agree across them, as they do across the files of one
    /// ``phiguard fhir`` run. Errors in a file name its line, never its path (Synthea names
    /// files after patients). Uses the pack's ``fhir`` catalog unless
    /// the view's catalog was given. Resources withheld (an unknown ``modifierExtension``)
    /// or not visible to the principal come back as None. ``on_error="withhold"`` withholds
    /// a resource that cannot be treated (a Bundle entry, a list item) instead of raising.
    #[pyo3(signature = (doc, *, on_error="stop"))]
    fn deidentify_fhir<'py>(
        &self,
        py: Python<'py>,
        doc: &Bound<'py, PyAny>,
        on_error: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(|| {
            let is_obj = doc.cast::<PyDict>().is_ok();
            let path = if is_obj {
                None
            } else {
                doc.extract::<std::path::PathBuf>().ok()
            };
            let (many, mut docs) = match path {
                Some(p) => read_fhir_file(&p)?,
                None if is_obj => (false, vec![to_json(doc, &mut String::new(), 0)?]),
                None => (
                    true,
                    doc.try_iter()?
                        .enumerate()
                        .map(|(i, d)| to_json(&d?, &mut format!("[{i}]"), 0))
                        .collect::<PyResult<_>>()?,
                ),
            };
            let on_error = fhir_on_error(on_error)?;
            let view = self.core_for_fhir()?;
            py.detach(|| {
                phiguard::fhir::Fhir::new(&view)?
                    .on_error(on_error)
                    .apply_all(&mut docs, "<fhir>")
            })
            .map_err(to_py)?;
            if many {
                let out = PyList::empty(py);
                for d in &docs {
                    out.append(to_py_value(py, d)?)?;
                }
                Ok(out.into_any())
            } else {
                to_py_value(py, docs.first().unwrap_or(&Value::Null))
            }
        })
    }

    /// :meth:`deidentify_fhir` on JSON text (a resource or a Bundle), returning compact JSON
    /// text: the same bytes in every runtime (Rust, Python, WASM) for the same pack, key and
    /// input.
    #[pyo3(signature = (text, *, on_error="stop"))]
    fn deidentify_fhir_json(&self, py: Python<'_>, text: &str, on_error: &str) -> PyResult<String> {
        guarded(|| {
            let mut value: Value = serde_json::from_str(text)
                .map_err(|e| to_py(phiguard::Error::malformed_json("<fhir>", 1, &e)))?;
            let on_error = fhir_on_error(on_error)?;
            let view = self.core_for_fhir()?;
            py.detach(|| -> phiguard::Result<()> {
                phiguard::fhir::Fhir::new(&view)?
                    .on_error(on_error)
                    .apply(&mut value, "<fhir>")
            })
            .map_err(to_py)?;
            serde_json::to_string(&value).map_err(|e| input_err("<fhir>", e.to_string()))
        })
    }

    /// De-identifies many records (an iterable of dicts) on all cores; returns a list in the
    /// same order. The catalog is chosen from the first record's keys when not fixed.
    fn apply_many<'py>(
        &self,
        py: Python<'py>,
        records: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        guarded(|| {
            let mut values = Vec::new();
            for (i, r) in records.try_iter()?.enumerate() {
                let mut path = format!("[{i}]");
                values.push(to_json(&r?, &mut path, 0)?);
            }
            let out = PyList::empty(py);
            let Some(first) = values.first() else {
                return Ok(out);
            };
            let view = self.core_for(&record_keys(first))?;
            py.detach(|| {
                view.apply_json_records(&mut values, "<records>")
                    .map_err(to_py)
            })?;
            self.flush_audit()?;
            for v in &values {
                out.append(to_py_value(py, v)?)?;
            }
            Ok(out)
        })
    }

    /// De-identifies one record given as JSON text and returns compact JSON text: the same
    /// bytes in every runtime (Rust, Python, WASM) for the same policy, key and input.
    fn apply_json(&self, py: Python<'_>, text: &str) -> PyResult<String> {
        guarded(|| {
            let mut value: Value = serde_json::from_str(text)
                .map_err(|e| to_py(phiguard::Error::malformed_json("<json>", 1, &e)))?;
            let view = self.core_for(&record_keys(&value))?;
            py.detach(|| {
                view.apply_json_records(std::slice::from_mut(&mut value), "<json>")
                    .map_err(to_py)
            })?;
            self.flush_audit()?;
            serde_json::to_string(&value).map_err(|e| input_err("<json>", e.to_string()))
        })
    }

    /// Treats free text as the catalog's note field is treated: every detected identifier
    /// gets the treatment this principal's policies give its category. None when notes are
    /// redacted for this principal.
    ///
    /// ``record`` (optional) maps catalog fields or categories to the identifying values of
    /// the record the note belongs to (``{"name": ["Ann Lee"], "mrn": "QW-448812"}``): each
    /// is found in the note wherever it stands, whatever the detectors make of it.
    #[pyo3(signature = (text, record=None))]
    fn scrub_text(
        &self,
        py: Python<'_>,
        text: &str,
        record: Option<BTreeMap<String, OneOrMany>>,
    ) -> PyResult<Option<String>> {
        guarded(|| {
            let view = self.core_for_text()?;
            let record = record.unwrap_or_default();
            let pairs: Vec<(&str, &str)> = record
                .iter()
                .flat_map(|(k, v)| v.values().iter().map(move |x| (k.as_str(), x.as_str())))
                .collect();
            py.detach(|| view.scrub_text_in(text, &pairs))
                .map_err(to_py)
        })
    }

    /// Field by field: treatment, category and the deciding policies, for records with the
    /// given attributes (sensitivity ``labels``, ``confidentiality``, whether the user is
    /// ``treating``). Returns a list of dicts; ``pandas.DataFrame(view.explain())`` tabulates it.
    #[pyo3(signature = (*, catalog=None, labels=None, confidentiality="N", treating=false))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        catalog: Option<String>,
        labels: Option<Vec<String>>,
        confidentiality: &str,
        treating: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        guarded(|| {
            let name = match (catalog, self.fixed_catalog) {
                (Some(c), _) => c,
                (None, true) => self.request.catalog.clone(),
                (None, false) => {
                    return Err(request_err(
                        "this view chooses its catalog from the data: pass `catalog`",
                    ));
                }
            };
            let view = self.core(&name)?;
            let attrs = RecordAttrs {
                labels: labels.unwrap_or_default(),
                confidentiality: confidentiality.to_owned(),
                treating,
                ..RecordAttrs::default()
            };
            let plan = view.plan(&attrs).map_err(to_py)?;
            self.flush_audit()?;
            let out = PyList::empty(py);
            for f in &plan.fields {
                let d = PyDict::new(py);
                d.set_item("field", &f.field)?;
                d.set_item("category", &f.category)?;
                d.set_item("treatment", f.treatment.name())?;
                d.set_item("reason", f.reason())?;
                d.set_item("policies", f.policies.clone())?;
                d.set_item("denied_by", f.denied_by.clone())?;
                out.append(d)?;
            }
            Ok(out)
        })
    }

    /// De-identifies a table and returns the same kind: ``pyarrow.Table`` /
    /// ``RecordBatch``, ``pandas.DataFrame`` or ``polars.DataFrame`` (via the Arrow C data
    /// interface; other objects with ``__arrow_c_stream__`` give a ``pyarrow.Table``).
    /// Columns keep their order and names; a column in clear keeps its type and values; any
    /// other treatment gives a string column; a redacted or unknown column is all null.
    fn deidentify<'py>(
        slf: &Bound<'py, Self>,
        table: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("phiguard._frames")?
            .call_method1("deidentify", (slf, table))
    }

    /// The Arrow path under :meth:`deidentify`: any object with ``__arrow_c_stream__`` in, a
    /// ``pyarrow.Table`` and a summary dict out. Works on all cores without the GIL.
    fn _deidentify_arrow<'py>(
        &self,
        py: Python<'py>,
        stream: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyDict>)> {
        guarded(|| {
            let table = Table::from_pyarrow_bound(stream)?;
            let (batches, schema) = table.into_inner();
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            let view = self.core_for(&names)?;
            let (out, summary, out_schema) = py
                .detach(
                    || -> phiguard::Result<(Vec<RecordBatch>, Summary, Schema)> {
                        let out_schema = phiguard::io::arrow::output_schema(&view, &schema)?;
                        let (out, summary) =
                            phiguard::io::arrow::deidentify_batches(&view, &batches)?;
                        Ok((out, summary, out_schema))
                    },
                )
                .map_err(to_py)?;
            self.flush_audit()?;
            let table = Table::try_new(out, Arc::new(out_schema))
                .map_err(|e| input_err("<table>", e.to_string()))?;
            Ok((table.into_pyarrow(py)?, summary_dict(py, &summary)?))
        })
    }

    /// De-identifies one ``pyarrow.RecordBatch`` (any ``__arrow_c_array__`` struct array) on
    /// the calling thread: the unit of work of :func:`phiguard.spark.deidentify`.
    fn deidentify_batch<'py>(
        &self,
        py: Python<'py>,
        batch: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(|| {
            let batch = RecordBatch::from_pyarrow_bound(batch)?;
            let schema = batch.schema();
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            let view = self.core_for(&names)?;
            let (out, _) = py
                .detach(|| phiguard::io::arrow::deidentify_batch(&view, &batch))
                .map_err(to_py)?;
            self.flush_audit()?;
            out.to_pyarrow(py)
        })
    }

    /// The schema :meth:`deidentify_batch` gives batches of ``schema`` (a ``pyarrow.Schema``
    /// or any ``__arrow_c_schema__`` object): the same for every batch, so it can be declared
    /// up front.
    fn output_schema<'py>(
        &self,
        py: Python<'py>,
        schema: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(|| {
            let schema = Schema::from_pyarrow_bound(schema)?;
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            let view = self.core_for(&names)?;
            let out = phiguard::io::arrow::output_schema(&view, &schema).map_err(to_py)?;
            self.flush_audit()?;
            out.to_pyarrow(py)
        })
    }

    /// De-identifies the file ``input`` into ``output`` in the same format, streaming in
    /// constant memory: CSV, JSON lines (``.jsonl``/``.ndjson``), JSON, or Parquet (with
    /// pyarrow). The output appears only when complete. ``progress=True`` shows a tqdm bar
    /// when tqdm is installed. Returns a summary dict: ``rows``, values per ``treatments``,
    /// ``unknown_columns``, ``plans``.
    #[pyo3(signature = (input, output, *, format=None, progress=false, batch_rows=65_536))]
    fn deidentify_file<'py>(
        slf: &Bound<'py, Self>,
        input: &Bound<'py, PyAny>,
        output: &Bound<'py, PyAny>,
        format: Option<&str>,
        progress: bool,
        batch_rows: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kwargs = PyDict::new(slf.py());
        kwargs.set_item("format", format)?;
        kwargs.set_item("progress", progress)?;
        kwargs.set_item("batch_rows", batch_rows)?;
        slf.py().import("phiguard._files")?.call_method(
            "deidentify_file",
            (slf, input, output),
            Some(&kwargs),
        )
    }

    /// De-identifies a CSV, JSON lines or JSON file into ``output`` (same format), streaming
    /// on all cores in constant memory; the output appears only when complete. Returns a
    /// summary dict (rows, values per treatment, unknown columns, plans). Parquet goes
    /// through :func:`phiguard.deidentify_file`.
    #[pyo3(signature = (input, output, *, format=None, progress=None))]
    fn _deidentify_text_file<'py>(
        &self,
        py: Python<'py>,
        input: PathBuf,
        output: PathBuf,
        format: Option<&str>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guarded(|| {
            let format = match format {
                Some(f) => Format::parse(f),
                None => Format::from_path(&input),
            }
            .map_err(to_py)?;
            let columns = phiguard::io::peek_columns(&input, format).map_err(to_py)?;
            let cols: Vec<&str> = columns.iter().map(String::as_str).collect();
            let view = self.core_for(&cols)?;
            let opts = IoOptions {
                source: input.display().to_string(),
                ..IoOptions::default()
            };
            let summary = py
                .detach(|| {
                    phiguard::io::deidentify_file(
                        &view,
                        &input,
                        &output,
                        format,
                        &opts,
                        &|p: phiguard::io::FileProgress| {
                            if let Some(cb) = &progress {
                                // A failing progress callback must not stop the run.
                                Python::attach(|py| {
                                    let _ = cb.call1(py, (p.bytes_read, p.total_bytes, p.rows));
                                });
                            }
                        },
                    )
                })
                .map_err(to_py)?;
            self.flush_audit()?;
            summary_dict(py, &summary)
        })
    }

    /// The request as a dict (catalog None when chosen from the data).
    #[getter]
    fn request<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = &self.request;
        let d = PyDict::new(py);
        d.set_item("user", &r.user)?;
        d.set_item("roles", r.roles.clone())?;
        d.set_item("purpose", &r.purpose)?;
        d.set_item("operation", &r.operation)?;
        d.set_item("break_glass_reason", r.break_glass_reason.as_deref())?;
        d.set_item("department", r.department.as_deref())?;
        d.set_item("catalog", self.fixed_catalog.then_some(r.catalog.as_str()))?;
        d.set_item("as_of_year", r.as_of_year)?;
        Ok(d)
    }

    /// Id of the view's key, or None.
    #[getter]
    fn key_id(&self) -> Option<String> {
        self.ring.as_ref().map(|k| k.id().to_owned())
    }

    fn __repr__(&self) -> String {
        format!(
            "View(roles={:?}, purpose={:?}, catalog={:?}, key={:?}, audited={})",
            self.request.roles,
            self.request.purpose,
            self.fixed_catalog.then_some(&self.request.catalog),
            self.key_id(),
            self.audit.is_some()
        )
    }

    /// Pickles as its configuration: the engine's sources, the request and the key's
    /// reference (file or environment variable). An audited view does not pickle: several
    /// processes appending to one hash chain would break it.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let this = slf.get();
        if this.audit.is_some() {
            return Err(PyTypeError::new_err(
                "an audited View does not pickle: one hash-chained log cannot be appended from \
                 several processes. Audit on the driver, or give each worker its own log",
            ));
        }
        let engine = Bound::new(
            py,
            Engine {
                inner: this.engine.clone(),
            },
        )?;
        let request =
            serde_json::to_string(&this.request).map_err(|e| request_err(e.to_string()))?;
        let key = match &this.key {
            Some(k) => k.clone_ref(py).into_bound(py).into_any(),
            None => py.None().into_bound(py),
        };
        Ok((
            py.import("phiguard._native")?.getattr("_view_from_state")?,
            PyTuple::new(
                py,
                [
                    engine.into_any(),
                    PyString::new(py, &request).into_any(),
                    PyBool::new(py, this.fixed_catalog).to_owned().into_any(),
                    key,
                ],
            )?,
        ))
    }
}

/// Rebuilds a view pickled by `View.__reduce__`.
#[pyfunction]
pub(crate) fn _view_from_state(
    engine: &Bound<'_, Engine>,
    request: &str,
    fixed_catalog: bool,
    key: Option<Py<Key>>,
) -> PyResult<View> {
    guarded(|| {
        let request: AccessRequest =
            serde_json::from_str(request).map_err(|e| request_err(e.to_string()))?;
        View::new(
            engine.get().inner.clone(),
            request,
            fixed_catalog,
            key,
            None,
        )
    })
}

/// ``on_error`` of the FHIR calls.
fn fhir_on_error(s: &str) -> PyResult<phiguard::fhir::OnError> {
    match s {
        "stop" => Ok(phiguard::fhir::OnError::Stop),
        "withhold" => Ok(phiguard::fhir::OnError::Withhold),
        _ => Err(pyo3::exceptions::PyValueError::new_err(
            "on_error must be \"stop\" or \"withhold\"",
        )),
    }
}

/// A FHIR file: `.ndjson` as a list of resources (`true`), anything else as one document.
fn read_fhir_file(path: &std::path::Path) -> PyResult<(bool, Vec<Value>)> {
    let source = "<fhir file>";
    let text = std::fs::read_to_string(path).map_err(|e| to_py(phiguard::Error::io(source, e)))?;
    if path.extension().is_some_and(|x| x == "ndjson") {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v = serde_json::from_str(line)
                .map_err(|e| to_py(phiguard::Error::malformed_json(source, i as u64 + 1, &e)))?;
            out.push(v);
        }
        Ok((true, out))
    } else {
        let v = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|e| to_py(phiguard::Error::malformed_json(source, 1, &e)))?;
        Ok((false, vec![v]))
    }
}
