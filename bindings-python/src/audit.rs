//! Audit log verification (`phiguard::audit::verify`).

use std::fs::File;
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{guarded, to_py};
use crate::key::Key;

/// Verifies a hash-chained audit log with ``key``; returns ``{"entries": n, "break_glass": m}``
/// (break-glass events are flagged for review). Raises
/// :class:`AuditError` naming the first bad entry (``.entry``) on any edit, insertion,
/// deletion or reordering.
#[pyfunction]
pub(crate) fn verify_audit<'py>(
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
