//! `Key`: a master key (`phiguard::KeyRing`) read from a file, text or the environment.

use std::path::PathBuf;

use phiguard::KeyRing;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::errors::{guarded, to_py};

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
pub(crate) struct Key {
    pub(crate) ring: KeyRing,
    pub(crate) origin: KeyOrigin,
}

#[derive(Clone)]
pub(crate) enum KeyOrigin {
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

    /// Writes a new random key file at ``path`` (created with mode 0600) and returns the key.
    /// Never replaces an existing file: a lost key loses every pseudonym made with it.
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
