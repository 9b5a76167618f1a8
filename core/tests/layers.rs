//! The layering of `core/src`, checked: each module uses only modules of its own layer or
//! lower ones, as the table in ARCHITECTURE.md says, and reaches items through the module that
//! owns them, not through the crate's facade.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Module name -> layer, read from ARCHITECTURE.md's table (`| 3 | `audit`, `policy` | ...`).
fn layers() -> BTreeMap<String, u32> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md at the repository root");
    let mut map = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(layer), Some(mods)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let Ok(layer) = layer.parse::<u32>() else {
            continue;
        };
        for m in mods.split(',') {
            map.insert(m.trim().trim_matches('`').to_owned(), layer);
        }
    }
    assert!(map.len() > 5, "no layer table found in ARCHITECTURE.md");
    map
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `crate::name` paths in code (comments and doc comments are not code).
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let braced = after.starts_with('{');
            if braced {
                // `use crate::{a, b::c}`: every top-level name in the braces.
                let inner = after[1..].split('}').next().unwrap_or("");
                for part in inner.split(',') {
                    let head: String = part
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !head.is_empty() {
                        found.push((n + 1, head));
                    }
                }
            } else if !name.is_empty() {
                found.push((n + 1, name));
            }
            rest = after;
        }
    }
    found
}

#[test]
fn modules_use_only_their_layer_and_below() {
    let layers = layers();
    let src = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_owned();
        let Some(&own) = layers.get(&module) else {
            wrong.push(format!(
                "{}: module `{module}` is not in ARCHITECTURE.md's table",
                rel.display()
            ));
            continue;
        };
        for (line, used) in crate_paths(&std::fs::read_to_string(file).unwrap()) {
            let problem = match layers.get(&used) {
                Some(&l) if l > own => Some(format!("uses `{used}` (layer {l}) from layer {own}")),
                Some(_) => None,
                None if used.starts_with(char::is_uppercase) && module != "lib" => Some(format!(
                    "reaches `crate::{used}` through the facade; use its module"
                )),
                None if used.starts_with(char::is_uppercase) => None,
                None => Some(format!("uses `{used}`, which the table does not place")),
            };
            if let Some(p) = problem {
                wrong.push(format!("{}:{line}: {p}", rel.display()));
            }
        }
    }
    println!(
        "layers: {} files, {} modules in the table",
        files.len(),
        layers.len()
    );
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_an_upward_arrow() {
    let paths =
        crate_paths("use crate::engine::View;\nuse crate::{plan::Plan, io};\n// crate::lib\n");
    let names: Vec<&str> = paths.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["engine", "plan", "io"]);
}
