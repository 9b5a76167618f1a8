//! Runs the cross-runtime test vectors in `tests/vectors/*.json`.
//!
//! Each file names a pack (the default pack), a catalog, a key, a request and cases; each case
//! gives an input record and either the exact expected output (compared byte for byte as
//! compact JSON, so every runtime must serialize identically) or an expected error code. The
//! Python and WASM runners read the same files. Regenerate expected outputs after a reviewed
//! change with `UPDATE_VECTORS=1 cargo test -p phiguard --test vectors`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::path::PathBuf;

use phiguard::{AccessRequest, Engine, KeyRing};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct VectorFile {
    name: String,
    description: String,
    pack: String,
    catalog: String,
    /// Master key as hex, or null for no key.
    key_hex: Option<String>,
    request: AccessRequest,
    cases: Vec<Case>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    input: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expected: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error_code: Option<String>,
}

fn vector_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors"));
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

#[test]
fn cross_runtime_vectors() {
    let update = std::env::var_os("UPDATE_VECTORS").is_some();
    let files = vector_files();
    assert!(files.len() >= 4, "vector files are missing");
    let mut cases = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut vf: VectorFile =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            vf.pack,
            "default",
            "{}: only the default pack is vectored",
            path.display()
        );
        assert_eq!(vf.request.catalog, vf.catalog);
        let engine = Engine::builder().build().unwrap();
        let mut view = engine.view(&vf.request).unwrap();
        if let Some(hex) = &vf.key_hex {
            view = view.with_key(KeyRing::from_key_text(hex, "vector key").unwrap());
        }
        for case in &mut vf.cases {
            cases += 1;
            let mut record = case.input.clone();
            // The `fhir` catalog's vectors are FHIR resources and Bundles, one run each.
            let result = if vf.catalog == "fhir" {
                phiguard::fhir::Fhir::new(&view)
                    .and_then(|mut run| run.apply(&mut record, &case.name))
            } else {
                view.apply_json(&mut record, &case.name, 1).map(drop)
            };
            match (&result, update) {
                (Ok(_), true) => case.expected = Some(record.clone()),
                (Err(e), true) => case.error_code = Some(e.code().to_owned()),
                (Ok(_), false) => {
                    let want = case.expected.as_ref().unwrap_or_else(|| {
                        panic!("{}: {} has no expected output", vf.name, case.name)
                    });
                    assert_eq!(
                        serde_json::to_string(&record).unwrap(),
                        serde_json::to_string(want).unwrap(),
                        "{} / {}",
                        vf.name,
                        case.name
                    );
                }
                (Err(e), false) => assert_eq!(
                    Some(e.code()),
                    case.error_code.as_deref(),
                    "{} / {}: {e}",
                    vf.name,
                    case.name
                ),
            }
        }
        if update {
            std::fs::write(&path, serde_json::to_string_pretty(&vf).unwrap() + "\n").unwrap();
        }
    }
    assert!(cases >= 12);
}
