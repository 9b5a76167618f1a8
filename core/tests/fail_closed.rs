//! Fail closed, failure by failure: each injected failure ends in an error or a redacted value,
//! never in the original value released in clear.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;
use common::sources_with;

use std::io::Write;
use std::sync::Arc;

use phiguard::audit::{AuditEvent, AuditSink};
use phiguard::io::{IoOptions, deidentify_csv};
use phiguard::{AccessRequest, Engine, Error, KeyRing, PackSources, Source};

const SSN: &str = "999-53-8547";
const NAME: &str = "Goldner995";
const CSV: &str = "id,ssn,family,gender\np-1,999-53-8547,Goldner995,male\n";

/// Injects one failure and runs a de-identification through it.
type Injection = Box<dyn Fn() -> Outcome>;

/// What a failure ended in.
enum Outcome {
    Error(Error),
    Output(String),
}

fn request(role: &str, purpose: &str) -> AccessRequest {
    AccessRequest {
        as_of_year: Some(2026),
        ..AccessRequest::new("u", [role], purpose, "synthea-patients")
    }
}

fn csv_with(view: Result<phiguard::View, Error>) -> Outcome {
    let v = match view {
        Err(e) => return Outcome::Error(e),
        Ok(v) => v,
    };
    let mut out = Vec::new();
    match deidentify_csv(&v, CSV.as_bytes(), &mut out, &IoOptions::default(), &|_| {}) {
        Err(e) => Outcome::Error(e),
        Ok(_) => Outcome::Output(String::from_utf8(out).unwrap()),
    }
}

struct FailingSink;
impl AuditSink for FailingSink {
    fn record(&self, _: &AuditEvent) -> phiguard::Result<()> {
        Err(Error::audit(None, "disk full"))
    }
}

/// A writer that fails like a full disk after `room` bytes.
struct FullDisk {
    room: usize,
    written: Vec<u8>,
}
impl Write for FullDisk {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.written.len() + b.len() > self.room {
            return Err(std::io::Error::other("No space left on device"));
        }
        self.written.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn every_injected_failure_fails_closed() {
    // Each case: the failure, what must come of it (an error of this code, or output with the
    // PHI redacted), and how to inject it.
    let cases: Vec<(&str, Option<&str>, Injection)> = vec![
        (
            "policy evaluation error in a permit for clear",
            None,
            Box::new(|| {
                let p = r#"permit (principal, action == Phi::Action::"clear", resource) when { context.extra > 0 };"#;
                let e = Engine::builder()
                    .sources(sources_with("\n    \"extra\": Long,", p))
                    .build()
                    .unwrap();
                csv_with(e.view(&request("data_analyst", "HRESCH")))
            }),
        ),
        (
            "policy evaluation error in a forbid",
            None,
            Box::new(|| {
                let p = r#"forbid (principal, action in Phi::Action::"disclose", resource) when { context.extra > 0 };"#;
                let e = Engine::builder()
                    .sources(sources_with("\n    \"extra\": Long,", p))
                    .build()
                    .unwrap();
                csv_with(e.view(&request("physician", "TREAT")))
            }),
        ),
        (
            "column missing from the catalog",
            None,
            Box::new(|| {
                let e = Engine::builder().build().unwrap();
                let v = e.view(&request("physician", "TREAT")).unwrap();
                let mut out = Vec::new();
                let input = "id,social_security,family_name\np-1,999-53-8547,Goldner995\n";
                match deidentify_csv(
                    &v,
                    input.as_bytes(),
                    &mut out,
                    &IoOptions::default(),
                    &|_| {},
                ) {
                    Err(e) => Outcome::Error(e),
                    Ok(_) => Outcome::Output(String::from_utf8(out).unwrap()),
                }
            }),
        ),
        (
            "unknown purpose",
            Some("request"),
            Box::new(|| {
                csv_with(
                    Engine::builder()
                        .build()
                        .unwrap()
                        .view(&request("physician", "TREATMENT")),
                )
            }),
        ),
        (
            "break-glass without a reason",
            Some("request"),
            Box::new(|| {
                csv_with(
                    Engine::builder()
                        .build()
                        .unwrap()
                        .view(&request("physician", "BTG")),
                )
            }),
        ),
        (
            "corrupted key file",
            Some("key"),
            Box::new(
                || match KeyRing::from_key_text("phiguard-key-v1:00ff00zz", "k") {
                    Err(e) => Outcome::Error(e),
                    Ok(_) => Outcome::Output("a corrupted key was accepted".into()),
                },
            ),
        ),
        (
            "key missing where a pseudonym is planned",
            Some("key"),
            Box::new(|| {
                csv_with(
                    Engine::builder()
                        .build()
                        .unwrap()
                        .view(&request("coder", "HOPERAT")),
                )
            }),
        ),
        (
            "full disk on output",
            Some("io"),
            Box::new(|| {
                let e = Engine::builder().build().unwrap();
                let v = e.view(&request("billing_analyst", "HPAYMT")).unwrap();
                let mut disk = FullDisk {
                    room: 10,
                    written: Vec::new(),
                };
                match deidentify_csv(
                    &v,
                    CSV.as_bytes(),
                    &mut disk,
                    &IoOptions::default(),
                    &|_| {},
                ) {
                    Err(e) => Outcome::Error(e),
                    Ok(_) => Outcome::Output(String::from_utf8(disk.written).unwrap()),
                }
            }),
        ),
        (
            "audit sink failure",
            Some("audit"),
            Box::new(|| {
                let e = Engine::builder().build().unwrap();
                let v = e
                    .view(&request("physician", "TREAT"))
                    .unwrap()
                    .with_audit(Arc::new(FailingSink));
                csv_with(Ok(v))
            }),
        ),
        (
            "detector error: a custom pattern beyond the size limit",
            Some("catalog"),
            Box::new(|| {
                let mut src = PackSources::default_pack();
                src.detectors = Some(Source::new(
                    "detectors.toml",
                    "[[detector]]\nid = \"huge\"\ncategory = \"mrn\"\npattern = '\\w{1000}\\w{1000}\\w{1000}'\n",
                ));
                match Engine::builder().sources(src).build() {
                    Err(e) => Outcome::Error(e),
                    Ok(e) => csv_with(e.view(&request("data_analyst", "HRESCH"))),
                }
            }),
        ),
    ];
    for (name, expected, case) in &cases {
        match (case(), expected) {
            (Outcome::Error(e), Some(code)) => {
                assert_eq!(e.code(), *code, "{name}: {e}");
                let text = e.to_string();
                assert!(
                    !text.contains(SSN) && !text.contains(NAME),
                    "{name}: error leaks: {text}"
                );
            }
            (Outcome::Output(out), None) => {
                assert!(out.lines().count() == 2, "{name}: a row was lost: {out}");
                assert!(!out.contains(SSN), "{name}: SSN released: {out}");
                assert!(!out.contains(NAME), "{name}: name released: {out}");
            }
            (Outcome::Error(e), None) => panic!("{name}: expected redacted output, got {e}"),
            (Outcome::Output(out), Some(code)) => {
                panic!("{name}: expected a {code} error, got {out}")
            }
        }
    }
    assert_eq!(cases.len(), 10);
}

#[test]
fn an_audit_failure_releases_no_bytes() {
    let e = Engine::builder().build().unwrap();
    let v = e
        .view(&request("physician", "TREAT"))
        .unwrap()
        .with_audit(Arc::new(FailingSink));
    let mut out = Vec::new();
    let err =
        deidentify_csv(&v, CSV.as_bytes(), &mut out, &IoOptions::default(), &|_| {}).unwrap_err();
    assert_eq!(err.code(), "audit");
    assert!(
        !String::from_utf8_lossy(&out).contains(SSN),
        "the physician's clear rows were written before the audit"
    );
}
