"""File de-identification: CSV and JSON stream through the core; Parquet through pyarrow."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]


def _progress_bar(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, desc="phiguard")


def deidentify_file(
    view: Any,
    input: PathLike,
    output: PathLike,
    *,
    format: Optional[str] = None,
    progress: bool = False,
    batch_rows: int = 65_536,
) -> Dict[str, Any]:
    """De-identify ``input`` into ``output`` with ``view``, streaming in constant memory.

    CSV, JSON lines (``.jsonl``/``.ndjson``) and JSON keep their format. Parquet
    (``.parquet``) is read and written in batches of ``batch_rows`` with pyarrow. The output
    file appears only when the whole input was treated. ``progress=True`` shows a tqdm bar when
    tqdm is installed. Returns a summary: ``rows``, values per ``treatments``,
    ``unknown_columns`` and ``plans``.
    """
    src, dst = Path(input), Path(output)
    fmt = (format or src.suffix.lstrip(".")).lower()
    if fmt != "parquet":
        bar = _progress_bar(src.stat().st_size if src.exists() else 0, progress)
        callback = None
        if bar is not None:

            def callback(done: int, _total: int, _rows: int) -> None:
                bar.update(done - bar.n)

        try:
            return view._deidentify_text_file(src, dst, format=format, progress=callback)
        finally:
            if bar is not None:
                bar.close()
    return _parquet(view, src, dst, progress, batch_rows)


def _parquet(view: Any, src: Path, dst: Path, progress: bool, batch_rows: int) -> Dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    reader = pq.ParquetFile(src)
    schema = view.output_schema(reader.schema_arrow)
    bar = _progress_bar(reader.metadata.num_rows, progress)
    total: Dict[str, Any] = {"rows": 0, "treatments": {}, "unknown_columns": [], "plans": 0}
    fd, tmp = tempfile.mkstemp(prefix=".phiguard-", suffix=".partial", dir=dst.parent or ".")
    os.close(fd)
    try:
        with pq.ParquetWriter(tmp, schema) as writer:
            for batch in reader.iter_batches(batch_size=batch_rows):
                out, summary = view._deidentify_arrow(pa.Table.from_batches([batch]))
                writer.write_table(out)
                total["rows"] += summary["rows"]
                for k, v in summary["treatments"].items():
                    total["treatments"][k] = total["treatments"].get(k, 0) + v
                total["unknown_columns"] = summary["unknown_columns"]
                total["plans"] = summary["plans"]
                if bar is not None:
                    bar.update(batch.num_rows)
        os.replace(tmp, dst)
    except BaseException:
        os.unlink(tmp)
        raise
    finally:
        if bar is not None:
            bar.close()
    return total
