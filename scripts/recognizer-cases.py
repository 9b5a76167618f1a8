#!/usr/bin/env python3
"""Agreement with Presidio's recognizer test expectations, per entity we detect.

usage: python3 scripts/recognizer-cases.py [../shared/data/presidio-recognizer-cases/cases.jsonl]
A case agrees when, for an expected match, a span of the mapped category overlaps each expected
span (or exists, when none is given), and for an expected non-match, no span of that category is
found. Presidio's expectations encode Presidio's behaviour, not ground truth.
"""
import collections, json, subprocess, sys, tempfile, os

MAP = {"US_SSN": "ssn", "PHONE_NUMBER": "phone", "EMAIL_ADDRESS": "email", "IP_ADDRESS": "ip_address",
       "URL": "url", "CREDIT_CARD": "account", "IBAN_CODE": "account", "DATE_TIME": "event_date",
       "US_DRIVER_LICENSE": "license", "MEDICAL_LICENSE": "license", "US_PASSPORT": "passport",
       "US_BANK_NUMBER": "account", "US_ITIN": "ssn", "NPI": "license"}
path = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/presidio-recognizer-cases/cases.jsonl"
cases = [json.loads(l) for l in open(path)]
cases = [c for c in cases if c.get("text") and any(e in MAP for e in c.get("entities", []))]
with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
    for c in cases:
        f.write(json.dumps({"text": c["text"]}) + "\n")
    name = f.name
binary = os.environ.get("PHIGUARD", "target/release/phiguard")
out = subprocess.run([binary, "detect", "--jsonl", name], capture_output=True, text=True, check=True).stdout
spans = collections.defaultdict(list)
for l in out.splitlines():
    s = json.loads(l)
    spans[s["line"]].append(s)
agree, total, misses = collections.Counter(), collections.Counter(), collections.defaultdict(list)
for i, c in enumerate(cases, 1):
    for ent in c["entities"]:
        cat = MAP.get(ent)
        if not cat:
            continue
        found = [s for s in spans[i] if s["category"] == cat]
        exp = c.get("expected_spans") or []
        if c.get("expected_match"):
            ok = bool(found) and all(any(s["start"] < e["end"] and s["end"] > e["start"] for s in found) for e in exp)
        else:
            ok = not found
        total[ent] += 1
        agree[ent] += ok
        if not ok:
            misses[ent].append((c.get("expected_match"), c["text"][:60]))
for ent in sorted(total):
    print(f"{ent:<18} {agree[ent]:>4}/{total[ent]:<4} agree")
print(f"{'all':<18} {sum(agree.values()):>4}/{sum(total.values())}")
if "-v" in sys.argv:
    for ent, m in misses.items():
        for x in m[:8]:
            print(ent, x)
