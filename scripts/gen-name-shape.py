#!/usr/bin/env python3
"""Trains the name-shape model, core/data/names/shape.bin: a logistic regression that tells a
person's name (`Szczepańska`, `Nishiyama`) from an English word by its letters, for the
names no lexicon holds.

Positives are the names of core/data/names/first.txt and last.txt; negatives are the words of
Debian's `wamerican` list that are not names. No clinical or evaluation text is read.

usage: python3 -m venv /tmp/v && /tmp/v/bin/pip install numpy==2.4.6 scikit-learn==1.9.1
       /tmp/v/bin/python scripts/gen-name-shape.py /usr/share/dict/american-english

Features are the 1- to 4-letter n-grams of `^WORD$` (upper case), hashed with FNV-1a 32 over
the n-gram's UTF-8 followed by the byte `'0' + n`, modulo BUCKETS (so the hashes of the
n-grams at one position share their prefix). The file is the bias as
an i32 (little-endian) and one i8 weight per bucket, both times SCALE; `core/src/text.rs`
computes the same sum in integers. Prints held-out recall (names) and false-positive rate
(words) per threshold.
"""
import random
import sys
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

BUCKETS = 1 << 14
SCALE = 32
ORDERS = (1, 2, 3, 4)
names_dir = Path(__file__).resolve().parent.parent / "core" / "data" / "names"


def fnv1a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def features(word: str) -> list[int]:
    s = "^" + word + "$"
    return [
        fnv1a(s[i : i + n].encode() + bytes([0x30 + n])) % BUCKETS
        for n in ORDERS
        for i in range(len(s) - n + 1)
    ]


def matrix(words):
    rows, cols = [], []
    for r, w in enumerate(words):
        for c in features(w):
            rows.append(r)
            cols.append(c)
    return csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(words), BUCKETS))


names = {
    l.strip() for f in ("first.txt", "last.txt") for l in (names_dir / f).read_text().splitlines() if l.strip()
}
words = {
    w.strip().upper()
    for w in Path(sys.argv[1]).read_text(errors="ignore").splitlines()
    if w.strip() and "'" not in w
} - names
pos, neg = sorted(names), sorted(words)
rng = random.Random(1)
rng.shuffle(pos)
rng.shuffle(neg)

# Held-out tenth first, to report; then the model on everything.
kp, kn = len(pos) // 10, len(neg) // 10
held = LogisticRegression(C=1.0, max_iter=3000).fit(
    matrix(pos[kp:] + neg[kn:]), np.array([1] * (len(pos) - kp) + [0] * (len(neg) - kn))
)
sp, sn = held.decision_function(matrix(pos[:kp])), held.decision_function(matrix(neg[:kn]))
for t in (0, 1, 2, 3, 4):
    print(f"threshold {t}: held-out name recall {(sp > t).mean():.3f}, word false positives {(sn > t).mean():.4f}")

model = LogisticRegression(C=1.0, max_iter=3000).fit(matrix(pos + neg), np.array([1] * len(pos) + [0] * len(neg)))
weights = np.clip(np.round(model.coef_[0] * SCALE), -127, 127).astype(np.int8)
bias = int(round(float(model.intercept_[0]) * SCALE))
(names_dir / "shape.bin").write_bytes(bias.to_bytes(4, "little", signed=True) + weights.tobytes())
print(len(pos), "names,", len(neg), "words,", BUCKETS, "buckets, bias", bias)
