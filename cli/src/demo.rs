//! `phiguard demo`: the bundled Synthea sample through every role of the default pack.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use phiguard::audit::AuditSink;
use phiguard::{AccessRequest, Engine, Error, KeyRing, RecordAttrs};

use crate::{Job, io_err, open_audit, read_key, run_job, usual_purpose};

/// The sample: 1,144 synthetic Synthea patients (CC0), see tests/data/SOURCE.md.
const SAMPLE: &[u8] = include_bytes!("../../tests/data/patients.csv");

pub(crate) fn run(out: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(out).map_err(|e| io_err(out, e))?;
    let input = out.join("patients.csv");
    std::fs::write(&input, SAMPLE).map_err(|e| io_err(&input, e))?;
    let key_path = out.join("demo.key");
    let key = if key_path.exists() {
        read_key(&key_path)?
    } else {
        KeyRing::generate_file(&key_path)?
    };
    let audit_path = out.join("audit.jsonl");
    if audit_path.exists() {
        std::fs::remove_file(&audit_path).map_err(|e| io_err(&audit_path, e))?;
    }
    let audit = open_audit(&audit_path, &key)?;
    let engine = Engine::builder().build()?;
    let catalog = "synthea-patients";
    // The patient role sees only their own row: act as the first patient of the sample.
    let first_patient = String::from_utf8_lossy(SAMPLE)
        .lines()
        .nth(1)
        .and_then(|l| l.split(',').next())
        .unwrap_or("")
        .to_owned();

    let mut runs: Vec<(String, AccessRequest)> = Vec::new();
    for role in engine
        .pack()
        .roles()
        .into_iter()
        .filter(|r| *r != "clinician")
    {
        let user = if role == "patient" {
            first_patient.clone()
        } else {
            format!("demo-{role}")
        };
        let req = AccessRequest {
            operation: "export".into(),
            ..AccessRequest::new(user, [role], usual_purpose(role), catalog)
        };
        runs.push((role.to_owned(), req));
    }
    runs.push((
        "physician-break-glass".into(),
        AccessRequest {
            break_glass_reason: Some("unresponsive patient in the emergency department".into()),
            ..AccessRequest::new("demo-physician", ["physician"], "BTG", catalog)
        },
    ));

    println!(
        "phiguard demo: {} synthetic patients through every role of the default pack",
        SAMPLE.iter().filter(|b| **b == b'\n').count() - 1
    );
    println!(
        "  {:<24} {:<8} {:>6} {:>9}  output",
        "role", "purpose", "rows", "ms"
    );
    let mut columns = Vec::new();
    for (name, req) in &runs {
        let view = engine
            .view(req)?
            .with_key(key.clone())
            .with_audit(audit.clone() as Arc<dyn AuditSink>);
        let output = out.join(format!("{name}.csv"));
        let started = Instant::now();
        let summary = run_job(&Job {
            view: &view,
            input: &input,
            output: &output,
            format: phiguard::io::Format::Csv,
            chunk_rows: 16_384,
            progress: false,
        })?;
        println!(
            "  {:<24} {:<8} {:>6} {:>9.1}  {}",
            name,
            req.purpose,
            summary.rows,
            started.elapsed().as_secs_f64() * 1e3,
            output.display()
        );
        if !name.contains("break-glass") {
            columns.push((name.clone(), req.purpose.clone(), view.plan_for_others()?));
        }
    }
    audit.flush()?;
    let matrix = out.join("matrix.html");
    std::fs::write(
        &matrix,
        crate::html::matrix(
            &engine,
            catalog,
            &columns,
            &RecordAttrs {
                confidentiality: "N".into(),
                ..RecordAttrs::default()
            },
        ),
    )
    .map_err(|e| io_err(&matrix, e))?;
    let f = std::fs::File::open(&audit_path).map_err(|e| io_err(&audit_path, e))?;
    let (tail, bg) = phiguard::audit::verify(std::io::BufReader::new(f), &key)?;
    println!("  role x field matrix:    {}", matrix.display());
    println!(
        "  audit log:              {} ({} entries, chain verified, {bg} break-glass)",
        audit_path.display(),
        tail.seq
    );
    println!(
        "  key (demo only):        {} (id {})",
        key_path.display(),
        key.id()
    );
    Ok(())
}
