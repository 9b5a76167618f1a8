"""Each failure raises the right exception, with its code and location; nothing leaks."""

from __future__ import annotations

import pytest

import phiguard


def test_hierarchy() -> None:
    for cls in (phiguard.PolicyError, phiguard.CatalogError, phiguard.RequestError,
                phiguard.InputError, phiguard.KeyMaterialError, phiguard.AuditError,
                phiguard.FileError, phiguard.InternalError):
        assert issubclass(cls, phiguard.PhiguardError)
    assert issubclass(phiguard.PhiguardError, Exception)


def test_broken_policy_names_file_line_and_column() -> None:
    bad = 'permit(principal, action == Phi::Action::"clear", resource)\nwhen { context.nope };'
    with pytest.raises(phiguard.PolicyError) as err:
        phiguard.Engine(policies=[bad])
    assert err.value.code == "policy"
    assert err.value.location["source"] == "<policies>[0]"
    assert err.value.location["line"] >= 1


def test_policy_naming_an_unknown_role_is_refused() -> None:
    text = 'permit(principal in Phi::Role::"janitor", action, resource);'
    with pytest.raises(phiguard.PolicyError, match="janitor"):
        phiguard.Engine(policies=[text])


def test_broken_catalog(engine) -> None:
    with pytest.raises(phiguard.CatalogError) as err:
        engine.with_catalog('name = "x"\n[fields]\nssn = { category = "no_such" }\n')
    assert err.value.code == "catalog"
    assert err.value.location["line"] == 3


def test_unknown_role_purpose_and_missing_break_glass_reason(engine) -> None:
    with pytest.raises(phiguard.RequestError):
        engine.view(role="janitor", purpose="TREAT", catalog="synthea-patients")
    with pytest.raises(phiguard.RequestError):
        engine.view(role="physician", purpose="NOPE", catalog="synthea-patients")
    with pytest.raises(phiguard.RequestError):
        engine.view(role="physician", purpose="BTG", catalog="synthea-patients")
    with pytest.raises(phiguard.RequestError):
        engine.view(purpose="TREAT", catalog="synthea-patients")
    with pytest.raises(phiguard.RequestError):
        engine.view(role="physician", purpose="TREAT", catalog="no-such-catalog")


def test_key_needed_but_missing(engine) -> None:
    with pytest.raises(phiguard.KeyMaterialError) as err:
        engine.view(role="coder", purpose="HOPERAT", catalog="synthea-patients").apply(
            {"id": "p1"}
        )
    assert err.value.code == "key"


def test_short_and_malformed_keys_never_echo_the_key(tmp_path) -> None:
    with pytest.raises(phiguard.KeyMaterialError):
        phiguard.Key.from_bytes(b"short")
    secret = "phiguard-key-v1:" + "zz" * 32
    path = tmp_path / "bad.key"
    path.write_text(secret)
    with pytest.raises(phiguard.KeyMaterialError) as err:
        phiguard.Key.from_file(path)
    assert "zz" not in str(err.value)


def test_malformed_json_names_line_and_column(engine) -> None:
    view = engine.view(role="physician", purpose="TREAT", catalog="synthea-patients")
    with pytest.raises(phiguard.InputError) as err:
        view.apply_json('{"ssn": "999-53-8547",\n "gender": }')
    assert err.value.location["line"] == 2


def test_deep_nesting_is_refused_before_recursing(engine) -> None:
    view = engine.view(role="physician", purpose="TREAT", catalog="fhir-patient")
    deep: dict = {}
    cur = deep
    for _ in range(100_000):
        cur["a"] = {}
        cur = cur["a"]
    with pytest.raises(phiguard.InputError, match="nesting"):
        view.apply(deep)


def test_unsupported_values_and_keys(engine) -> None:
    view = engine.view(role="physician", purpose="TREAT", catalog="synthea-patients")
    with pytest.raises(phiguard.InputError, match="cannot treat"):
        view.apply({"ssn": object()})
    with pytest.raises(phiguard.InputError, match="not a str"):
        view.apply({1: "x"})
    with pytest.raises(phiguard.InputError, match="64 bits"):
        view.apply({"ssn": 1 << 80})


def test_unknown_fields_are_redacted(engine) -> None:
    view = engine.view(role="physician", purpose="TREAT", catalog="synthea-patients")
    out = view.apply({"gender": "male", "favourite_colour": "blue"})
    assert out == {"gender": "male", "favourite_colour": None}


def test_missing_file_is_a_file_error(engine, tmp_path) -> None:
    view = engine.view(role="physician", purpose="TREAT", catalog="synthea-patients")
    with pytest.raises(phiguard.FileError) as err:
        view.deidentify_file(tmp_path / "missing.csv", tmp_path / "out.csv")
    assert err.value.code == "io"


def test_a_panic_never_crosses_into_python() -> None:
    import phiguard._native as native

    hook = getattr(native, "_panic_for_test", None)
    if hook is None:
        pytest.skip("built without the test-hooks feature")
    with pytest.raises(phiguard.InternalError) as err:
        hook()
    assert err.value.code == "internal"
    assert type(err.value).__name__ == "InternalError"  # not pyo3's PanicException
    # The module still works afterwards.
    assert phiguard.Engine().catalogs


def test_limits_are_configurable_checked_and_survive_pickling() -> None:
    import pickle

    engine = phiguard.Engine(limits={"max_text_bytes": 32, "max_depth": 4})
    assert engine.limits["max_text_bytes"] == 32
    assert engine.limits["max_depth"] == 4
    # Caps left out keep their defaults.
    assert engine.limits["max_policies"] == phiguard.Engine().limits["max_policies"]
    view = engine.view(role="data_analyst", purpose="HRESCH", catalog="free-text", as_of_year=2026)
    assert view.scrub_text("short note") == "short note"
    with pytest.raises(phiguard.InputError, match="max_text_bytes|bytes"):
        view.scrub_text("a note that is longer than thirty-two bytes")
    physician = engine.view(role="physician", purpose="TREAT", catalog="fhir-patient")
    with pytest.raises(phiguard.InputError, match="nesting"):
        physician.apply({"a": {"b": {"c": {"d": {"e": {}}}}}})
    # A pickled engine keeps its caps (Spark workers apply the same ones).
    assert pickle.loads(pickle.dumps(engine)).limits == engine.limits
    with pytest.raises(phiguard.PolicyError):
        phiguard.Engine(limits={"max_policies": 1})


def test_record_cap_applies_to_files(tmp_path) -> None:
    engine = phiguard.Engine(limits={"max_record_bytes": 4096})
    assert engine.limits["max_record_bytes"] == 4096
    src = tmp_path / "open-quote.csv"
    src.write_text('Id,SSN\np1,"' + "x" * 10_000)
    view = engine.view(role="coder", purpose="HOPERAT", catalog="synthea-patients",
                       key=phiguard.Key.from_bytes(bytes(range(32))))
    with pytest.raises(phiguard.InputError, match="exceeds 4096 bytes"):
        view.deidentify_file(src, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    "limits, message",
    [
        ({"max_rows": 5}, "unknown limit `max_rows`"),
        ({"max_depth": 0}, "positive integer"),
        ({"max_depth": -3}, "positive integer"),
        ({"max_depth": "deep"}, "positive integer"),
    ],
)
def test_bad_limits_are_request_errors(limits, message) -> None:
    with pytest.raises(phiguard.RequestError, match=message):
        phiguard.Engine(limits=limits)
