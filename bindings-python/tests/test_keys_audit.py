"""Keys stay secret, pickle as references; the audit log chains and verifies."""

from __future__ import annotations

import json
import pickle

import pytest

import phiguard


def test_repr_shows_the_id_never_the_key(key_file) -> None:
    text = key_file.read_text().strip()
    key = phiguard.Key.from_file(key_file)
    hex_part = text.split(":", 1)[1]
    for shown in (repr(key), str(key)):
        assert key.id in shown
        assert hex_part not in shown and hex_part[:16] not in shown
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_bytes_key_refuses_to_pickle(key) -> None:
    with pytest.raises(TypeError, match="does not pickle"):
        pickle.dumps(key)


def test_file_and_env_keys_pickle_as_references(key_file, monkeypatch) -> None:
    key = phiguard.Key.from_file(key_file)
    blob = pickle.dumps(key)
    assert key_file.read_text().strip().split(":", 1)[1].encode() not in blob
    assert pickle.loads(blob).id == key.id
    monkeypatch.setenv("PHIGUARD_TEST_KEY", key_file.read_text())
    env_key = phiguard.Key.from_env("PHIGUARD_TEST_KEY")
    assert pickle.loads(pickle.dumps(env_key)).id == key.id


def test_view_and_engine_pickle_and_agree(engine, key_file) -> None:
    key = phiguard.Key.from_file(key_file)
    view = engine.view(role="coder", purpose="HOPERAT", catalog="synthea-patients", key=key,
                       as_of_year=2026)
    again = pickle.loads(pickle.dumps(view))
    rec = {"id": "p1", "birth_date": "1980-02-29", "postal_code": "02139", "ssn": "999-53-8547"}
    assert again.apply(rec) == view.apply(rec)
    assert pickle.loads(pickle.dumps(engine)).catalogs == engine.catalogs


def test_audited_view_refuses_to_pickle(engine, key, tmp_path) -> None:
    view = engine.view(role="coder", purpose="HOPERAT", catalog="synthea-patients", key=key,
                       audit=tmp_path / "audit.jsonl")
    with pytest.raises(TypeError, match="audited"):
        pickle.dumps(view)


def test_audit_without_key_is_refused(engine, tmp_path) -> None:
    with pytest.raises(phiguard.KeyMaterialError):
        engine.view(role="coder", purpose="HOPERAT", catalog="synthea-patients",
                    audit=tmp_path / "audit.jsonl")


def test_audit_chain_records_and_detects_tampering(engine, key, tmp_path) -> None:
    log = tmp_path / "audit.jsonl"
    view = engine.view(role="coder", purpose="HOPERAT", catalog="synthea-patients", key=key,
                       user="u-7", audit=log)
    view.apply_many([{"id": "p1"}, {"id": "p2"}])
    # Reopening continues the chain.
    view2 = engine.view(role="billing_analyst", purpose="HPAYMT", catalog="synthea-patients",
                        key=key, audit=log)
    view2.apply({"id": "p3"})
    result = phiguard.verify_audit(log, key)
    lines = log.read_text().splitlines()
    assert result == {"entries": len(lines), "break_glass": 0}
    assert len(lines) >= 4
    events = [json.loads(line)["event"] for line in lines]
    assert [e["kind"] for e in events].count("disclosure") == 2
    assert events[1]["records"] == ["p1", "p2"]
    # Edit the second entry: verify names it.
    tampered = lines[:]
    tampered[1] = tampered[1].replace("u-7", "u-8")
    log.write_text("\n".join(tampered) + "\n")
    with pytest.raises(phiguard.AuditError) as err:
        phiguard.verify_audit(log, key)
    assert err.value.entry == 2
    # The wrong key fails at the first entry.
    log.write_text("\n".join(lines) + "\n")
    with pytest.raises(phiguard.AuditError) as err:
        phiguard.verify_audit(log, phiguard.Key.from_bytes(bytes([9] * 32)))
    assert err.value.entry == 1
