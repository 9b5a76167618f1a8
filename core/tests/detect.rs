//! The detection corpus (`tests/detect/*.toml`, format in its README.md) through the public
//! API: `Engine::detect` on the default pack, the path the CLI's `detect` and `eval` take.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    text: String,
    /// Every span, in order; `None`: not checked (only `absent` is).
    spans: Option<Vec<Expected>>,
    #[serde(default)]
    absent: Vec<Absent>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Expected {
    category: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Absent {
    category: Option<String>,
    value: Option<String>,
}

fn corpus() -> Vec<PathBuf> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/detect");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("tests/detect at the repository root")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files in {dir}");
    files
}

#[test]
fn every_corpus_case_detects_as_written() {
    let engine = phiguard::Engine::builder().build().unwrap();
    let (mut cases, mut wrong) = (0, Vec::new());
    let files = corpus();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy();
        let file: CorpusFile = toml::from_str(&std::fs::read_to_string(path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (n, case) in file.case.iter().enumerate() {
            cases += 1;
            let at = format!("{name} case {} ({:?})", n + 1, case.text);
            assert!(
                case.spans.is_some() || !case.absent.is_empty(),
                "{at}: says neither `spans` nor `absent`"
            );
            let found: Vec<Expected> = engine
                .detect(&case.text)
                .unwrap()
                .iter()
                .map(|s| Expected {
                    category: s.category.to_string(),
                    value: case.text[s.start..s.end].to_owned(),
                })
                .collect();
            if let Some(spans) = &case.spans
                && *spans != found
            {
                wrong.push(format!("{at}:\n  expected {spans:?}\n  found    {found:?}"));
            }
            for a in &case.absent {
                assert!(
                    a.category.is_some() || a.value.is_some(),
                    "{at}: an `absent` entry names neither category nor value"
                );
                let hit = found.iter().find(|f| {
                    a.category.as_ref().is_none_or(|c| *c == f.category)
                        && a.value.as_ref().is_none_or(|v| *v == f.value)
                });
                if let Some(f) = hit {
                    wrong.push(format!("{at}:\n  must not find {f:?}"));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "detect corpus: {} of {cases} cases fail:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    println!(
        "detect corpus: {cases} cases in {} files, all pass",
        files.len()
    );
}
