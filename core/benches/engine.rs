//! Criterion benchmarks: plan compilation, the row API, the columnar API, and the bare
//! HMAC-SHA256 loop that bounds any pseudonymizing plan. Figures go to BENCHMARKS.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs,
    reason = "benchmark harness"
)]

use std::hint::black_box;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use phiguard::io::arrow::{deidentify_batch, deidentify_batches};
use phiguard::io::{RowApplier, RowOut};
use phiguard::{AccessRequest, Engine, KeyRing, PackSources, RecordAttrs, Source};
use sha2::Sha256;

const SAMPLE: &str = include_str!("../../tests/data/patients.csv");

/// The sample repeated to `n` rows, each with a fresh patient id (so pseudonyms and date
/// shifts are computed, not repeated).
fn table(n: usize) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr = csv::Reader::from_reader(SAMPLE.as_bytes());
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_owned).collect();
    let base: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let rows = (0..n)
        .map(|i| {
            let mut r = base[i % base.len()].clone();
            let id = format!("{:08x}-{:04x}-4000-8000-{:012x}", i, i % 65_536, i);
            r[0] = id.clone();
            r[1] = id;
            r
        })
        .collect();
    (headers, rows)
}

fn batch(headers: &[String], rows: &[Vec<String>]) -> RecordBatch {
    let cols: Vec<ArrayRef> = (0..headers.len())
        .map(|i| {
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r[i].as_str()),
            )) as ArrayRef
        })
        .collect();
    let schema = Schema::new(
        headers
            .iter()
            .map(|h| Field::new(h, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), cols).unwrap()
}

fn request(role: &str, purpose: &str, user: &str) -> AccessRequest {
    AccessRequest {
        as_of_year: Some(2026),
        ..AccessRequest::new(user, [role], purpose, "synthea-patients")
    }
}

fn key() -> KeyRing {
    KeyRing::from_bytes(&[42; 32]).unwrap()
}

/// The default pack plus `n` synthetic policies: most for other roles, one in fifty for the
/// benchmarked principal's role, with conditions on purpose and labels.
fn big_pack(n: usize) -> Engine {
    let mut src = PackSources::default_pack();
    let cats: Vec<String> = Engine::builder()
        .build()
        .unwrap()
        .pack()
        .categories()
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let levels = ["clear", "mask", "shift", "pseudonymize", "generalize"];
    let mut text = String::new();
    for i in 0..n {
        let role = if i % 50 == 0 {
            "coder".to_owned()
        } else {
            format!("synthetic_role_{}", i % 97)
        };
        let effect = if i % 7 == 0 { "forbid" } else { "permit" };
        text.push_str(&format!(
            "@id(\"bench.{i}\")\n{effect} (principal in Phi::Role::\"{role}\", action == Phi::Action::\"{}\", resource == Phi::Field::\"{}\")\nwhen {{ context.purpose in Phi::Purpose::\"HOPERAT\" && !context.labels.contains(\"L{i}\") }};\n",
            levels[i % levels.len()],
            cats[i % cats.len()]
        ));
    }
    src.policies.push(Source::new("bench.cedar", text));
    // The synthetic roles exist in the pack, as a real deployment's roles would.
    let ents = src.entities.as_mut().unwrap();
    let mut list: Vec<serde_json::Value> = serde_json::from_str(&ents.text).unwrap();
    for k in 0..97 {
        list.push(serde_json::json!({"uid": {"type": "Phi::Role", "id": format!("synthetic_role_{k}")}, "attrs": {}, "parents": []}));
    }
    ents.text = serde_json::to_string(&list).unwrap();
    Engine::builder().sources(src).build().unwrap()
}

fn plan_compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("plan_compile");
    let engine = Engine::builder().build().unwrap();
    let big = big_pack(1000);
    let mut user = 0u64;
    for (name, eng, role, purpose) in [
        (
            "default_pack/data_analyst",
            &engine,
            "data_analyst",
            "HRESCH",
        ),
        ("default_pack/coder", &engine, "coder", "HOPERAT"),
        ("default_pack/physician", &engine, "physician", "TREAT"),
        ("1000_policies/coder", &big, "coder", "HOPERAT"),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                // A new principal each time: nothing cached.
                user += 1;
                let v = eng
                    .view(&request(role, purpose, &format!("user-{user}")))
                    .unwrap()
                    .with_key(key());
                black_box(v.plan(&RecordAttrs::default()).unwrap());
            })
        });
    }
    g.finish();
}

const ROWS: usize = 200_000;

fn rows_api(c: &mut Criterion) {
    let (headers, rows) = table(ROWS);
    let engine = Engine::builder().build().unwrap();
    let mut g = c.benchmark_group("rows_1_core");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.sample_size(10);
    for (role, purpose) in [("data_analyst", "HRESCH"), ("coder", "HOPERAT")] {
        let view = engine
            .view(&request(role, purpose, "u"))
            .unwrap()
            .with_key(key());
        let applier = RowApplier::new(&view, &headers).unwrap();
        let refs: Vec<Vec<&str>> = rows
            .iter()
            .map(|r| r.iter().map(String::as_str).collect())
            .collect();
        g.bench_function(role, |b| {
            let mut out = RowOut::default();
            b.iter(|| {
                for r in &refs {
                    applier.apply(r, &mut out).unwrap();
                    black_box(out.cell(r, 0));
                }
            })
        });
    }
    g.finish();
}

/// Records as JSON text in, JSON text out: the work the WASM package's `applyMany` and the
/// Python `apply_json` do per record, natively on one core (the reference for those runtimes).
fn json_records(c: &mut Criterion) {
    const N: usize = 100_000;
    let (headers, rows) = table(N);
    let texts: Vec<String> = rows
        .iter()
        .map(|r| {
            let m: serde_json::Map<String, serde_json::Value> = headers
                .iter()
                .zip(r)
                .map(|(h, v)| (h.clone(), serde_json::Value::String(v.clone())))
                .collect();
            serde_json::Value::Object(m).to_string()
        })
        .collect();
    let engine = Engine::builder().build().unwrap();
    let mut g = c.benchmark_group("json_records_1_core");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    for (role, purpose) in [("data_analyst", "HRESCH"), ("coder", "HOPERAT")] {
        let view = engine
            .view(&request(role, purpose, "u"))
            .unwrap()
            .with_key(key());
        g.bench_function(role, |b| {
            b.iter(|| {
                for t in &texts {
                    let mut v: serde_json::Value = serde_json::from_str(t).unwrap();
                    view.apply_json(&mut v, "<bench>", 1).unwrap();
                    black_box(serde_json::to_string(&v).unwrap());
                }
            })
        });
    }
    g.finish();
}

const COLUMNAR_ROWS: usize = 1_000_000;

fn columnar(c: &mut Criterion) {
    let (headers, rows) = table(COLUMNAR_ROWS);
    let batch = batch(&headers, &rows);
    drop(rows);
    let engine = Engine::builder().build().unwrap();
    let mut g = c.benchmark_group("columnar_1m_rows");
    g.throughput(Throughput::Elements(COLUMNAR_ROWS as u64));
    g.sample_size(10);
    for (role, purpose) in [("data_analyst", "HRESCH"), ("coder", "HOPERAT")] {
        let view = engine
            .view(&request(role, purpose, "u"))
            .unwrap()
            .with_key(key());
        g.bench_function(BenchmarkId::new(role, "1_thread_one_batch"), |b| {
            b.iter(|| black_box(deidentify_batch(&view, &batch).unwrap()))
        });
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            g.bench_function(
                BenchmarkId::new(role, format!("{threads}_threads_sliced")),
                |b| {
                    b.iter(|| {
                        pool.install(|| {
                            black_box(
                                deidentify_batches(&view, std::slice::from_ref(&batch)).unwrap(),
                            )
                        })
                    })
                },
            );
        }
    }
    g.finish();
}

/// The floor for a pseudonymizing plan: HMAC-SHA256 of the coder's five pseudonymized fields
/// per row (id, mrn, given, family, maiden_family), key state precomputed, hex on the stack.
fn bare_hmac(c: &mut Criterion) {
    let (headers, rows) = table(ROWS);
    let idx: Vec<usize> = ["id", "mrn", "given", "family", "maiden_family"]
        .iter()
        .map(|f| headers.iter().position(|h| h == f).unwrap())
        .collect();
    let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&[42; 32]).unwrap();
    let mut g = c.benchmark_group("bare_hmac");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.sample_size(10);
    g.bench_function("coder_fields_1_core", |b| {
        b.iter(|| {
            for r in &rows {
                for &i in &idx {
                    if r[i].is_empty() {
                        continue;
                    }
                    let mut m = mac.clone();
                    m.update(b"name");
                    m.update(&[0x1f]);
                    m.update(r[i].as_bytes());
                    let d = m.finalize().into_bytes();
                    let mut hex = [0u8; 16];
                    for (k, byte) in d.iter().take(8).enumerate() {
                        hex[2 * k] = b"0123456789abcdef"[usize::from(byte >> 4)];
                        hex[2 * k + 1] = b"0123456789abcdef"[usize::from(byte & 15)];
                    }
                    black_box(hex);
                }
            }
        })
    });
    // The same, plus the one HMAC of the patient id the plan's date shift needs per row: all
    // the keyed hashing the coder plan does, and nothing else.
    g.bench_function("coder_fields_and_date_offset_1_core", |b| {
        b.iter(|| {
            for r in &rows {
                let mut m = mac.clone();
                m.update(r[0].as_bytes());
                black_box(m.finalize().into_bytes());
                for &i in &idx {
                    if r[i].is_empty() {
                        continue;
                    }
                    let mut m = mac.clone();
                    m.update(b"name");
                    m.update(&[0x1f]);
                    m.update(r[i].as_bytes());
                    let d = m.finalize().into_bytes();
                    let mut hex = [0u8; 16];
                    for (k, byte) in d.iter().take(8).enumerate() {
                        hex[2 * k] = b"0123456789abcdef"[usize::from(byte >> 4)];
                        hex[2 * k + 1] = b"0123456789abcdef"[usize::from(byte & 15)];
                    }
                    black_box(hex);
                }
            }
        })
    });
    g.finish();
}

/// Free-text detection over the development corpora in `../shared/data` (skipped when absent).
fn detect_text(c: &mut Criterion) {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    let detector = Engine::builder().build().unwrap();
    let mut g = c.benchmark_group("detect");
    g.sample_size(10);
    for (name, file) in [
        ("synthea_notes", "synthea-notes-silver/notes.jsonl"),
        ("presidio_dev", "presidio-synth-v2/dev.jsonl"),
    ] {
        let Ok(text) = std::fs::read_to_string(shared.join(file)) else {
            eprintln!(
                "skipping detect/{name}: {} not found",
                shared.join(file).display()
            );
            continue;
        };
        let texts: Vec<String> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_owned))
            .collect();
        let bytes: usize = texts.iter().map(String::len).sum();
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(format!("{name}/detect"), |b| {
            b.iter(|| {
                texts
                    .iter()
                    .map(|t| detector.detect(t).map_or(0, |s| s.len()))
                    .sum::<usize>()
            })
        });
        // Detect and replace, as a data analyst's view scrubs a note.
        let req = AccessRequest {
            as_of_year: Some(2026),
            ..AccessRequest::new("u", ["data_analyst"], "HRESCH", "free-text")
        };
        let view = Engine::builder().build().unwrap().view(&req).unwrap();
        g.bench_function(format!("{name}/detect_and_replace"), |b| {
            b.iter(|| {
                texts
                    .iter()
                    .map(|t| view.scrub_text(t).unwrap().map_or(0, |s| s.len()))
                    .sum::<usize>()
            })
        });
    }
    g.finish();
}

/// FHIR NDJSON of the Synthea bulk export (10 patients, every resource type) and the 11
/// Synthea Bundles, as a Safe Harbor analyst and a coder (shifted dates, pseudonyms) see them.
fn fhir(c: &mut Criterion) {
    use phiguard::fhir::{Fhir, deidentify_ndjson, learn_patients};
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    let bulk = shared.join("synthea-bulk/fhir/10-patients");
    let Ok(dir) = std::fs::read_dir(&bulk) else {
        eprintln!("skipping fhir: {} not found", bulk.display());
        return;
    };
    let mut files: Vec<(String, Vec<u8>)> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ndjson") && !p.ends_with("log.ndjson"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let engine = Engine::builder().build().unwrap();
    let mut g = c.benchmark_group("fhir_1_core");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes as u64));
    for (role, purpose) in [("data_analyst", "HRESCH"), ("coder", "HOPERAT")] {
        let mut req = AccessRequest::new("u", [role], purpose, "fhir");
        req.as_of_year = Some(2026);
        let view = engine.view(&req).unwrap().with_key(key());
        g.bench_function(format!("bulk_ndjson/{role}"), |b| {
            b.iter(|| {
                let mut run = Fhir::new(&view).unwrap();
                for (name, data) in files.iter().filter(|(n, _)| n.starts_with("Patient")) {
                    let _ = name;
                    learn_patients(&mut run, data.as_slice());
                }
                let mut out = Vec::with_capacity(bytes);
                for (name, data) in &files {
                    deidentify_ndjson(&mut run, data.as_slice(), &mut out, name).unwrap();
                }
                out.len()
            })
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    fhir,
    plan_compile,
    rows_api,
    json_records,
    columnar,
    bare_hmac,
    detect_text
);
criterion_main!(benches);
