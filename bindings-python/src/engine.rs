//! `Engine`: a loaded pack (`phiguard::Engine`), built from Python strings, paths or a pickle.

use std::path::PathBuf;

use phiguard::{AccessRequest, PackSources, Source};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use crate::errors::{guarded, request_err, to_py};
use crate::key::Key;
use crate::view::View;

/// Caps from a dict of positive integers; the caps it leaves out keep their defaults.
pub(crate) fn limits_of(d: Option<&Bound<'_, PyDict>>) -> PyResult<phiguard::Limits> {
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

/// A `str` is text; an `os.PathLike` is a file to read.
pub(crate) fn source_of(obj: &Bound<'_, PyAny>, label: &str) -> PyResult<Source> {
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

pub(crate) fn sources_of(obj: &Bound<'_, PyAny>, label: &str) -> PyResult<Vec<Source>> {
    if obj.cast::<PyString>().is_ok() || obj.extract::<PathBuf>().is_ok() {
        return Ok(vec![source_of(obj, label)?]);
    }
    obj.try_iter()?
        .enumerate()
        .map(|(i, item)| source_of(&item?, &format!("{label}[{i}]")))
        .collect()
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
pub(crate) struct Engine {
    pub(crate) inner: phiguard::Engine,
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
                fhir_rules: d.fhir_rules,
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
pub(crate) fn sources_state<'py>(py: Python<'py>, s: &PackSources) -> PyResult<Bound<'py, PyList>> {
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
pub(crate) fn _engine_from_state(state: Vec<(String, String, String)>) -> PyResult<Engine> {
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
