"""FHIR through Python: Synthea Bundles (``../shared/data``, skipped when absent) treated
per role, every output resource checked against HL7's R4B models (``fhir.resources``, built
from the FHIR StructureDefinitions: types, cardinalities, required elements, choice
elements), with no error the input did not already have."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B import get_fhir_model_class

import phiguard
from conftest import ROOT

BUNDLES = sorted((ROOT.parent / "shared" / "data" / "synthea-fhir-bundles").glob("*.json"))


def problems(resource: dict) -> list[str]:
    """The model errors of one resource, as paths and kinds (never values)."""
    cls = get_fhir_model_class(resource["resourceType"])
    try:
        cls.parse_obj(resource)
    except Exception as e:  # pydantic's ValidationError
        errors = getattr(e, "errors", lambda: [{"loc": ("?",), "type": type(e).__name__}])()
        return sorted(f"{'.'.join(map(str, x['loc']))}:{x['type']}" for x in errors)
    return []


def entries(bundle: dict) -> list[dict]:
    return [e["resource"] for e in bundle.get("entry", []) if "resource" in e]


@pytest.mark.skipif(not BUNDLES, reason="shared Synthea bundles not found")
@pytest.mark.parametrize("role,purpose", [("data_analyst", "HRESCH"), ("coder", "HOPERAT"), ("physician", "TREAT")])
def test_bundles_stay_valid_fhir(engine, key, role, purpose) -> None:
    view = engine.view(role=role, purpose=purpose, as_of_year=2026, key=key)
    docs = [json.loads(p.read_text()) for p in BUNDLES[:4]]
    out = view.deidentify_fhir(docs)
    assert len(out) == len(docs)
    checked = 0
    for before, after in zip(docs, out):
        assert after["resourceType"] == "Bundle"
        old = {r["resourceType"]: set() for r in entries(before)}
        for r in entries(before):
            old[r["resourceType"]].update(problems(r))
        for r in entries(after):
            new = set(problems(r)) - old.get(r["resourceType"], set())
            assert not new, f"{r['resourceType']}: {sorted(new)[:5]}"
            checked += 1
    assert checked > 1000


def test_one_resource_comes_back_as_a_dict(engine) -> None:
    view = engine.view(role="data_analyst", purpose="HRESCH", as_of_year=2026)
    p = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Quarrie"}],
         "birthDate": "1980-04-02", "gender": "female"}
    out = view.deidentify_fhir(p)
    assert out == {"resourceType": "Patient", "id": "00000000-0000-8000-8000-000000000001",
                   "birthDate": "1980", "gender": "female",
                   "meta": {"security": [
                       {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                        "code": c, "display": d}
                       for c, d in (("ABSTRED", "abstracted"), ("PSEUDED", "pseudonymized"),
                                    ("REDACTED", "redacted"))]}}
    assert problems(out) == []


def test_bad_fhir_is_a_located_error_without_values(engine) -> None:
    view = engine.view(role="data_analyst", purpose="HRESCH", as_of_year=2026)
    with pytest.raises(phiguard.InputError, match="resourceType") as e:
        view.deidentify_fhir({"id": "Quarrie"})
    assert "Quarrie" not in str(e.value)
    with pytest.raises(phiguard.InputError, match="not a FHIR R4 resource type") as e:
        view.deidentify_fhir({"resourceType": "Pateint", "id": "Quarrie"})
    assert "Quarrie" not in str(e.value)


def test_on_error_withholds_the_bad_entry_and_keeps_the_rest(engine) -> None:
    view = engine.view(role="data_analyst", purpose="HRESCH", as_of_year=2026)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "gender": "female"}},
        {"resource": {"name": [{"family": "Quarrie"}]}}]}
    with pytest.raises(phiguard.InputError, match=r"entry\[1\]\.resource") as e:
        view.deidentify_fhir(bundle)
    assert "Quarrie" not in str(e.value)
    out = view.deidentify_fhir(bundle, on_error="withhold")
    assert [x["resource"]["resourceType"] for x in out["entry"]] == ["Patient"]
    with pytest.raises(ValueError, match="stop"):
        view.deidentify_fhir(bundle, on_error="skip")


def test_a_file_path_is_read_as_json_or_ndjson(engine, tmp_path) -> None:
    view = engine.view(role="data_analyst", purpose="HRESCH", as_of_year=2026)
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Quarrie"}],
               "gender": "female"}
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
           "subject": {"reference": "Patient/p1"}}
    nd = tmp_path / "Oswin_Quarrie.ndjson"
    nd.write_text(json.dumps(patient) + "\n\n" + json.dumps(obs) + "\n")
    out = view.deidentify_fhir(nd)
    assert [r["resourceType"] for r in out] == ["Patient", "Observation"]
    assert out[1]["subject"]["reference"] == "Patient/" + out[0]["id"]
    assert "Quarrie" not in json.dumps(out)
    one = tmp_path / "one.json"
    one.write_text(json.dumps(patient))
    assert view.deidentify_fhir(str(one))["gender"] == "female"
    nd.write_text(json.dumps(patient) + "\n{not json\n")
    with pytest.raises(phiguard.InputError, match=":2") as e:
        view.deidentify_fhir(nd)
    assert "Quarrie" not in str(e.value)
