"""The cross-runtime vectors in tests/vectors/: byte-identical to the Rust runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import phiguard
from conftest import VECTORS


def rust_compact(value: object) -> str:
    # serde_json's compact form: no spaces, keys in document order, UTF-8 unescaped.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def view_for(vf: dict) -> phiguard.View:
    req = vf["request"]
    key = phiguard.Key.from_text(vf["key_hex"]) if vf["key_hex"] else None
    return phiguard.Engine().view(
        roles=req["roles"],
        purpose=req["purpose"],
        user=req["user"],
        catalog=req["catalog"],
        operation=req["operation"],
        break_glass_reason=req["break_glass_reason"],
        department=req["department"],
        as_of_year=req["as_of_year"],
        key=key,
    )


def test_there_are_vectors() -> None:
    assert len(VECTORS) >= 8


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: Path(p).stem)
def test_vector_file(path: Path) -> None:
    vf = json.loads(path.read_text(encoding="utf-8"))
    assert vf["pack"] == "default"
    view = view_for(vf)
    fhir = vf["catalog"] == "fhir"
    apply_json = view.deidentify_fhir_json if fhir else view.apply_json
    apply = view.deidentify_fhir if fhir else view.apply
    for case in vf["cases"]:
        text = json.dumps(case["input"], ensure_ascii=False)
        if case.get("error_code"):
            with pytest.raises(phiguard.PhiguardError) as err:
                apply_json(text)
            assert err.value.code == case["error_code"], case["name"]
            continue
        got = apply_json(text)
        assert got == rust_compact(case["expected"]), f"{vf['name']} / {case['name']}"
        # The dict API gives the same values.
        assert apply(case["input"]) == case["expected"], f"{vf['name']} / {case['name']}"
