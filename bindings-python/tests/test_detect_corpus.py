"""The detection corpus (tests/detect/*.toml, format in its README.md) through the Python
binding's Engine.detect: the same cases as core/tests/detect.rs, read with str indices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import phiguard

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "detect"
FILES = sorted(CORPUS.glob("*.toml"))
KEYS = {"text", "spans", "absent"}


def cases() -> list[Any]:
    out = []
    for path in FILES:
        for n, case in enumerate(tomllib.loads(path.read_text("utf-8"))["case"], 1):
            out.append(pytest.param(case, id=f"{path.stem}-{n}"))
    return out


def test_the_corpus_is_there() -> None:
    assert FILES, f"no corpus files in {CORPUS}"


@pytest.mark.parametrize("case", cases())
def test_case_detects_as_written(engine: phiguard.Engine, case: dict[str, Any]) -> None:
    assert set(case) <= KEYS, f"unknown keys {set(case) - KEYS}"
    assert "spans" in case or case.get("absent"), "says neither `spans` nor `absent`"
    text = case["text"]
    found = [
        {"category": s["category"], "value": text[s["start"] : s["end"]]}
        for s in engine.detect(text)
    ]
    if "spans" in case:
        assert found == case["spans"]
    for absent in case.get("absent", []):
        assert absent and set(absent) <= {"category", "value"}, absent
        hits = [f for f in found if all(f[k] == v for k, v in absent.items())]
        assert not hits, f"must not find {hits}"
