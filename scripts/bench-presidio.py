"""Free-text PHI detection, phiguard beside Presidio, on one labeled corpus.

Prints, for each engine: throughput in MB/s on one core (detect only, and detect + replace),
and recall and precision under one scoring rule. Presidio runs only when `presidio_analyzer`
is importable and its spaCy model loads; otherwise the script says why it was left out.

    python scripts/bench-presidio.py [CORPUS.jsonl] [--limit N] [--presidio-model NAME_OR_PATH]

CORPUS is JSON lines of {"text", "spans": [{"start", "end", "label"}]} with str offsets
(default: ../shared/data/presidio-synth-v2/dev.jsonl). `make bench-presidio` runs it in the
project's venv; `make bench-presidio PRESIDIO=1` first installs presidio-analyzer and
presidio-anonymizer there. spaCy 3 models are not on PyPI: pass a model's directory with
--presidio-model when `en_core_web_sm` is not installed.

Scoring, the same for both engines: a gold span is found when detected spans (of any
category) cover all its letters and digits; a detected span is correct when it overlaps a
gold span of any label. Gold labels scored: persons, street addresses, ZIP codes, phones,
e-mail, SSN, card and bank numbers, IP addresses, URLs and licences. DATE_TIME and AGE are
left out because their gold spans mix PHI with values Safe Harbor keeps (years, ages under
90); `phiguard eval` scores those with that rule.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

SCORED = {
    "PERSON", "NAME", "STREET_ADDRESS", "ADDRESS", "ZIP_CODE", "PHONE_NUMBER", "EMAIL_ADDRESS",
    "US_SSN", "CREDIT_CARD", "IBAN_CODE", "US_BANK_NUMBER", "IP_ADDRESS", "URL", "DOMAIN_NAME",
    "US_DRIVER_LICENSE", "MEDICAL_LICENSE", "US_PASSPORT",
}
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared/data/presidio-synth-v2/dev.jsonl"


def load(path: Path, limit: int | None) -> list[dict]:
    docs = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    docs.append(json.loads(line))
                except json.JSONDecodeError as e:
                    sys.exit(f"{path}:{n}: not JSON: {e}")
            if limit and len(docs) >= limit:
                break
    return docs


def score(docs: list[dict], found: list[list[tuple[int, int]]]) -> tuple[float, float, int]:
    gold_n = gold_hit = det_n = det_hit = 0
    for doc, spans in zip(docs, found):
        text = doc["text"]
        covered = bytearray(len(text))
        for s, e in spans:
            covered[s:e] = b"\x01" * (e - s)
        gold = [(g["start"], g["end"]) for g in doc["spans"]]
        for g in doc["spans"]:
            if g["label"] not in SCORED:
                continue
            gold_n += 1
            gold_hit += all(covered[i] or not text[i].isalnum() for i in range(g["start"], g["end"]))
        for s, e in spans:
            det_n += 1
            det_hit += any(s < ge and gs < e for gs, ge in gold)
    return gold_hit / max(gold_n, 1), det_hit / max(det_n, 1), gold_n


def best_of(runs: int, f) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def run_phiguard(docs: list[dict], mb: float) -> dict:
    import phiguard

    engine = phiguard.Engine()
    view = engine.view(role="data_analyst", purpose="HRESCH", catalog="free-text", as_of_year=2026)
    texts = [d["text"] for d in docs]
    found = [[(s["start"], s["end"]) for s in engine.detect(t)] for t in texts]
    detect = best_of(3, lambda: [engine.detect(t) for t in texts])
    replace = best_of(3, lambda: [view.scrub_text(t) for t in texts])
    recall, precision, _ = score(docs, found)
    return {"name": f"phiguard {phiguard.__version__}", "detect": mb / detect,
            "replace": mb / replace, "recall": recall, "precision": precision}


def run_presidio(docs: list[dict], mb: float, model: str) -> dict | str:
    try:
        from importlib.metadata import version as dist_version

        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError as e:
        return f"presidio_analyzer is not installed ({e}); `make bench-presidio PRESIDIO=1` installs it"
    try:
        nlp = NlpEngineProvider(nlp_configuration={
            "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}],
        }).create_engine()
        analyzer = AnalyzerEngine(nlp_engine=nlp)
    except Exception as e:  # noqa: BLE001 - any failure to load the model means "left out"
        return f"its spaCy model `{model}` did not load ({type(e).__name__}: {e})"
    try:
        from presidio_anonymizer import AnonymizerEngine
        anonymizer = AnonymizerEngine()
    except ImportError:
        anonymizer = None
    texts = [d["text"] for d in docs]
    results = [analyzer.analyze(text=t, language="en") for t in texts]
    found = [[(r.start, r.end) for r in rs] for rs in results]
    detect = best_of(1, lambda: [analyzer.analyze(text=t, language="en") for t in texts])
    replace = None
    if anonymizer is not None:
        replace = best_of(1, lambda: [
            anonymizer.anonymize(text=t, analyzer_results=analyzer.analyze(text=t, language="en"))
            for t in texts])
    recall, precision, _ = score(docs, found)
    high = [[(r.start, r.end) for r in rs if r.score >= 0.5] for rs in results]
    recall_high, precision_high, _ = score(docs, high)
    version = dist_version("presidio-analyzer")
    return {"name": f"Presidio {version} ({Path(model).name})", "detect": mb / detect,
            "replace": mb / replace if replace else None, "recall": recall,
            "precision": precision, "high": (recall_high, precision_high)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--limit", type=int, help="first N texts only")
    ap.add_argument("--presidio-model", default="en_core_web_sm")
    args = ap.parse_args()
    docs = load(args.corpus, args.limit)
    mb = sum(len(d["text"].encode("utf-8")) for d in docs) / 1e6
    _, _, gold = score(docs, [[] for _ in docs])
    print(f"{args.corpus.name}: {len(docs)} texts, {mb * 1e3:.1f} KB, {gold} gold spans scored")
    rows = [run_phiguard(docs, mb)]
    presidio = run_presidio(docs, mb, args.presidio_model)
    if isinstance(presidio, str):
        print(f"Presidio left out: {presidio}")
    else:
        rows.append(presidio)
    print(f"{'engine':44} {'detect MB/s':>12} {'+replace MB/s':>14} {'recall':>7} {'precision':>9}")
    for r in rows:
        rep = f"{r['replace']:14.3f}" if r["replace"] else f"{'-':>14}"
        print(f"{r['name']:44} {r['detect']:12.3f} {rep} {r['recall']:7.3f} {r['precision']:9.3f}")
        if "high" in r:
            print(f"{'  (results with score >= 0.5)':44} {'':12} {'':14} {r['high'][0]:7.3f} {r['high'][1]:9.3f}")
    if len(rows) == 2 and rows[1]["detect"] > 0:
        print(f"phiguard detects {rows[0]['detect'] / rows[1]['detect']:,.0f}x faster, on one core from Python")


if __name__ == "__main__":
    main()
