//! `phiguard._native`: the Python face of the core. It converts Python values, Arrow data and
//! errors to and from the core's types, and releases the GIL while the core works; every rule
//! lives in the core.

mod audit;
mod convert;
mod engine;
mod errors;
mod key;
mod view;

use pyo3::prelude::*;

use crate::audit::verify_audit;
use crate::engine::{_engine_from_state, Engine};
use crate::errors::{
    AuditError, CatalogError, FileError, InputError, InternalError, KeyMaterialError,
    PhiguardError, PolicyError, RequestError,
};
use crate::key::Key;
use crate::view::{_view_from_state, View};

/// Panics inside the boundary guard (feature `test-hooks` only).
#[cfg(feature = "test-hooks")]
#[pyfunction]
#[allow(clippy::panic, reason = "the point of this test hook")]
fn _panic_for_test() -> PyResult<()> {
    crate::errors::guarded(|| panic!("test hook"))
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
