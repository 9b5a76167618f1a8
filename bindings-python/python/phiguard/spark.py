"""Run a view over a Spark DataFrame with ``mapInArrow``: the same output as on one machine.

Pseudonyms and per-patient date shifts are pure functions of the key and the value, so
partitions agree without coordination. The view is shipped to executors as its configuration
(policy texts, request) and its key *as a reference*: a key from ``Key.from_file`` is read from
that path on each executor, one from ``Key.from_env`` from that variable there. The key never
travels in the task closure, at the price of provisioning it on every executor (a secret
mount, or ``spark.executorEnv.PHIGUARD_KEY``, which Spark keeps in its configuration: visible
to whoever can read it). A key made from bytes refuses to pickle rather than travel.

Usage::

    from phiguard.spark import deidentify
    out = deidentify(spark.read.parquet("patients/"), view)
"""

from __future__ import annotations

from typing import Any, Iterator


def deidentify(df: Any, view: Any) -> Any:
    """De-identify a ``pyspark.sql.DataFrame`` with ``view``; returns a new DataFrame."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    arrow_in = to_arrow_schema(df.schema)
    arrow_out = view.output_schema(arrow_in)
    spark_out = from_arrow_schema(arrow_out)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield view.deidentify_batch(batch)

    return df.mapInArrow(run, spark_out)
