"""Property tests: output is a function of key and input; Safe Harbor leaks no identifier."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import phiguard

ENGINE = phiguard.Engine()
KEY = phiguard.Key.from_bytes(bytes(range(32)))
CODER = ENGINE.view(role="coder", purpose="HOPERAT", catalog="synthea-patients", key=KEY,
                    as_of_year=2026)
ANALYST = ENGINE.view(role="data_analyst", purpose="HRESCH", catalog="synthea-patients",
                      as_of_year=2026)
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(pid=text, name=text, ssn=text)
def test_deterministic_across_views_and_calls(pid, name, ssn) -> None:
    rec = {"id": pid, "given": name, "ssn": ssn}
    other = ENGINE.view(role="coder", purpose="HOPERAT", catalog="synthea-patients", key=KEY,
                        as_of_year=2026)
    a, b = CODER.apply(rec), other.apply(dict(rec))
    assert a == b
    assert a["ssn"] is None
    assert a["id"] != pid and a["given"] != name


@settings(max_examples=200, deadline=None)
@given(ssn=text, phone=text, email=text, street=text, family=text)
def test_safe_harbor_releases_none_of_the_direct_identifiers(ssn, phone, email, street, family):
    rec = {"ssn": ssn, "phone": phone, "email": email, "address_line": street, "family": family}
    out = ANALYST.apply(rec)
    assert all(v is None for v in out.values()), out
