"""Table kinds in and out of the Arrow path: the same kind comes back as went in."""

from __future__ import annotations

from typing import Any


def _kind(table: Any) -> str:
    root = type(table).__module__.split(".", 1)[0]
    name = type(table).__name__
    if root == "pandas" and name == "DataFrame":
        return "pandas"
    if root == "polars" and name == "DataFrame":
        return "polars"
    if root == "pyarrow" and name == "RecordBatch":
        return "batch"
    if hasattr(table, "__arrow_c_stream__"):
        return "arrow"
    raise TypeError(
        f"cannot de-identify a {type(table).__module__}.{name}: expected a pyarrow Table or "
        "RecordBatch, a pandas or polars DataFrame, or an object with __arrow_c_stream__"
    )


def deidentify(view: Any, table: Any) -> Any:
    kind = _kind(table)
    if kind == "pandas":
        import pyarrow as pa

        # The index is not data: it is kept aside and put back, so row order and labels survive.
        arrow = pa.Table.from_pandas(table, preserve_index=False)
        out, _ = view._deidentify_arrow(arrow)
        frame = out.to_pandas()
        frame.index = table.index
        return frame
    if kind == "polars":
        import polars as pl

        out, _ = view._deidentify_arrow(table)
        return pl.from_arrow(out)
    if kind == "batch":
        import pyarrow as pa

        out, _ = view._deidentify_arrow(pa.Table.from_batches([table]))
        return out.combine_chunks().to_batches()[0] if out.num_rows else pa.RecordBatch.from_pylist(
            [], schema=out.schema
        )
    out, _ = view._deidentify_arrow(table)
    return out
