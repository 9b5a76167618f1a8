//! Python values <-> JSON values, bounded in depth, and run summaries as dicts.

use phiguard::io::Summary;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::Value;

use crate::errors::input_err;

/// Python value -> JSON, refusing nesting deeper than the core accepts by default (before
/// recursing further, so a hostile structure cannot exhaust the stack).
pub(crate) fn to_json(obj: &Bound<'_, PyAny>, path: &mut String, depth: usize) -> PyResult<Value> {
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

pub(crate) fn list_to_json<'py>(
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
pub(crate) fn to_py_value<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
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

pub(crate) fn summary_dict<'py>(py: Python<'py>, s: &Summary) -> PyResult<Bound<'py, PyDict>> {
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

pub(crate) fn record_keys(record: &Value) -> Vec<&str> {
    record
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}
