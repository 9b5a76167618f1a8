//! `phiguard._native`: the Python face of the core. It converts Python values, Arrow data and
//! errors to and from the core's types, and releases the GIL while the core works; every rule
//! lives in the core.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use arrow_pyarrow::{FromPyArrow, IntoPyArrow, Table, ToPyArrow};
use arrow_schema::Schema;
use phiguard::audit::{AuditSink, ChainedLog};
use phiguard::io::{Format, IoOptions, Summary};
use phiguard::{AccessRequest, KeyRing, PackSources, RecordAttrs, Source};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::Value;

create_exception!(
    phiguard,
    PhiguardError,
    PyException,
    "Base class of every phiguard error. `.code` is the stable kind (`policy`, `catalog`, \
     `request`, `input`, `key`, `audit`, `io`, `internal`); `.location` is a dict with \
     `source`, `line`, `column` and `field`, or None."
);
create_exception!(
    phiguard,
    PolicyError,
    PhiguardError,
    "A Cedar schema, policy or entity file is malformed or fails validation."
);
create_exception!(
    phiguard,
    CatalogError,
    PhiguardError,
    "A category or catalog file is malformed or names something unknown."
);
create_exception!(
    phiguard,
    RequestError,
    PhiguardError,
    "The request (role, purpose, catalog, break-glass reason) cannot be served."
);
create_exception!(
    phiguard,
    InputError,
    PhiguardError,
    "Input data is malformed: bad CSV/JSON, invalid UTF-8, too deep, too large, wrong type."
);
create_exception!(
    phiguard,
    KeyMaterialError,
    PhiguardError,
    "Key material is missing, malformed or too short. Never carries key bytes."
);
create_exception!(
    phiguard,
    AuditError,
    PhiguardError,
    "An audit log failed verification (`.entry` is the first bad entry) or could not be written."
);
create_exception!(
    phiguard,
    FileError,
    PhiguardError,
    "Reading or writing a file failed."
);
create_exception!(
    phiguard,
    InternalError,
    PhiguardError,
    "A bug in phiguard was caught at the boundary; nothing was released."
);

/// The Python exception for a core error, with `code`, `location` and (audit) `entry`.
fn to_py(e: phiguard::Error) -> PyErr {
    let msg = e.to_string();
    let err = match &e {
        phiguard::Error::Policy { .. } => PolicyError::new_err(msg),
        phiguard::Error::Catalog { .. } => CatalogError::new_err(msg),
        phiguard::Error::Request { .. } => RequestError::new_err(msg),
        phiguard::Error::Input { .. } => InputError::new_err(msg),
        phiguard::Error::Key { .. } => KeyMaterialError::new_err(msg),
        phiguard::Error::Audit { .. } => AuditError::new_err(msg),
        phiguard::Error::Io { .. } => FileError::new_err(msg),
        _ => PhiguardError::new_err(msg),
    };
    Python::attach(|py| {
        let value = err.value(py);
        let location = e.location().map(|l| {
            let d = PyDict::new(py);
            let _ = d.set_item("source", &l.source);
            let _ = d.set_item("line", l.line);
            let _ = d.set_item("column", l.column);
            let _ = d.set_item("field", l.field.as_deref());
            d
        });
        let entry = match &e {
            phiguard::Error::Audit { entry, .. } => *entry,
            _ => None,
        };
        // Setting attributes on a fresh exception instance cannot fail in practice; if it
        // did, the exception still carries its class and message.
        let _ = value.setattr("code", e.code());
        let _ = value.setattr("location", location);
        let _ = value.setattr("entry", entry);
    });
    err
}

fn input_err(location: &str, message: impl Into<String>) -> PyErr {
    to_py(phiguard::Error::input(
        phiguard::Location::line(location, 0),
        message,
    ))
}

/// Caps from a dict of positive integers; the caps it leaves out keep their defaults.
fn limits_of(d: Option<&Bound<'_, PyDict>>) -> PyResult<phiguard::Limits> {
    let mut limits = phiguard::Limits::default();
    for (k, v) in d.into_iter().flat_map(|d| d.iter()) {
        let name: String = k
            .extract()
            .map_err(|_| request_err("limit names are strings"))?;
        // Not an unsigned int (negative, a str): the same message as the core's for a zero.
        let value: usize = v.extract().unwrap_or(0);
        limits.set(&name, value).map_err(to_py)?;
    }
    Ok(limits)
}

fn request_err(message: impl Into<String>) -> PyErr {
    to_py(phiguard::Error::request(message))
}

/// Runs `f`, turning a panic into [`InternalError`] so that none reaches Python.
fn guarded<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            let err = InternalError::new_err(
                "internal error: phiguard hit a bug and stopped; nothing was released",
            );
            Python::attach(|py| {
                let _ = err.value(py).setattr("code", "internal");
                let _ = err.value(py).setattr("location", py.None());
                let _ = err.value(py).setattr("entry", py.None());
            });
            Err(err)
        }
    }
}

/// A `str` is text; an `os.PathLike` is a file to read.
fn source_of(obj: &Bound<'_, PyAny>, label: &str) -> PyResult<Source> {
    if let Ok(text) = obj.cast::<PyString>() {
        return Ok(Source::new(label, text.to_cow()?.into_owned()));
    }
    let path: PathBuf = obj.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "{label}: expected a str (the text) or a path, got {}",
            obj.get_type()
                .name()
                .map_or_else(|_| "?".into(), |n| n.to_string())
        ))
    })?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| to_py(phiguard::Error::io(path.display(), e)))?;
    Ok(Source::new(path.display().to_string(), text))
}

fn sources_of(obj: &Bound<'_, PyAny>, label: &str) -> PyResult<Vec<Source>> {
    if obj.cast::<PyString>().is_ok() || obj.extract::<PathBuf>().is_ok() {
        return Ok(vec![source_of(obj, label)?]);
    }
    obj.try_iter()?
        .enumerate()
        .map(|(i, item)| source_of(&item?, &format!("{label}[{i}]")))
        .collect()
}

/// Key material for pseudonyms, date shifts and the audit chain.
///
/// Build it with :meth:`from_file`, :meth:`from_env` or :meth:`from_bytes`. Its ``repr`` shows
/// only the key id (a public fingerprint for rotation), never the key. A key read from a file
/// or an environment variable pickles as that reference and is read again where it is
/// unpickled (a Spark executor); a key from bytes refuses to pickle.
///
/// >>> import phiguard
/// >>> key = phiguard.Key.from_bytes(bytes(range(32)))
/// >>> len(key.id)
/// 16
#[pyclass(module = "phiguard._native", frozen)]
struct Key {
    ring: KeyRing,
    origin: KeyOrigin,
}

#[derive(Clone)]
enum KeyOrigin {
    File(PathBuf),
    Env(String),
    Bytes,
}

#[pymethods]
impl Key {
    /// Reads a key file (``phiguard keygen`` writes one: ``phiguard-key-v1:`` and hex).
    #[staticmethod]
    fn from_file(path: PathBuf) -> PyResult<Key> {
        guarded(|| {
            let ring = KeyRing::from_file(&path).map_err(to_py)?;
            Ok(Key {
                ring,
                origin: KeyOrigin::File(path),
            })
        })
    }

    /// Reads key text (as in a key file) from the environment variable ``name``.
    #[staticmethod]
    #[pyo3(signature = (name = "PHIGUARD_KEY"))]
    fn from_env(name: &str) -> PyResult<Key> {
        guarded(|| {
            let text = zeroize::Zeroizing::new(std::env::var(name).map_err(|_| {
                to_py(phiguard::Error::key(format!(
                    "environment variable `{name}` is not set"
                )))
            })?);
            let ring = KeyRing::from_key_text(&text, &format!("${name}")).map_err(to_py)?;
            Ok(Key {
                ring,
                origin: KeyOrigin::Env(name.to_owned()),
            })
        })
    }

    /// A key from raw master-key bytes (at least 32).
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Key> {
        guarded(|| {
            Ok(Key {
                ring: KeyRing::from_bytes(data).map_err(to_py)?,
                origin: KeyOrigin::Bytes,
            })
        })
    }

    /// A key from key-file text (``phiguard-key-v1:`` and hex, or bare hex). Prefer
    /// :meth:`from_file` or :meth:`from_env`: key text in code tends to end up in version
    /// control.
    #[staticmethod]
    fn from_text(text: &str) -> PyResult<Key> {
        guarded(|| {
            Ok(Key {
                ring: KeyRing::from_key_text(text, "<key text>").map_err(to_py)?,
                origin: KeyOrigin::Bytes,
            })
        })
    }

    /// Writes a new random key file at ``path`` (mode 0600) and returns the key.
    #[staticmethod]
    fn generate(path: PathBuf) -> PyResult<Key> {
        guarded(|| {
            KeyRing::generate_file(&path).map_err(to_py)?;
            Key::from_file(path)
        })
    }

    /// The key id: 16 hex digits derived from the key, safe to publish.
    #[getter]
    fn id(&self) -> &str {
        self.ring.id()
    }

    fn __repr__(&self) -> String {
        let origin = match &self.origin {
            KeyOrigin::File(p) => format!("file {}", p.display()),
            KeyOrigin::Env(n) => format!("env ${n}"),
            KeyOrigin::Bytes => "bytes".into(),
        };
        format!("Key(id='{}', from={origin:?})", self.ring.id())
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let cls = py.get_type::<Key>();
        match &slf.get().origin {
            KeyOrigin::File(p) => Ok((cls.getattr("from_file")?, PyTuple::new(py, [p.clone()])?)),
            KeyOrigin::Env(n) => Ok((cls.getattr("from_env")?, PyTuple::new(py, [n.clone()])?)),
            KeyOrigin::Bytes => Err(PyTypeError::new_err(
                "a Key made from bytes does not pickle: key material would travel with the \
                 data. Use Key.from_file or Key.from_env, which pickle as a reference read \
                 where they are unpickled",
            )),
        }
    }
}

/// A loaded, validated policy pack.
///
/// ``Engine()`` is the default HIPAA pack. Give any part to replace it: ``schema``,
/// ``entities``, ``categories``, ``detectors`` (one each), ``policies`` and ``catalogs`` (one
/// or a list). A ``str`` is the text itself; a ``pathlib.Path`` is a file to read.
///
/// >>> import phiguard
/// >>> engine = phiguard.Engine()
/// >>> "synthea-patients" in engine.catalogs
/// True
#[pyclass(module = "phiguard._native", frozen)]
struct Engine {
    inner: phiguard::Engine,
}

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (*, schema=None, policies=None, entities=None, categories=None, catalogs=None, detectors=None, limits=None))]
    #[allow(
        clippy::too_many_arguments,
        reason = "keyword-only arguments of one call"
    )]
    fn new(
        schema: Option<&Bound<'_, PyAny>>,
        policies: Option<&Bound<'_, PyAny>>,
        entities: Option<&Bound<'_, PyAny>>,
        categories: Option<&Bound<'_, PyAny>>,
        catalogs: Option<&Bound<'_, PyAny>>,
        detectors: Option<&Bound<'_, PyAny>>,
        limits: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Engine> {
        guarded(|| {
            let limits = limits_of(limits)?;
            let d = phiguard::PackSources::default_pack();
            let sources = PackSources {
                schema: match schema {
                    Some(s) => Some(source_of(s, "<schema>")?),
                    None => d.schema,
                },
                policies: match policies {
                    Some(p) => sources_of(p, "<policies>")?,
                    None => d.policies,
                },
                entities: match entities {
                    Some(e) => Some(source_of(e, "<entities>")?),
                    None => d.entities,
                },
                categories: match categories {
                    Some(c) => Some(source_of(c, "<categories>")?),
                    None => d.categories,
                },
                catalogs: match catalogs {
                    Some(c) => sources_of(c, "<catalogs>")?,
                    None => d.catalogs,
                },
                detectors: match detectors {
                    Some(t) => Some(source_of(t, "<detectors>")?),
                    None => d.detectors,
                },
            };
            Ok(Engine {
                inner: phiguard::Engine::builder()
                    .sources(sources)
                    .limits(limits)
                    .build()
                    .map_err(to_py)?,
            })
        })
    }

    /// Loads a pack directory laid out as ``policies/`` is.
    #[staticmethod]
    #[pyo3(signature = (path, *, limits=None))]
    fn from_dir(path: PathBuf, limits: Option<&Bound<'_, PyDict>>) -> PyResult<Engine> {
        guarded(|| {
            let limits = limits_of(limits)?;
            Ok(Engine {
                inner: phiguard::Engine::builder()
                    .sources(phiguard::PackSources::from_dir(&path).map_err(to_py)?)
                    .limits(limits)
                    .build()
                    .map_err(to_py)?,
            })
        })
    }

    /// The caps on hostile input this engine applies: ``max_field_bytes`` (a string value or
    /// CSV field), ``max_record_bytes`` (a CSV record or JSON line read from a file),
    /// ``max_depth`` (JSON nesting), ``max_policies`` (per pack) and ``max_text_bytes`` (one
    /// free-text detector call). Set them with ``Engine(limits=...)``.
    ///
    /// >>> import phiguard
    /// >>> phiguard.Engine(limits={"max_text_bytes": 4096}).limits["max_text_bytes"]
    /// 4096
    #[getter]
    fn limits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, v) in self.inner.limits().iter() {
            d.set_item(name, v)?;
        }
        Ok(d)
    }

    /// The PHI spans in ``text`` as this engine's pack finds them: a list of dicts with
    /// ``start`` and ``end`` (``str`` indices), ``category``, ``detector`` and
    /// ``confidence``, in order and without overlaps. This says what is there; a view's
    /// :meth:`View.scrub_text` applies a principal's treatments.
    ///
    /// >>> import phiguard
    /// >>> text = "Seen by Dr. Alvarez on 03/04/2021"
    /// >>> [(s["category"], text[s["start"]:s["end"]]) for s in phiguard.Engine().detect(text)]
    /// [('name', 'Alvarez'), ('event_date', '03/04/2021')]
    fn detect<'py>(&self, py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyList>> {
        guarded(|| {
            let spans = py.detach(|| self.inner.detect(text)).map_err(to_py)?;
            let out = PyList::empty(py);
            for s in spans {
                let d = PyDict::new(py);
                d.set_item("start", s.char_start)?;
                d.set_item("end", s.char_end)?;
                d.set_item("category", s.category.as_ref())?;
                d.set_item("detector", s.detector.as_ref())?;
                d.set_item("confidence", s.confidence)?;
                out.append(d)?;
            }
            Ok(out)
        })
    }

    /// The same engine with one more catalog (TOML text or a path).
    fn with_catalog(&self, catalog: &Bound<'_, PyAny>) -> PyResult<Engine> {
        guarded(|| {
            let source = source_of(catalog, "<catalog>")?;
            Ok(Engine {
                inner: self.inner.with_catalog(&source).map_err(to_py)?,
            })
        })
    }

    /// Names of the dataset catalogs.
    #[getter]
    fn catalogs(&self) -> Vec<String> {
        self.inner.catalog_names()
    }

    /// Roles defined by the pack.
    #[getter]
    fn roles(&self) -> Vec<String> {
        self.inner.role_names()
    }

    /// Purposes of use defined by the pack (HL7 v3 ActReason codes).
    #[getter]
    fn purposes(&self) -> Vec<String> {
        self.inner.purpose_names()
    }

    /// One principal's view: who (``role`` or ``roles``, ``user``, ``department``), why
    /// (``purpose``; ``break_glass_reason`` for ``ETREAT``/``BTG``), on which ``catalog``
    /// (None: chosen from the data's columns), with which ``key`` and ``audit`` log path.
    /// ``as_of_year`` pins the year ages are computed against (Safe Harbor's 90+ rule).
    #[pyo3(signature = (*, purpose, role=None, roles=None, user="anonymous", catalog=None, operation="read", break_glass_reason=None, department=None, as_of_year=None, key=None, audit=None))]
    #[allow(
        clippy::too_many_arguments,
        reason = "keyword-only arguments of one call"
    )]
    fn view(
        &self,
        purpose: &str,
        role: Option<String>,
        roles: Option<Vec<String>>,
        user: &str,
        catalog: Option<String>,
        operation: &str,
        break_glass_reason: Option<String>,
        department: Option<String>,
        as_of_year: Option<i64>,
        key: Option<Py<Key>>,
        audit: Option<PathBuf>,
    ) -> PyResult<View> {
        guarded(|| {
            let roles: Vec<String> = role.into_iter().chain(roles.unwrap_or_default()).collect();
            if roles.is_empty() {
                return Err(request_err("give `role` or `roles`"));
            }
            let request = AccessRequest {
                user: user.to_owned(),
                roles,
                purpose: purpose.to_owned(),
                operation: operation.to_owned(),
                break_glass_reason,
                department,
                catalog: catalog.clone().unwrap_or_default(),
                as_of_year,
            };
            View::new(self.inner.clone(), request, catalog.is_some(), key, audit)
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "Engine(catalogs={:?}, roles={}, policies={})",
            self.catalogs(),
            self.inner.pack().roles().len(),
            self.inner.sources().policies.len()
        )
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let state = sources_state(py, slf.get().inner.sources())?;
        for (name, v) in slf.get().inner.limits().iter() {
            state.append(("limit", name, v.to_string()))?;
        }
        Ok((
            py.import("phiguard._native")?
                .getattr("_engine_from_state")?,
            PyTuple::new(py, [state])?,
        ))
    }
}

/// The engine's sources as a list of `(kind, name, text)`; policy texts are not secret.
fn sources_state<'py>(py: Python<'py>, s: &PackSources) -> PyResult<Bound<'py, PyList>> {
    let mut items: Vec<(&str, &str, &str)> = Vec::new();
    for (kind, src) in [
        ("schema", &s.schema),
        ("entities", &s.entities),
        ("categories", &s.categories),
        ("detectors", &s.detectors),
    ] {
        if let Some(src) = src {
            items.push((kind, &src.name, &src.text));
        }
    }
    for src in &s.policies {
        items.push(("policy", &src.name, &src.text));
    }
    for src in &s.catalogs {
        items.push(("catalog", &src.name, &src.text));
    }
    PyList::new(py, items)
}

/// Rebuilds an engine pickled by `Engine.__reduce__`.
#[pyfunction]
fn _engine_from_state(state: Vec<(String, String, String)>) -> PyResult<Engine> {
    guarded(|| {
        let mut s = PackSources::default();
        let mut limits = phiguard::Limits::default();
        for (kind, name, text) in state {
            if kind == "limit" {
                let value = text
                    .parse()
                    .map_err(|_| request_err(format!("limit `{name}` is not a number")))?;
                limits.set(&name, value).map_err(to_py)?;
                continue;
            }
            let src = Source::new(name, text);
            match kind.as_str() {
                "schema" => s.schema = Some(src),
                "entities" => s.entities = Some(src),
                "categories" => s.categories = Some(src),
                "detectors" => s.detectors = Some(src),
                "policy" => s.policies.push(src),
                "catalog" => s.catalogs.push(src),
                other => return Err(request_err(format!("unknown engine state part `{other}`"))),
            }
        }
        Ok(Engine {
            inner: phiguard::Engine::builder()
                .sources(s)
                .limits(limits)
                .build()
                .map_err(to_py)?,
        })
    })
}

type AuditLog = ChainedLog<BufWriter<File>>;

/// One principal's compiled access to one or more catalogs. Plans are compiled once per set
/// of record attributes and cached; applying them makes no policy call.
///
/// >>> import phiguard
/// >>> view = phiguard.Engine().view(role="billing_analyst", purpose="HPAYMT",
/// ...                               catalog="synthea-patients")
/// >>> view.apply({"ssn": "999-53-8547", "gender": "female"})["ssn"]
/// '***-**-8547'
#[pyclass(module = "phiguard._native", frozen)]
struct View {
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
    fn new(
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

    fn flush_audit(&self) -> PyResult<()> {
        if let Some((_, log)) = &self.audit {
            log.flush().map_err(to_py)?;
        }
        Ok(())
    }
}

/// Python value -> JSON, refusing nesting deeper than the core accepts by default (before
/// recursing further, so a hostile structure cannot exhaust the stack).
fn to_json(obj: &Bound<'_, PyAny>, path: &mut String, depth: usize) -> PyResult<Value> {
    let max_depth = phiguard::Limits::default().max_depth;
    if depth > max_depth {
        return Err(input_err(
            "<record>",
            format!("nesting deeper than {max_depth} levels at `{path}`"),
        ));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(input_err(
            "<record>",
            format!("integer at `{path}` does not fit in 64 bits"),
        ));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        // NaN is how pandas spells a missing number.
        return Ok(serde_json::Number::from_f64(f.value()).map_or(Value::Null, Value::Number));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| input_err("<record>", format!("a key at `{path}` is not a str")))?;
            let key = key.to_cow()?.into_owned();
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&key);
            let value = to_json(&v, path, depth + 1)?;
            path.truncate(len);
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return list_to_json(l.iter(), path, depth);
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return list_to_json(t.iter(), path, depth);
    }
    // Dates and times (datetime, pandas.Timestamp) as ISO 8601 text.
    if let Ok(iso) = obj.call_method0("isoformat")
        && let Ok(s) = iso.cast::<PyString>()
    {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    Err(input_err(
        "<record>",
        format!(
            "value at `{path}` has type {}, which phiguard cannot treat",
            obj.get_type()
                .name()
                .map_or_else(|_| "?".into(), |n| n.to_string())
        ),
    ))
}

fn list_to_json<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    path: &mut String,
    depth: usize,
) -> PyResult<Value> {
    let len = path.len();
    path.push_str("[]");
    let out = items
        .map(|v| to_json(&v, path, depth + 1))
        .collect::<PyResult<Vec<_>>>();
    path.truncate(len);
    Ok(Value::Array(out?))
}

/// JSON -> Python value.
fn to_py_value<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py_value(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, to_py_value(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

fn summary_dict<'py>(py: Python<'py>, s: &Summary) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("rows", s.rows)?;
    d.set_item(
        "treatments",
        s.treatments
            .iter()
            .collect::<std::collections::BTreeMap<_, _>>(),
    )?;
    d.set_item("unknown_columns", s.unknown_columns.clone())?;
    d.set_item("plans", s.plans)?;
    Ok(d)
}

fn record_keys(record: &Value) -> Vec<&str> {
    record
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
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
    fn scrub_text(&self, py: Python<'_>, text: &str) -> PyResult<Option<String>> {
        guarded(|| {
            let view = self.core_for_text()?;
            py.detach(|| view.scrub_text(text)).map_err(to_py)
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
fn _view_from_state(
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

/// Verifies a hash-chained audit log with ``key``; returns ``{"entries": n, "break_glass": m}``
/// (break-glass events are flagged for review). Raises
/// :class:`AuditError` naming the first bad entry (``.entry``) on any edit, insertion,
/// deletion or reordering.
#[pyfunction]
fn verify_audit<'py>(
    py: Python<'py>,
    path: PathBuf,
    key: &Bound<'py, Key>,
) -> PyResult<Bound<'py, PyDict>> {
    guarded(|| {
        let ring = key.get().ring.clone();
        let (tail, break_glass) = py
            .detach(|| {
                let f = File::open(&path).map_err(|e| phiguard::Error::io(path.display(), e))?;
                phiguard::audit::verify(std::io::BufReader::new(f), &ring)
            })
            .map_err(to_py)?;
        let d = PyDict::new(py);
        d.set_item("entries", tail.seq)?;
        d.set_item("break_glass", break_glass)?;
        Ok(d)
    })
}

/// Panics inside the boundary guard (feature `test-hooks` only).
#[cfg(feature = "test-hooks")]
#[pyfunction]
#[allow(clippy::panic, reason = "the point of this test hook")]
fn _panic_for_test() -> PyResult<()> {
    guarded(|| panic!("test hook"))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<Engine>()?;
    m.add_class::<View>()?;
    m.add_class::<Key>()?;
    m.add_function(wrap_pyfunction!(verify_audit, m)?)?;
    m.add_function(wrap_pyfunction!(_engine_from_state, m)?)?;
    m.add_function(wrap_pyfunction!(_view_from_state, m)?)?;
    #[cfg(feature = "test-hooks")]
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add("PhiguardError", py.get_type::<PhiguardError>())?;
    m.add("PolicyError", py.get_type::<PolicyError>())?;
    m.add("CatalogError", py.get_type::<CatalogError>())?;
    m.add("RequestError", py.get_type::<RequestError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("KeyMaterialError", py.get_type::<KeyMaterialError>())?;
    m.add("AuditError", py.get_type::<AuditError>())?;
    m.add("FileError", py.get_type::<FileError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
