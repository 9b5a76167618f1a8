"""The same view on Spark (local[2], mapInArrow) gives exactly the single-machine output."""

from __future__ import annotations

import os
import sys

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import phiguard
from conftest import SAMPLE_CSV

pyspark = pytest.importorskip("pyspark")
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    # Workers must run this interpreter, where phiguard is installed.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("phiguard-test")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_spark_equals_single_machine(spark, key_file) -> None:
    from phiguard.spark import deidentify

    names = SAMPLE_CSV.read_text().splitlines()[0].split(",")
    table = pacsv.read_csv(SAMPLE_CSV, convert_options=pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=False))
    key = phiguard.Key.from_file(key_file)
    view = phiguard.Engine().view(role="coder", purpose="HOPERAT", catalog="synthea-patients",
                                  key=key, as_of_year=2026)
    local = view.deidentify(table).to_pylist()

    df = spark.createDataFrame(table.to_pandas()).repartition(4)
    out = deidentify(df, view)
    assert out.columns == table.column_names
    rows = [r.asDict() for r in out.collect()]
    assert len(rows) == len(local) == 1144
    key_of = lambda r: (r["id"], r["mrn"])  # noqa: E731
    assert sorted(rows, key=key_of) == sorted(local, key=key_of)
    assert out.rdd.getNumPartitions() == 4
