"""Free text: recall on the value formats of Faker's locales, in sentences of our own.

The dev sets' recall says how well the detector knows their templates; this says how well it
knows the values themselves: phone numbers, names and addresses as 50 locales write them, each
dropped into short clinical or general sentences written here (not taken from any labelled
set). Values come from Faker with fixed seeds, so a run is repeatable.

    make stress-faker            # builds the CLI, installs faker in the venv, runs this
    python scripts/faker-stress.py --phiguard target/release/phiguard [--seed 7] [--show 3]

A gold span counts as found when detected spans cover each of its letters and digits, as
`phiguard eval` counts overlap recall. Printed: recall per category, and the locales below
the category's recall with a few missed values each.
"""

import argparse
import collections
import json
import random
import subprocess
import sys
import tempfile

from faker import Faker

LOCALES = [
    "en_US", "en_GB", "en_CA", "en_AU", "en_IE", "en_NZ", "en_IN", "de_DE", "de_AT", "de_CH",
    "fr_FR", "fr_CA", "it_IT", "es_ES", "es_MX", "pt_PT", "pt_BR", "nl_NL", "nl_BE", "sv_SE",
    "da_DK", "no_NO", "fi_FI", "is_IS", "pl_PL", "cs_CZ", "hu_HU", "sk_SK", "sl_SI", "hr_HR",
    "ro_RO", "el_GR", "tr_TR", "ru_RU", "uk_UA", "ja_JP", "zh_CN", "ko_KR", "hi_IN", "id_ID",
    "fil_PH", "vi_VN", "th_TH", "he_IL", "ar_SA", "fa_IR", "lt_LT", "lv_LV", "et_EE", "bg_BG",
]

TEMPLATES = {
    "phone": [
        "Please call {} to reschedule.",
        "Contact number: {}",
        "The pharmacy phoned from {} this morning.",
        "Daughter can be reached at {} after 5pm.",
        "Tel {} (home)",
        "If symptoms worsen, ring {} immediately.",
        "my number is {} if you need anything",
        "Emergency contact phone {}.",
    ],
    "name": [
        "Patient {} was seen today for follow-up.",
        "Seen with {} at bedside.",
        "Referred by {} for evaluation.",
        "{} reports feeling better.",
        "Discussed plan with {}, the patient's son.",
        "Dear {}, your results are ready.",
        "Name: {}",
        "I spoke to {} on the phone yesterday.",
        "Signed, {}",
        "Visitor {} arrived at noon.",
    ],
    "street": [
        "Home address: {}",
        "Patient lives at {} with her husband.",
        "Send the letter to {}.",
        "Moved to {} last spring.",
        "Address on file is {}.",
        "Pick-up location: {}",
    ],
}
LABELS = {"phone": "PHONE_NUMBER", "name": "PERSON", "street": "STREET_ADDRESS"}
PER_LOCALE = 40


def value(fake, category, i):
    if category == "phone":
        return fake.phone_number()
    if category == "name":
        return fake.name()
    # Half street lines, half whole addresses on one line.
    return fake.street_address() if i % 2 else fake.address().replace("\n", ", ")


def generate(seed):
    rnd = random.Random(seed)
    rows = []
    for category, templates in TEMPLATES.items():
        for locale in LOCALES:
            fake = Faker(locale)
            fake.seed_instance(rnd.randrange(1 << 30))
            for i in range(PER_LOCALE):
                try:
                    v = value(fake, category, i)
                except AttributeError:
                    break  # the locale has no provider for this category
                template = rnd.choice(templates)
                start = template.index("{}")
                rows.append({
                    "text": template.replace("{}", v),
                    "category": category,
                    "locale": locale,
                    "span": {"start": start, "end": start + len(v), "label": LABELS[category], "value": v},
                })
    return rows


def detect(phiguard, rows):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"text": r["text"]}, ensure_ascii=False) + "\n")
        f.flush()
        out = subprocess.run([phiguard, "detect", "--jsonl", f.name], check=True,
                             capture_output=True, text=True).stdout
    found = collections.defaultdict(list)
    for line in out.splitlines():
        d = json.loads(line)
        found[d["line"]].append((d["start"], d["end"]))
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phiguard", default="target/release/phiguard")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--show", type=int, default=3, help="missed values shown per locale")
    args = ap.parse_args()

    rows = generate(args.seed)
    found = detect(args.phiguard, rows)
    hits = collections.defaultdict(lambda: [0, 0])
    missed = collections.defaultdict(list)
    for n, r in enumerate(rows, 1):
        s, text = r["span"], r["text"]
        covered = set()
        for a, b in found[n]:
            covered.update(range(a, b))
        ok = all(k in covered or not text[k].isalnum() for k in range(s["start"], s["end"]))
        for key in ((r["category"], None), (r["category"], r["locale"])):
            hits[key][0] += ok
            hits[key][1] += 1
        if not ok:
            missed[(r["category"], r["locale"])].append(s["value"])

    print(f"faker {Faker.__module__.split('.')[0]} seed {args.seed}: {len(rows)} sentences")
    for category in TEMPLATES:
        got, total = hits[(category, None)]
        recall = got / total
        print(f"{category:7} recall {recall:.3f} ({got}/{total})")
        worst = sorted((g / t, loc) for (c, loc), (g, t) in hits.items()
                       if c == category and loc and g / t < recall)
        for r, loc in worst:
            sample = " | ".join(missed[(category, loc)][: args.show])
            print(f"  {loc:7} {r:.3f}  {sample}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
