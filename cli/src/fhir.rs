//! `phiguard fhir`: FHIR resources, Bundles and bulk NDJSON files (or directories of them)
//! de-identified in one run, so ids, references and each patient's date shift agree across
//! every file.

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use phiguard::fhir::{Fhir, OnError, deidentify_ndjson, learn_patients};
use phiguard::{Error, View};

/// One input and the name its output gets. Output names carry no PHI (a Synthea file is
/// named after its patient): a Bundle or resource becomes `bundle-0001.json`, an NDJSON file
/// keeps a resource type name (`Patient.ndjson`) or becomes `part-0001.ndjson`. Errors name
/// the input by that output name too.
struct Job {
    input: PathBuf,
    name: String,
    ndjson: bool,
}

fn jobs(inputs: &[PathBuf]) -> Result<Vec<Job>, Error> {
    let mut files = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut in_dir: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| Error::io(p.display(), e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "json" || x == "ndjson"))
                .collect();
            in_dir.sort();
            files.extend(in_dir);
        } else {
            files.push(p.clone());
        }
    }
    let (mut bundles, mut parts) = (0, 0);
    Ok(files
        .into_iter()
        .map(|input| {
            let ndjson = input.extension().is_some_and(|x| x == "ndjson");
            let name = if ndjson {
                let stem = input
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("")
                    .to_owned();
                let ty = stem.split('.').next().unwrap_or("");
                if !ty.is_empty()
                    && ty.chars().all(|c| c.is_ascii_alphabetic())
                    && phiguard::fhir::is_resource_type(ty)
                {
                    format!("{stem}.ndjson")
                } else {
                    parts += 1;
                    format!("part-{parts:04}.ndjson")
                }
            } else {
                bundles += 1;
                format!("bundle-{bundles:04}.json")
            };
            Job {
                input,
                name,
                ndjson,
            }
        })
        .collect())
}

/// Runs `view` over `inputs` into `output` (a file for one input, else a directory).
pub(crate) fn run(
    view: &View,
    inputs: &[PathBuf],
    output: &Path,
    on_error: OnError,
) -> Result<(), Error> {
    let jobs = jobs(inputs)?;
    let to_dir = jobs.len() > 1 || output.is_dir();
    if to_dir {
        std::fs::create_dir_all(output).map_err(|e| Error::io(output.display(), e))?;
    }
    let mut fhir = Fhir::new(view)?.on_error(on_error);
    // Patients first, so every other file's notes are scrubbed with their own values; care
    // teams and consents too, so every resource's plan knows them.
    let ahead = ["Patient", "CareTeam", "Encounter", "Consent"];
    for j in jobs
        .iter()
        .filter(|j| j.ndjson && ahead.iter().any(|t| j.name.starts_with(&format!("{t}."))))
    {
        let f = File::open(&j.input).map_err(|e| Error::io(&j.name, e))?;
        learn_patients(&mut fhir, BufReader::new(f));
    }
    let progress = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    for (i, j) in jobs.iter().enumerate() {
        if progress {
            // On a terminal only: one line, rewritten per file (names carry no PHI).
            let done: u64 = fhir.summary().resources.values().sum();
            eprint!(
                "\r  file {}/{} {:<24} {done} resources, {:.1} s",
                i + 1,
                jobs.len(),
                j.name,
                started.elapsed().as_secs_f64()
            );
        }
        let dest = if to_dir {
            output.join(&j.name)
        } else {
            output.to_path_buf()
        };
        let tmp = dest.with_extension("partial");
        let file = File::open(&j.input).map_err(|e| Error::io(&j.name, e))?;
        let out = File::create(&tmp).map_err(|e| Error::io(&j.name, e))?;
        let mut out = BufWriter::new(out);
        // Whether the file holds anything (a document withheld whole writes no file).
        let one = || -> Result<bool, Error> {
            if j.ndjson {
                deidentify_ndjson(&mut fhir, BufReader::new(file), &mut out, &j.name)?;
            } else {
                let mut doc: serde_json::Value = serde_json::from_reader(BufReader::new(file))
                    .map_err(|e| Error::malformed_json(&j.name, 1, &e))?;
                fhir.apply(&mut doc, &j.name)?;
                if doc.is_null() {
                    return Ok(false);
                }
                serde_json::to_writer_pretty(&mut out, &doc)
                    .map_err(|e| Error::io(&j.name, e.into()))?;
                out.write_all(b"\n").map_err(|e| Error::io(&j.name, e))?;
            }
            out.flush().map_err(|e| Error::io(&j.name, e))?;
            Ok(true)
        };
        let done = one();
        drop(out);
        match done {
            Err(e) => {
                // Nothing half-written is left behind.
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
            Ok(false) => {
                let _ = std::fs::remove_file(&tmp);
                continue;
            }
            Ok(true) => {}
        }
        std::fs::rename(&tmp, &dest).map_err(|e| Error::io(&j.name, e))?;
    }
    if progress {
        eprintln!();
    }
    let s = fhir.summary();
    let total: u64 = s.resources.values().sum();
    eprintln!(
        "phiguard fhir: {} file(s), {total} resources ({} values treated, {} unknown elements redacted)",
        jobs.len(),
        s.treated,
        s.unknown_elements.values().sum::<u64>()
    );
    for (ty, n) in &s.resources {
        eprintln!("  {ty:<28} {n:>8}");
    }
    let mut unknown: Vec<(&String, &u64)> = s.unknown_elements.iter().collect();
    unknown.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (path, n) in unknown.iter().take(12) {
        eprintln!("  redacted, no rule: {path:<40} {n:>8}");
    }
    for (ty, n) in &s.hidden {
        eprintln!("  {ty:<28} {n:>8} removed: not visible to this principal");
    }
    for (ty, n) in &s.withheld {
        eprintln!("  {ty:<28} {n:>8} withheld");
    }
    for e in s.withheld_errors.iter().take(20) {
        eprintln!("  withheld: {e}");
    }
    if s.withheld_errors.len() > 20 {
        eprintln!(
            "  ... {} more withheld for errors",
            s.withheld_errors.len() - 20
        );
    }
    Ok(())
}
