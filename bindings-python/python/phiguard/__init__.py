"""phiguard: who may see which part of a patient's record, as a Cedar policy.

The Rust core decides and treats; this package converts Python values, Arrow tables
(pyarrow, pandas, polars) and files to and from it.

>>> import phiguard
>>> engine = phiguard.Engine()                        # the default HIPAA pack
>>> view = engine.view(role="data_analyst", purpose="HRESCH",
...                    catalog="synthea-patients", as_of_year=2026)
>>> out = view.apply({"ssn": "999-53-8547", "birth_date": "1931-05-02", "postal_code": "67880"})
>>> out["ssn"], out["birth_date"], out["postal_code"]
(None, '90+', '678')
"""

from __future__ import annotations

from ._native import (
    AuditError,
    CatalogError,
    Engine,
    FileError,
    InputError,
    InternalError,
    Key,
    KeyMaterialError,
    PhiguardError,
    PolicyError,
    RequestError,
    View,
    __version__,
    verify_audit,
)
from ._files import deidentify_file

__all__ = [
    "AuditError",
    "CatalogError",
    "Engine",
    "FileError",
    "InputError",
    "InternalError",
    "Key",
    "KeyMaterialError",
    "PhiguardError",
    "PolicyError",
    "RequestError",
    "View",
    "__version__",
    "deidentify_file",
    "verify_audit",
]
