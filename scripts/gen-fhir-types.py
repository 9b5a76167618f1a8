"""Writes core/data/fhir/elements.tsv: the element table of FHIR R4 that the `fhir` module
walks resources with (which element has which data type, and whether it repeats).

Source: the R4B models of `fhir.resources` 7.1.0 (PyPI, BSD), generated from HL7's
StructureDefinitions (FHIR is CC0). R4B is R4 with the medication-definition resources
added; every R4 resource and data type reads the same. Run in a venv that has it:

    python -m venv /tmp/fhirvenv && /tmp/fhirvenv/bin/pip install fhir.resources==7.1.0
    /tmp/fhirvenv/bin/python scripts/gen-fhir-types.py > core/data/fhir/elements.tsv

Each line: owner (a resource, a data type or a backbone element such as PatientContact),
element name, its type (a FHIR primitive such as `date`, a data type, a backbone element),
`*` when it repeats, and `1` when it is required (minimum cardinality 1). Choice elements (`value[x]`) are listed by each concrete name
(`valueQuantity`, `valueString`). A `#` line names the resources.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys

import fhir.resources.R4B as r4
from fhir.resources.core.fhirabstractmodel import FHIRAbstractModel

PRIMITIVES = {
    "Boolean": "boolean", "bool": "boolean", "Integer": "integer", "int": "integer",
    "Decimal": "decimal", "float": "decimal", "String": "string", "str": "string",
    "Uri": "uri", "Url": "url", "Canonical": "canonical", "Base64Binary": "base64Binary",
    "Instant": "instant", "Date": "date", "DateTime": "dateTime", "Time": "time",
    "Code": "code", "Oid": "oid", "Id": "id", "Markdown": "markdown",
    "UnsignedInt": "unsignedInt", "PositiveInt": "positiveInt", "Uuid": "uuid",
    "Xhtml": "xhtml",
}


def type_name(t) -> str:
    args = [a for a in getattr(t, "__args__", ()) if a is not type(None)]
    if getattr(t, "__origin__", None) is not None and len(args) == 1:
        return type_name(args[0])  # Optional[X] inside a list
    rt = getattr(t, "__resource_type__", None)
    if rt:
        return rt
    name = t.__name__
    if name in PRIMITIVES:
        return PRIMITIVES[name]
    raise SystemExit(f"unknown field type {t!r}")


def main() -> None:
    classes: dict[str, type] = {}
    for m in pkgutil.iter_modules(r4.__path__):
        if m.name.startswith("fhir") or m.name in ("tests",):
            continue
        mod = importlib.import_module(f"fhir.resources.R4B.{m.name}")
        for _, c in inspect.getmembers(mod, inspect.isclass):
            if issubclass(c, FHIRAbstractModel) and c.__module__ == mod.__name__:
                classes[c.__name__] = c
    resources = sorted(
        n for n, c in classes.items()
        if "resource_type" in c.__fields__ and hasattr(c, "get_resource_type")
        and issubclass(c, importlib.import_module("fhir.resources.R4B.resource").Resource)
        and n not in ("Resource", "DomainResource")
    )
    out = sys.stdout
    out.write("# FHIR R4 elements (fhir.resources 7.1.0, R4B models; FHIR is CC0). Written by\n")
    out.write("# scripts/gen-fhir-types.py: owner, element, type, `*` when it repeats, `1` when required.\n")
    out.write("# resources: " + " ".join(resources) + "\n")
    for name in sorted(classes):
        c = classes[name]
        for f in c.__fields__.values():
            if not f.field_info.extra.get("element_property"):
                continue
            many = "*" if f.shape != 1 else ""
            required = "1" if (f.required or f.field_info.extra.get("element_required")) else ""
            out.write(f"{name}\t{f.alias}\t{type_name(f.type_)}\t{many}\t{required}\n")


if __name__ == "__main__":
    main()
