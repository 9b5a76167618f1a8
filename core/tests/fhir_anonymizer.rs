//! Microsoft's FHIR anonymizer test cases (`../shared/data/fhir-anonymizer-cases`, read at
//! test time; skipped, with a line saying so, when the shared data is not there), each
//! translated once into a phiguard pack kept in `tests/fhir-anonymizer/`.
//!
//! A case passes when phiguard's output equals Microsoft's expected output as parsed JSON
//! everywhere except under the JSON pointers `tests/fhir-anonymizer/cases.toml` lists for it,
//! each naming a difference of the README's table (where phiguard is knowingly more
//! correct, or has no equivalent of a Microsoft feature). Every listed pointer must differ:
//! a difference that stops happening fails the case too, so the table cannot go stale.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use phiguard::fhir::{Fhir, OnError};
use phiguard::{AccessRequest, Engine, PackSources, Source};
use serde::Deserialize;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cases_dir() -> PathBuf {
    root().join("../shared/data/fhir-anonymizer-cases")
}

#[derive(Deserialize)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    id: String,
    pack: String,
    /// Microsoft's `processingErrors: skip`: withhold what fails.
    #[serde(default)]
    withhold: bool,
    /// JSON pointer -> the README difference it is.
    #[serde(default)]
    differences: BTreeMap<String, String>,
}

/// The default pack with the case pack's rules, catalog, extra categories and policy
/// (beside the default pack's schema, entities and base policies).
fn engine(pack: &str) -> Engine {
    let dir = root().join("tests/fhir-anonymizer").join(pack);
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    let mut src = PackSources::default_pack();
    src.fhir_rules = Some(Source::new(
        format!("{pack}/rules.toml"),
        read("rules.toml").unwrap(),
    ));
    src.catalogs = vec![Source::new(
        format!("{pack}/catalog.toml"),
        read("catalog.toml").unwrap(),
    )];
    if let Some(extra) = read("categories.toml") {
        let base = src.categories.take().unwrap();
        src.categories = Some(Source::new(
            "categories.toml",
            format!("{}\n{extra}", base.text),
        ));
    }
    let ids =
        std::fs::read_to_string(root().join("tests/fhir-anonymizer/ids-clear.cedar")).unwrap();
    src.policies.retain(|p| p.name.ends_with("base.cedar"));
    if pack != "redact-all" {
        src.policies.push(Source::new("ids-clear.cedar", ids));
    }
    if let Some(p) = read("policy.cedar") {
        src.policies
            .push(Source::new(format!("{pack}/policy.cedar"), p));
    }
    Engine::builder()
        .sources(src)
        .build()
        .unwrap_or_else(|e| panic!("{pack}: {e}"))
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap()
}

/// Every leaf of `v` by JSON pointer.
fn leaves(v: &Value, at: &str, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                leaves(x, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, &format!("{at}/{i}"), out);
            }
        }
        other => {
            out.insert(at.to_owned(), other.clone());
        }
    }
}

/// The pointers of the leaves where `a` and `b` differ.
fn differing(a: &Value, b: &Value) -> Vec<String> {
    let (mut la, mut lb) = (BTreeMap::new(), BTreeMap::new());
    leaves(a, "", &mut la);
    leaves(b, "", &mut lb);
    let mut keys: Vec<&String> = la.keys().chain(lb.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| la.get(*k) != lb.get(*k))
        .cloned()
        .collect()
}

fn under(pointer: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || pointer == prefix
        || (pointer.starts_with(prefix) && pointer.as_bytes().get(prefix.len()) == Some(&b'/'))
}

#[test]
fn microsoft_cases_match_but_for_documented_differences() {
    let dir = cases_dir();
    let Ok(index) = std::fs::read_to_string(dir.join("cases.jsonl")) else {
        eprintln!("skipped: {} is not there", dir.display());
        return;
    };
    let ms: BTreeMap<String, Value> = index
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["id"].as_str().unwrap().to_owned(), v)
        })
        .collect();
    let cases: Cases = toml::from_str(
        &std::fs::read_to_string(root().join("tests/fhir-anonymizer/cases.toml")).unwrap(),
    )
    .unwrap();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    let mut engines: BTreeMap<String, Engine> = BTreeMap::new();
    for case in &cases.case {
        let m = &ms[&case.id];
        let engine = engines
            .entry(case.pack.clone())
            .or_insert_with(|| engine(&case.pack));
        let req = AccessRequest::new("u1", ["compliance_specialist"], "HOPERAT", "fhir");
        let view = engine.view(&req).unwrap();
        let mut run = Fhir::new(&view).unwrap();
        if case.withhold {
            run = run.on_error(OnError::Withhold);
        }
        let mut doc = load(&dir.join(m["input"].as_str().unwrap()));
        let expected = load(&dir.join(m["expected_output"].as_str().unwrap()));
        run.apply(&mut doc, &case.id)
            .unwrap_or_else(|e| panic!("{}: {e}", case.id));
        let diff = differing(&expected, &doc);
        let unexplained: Vec<&String> = diff
            .iter()
            .filter(|p| !case.differences.keys().any(|d| under(p, d)))
            .collect();
        let stale: Vec<&String> = case
            .differences
            .keys()
            .filter(|d| !diff.iter().any(|p| under(p, d)))
            .collect();
        if std::env::var_os("SHOW_DIFFERENCES").is_some() {
            eprintln!(
                "{}: {}",
                case.id,
                serde_json::to_string_pretty(&doc).unwrap()
            );
        }
        if !unexplained.is_empty() || !stale.is_empty() {
            failures.push(format!(
                "{}: unexplained differences {unexplained:?}; listed but not differing {stale:?}",
                case.id
            ));
        }
        let equal = diff.len();
        report.push(format!(
            "{} ({}): {} differing leaves under {} documented pointers",
            case.id,
            case.pack,
            equal,
            case.differences.len()
        ));
        if case.withhold {
            assert!(
                run.summary()
                    .withheld_errors
                    .iter()
                    .all(|e| !e.contains("Family")),
                "{}: an error quotes a value",
                case.id
            );
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        cases.case.len(),
        15,
        "every implementation-independent case with output"
    );
}

/// Microsoft's cases that expect its processing error (`raise`, the default) give phiguard's
/// typed input error under the default `OnError::Stop`: located at the element, no value.
#[test]
fn microsoft_error_cases_are_located_input_errors() {
    let dir = cases_dir();
    let Ok(index) = std::fs::read_to_string(dir.join("cases.jsonl")) else {
        eprintln!("skipped: {} is not there", dir.display());
        return;
    };
    let engine = engine("skip-processing-error");
    let mut n = 0;
    for line in index.lines() {
        let m: Value = serde_json::from_str(line).unwrap();
        if m["expected_error"].is_null() || m["implementation_independent"] != true {
            continue;
        }
        let req = AccessRequest::new("u1", ["compliance_specialist"], "HOPERAT", "fhir");
        let view = engine.view(&req).unwrap();
        let mut run = Fhir::new(&view).unwrap();
        let mut doc = load(&dir.join(m["input"].as_str().unwrap()));
        let e = run.apply(&mut doc, "case.json").unwrap_err();
        assert!(
            matches!(e, phiguard::Error::Input { .. }),
            "{}: {e:?}",
            m["id"]
        );
        let text = e.to_string();
        assert!(
            text.contains("case.json") && text.contains("name.family") && !text.contains("Family"),
            "{}: {text}",
            m["id"]
        );
        n += 1;
    }
    eprintln!("{n} error cases");
    assert_eq!(n, 4);
}
