//! Core errors as Python exceptions (one class per `Error::code`), and the guard that turns a
//! panic into `InternalError` instead of aborting the interpreter.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;

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
pub(crate) fn to_py(e: phiguard::Error) -> PyErr {
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

pub(crate) fn input_err(location: &str, message: impl Into<String>) -> PyErr {
    to_py(phiguard::Error::input(
        phiguard::Location::line(location, 0),
        message,
    ))
}

pub(crate) fn request_err(message: impl Into<String>) -> PyErr {
    to_py(phiguard::Error::request(message))
}

/// Runs `f`, turning a panic into [`InternalError`] so that none reaches Python.
pub(crate) fn guarded<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
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
