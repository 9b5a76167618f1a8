"""pyarrow, pandas and polars in and out: schema, dtypes, nulls and row order survive."""

from __future__ import annotations

import csv

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import phiguard
from conftest import SAMPLE_CSV


@pytest.fixture(scope="module")
def sample() -> pa.Table:
    # Every column as text, as the CSV path reads it, so both paths see the same cells.
    names = next(csv.reader(SAMPLE_CSV.open(encoding="utf-8")))
    opts = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False)
    return pacsv.read_csv(SAMPLE_CSV, convert_options=opts)


def blank_is_null(row: dict) -> dict:
    return {k: (None if v == "" else v) for k, v in row.items()}


VITALS = """
name = "vitals"
[record]
id = "id"
patient = "id"
[fields]
id = { category = "patient_id" }
gender = { category = "gender" }
weight_kg = { category = "lab" }
ssn = { category = "ssn" }
birth_date = { category = "birth_date" }
"""


def vitals(engine: phiguard.Engine, key: phiguard.Key) -> phiguard.View:
    return engine.with_catalog(VITALS).view(role="coder", purpose="HOPERAT", catalog="vitals",
                                            key=key, as_of_year=2026)


def coder(engine: phiguard.Engine, key: phiguard.Key) -> phiguard.View:
    return engine.view(role="coder", purpose="HOPERAT", catalog="synthea-patients", key=key,
                       as_of_year=2026)


def test_arrow_table_equals_record_api(engine, key, sample) -> None:
    view = coder(engine, key)
    out = view.deidentify(sample)
    assert isinstance(out, pa.Table)
    assert out.num_rows == sample.num_rows == 1144
    assert out.column_names == sample.column_names
    rows = sample.slice(0, 50).to_pylist()
    for row, got in zip(view.apply_many(rows), out.slice(0, 50).to_pylist()):
        # An empty cell carries no data: the record path keeps "" where a redacted column
        # is all null.
        assert blank_is_null(got) == blank_is_null(row)


def test_arrow_matches_csv_file_path(engine, key, sample, tmp_path) -> None:
    view = coder(engine, key)
    dst = tmp_path / "out.csv"
    summary = view.deidentify_file(SAMPLE_CSV, dst)
    assert summary["rows"] == 1144
    from_file = list(csv.DictReader(dst.open(encoding="utf-8")))
    from_table = view.deidentify(sample).to_pylist()
    assert len(from_file) == len(from_table)
    for a, b in zip(from_file, from_table):
        assert a == {k: ("" if v is None else v) for k, v in b.items()}


def test_pandas_round_trip_keeps_dtypes_nulls_and_order(engine, key) -> None:
    pd = pytest.importorskip("pandas")
    view = vitals(engine, key)
    df = pd.DataFrame(
        {
            "id": ["p3", "p1", None, "p2"],
            "gender": ["female", "male", "male", None],
            "weight_kg": [71.5, None, 3.25, 94.0],
            "ssn": ["999-53-8547", "999-12-3456", None, "999-00-0001"],
            "birth_date": ["1943-03-17", "1931-01-02", "2001-12-31", None],
        },
        index=[10, 11, 12, 13],
    )
    out = view.deidentify(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(df.columns)
    assert list(out.index) == [10, 11, 12, 13]
    # Clear columns keep dtype and values, nulls included.
    assert out["gender"].dtype == df["gender"].dtype
    assert out["gender"].isna().tolist() == [False, False, False, True]
    assert out["weight_kg"].dtype == df["weight_kg"].dtype
    assert out["weight_kg"].tolist()[::2] == [71.5, 3.25]
    assert out["weight_kg"].isna().tolist() == [False, True, False, False]
    # Pseudonyms keep row order and nulls.
    ids = out["id"].tolist()
    assert ids[2] is None or ids[2] != ids[2]  # None or NaN
    assert ids[0] == view.apply({"id": "p3"})["id"]
    assert ids[1] == view.apply({"id": "p1"})["id"]
    assert out["ssn"].isna().all()


def test_polars_round_trip(engine, key) -> None:
    pl = pytest.importorskip("polars")
    view = vitals(engine, key)
    df = pl.DataFrame(
        {
            "id": ["p1", "p2", None],
            "gender": ["male", None, "female"],
            "weight_kg": [1.0, 2.0, None],
            "ssn": ["999-53-8547", None, "999-00-0001"],
        }
    )
    out = view.deidentify(df)
    assert isinstance(out, pl.DataFrame)
    assert out.columns == df.columns
    assert out["gender"].to_list() == ["male", None, "female"]
    assert out.schema["weight_kg"] == pl.Float64
    assert out["weight_kg"].to_list() == [1.0, 2.0, None]
    assert out["id"].to_list()[2] is None
    assert out["id"].to_list()[0] == view.apply({"id": "p1"})["id"]
    assert out["ssn"].null_count() == 3


def test_record_batch_in_record_batch_out(engine, key, sample) -> None:
    view = coder(engine, key)
    batch = sample.slice(0, 7).to_batches()[0]
    out = view.deidentify(batch)
    assert isinstance(out, pa.RecordBatch)
    assert out.num_rows == 7
    assert out.schema == view.output_schema(batch.schema)


def test_empty_table_keeps_declared_schema(engine, key, sample) -> None:
    view = coder(engine, key)
    empty = sample.slice(0, 0)
    out = view.deidentify(empty)
    assert out.num_rows == 0
    assert out.schema == view.output_schema(sample.schema)


def test_large_table_uses_slices_and_keeps_order(engine, key, sample) -> None:
    view = coder(engine, key)
    big = pa.concat_tables([sample] * 120)  # 137,280 rows: more than two 65,536-row slices
    out = view.deidentify(big)
    assert out.num_rows == big.num_rows
    first = out.slice(0, 1144).to_pylist()
    last = out.slice(out.num_rows - 1144, 1144).to_pylist()
    assert first == last


def test_unknown_type_is_an_error_not_a_leak(engine, key) -> None:
    view = coder(engine, key)
    # A pseudonymized column of bytes: no faithful text form, so an error, never the bytes.
    table = pa.table({"id": pa.array([b"p-001"], type=pa.binary())})
    with pytest.raises(phiguard.InputError) as err:
        view.deidentify(table)
    assert err.value.location["field"] == "id"
    assert err.value.code == "input"


def test_not_a_table_is_a_type_error(engine, key) -> None:
    with pytest.raises(TypeError):
        coder(engine, key).deidentify([{"id": "p1"}])


def test_catalog_chosen_from_columns(engine, key, sample) -> None:
    view = engine.view(role="coder", purpose="HOPERAT", key=key, as_of_year=2026)
    assert view.request["catalog"] is None
    assert view.deidentify(sample).to_pylist() == coder(engine, key).deidentify(sample).to_pylist()
