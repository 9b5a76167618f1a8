"""Files (CSV, JSON lines, Parquet), free text, explain."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import phiguard
from conftest import SAMPLE_CSV


def analyst(engine):
    return engine.view(role="data_analyst", purpose="HRESCH", as_of_year=2026)


def test_csv_file_has_no_direct_identifier(engine, tmp_path) -> None:
    dst = tmp_path / "out.csv"
    summary = analyst(engine).deidentify_file(SAMPLE_CSV, dst)
    assert summary["rows"] == 1144
    text = dst.read_text()
    src = SAMPLE_CSV.read_text()
    ssns = [line.split(",")[2] for line in src.splitlines()[1:6]]
    assert all(s.startswith("999-") for s in ssns)
    assert all(s and s not in text for s in ssns)
    assert not list(tmp_path.glob(".phiguard-*"))


def test_jsonl_and_parquet_agree_with_csv(engine, tmp_path, key) -> None:
    view = engine.view(role="coder", purpose="HOPERAT", key=key, as_of_year=2026)
    import pyarrow.csv as pacsv

    names = SAMPLE_CSV.read_text().splitlines()[0].split(",")
    table = pacsv.read_csv(SAMPLE_CSV, convert_options=pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=False))
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=300)
    (tmp_path / "in.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in table.to_pylist()))
    s1 = view.deidentify_file(tmp_path / "in.parquet", tmp_path / "out.parquet", batch_rows=250)
    s2 = view.deidentify_file(tmp_path / "in.jsonl", tmp_path / "out.jsonl")
    assert s1["rows"] == s2["rows"] == 1144
    from_parquet = pq.read_table(tmp_path / "out.parquet").to_pylist()
    from_jsonl = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    norm = lambda r: {k: (None if v == "" else v) for k, v in r.items()}  # noqa: E731
    assert [norm(r) for r in from_parquet] == [norm(r) for r in from_jsonl]


def test_malformed_csv_names_the_line_and_leaves_no_output(engine, tmp_path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text('id,ssn\np1,999-53-8547\np2,"unclosed\n')
    dst = tmp_path / "out.csv"
    with pytest.raises(phiguard.InputError) as err:
        analyst(engine).deidentify_file(src, dst, format="csv")
    assert err.value.location["line"] >= 3
    assert not dst.exists()
    assert not list(tmp_path.glob(".phiguard-*"))


def test_progress_callback_reaches_the_end(engine, tmp_path) -> None:
    seen = []
    view = analyst(engine)
    view._deidentify_text_file(SAMPLE_CSV, tmp_path / "o.csv",
                               progress=lambda done, total, rows: seen.append((done, total, rows)))
    assert seen and seen[-1][0] == seen[-1][1] == SAMPLE_CSV.stat().st_size
    assert seen[-1][2] == 1144


def test_scrub_text_follows_each_role(engine, key) -> None:
    note = "Pt Mr. John Smith, SSN 123-45-6789, seen 03/04/2024 at 617-555-0123."
    analyst_view = engine.view(role="data_analyst", purpose="HRESCH", catalog="free-text",
                               as_of_year=2026)
    out = analyst_view.scrub_text(note)
    for phi in ("John", "Smith", "123-45-6789", "617-555-0123", "03/04"):
        assert phi not in out
    physician = engine.view(role="physician", purpose="TREAT", catalog="free-text")
    assert physician.scrub_text(note) == note


def test_scrub_text_finds_the_records_own_values(engine) -> None:
    view = engine.view(role="data_analyst", purpose="HRESCH", catalog="encounters", as_of_year=2026)
    note = "quarrie called about zk7781 from 555.010.4477"
    assert view.scrub_text(note) == note.replace("555.010.4477", "[PHONE]")
    record = {"patient_name": "Oswin Quarrie", "account": ["ZK7781", "A-2"], "phone": "555-010-4477"}
    assert view.scrub_text(note, record=record) == "[NAME] called about [ACCOUNT] from [PHONE]"
    with pytest.raises(phiguard.RequestError, match="nickname") as e:
        view.scrub_text(note, record={"nickname": "Ossie"})
    assert "Ossie" not in str(e.value)
    with pytest.raises(TypeError) as e:
        view.scrub_text(note, record={"name": 4471})
    assert "4471" not in str(e.value)


def test_detect_gives_str_indices_categories_and_detectors(engine) -> None:
    # Non-ASCII before the spans: offsets are str indices, not UTF-8 bytes.
    note = "Émile — Pt Mr. John Smith, SSN 123-45-6789, call 617-555-0123."
    spans = engine.detect(note)
    found = [(s["category"], note[s["start"]:s["end"]]) for s in spans]
    assert ("ssn", "123-45-6789") in found
    assert ("phone", "617-555-0123") in found
    assert ("name", "John Smith") in found
    assert all(0 < s["confidence"] <= 1 and s["detector"] for s in spans)
    assert [s["start"] for s in spans] == sorted(s["start"] for s in spans)
    with pytest.raises(phiguard.InputError, match="max_text_bytes"):
        phiguard.Engine(limits={"max_text_bytes": 8}).detect(note)


def test_explain_lists_every_field_with_a_reason(engine) -> None:
    view = engine.view(role="billing_analyst", purpose="HPAYMT", catalog="synthea-patients")
    rows = view.explain()
    by = {r["field"]: r for r in rows}
    assert by["ssn"]["treatment"] == "mask"
    assert by["ssn"]["policies"]
    assert all(r["reason"] for r in rows)
    assert {r["treatment"] for r in view.explain(labels=["PSY"])} <= {
        "clear", "mask", "shift", "pseudonymize", "generalize", "scrub", "redact", "drop"}
