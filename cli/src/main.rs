//! The `phiguard` command line: de-identify files, explain and check policy packs, verify
//! audit logs, make keys, and run the demo. Every rule lives in the `phiguard` crate; this
//! binary parses arguments, opens files and prints.

mod demo;
mod eval;
mod fhir;
mod html;

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};
use phiguard::audit::{AuditSink, ChainedLog};
use phiguard::io::{IoOptions, Summary};
use phiguard::{AccessRequest, Engine, Error, KeyRing, PackSources, RecordAttrs, Source, View};

#[derive(Parser)]
#[command(
    name = "phiguard",
    version,
    about = "Policy-driven PHI access control and de-identification"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// De-identify a CSV, JSON or NDJSON file as a role's policy says.
    Deidentify(DeidentifyArgs),
    /// Show how each catalog field is treated for a role and purpose, and which policy decided.
    Explain(ExplainArgs),
    /// Validate a policy pack (schema, policies, entities, categories, catalogs).
    Check {
        /// Policy pack directory (default: the built-in pack).
        #[arg(long)]
        policies: Option<PathBuf>,
    },
    /// Audit log commands.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Write a new random master key to a file (mode 0600; never overwrites).
    Keygen {
        /// Where to write the key.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Scrub free text (or one field of JSON lines) as a role's policy says for notes.
    Scrub {
        #[command(flatten)]
        who: Who,
        /// Master key file (when the role pseudonymizes or shifts dates in text).
        #[arg(long)]
        key_file: Option<PathBuf>,
        /// Read JSON lines and scrub one field of each (other fields kept as they are).
        #[arg(long)]
        jsonl: bool,
        /// The field with the text (with --jsonl).
        #[arg(long, default_value = "text")]
        field: String,
        /// Input file.
        input: PathBuf,
        /// Output file (written to a temporary file and renamed when complete).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// De-identify FHIR R4 resources, Bundles and bulk NDJSON (files or directories) in one
    /// run: ids, references and each patient's date shift agree across every file.
    Fhir {
        #[command(flatten)]
        who: Who,
        /// Master key file (when the role pseudonymizes or shifts dates).
        #[arg(long)]
        key_file: Option<PathBuf>,
        /// Input files (`.json`: a resource or a Bundle; `.ndjson`: one resource a line) or
        /// directories of them.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Output file (one input) or directory; file names carry no PHI.
        #[arg(short, long)]
        output: PathBuf,
        /// A resource that cannot be treated (a malformed entry or line) stops the run
        /// (`stop`, nothing written) or is withheld and reported (`withhold`).
        #[arg(long, value_enum, default_value = "stop")]
        on_error: OnErrorArg,
    },
    /// Serve records over HTTP, each caller's view per their token and purpose, audited.
    Serve {
        /// The server's configuration (TOML; `PHIGUARD_*` variables override it).
        #[arg(long)]
        config: PathBuf,
        /// Validate the configuration, pack, key, audit log and JWKS, then exit.
        #[arg(long)]
        check: bool,
    },
    /// Print the PHI spans found in plain text (or a JSON-lines field) as JSON lines.
    Detect {
        /// Input file (plain text, or JSON lines with --jsonl).
        input: PathBuf,
        /// Read JSON lines and detect in one field of each.
        #[arg(long)]
        jsonl: bool,
        /// The field with the text (with --jsonl).
        #[arg(long, default_value = "text")]
        field: String,
    },
    /// Measure detection against labelled JSON lines (`{"text", "spans": [{"start","end","label"}]}`).
    Eval {
        /// Labelled JSON-lines files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run the bundled sample patients through every role of the default pack.
    Demo {
        /// Output folder.
        #[arg(long, default_value = "phiguard-demo")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify an HMAC-chained audit log: any edited, deleted, inserted or reordered entry fails.
    Verify {
        /// The audit log.
        file: PathBuf,
        /// The key file the log was written with.
        #[arg(long)]
        key_file: PathBuf,
        /// `SEQ:MAC` printed by an earlier verify: also fail if entries were cut off the end.
        #[arg(long)]
        anchor: Option<String>,
    },
}

#[derive(Args, Clone)]
struct Who {
    /// Policy pack directory (default: the built-in pack).
    #[arg(long)]
    policies: Option<PathBuf>,
    /// Catalog name in the pack, or a catalog file (default: the pack catalog matching the input).
    #[arg(long)]
    catalog: Option<String>,
    /// Role of the user (repeat for several).
    #[arg(long, required = true)]
    role: Vec<String>,
    /// Purpose of use (HL7: TREAT, ETREAT, BTG, HPAYMT, HOPERAT, HRESCH, PUBHLTH, PATRQT, ...).
    #[arg(long)]
    purpose: String,
    /// User id (matched against care teams and patient ids).
    #[arg(long, default_value = "cli-user")]
    user: String,
    /// Operation: read or export.
    #[arg(long, default_value = "export")]
    operation: String,
    /// Reason for break-glass access (required with ETREAT or BTG).
    #[arg(long)]
    break_glass_reason: Option<String>,
    /// The date (`2026-12-02`) or year ages are computed against: Safe Harbor's 90+ rule
    /// folds every birth year that could reveal an age over 89 on it (default: this year).
    #[arg(long = "as-of", alias = "as-of-year", value_name = "DATE|YEAR", value_parser = parse_as_of)]
    as_of_year: Option<i64>,
}

/// The year of `--as-of`: a year, or a date `YYYY-MM-DD`.
fn parse_as_of(s: &str) -> Result<i64, String> {
    let year = match s.split_once('-') {
        None => s,
        Some((y, rest)) => {
            let mut parts = rest.split('-');
            let ok = |p: Option<&str>, max: u32| {
                p.and_then(|p| (p.len() == 2).then_some(p))
                    .and_then(|p| p.parse::<u32>().ok())
                    .is_some_and(|v| (1..=max).contains(&v))
            };
            if !(ok(parts.next(), 12) && ok(parts.next(), 31) && parts.next().is_none()) {
                return Err("write a year (2026) or a date (2026-12-02)".into());
            }
            y
        }
    };
    match year.parse::<i64>() {
        Ok(y) if year.len() == 4 => Ok(y),
        _ => Err("write a year (2026) or a date (2026-12-02)".into()),
    }
}

/// `--on-error` of `phiguard fhir`.
#[derive(Clone, Copy, ValueEnum)]
enum OnErrorArg {
    Stop,
    Withhold,
}

impl From<OnErrorArg> for phiguard::fhir::OnError {
    fn from(a: OnErrorArg) -> Self {
        match a {
            OnErrorArg::Stop => phiguard::fhir::OnError::Stop,
            OnErrorArg::Withhold => phiguard::fhir::OnError::Withhold,
        }
    }
}

#[derive(Args)]
struct DeidentifyArgs {
    #[command(flatten)]
    who: Who,
    /// Master key file (needed when a treatment pseudonymizes or shifts dates).
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Append HMAC-chained audit events to this file (needs --key-file).
    #[arg(long)]
    audit_log: Option<PathBuf>,
    /// Input format: csv, json, ndjson or jsonl (default: from the file extension).
    #[arg(long, value_parser = phiguard::io::Format::parse)]
    format: Option<phiguard::io::Format>,
    /// Input file.
    input: PathBuf,
    /// Output file (written to a temporary file and renamed when complete).
    #[arg(short, long)]
    output: PathBuf,
    /// NDJSON records per parallel batch (CSV is cut into 1 MiB chunks of whole records).
    #[arg(long, default_value_t = 16_384)]
    chunk_rows: usize,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args)]
struct ExplainArgs {
    /// Policy pack directory (default: the built-in pack).
    #[arg(long)]
    policies: Option<PathBuf>,
    /// Catalog name in the pack, or a catalog file.
    #[arg(long, default_value = "synthea-patients")]
    catalog: String,
    /// Role (repeat for several); ignored with --all-roles.
    #[arg(long)]
    role: Vec<String>,
    /// Purpose of use (with --all-roles: default, each role's usual purpose).
    #[arg(long)]
    purpose: Option<String>,
    /// Every role of the pack, each under its usual purpose unless --purpose is given.
    #[arg(long)]
    all_roles: bool,
    /// Write a role x field matrix as an HTML page.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Record sensitivity labels to explain for (e.g. HIV,PSY).
    #[arg(long, value_delimiter = ',')]
    labels: Vec<String>,
    /// Explain for a record on the user's care team.
    #[arg(long)]
    treating: bool,
    /// Explain for a break-glass request with this reason.
    #[arg(long)]
    break_glass_reason: Option<String>,
    /// Explain each element of this FHIR R4 resource type (`Patient`, `Encounter`) as the
    /// `fhir` catalog's rules and the role's policies treat it.
    #[arg(long)]
    fhir: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Demo {
        out: PathBuf::from("phiguard-demo"),
    }) {
        Command::Deidentify(a) => deidentify(&a).map(|_| ()),
        Command::Explain(a) => explain(&a),
        Command::Check { policies } => check(policies.as_deref()),
        Command::Audit {
            command:
                AuditCommand::Verify {
                    file,
                    key_file,
                    anchor,
                },
        } => verify(&file, &key_file, anchor.as_deref()),
        Command::Keygen { output } => keygen(&output),
        Command::Demo { out } => demo::run(&out),
        Command::Detect {
            input,
            jsonl,
            field,
        } => detect(&input, jsonl, &field),
        Command::Eval { files, json } => eval(&files, json),
        Command::Fhir {
            who,
            key_file,
            inputs,
            output,
            on_error,
        } => fhir_cmd(&who, key_file.as_deref(), &inputs, &output, on_error.into()),
        Command::Serve { config, check } => serve(&config, check),
        Command::Scrub {
            who,
            key_file,
            jsonl,
            field,
            input,
            output,
        } => scrub(&who, key_file.as_deref(), jsonl, &field, &input, &output),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("phiguard: error[{}]: {e}", e.code());
            ExitCode::from(2)
        }
    }
}

pub(crate) fn load_engine(policies: Option<&Path>) -> Result<Engine, Error> {
    match policies {
        Some(dir) => Engine::builder()
            .sources(PackSources::from_dir(dir)?)
            .build(),
        None => Engine::builder().build(),
    }
}

/// Resolves `--catalog`: a file adds a catalog to the engine; otherwise a name.
fn with_catalog(engine: Engine, catalog: &str) -> Result<(Engine, String), Error> {
    let path = Path::new(catalog);
    if path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| io_err(path, e))?;
        let engine = engine.with_catalog(&Source::new(path.display().to_string(), text))?;
        let name = engine
            .pack()
            .catalogs()
            .last()
            .map(|c| c.name.clone())
            .unwrap_or_default();
        Ok((engine, name))
    } else {
        engine.catalog(catalog)?;
        Ok((engine, catalog.to_owned()))
    }
}

pub(crate) fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::io(path.display(), e)
}

pub(crate) fn read_key(path: &Path) -> Result<KeyRing, Error> {
    KeyRing::from_file(path)
}

fn format_of(
    path: &Path,
    explicit: Option<phiguard::io::Format>,
) -> Result<phiguard::io::Format, Error> {
    explicit.map_or_else(|| phiguard::io::Format::from_path(path), Ok)
}

impl Who {
    fn request(&self, catalog: String) -> AccessRequest {
        AccessRequest {
            user: self.user.clone(),
            roles: self.role.clone(),
            purpose: self.purpose.clone(),
            operation: self.operation.clone(),
            break_glass_reason: self.break_glass_reason.clone(),
            department: None,
            catalog,
            as_of_year: self.as_of_year,
        }
    }
}

pub(crate) struct Job<'a> {
    pub view: &'a View,
    pub input: &'a Path,
    pub output: &'a Path,
    pub format: phiguard::io::Format,
    pub chunk_rows: usize,
    pub progress: bool,
}

/// Runs one de-identification into a temporary file renamed on success.
pub(crate) fn run_job(job: &Job<'_>) -> Result<Summary, Error> {
    let total = std::fs::metadata(job.input).map(|m| m.len()).unwrap_or(0);
    let bar = (job.progress && total > 8 << 20).then(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let opts = IoOptions {
        source: job.input.display().to_string(),
        chunk_rows: job.chunk_rows,
        ..IoOptions::default()
    };
    let summary = phiguard::io::deidentify_file(
        job.view,
        job.input,
        job.output,
        job.format,
        &opts,
        &|p: phiguard::io::FileProgress| {
            if let Some(b) = &bar {
                b.set_position(p.bytes_read);
            }
        },
    )?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(summary)
}

/// Opens (or continues) a chained audit log, verifying what is already there.
pub(crate) fn open_audit(
    path: &Path,
    key: &KeyRing,
) -> Result<Arc<ChainedLog<BufWriter<File>>>, Error> {
    Ok(Arc::new(ChainedLog::open(path, key)?))
}

fn deidentify(a: &DeidentifyArgs) -> Result<Summary, Error> {
    let started = Instant::now();
    let format = format_of(&a.input, a.format)?;
    let engine = load_engine(a.who.policies.as_deref())?;
    let (engine, catalog) = match &a.who.catalog {
        Some(c) => with_catalog(engine, c)?,
        None => {
            let cols = phiguard::io::peek_columns(&a.input, format)?;
            let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
            let name = engine.match_catalog(&refs)?.name.clone();
            (engine, name)
        }
    };
    let request = a.who.request(catalog);
    let mut view = engine.view(&request)?;
    let key = a.key_file.as_deref().map(read_key).transpose()?;
    if let Some(k) = &key {
        view = view.with_key(k.clone());
    }
    let audit = match (&a.audit_log, &key) {
        (Some(path), Some(k)) => Some(open_audit(path, k)?),
        (Some(_), None) => {
            return Err(Error::key(
                "the audit log is chained with the key: pass --key-file",
            ));
        }
        _ => None,
    };
    if let Some(log) = &audit {
        view = view.with_audit(log.clone() as Arc<dyn AuditSink>);
    }
    let summary = run_job(&Job {
        view: &view,
        input: &a.input,
        output: &a.output,
        format,
        chunk_rows: a.chunk_rows,
        progress: !a.quiet && std::io::stderr().is_terminal(),
    })?;
    if let Some(log) = &audit {
        log.flush()?;
    }
    if !a.quiet {
        print_summary(&summary, started.elapsed().as_secs_f64(), &a.output);
    }
    Ok(summary)
}

fn print_summary(s: &Summary, secs: f64, output: &Path) {
    let rate = if secs > 0.0 {
        s.rows as f64 / secs
    } else {
        0.0
    };
    eprintln!(
        "phiguard: wrote {} ({} rows in {secs:.2} s, {rate:.0} rows/s, {} plan(s))",
        output.display(),
        s.rows,
        s.plans
    );
    let parts: Vec<String> = s
        .treatments
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    eprintln!("phiguard: values by treatment: {}", parts.join(", "));
    if !s.unknown_columns.is_empty() {
        eprintln!(
            "phiguard: columns not in the catalog (redacted): {}",
            s.unknown_columns.join(", ")
        );
    }
    let n = s.treatments.get(phiguard::Counted::Untreatable);
    if n > 0 {
        eprintln!("phiguard: {n} value(s) could not be treated as planned and were redacted");
    }
}

/// The purpose each role usually acts under (explain --all-roles and the demo).
pub(crate) fn usual_purpose(role: &str) -> &'static str {
    match role {
        "physician" | "nurse" | "clinician" => "TREAT",
        "billing_analyst" => "HPAYMT",
        "data_analyst" | "researcher" => "HRESCH",
        "patient" => "PATRQT",
        _ => "HOPERAT",
    }
}

impl ExplainArgs {
    /// The request `explain` asks for `role`: its purpose (the role's usual one unless
    /// `--purpose`), a fixed user and reference year.
    fn request(&self, role: &str, catalog: &str) -> (String, AccessRequest) {
        let purpose = self
            .purpose
            .clone()
            .unwrap_or_else(|| usual_purpose(role).to_owned());
        let request = AccessRequest {
            break_glass_reason: self.break_glass_reason.clone(),
            as_of_year: Some(2000),
            ..AccessRequest::new(
                "explain-user",
                [role.to_owned()],
                purpose.clone(),
                catalog.to_owned(),
            )
        };
        (purpose, request)
    }
}

fn explain(a: &ExplainArgs) -> Result<(), Error> {
    if let Some(ty) = &a.fhir {
        return explain_fhir(a, ty);
    }
    let engine = load_engine(a.policies.as_deref())?;
    let (engine, catalog) = with_catalog(engine, &a.catalog)?;
    let roles: Vec<String> = if a.all_roles || a.role.is_empty() {
        engine
            .pack()
            .roles()
            .into_iter()
            .filter(|r| *r != "clinician")
            .map(str::to_owned)
            .collect()
    } else {
        a.role.clone()
    };
    let attrs = RecordAttrs {
        labels: a.labels.clone(),
        confidentiality: "N".into(),
        treating: a.treating,
        ..RecordAttrs::default()
    };
    let mut columns = Vec::new();
    for role in &roles {
        let (purpose, request) = a.request(role, &catalog);
        let plan = engine
            .view(&request)?
            .with_key(KeyRing::from_bytes(&[0u8; 32])?)
            .plan(&attrs)?;
        columns.push((role.clone(), purpose, plan));
    }
    if let Some(path) = &a.html {
        let page = html::matrix(&engine, &catalog, &columns, &attrs);
        std::fs::write(path, page).map_err(|e| io_err(path, e))?;
        eprintln!("phiguard: wrote {}", path.display());
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        let v: Vec<_> = columns
            .iter()
            .map(|(r, p, plan)| serde_json::json!({"role": r, "purpose": p, "plan": &**plan}))
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        )
        .ok();
        return Ok(());
    }
    for (role, purpose, plan) in &columns {
        writeln!(out, "role {role}, purpose {purpose} (plan {}):", plan.id).ok();
        writeln!(
            out,
            "  {:<22} {:<16} {:<13} deciding policies",
            "field", "category", "treatment"
        )
        .ok();
        for f in &plan.fields {
            let why = f.reason();
            writeln!(
                out,
                "  {:<22} {:<16} {:<13} {why}",
                f.field,
                f.category,
                f.treatment.name()
            )
            .ok();
        }
    }
    Ok(())
}

fn check(policies: Option<&Path>) -> Result<(), Error> {
    let engine = load_engine(policies)?;
    let p = engine.pack();
    phiguard::fhir::check_rules(p)?;
    println!(
        "ok: {} policies, {} categories, {} catalogs ({}), roles: {}; purposes: {}{}",
        p.policy_count(),
        p.categories().iter().count(),
        p.catalogs().len(),
        p.catalogs()
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        p.roles().join(", "),
        p.purposes().join(", "),
        if p.fhir_rules().is_some() {
            "; FHIR rules checked"
        } else {
            ""
        }
    );
    Ok(())
}

fn verify(file: &Path, key_file: &Path, anchor: Option<&str>) -> Result<(), Error> {
    let key = read_key(key_file)?;
    let f = File::open(file).map_err(|e| io_err(file, e))?;
    let (tail, break_glass) = match anchor {
        Some(a) => {
            let anchor = phiguard::audit::Tail::parse_anchor(a)?;
            phiguard::audit::verify_anchored(BufReader::new(f), &key, &anchor)?
        }
        None => phiguard::audit::verify(BufReader::new(f), &key)?,
    };
    println!(
        "ok: {} entries, chain intact; {break_glass} break-glass event(s) to review",
        tail.seq
    );
    println!(
        "anchor: {} (keep it elsewhere; pass it as --anchor to detect entries cut off the end)",
        tail.anchor_text()
    );
    Ok(())
}

fn keygen(output: &Path) -> Result<(), Error> {
    let key = KeyRing::generate_file(output)?;
    eprintln!("phiguard: wrote key {} to {}", key.id(), output.display());
    Ok(())
}

fn read_jsonl(path: &Path) -> Result<Vec<(u64, serde_json::Value)>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| io_err(path, e))?;
    let src = path.display().to_string();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v = serde_json::from_str(line)
            .map_err(|e| Error::malformed_json(&src, i as u64 + 1, &e))?;
        out.push((i as u64 + 1, v));
    }
    Ok(out)
}

/// The spans of one text as the default pack finds them, through [`Engine::detect`] (the
/// shared built-in detector, and the `max_text_bytes` cap); a text over the cap is an error at
/// its file and line.
pub(crate) fn detect_at(
    engine: &Engine,
    text: &str,
    source: &str,
    line: u64,
) -> Result<Vec<phiguard::text::Span>, Error> {
    engine.detect(text).map_err(|e| match e {
        Error::Input { message, .. } => {
            Error::input(phiguard::Location::line(source, line), message)
        }
        e => e,
    })
}

fn detect(input: &Path, jsonl: bool, field: &str) -> Result<(), Error> {
    let engine = Engine::builder().build()?;
    let src = input.display().to_string();
    let mut out = std::io::stdout().lock();
    let texts: Vec<(u64, String)> = if jsonl {
        read_jsonl(input)?
            .into_iter()
            .map(|(n, v)| {
                (
                    n,
                    v.get(field)
                        .and_then(|t| t.as_str())
                        .unwrap_or("")
                        .to_owned(),
                )
            })
            .collect()
    } else {
        let bytes = std::fs::read(input).map_err(|e| io_err(input, e))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            Error::input(
                phiguard::Location::line(&input.display().to_string(), 0),
                format!(
                    "not valid utf-8 (first bad byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        vec![(1, text)]
    };
    for (line, text) in texts {
        // A plain file is one text: its error points at the file, not a line.
        let at = if jsonl { line } else { 0 };
        for s in detect_at(&engine, &text, &src, at)? {
            let v = serde_json::json!({"line": line, "start": s.char_start, "end": s.char_end,
                "start_byte": s.start, "end_byte": s.end, "category": s.category,
                "detector": s.detector, "confidence": s.confidence});
            writeln!(out, "{v}").map_err(|e| io_err(Path::new("<stdout>"), e))?;
        }
    }
    Ok(())
}

fn eval(files: &[PathBuf], json: bool) -> Result<(), Error> {
    let engine = Engine::builder().build()?;
    let mut cases = Vec::new();
    let mut bytes = 0usize;
    for f in files {
        for (line, v) in read_jsonl(f)? {
            let text = v
                .get("text")
                .and_then(|t| t.as_str())
                .unwrap_or("")
                .to_owned();
            let mut spans = Vec::new();
            for s in v
                .get("spans")
                .and_then(|s| s.as_array())
                .into_iter()
                .flatten()
            {
                let num = |k: &str| {
                    s.get(k)
                        .and_then(serde_json::Value::as_u64)
                        .map(|n| n as usize)
                };
                // Byte offsets when given; else code points converted to bytes.
                let (start, end) = match (num("start_byte"), num("end_byte")) {
                    (Some(a), Some(b)) => (a, b),
                    _ => {
                        let to_byte =
                            |c: usize| text.char_indices().nth(c).map_or(text.len(), |(b, _)| b);
                        (
                            to_byte(num("start").unwrap_or(0)),
                            to_byte(num("end").unwrap_or(0)),
                        )
                    }
                };
                if start > end
                    || end > text.len()
                    || !text.is_char_boundary(start)
                    || !text.is_char_boundary(end)
                {
                    return Err(Error::input(
                        phiguard::Location::line(&f.display().to_string(), line),
                        "a span lies outside its text",
                    ));
                }
                let label = s
                    .get("label")
                    .and_then(|l| l.as_str())
                    .unwrap_or("")
                    .to_owned();
                spans.push((start, end, label));
            }
            bytes += text.len();
            cases.push(eval::GoldCase {
                text,
                spans,
                source: (f.display().to_string(), line),
            });
        }
    }
    // The shared detector compiles on first use: do that before the clock starts, so the
    // time printed is detection and scoring, as it was when eval compiled its own.
    engine.detect("")?;
    let started = Instant::now();
    let (scores, unmapped) = eval::evaluate(&engine, &cases)?;
    let secs = started.elapsed().as_secs_f64();
    if json {
        let scores: serde_json::Map<_, _> = scores
            .iter()
            .map(|(c, s)| (c.clone(), s.to_json()))
            .collect();
        println!(
            "{}",
            serde_json::json!({"texts": cases.len(), "bytes": bytes, "scores": scores, "unmapped_labels": unmapped})
        );
        return Ok(());
    }
    println!(
        "{} texts, {bytes} bytes, detected in {secs:.2} s (with scoring)",
        cases.len()
    );
    println!(
        "{:<14} {:>6} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "category", "gold", "recall", "overlap", "exact", "precision", "f1"
    );
    for (cat, s) in &scores {
        println!(
            "{cat:<14} {:>6} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>6.3}",
            s.gold,
            s.recall(),
            s.recall_overlap(),
            s.recall_exact(),
            s.precision(),
            s.f1()
        );
    }
    if !unmapped.is_empty() {
        let parts: Vec<String> = unmapped.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("not scored (no PHI category here): {}", parts.join(", "));
    }
    Ok(())
}

/// `explain --fhir TYPE`: one row per element of the resource type, for each role.
fn explain_fhir(a: &ExplainArgs, ty: &str) -> Result<(), Error> {
    let engine = load_engine(a.policies.as_deref())?;
    let catalog = if a.catalog == "synthea-patients" {
        "fhir"
    } else {
        a.catalog.as_str()
    };
    let (engine, catalog) = with_catalog(engine, catalog)?;
    if a.role.is_empty() {
        return Err(Error::request("explain --fhir needs --role"));
    }
    let mut out = std::io::stdout().lock();
    for role in &a.role {
        let (purpose, request) = a.request(role, &catalog);
        let view = engine.view(&request)?;
        let rows = phiguard::fhir::Fhir::new(&view)?.explain(ty)?;
        if a.json {
            let v = serde_json::json!({"role": role, "purpose": purpose, "resource": ty, "elements": rows});
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            )
            .ok();
            continue;
        }
        writeln!(out, "role {role}, purpose {purpose}, {ty}:").ok();
        writeln!(
            out,
            "  {:<34} {:<22} {:<16} {:<11} why",
            "element", "type", "class", "treatment"
        )
        .ok();
        for r in &rows {
            writeln!(
                out,
                "  {:<34} {:<22} {:<16} {:<11} {}",
                r.path, r.ty, r.class, r.treatment, r.reason
            )
            .ok();
        }
    }
    Ok(())
}

fn fhir_cmd(
    who: &Who,
    key_file: Option<&Path>,
    inputs: &[PathBuf],
    output: &Path,
    on_error: phiguard::fhir::OnError,
) -> Result<(), Error> {
    let engine = load_engine(who.policies.as_deref())?;
    let (engine, catalog) = with_catalog(engine, who.catalog.as_deref().unwrap_or("fhir"))?;
    let mut view = engine.view(&who.request(catalog))?;
    if let Some(k) = key_file {
        view = view.with_key(read_key(k)?);
    }
    fhir::run(&view, inputs, output, on_error)
}

fn scrub(
    who: &Who,
    key_file: Option<&Path>,
    jsonl: bool,
    field: &str,
    input: &Path,
    output: &Path,
) -> Result<(), Error> {
    let engine = load_engine(who.policies.as_deref())?;
    let (engine, catalog) = with_catalog(engine, who.catalog.as_deref().unwrap_or("free-text"))?;
    let request = who.request(catalog);
    let mut view = engine.view(&request)?;
    if let Some(k) = key_file {
        view = view.with_key(read_key(k)?);
    }
    phiguard::io::scrub_text_file(&view, input, output, jsonl.then_some(field))
}

/// `phiguard serve`: the server's errors as the CLI's (configuration problems are request
/// errors: the caller's input is wrong).
fn serve(config: &Path, check: bool) -> Result<(), Error> {
    let err = |e: phiguard_server::ServerError| match e {
        phiguard_server::ServerError::Engine(e) => e,
        other => Error::request(other.to_string()),
    };
    let config = phiguard_server::Config::load(config).map_err(err)?;
    if check {
        let _routes = phiguard_server::router(&config).map_err(err)?;
        eprintln!("phiguard serve: the configuration, pack, key, audit log and JWKS load");
        return Ok(());
    }
    phiguard_server::run(&config).map_err(err)
}
