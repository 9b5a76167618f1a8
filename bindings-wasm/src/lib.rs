//! `phiguard` for JavaScript and TypeScript (wasm-bindgen): converts JS values and errors to
//! and from the core's types. Every rule lives in the core.
//!
//! Records cross the boundary as JSON text (`JSON.stringify` / `JSON.parse`): the same bytes the
//! Rust and Python runtimes produce, and nesting limits enforced by the core's parser rather than
//! by a recursive converter. Errors are thrown as `Error` objects named `PhiguardError` with
//! `code`, `location` and `entry`.

use std::collections::BTreeMap;
use std::sync::Arc;

use phiguard::audit::{AuditSink, MemorySink};
use phiguard::io::{CsvPush, IoOptions};
use phiguard::{AccessRequest, KeyRing, PackSources, RecordAttrs, Source};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tsify::Tsify;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** What every phiguard call throws: an `Error` named `PhiguardError`. */
export interface PhiguardError extends Error {
  name: "PhiguardError";
  /** Stable kind of the failure. `internal` is a caught bug: nothing was released. */
  code: "policy" | "catalog" | "request" | "input" | "key" | "audit" | "io" | "internal";
  /** Where: a policy or catalog file, an input line, a field; null when not about a place. */
  location: ErrorLocation | null;
  /** For audit errors: the first bad entry (1-based). */
  entry: number | null;
}
/** What a CSV run did (the core's run summary). */
export interface RunSummary {
  /** Records written. */
  rows: number;
  /** Values per treatment, as the core names them (`clear`, `mask`, ..., `untreatable`, `unknown_field`). */
  treatments: Record<string, number>;
  /** Input columns not in the catalog (redacted). */
  unknownColumns: string[];
  /** Distinct plans used. */
  plans: number;
}
export interface ErrorLocation {
  source: string;
  line: number;
  column: number;
  field: string | null;
}
"#;

/// Sources of a policy pack; each part left out is taken from the default pack.
#[derive(Tsify, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PackInput {
    /// Cedar schema text.
    #[tsify(optional)]
    pub schema: Option<String>,
    /// Cedar policy texts.
    #[tsify(optional)]
    pub policies: Option<Vec<String>>,
    /// Cedar entities JSON (roles, purposes).
    #[tsify(optional)]
    pub entities: Option<String>,
    /// Categories TOML.
    #[tsify(optional)]
    pub categories: Option<String>,
    /// Catalog TOML texts.
    #[tsify(optional)]
    pub catalogs: Option<Vec<String>>,
    /// Custom free-text detectors TOML.
    #[tsify(optional)]
    pub detectors: Option<String>,
    /// FHIR rules TOML (`fhir/rules.toml`): how FHIR elements map to categories.
    #[tsify(optional)]
    pub fhir_rules: Option<String>,
    /// Caps on hostile input; each one left out keeps its default.
    #[tsify(optional)]
    pub limits: Option<Limits>,
}

/// Caps that keep memory and time bounded on hostile input (positive integers).
#[derive(Tsify, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Limits {
    /// Largest string value of a record, in bytes.
    #[tsify(optional)]
    pub max_field_bytes: Option<usize>,
    /// Deepest nesting of a record.
    #[tsify(optional)]
    pub max_depth: Option<usize>,
    /// Most policies a pack may hold.
    #[tsify(optional)]
    pub max_policies: Option<usize>,
    /// Longest text one `scrubText` call takes, in bytes.
    #[tsify(optional)]
    pub max_text_bytes: Option<usize>,
    /// Largest CSV record a stream accepts, in bytes.
    #[tsify(optional)]
    pub max_record_bytes: Option<usize>,
}

impl Limits {
    /// Through the core's names: JS spells them in camelCase (`maxFieldBytes` for
    /// `max_field_bytes`); the core checks each value.
    fn to_core(&self) -> Result<phiguard::Limits, JsValue> {
        let mut limits = phiguard::Limits::default();
        let given = serde_json::to_value(self).map_err(|e| request_err(e.to_string()))?;
        for (name, value) in given.as_object().into_iter().flatten() {
            let Some(value) = value.as_u64() else {
                continue; // left out
            };
            let value = usize::try_from(value).unwrap_or(usize::MAX);
            limits
                .set(&snake_case(name), value)
                .map_err(|e| js_err(&e))?;
        }
        Ok(limits)
    }

    fn from_core(l: phiguard::Limits) -> serde_json::Value {
        l.iter()
            .map(|(name, v)| (camel_case(name), serde_json::Value::from(v)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut up = false;
    for c in name.chars() {
        match c {
            '_' => up = true,
            c if up => {
                out.extend(c.to_uppercase());
                up = false;
            }
            c => out.push(c),
        }
    }
    out
}

/// The core's wire types with their top-level keys in JS spelling (`unknown_columns` ->
/// `unknownColumns`); nested maps keep their keys (treatment names are data).
fn camel_keys(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => m.into_iter().map(|(k, v)| (camel_case(&k), v)).collect(),
        other => other,
    }
}

fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Who asks, for what, and why.
#[derive(Tsify, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ViewRequest {
    /// One role (or use `roles`).
    #[tsify(optional)]
    pub role: Option<String>,
    /// Several roles.
    #[tsify(optional)]
    pub roles: Option<Vec<String>>,
    /// Purpose of use (HL7 v3 ActReason: `TREAT`, `HPAYMT`, `HOPERAT`, `HRESCH`, `ETREAT`, `BTG`).
    pub purpose: String,
    /// User id (care teams, own record). Default `anonymous`.
    #[tsify(optional)]
    pub user: Option<String>,
    /// Dataset catalog, e.g. `synthea-patients`.
    pub catalog: String,
    /// `read` (default) or `export`.
    #[tsify(optional)]
    pub operation: Option<String>,
    /// Required for break-glass purposes.
    #[tsify(optional)]
    pub break_glass_reason: Option<String>,
    /// Department of the user.
    #[tsify(optional)]
    pub department: Option<String>,
    /// Year ages are computed against; default: this year by the browser's clock.
    #[tsify(optional)]
    pub as_of_year: Option<i64>,
    /// Key file text (`phiguard-key-v1:` + hex) for pseudonyms and date shifts. A key given
    /// to a browser is visible to its user.
    #[tsify(optional)]
    pub key: Option<String>,
    /// Keep audit events in memory for `takeAuditEvents()`.
    #[tsify(optional)]
    pub audit: Option<bool>,
}

/// One value or several, for one key of a note's record.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn iter(&self) -> impl Iterator<Item = &str> {
        match self {
            OneOrMany::One(v) => std::slice::from_ref(v).iter(),
            OneOrMany::Many(v) => v.iter(),
        }
        .map(String::as_str)
    }
}

/// Record attributes for `explain`.
#[derive(Tsify, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExplainOptions {
    /// Sensitivity labels (HL7: `HIV`, `PSY`, `SUD`, ...).
    #[tsify(optional)]
    pub labels: Option<Vec<String>>,
    /// Confidentiality code (`N` by default, `R`, `V`).
    #[tsify(optional)]
    pub confidentiality: Option<String>,
    /// Whether the user is on the patient's care team.
    #[tsify(optional)]
    pub treating: Option<bool>,
}

/// One PHI span found in a text.
#[derive(Tsify, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DetectedSpan {
    /// Start, as a JS string index (UTF-16 code units): `text.slice(start, end)`.
    pub start: usize,
    /// End (exclusive), as a JS string index.
    pub end: usize,
    /// PHI category (`name`, `ssn`, `event_date`, ...).
    pub category: String,
    /// The detector that found it.
    pub detector: String,
    /// Confidence in 0..=1.
    pub confidence: f32,
}

/// One field's decision.
#[derive(Tsify, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExplainRow {
    /// Field (column or JSON path).
    pub field: String,
    /// PHI category.
    pub category: String,
    /// `clear`, `mask`, `shift`, `pseudonymize`, `generalize`, `scrub`, `redact` or `drop`.
    pub treatment: String,
    /// Why, in words.
    pub reason: String,
    /// Policies that permitted the level applied.
    pub policies: Vec<String>,
    /// Forbids that removed more revealing levels.
    pub denied_by: Vec<String>,
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Setting a property on a fresh Error or Object cannot fail.
    let _ = js_sys::Reflect::set(target, &JsValue::from_str(key), value);
}

/// The thrown form of a core error.
fn js_err(e: &phiguard::Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("PhiguardError");
    let err = JsValue::from(err);
    set(&err, "code", &JsValue::from_str(e.code()));
    let location = match e.location() {
        Some(l) => {
            let o = JsValue::from(js_sys::Object::new());
            set(&o, "source", &JsValue::from_str(&l.source));
            set(&o, "line", &JsValue::from_f64(l.line as f64));
            set(&o, "column", &JsValue::from_f64(l.column as f64));
            set(
                &o,
                "field",
                &l.field.as_deref().map_or(JsValue::NULL, JsValue::from_str),
            );
            o
        }
        None => JsValue::NULL,
    };
    set(&err, "location", &location);
    let entry = match e {
        phiguard::Error::Audit { entry: Some(n), .. } => JsValue::from_f64(*n as f64),
        _ => JsValue::NULL,
    };
    set(&err, "entry", &entry);
    err
}

fn request_err(message: impl Into<String>) -> JsValue {
    js_err(&phiguard::Error::request(message))
}

fn input_err(source: &str, message: impl Into<String>) -> JsValue {
    js_err(&phiguard::Error::input(
        phiguard::Location::line(source, 0),
        message,
    ))
}

/// JS value -> JSON text, through `JSON.stringify` (cycles and BigInt are input errors).
fn stringify(v: &JsValue, what: &str) -> Result<String, JsValue> {
    let text = js_sys::JSON::stringify(v)
        .map_err(|_| input_err(what, "cannot be serialized as JSON (a cycle or a BigInt?)"))?;
    text.as_string()
        .ok_or_else(|| input_err(what, "is not a JSON value"))
}

fn from_js<T: DeserializeOwned>(v: &JsValue, what: &str) -> Result<T, JsValue> {
    let text = stringify(v, what)?;
    serde_json::from_str(&text).map_err(|e| request_err(format!("{what}: {e}")))
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(v).map_err(|e| input_err("<output>", e.to_string()))?;
    js_sys::JSON::parse(&text)
}

fn parse_record(text: &str, source: &str) -> Result<serde_json::Value, JsValue> {
    serde_json::from_str(text).map_err(|e| js_err(&phiguard::Error::malformed_json(source, 1, &e)))
}

fn clock() -> String {
    js_sys::Date::new_0()
        .to_iso_string()
        .as_string()
        .unwrap_or_default()
}

/// A loaded, validated policy pack. `new Engine()` is the default HIPAA pack.
#[wasm_bindgen]
pub struct Engine {
    inner: phiguard::Engine,
}

#[wasm_bindgen]
impl Engine {
    /// Loads a pack; parts left out come from the default pack.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "PackInput")] sources: Option<JsValue>,
    ) -> Result<Engine, JsValue> {
        let input: PackInput = match sources {
            Some(s) if !s.is_undefined() && !s.is_null() => from_js(&s, "pack sources")?,
            _ => PackInput::default(),
        };
        let d = phiguard::PackSources::default_pack();
        let many = |v: Option<Vec<String>>, label: &str, default: Vec<Source>| match v {
            Some(texts) => texts
                .into_iter()
                .enumerate()
                .map(|(i, t)| Source::new(format!("<{label}>[{i}]"), t))
                .collect(),
            None => default,
        };
        let one = |v: Option<String>, label: &str, default: Option<Source>| match v {
            Some(t) => Some(Source::new(format!("<{label}>"), t)),
            None => default,
        };
        let sources = PackSources {
            schema: one(input.schema, "schema", d.schema),
            policies: many(input.policies, "policies", d.policies),
            entities: one(input.entities, "entities", d.entities),
            categories: one(input.categories, "categories", d.categories),
            catalogs: many(input.catalogs, "catalogs", d.catalogs),
            detectors: one(input.detectors, "detectors", d.detectors),
            fhir_rules: one(input.fhir_rules, "fhirRules", d.fhir_rules),
        };
        let limits = input.limits.unwrap_or_default().to_core()?;
        Ok(Engine {
            inner: phiguard::Engine::builder()
                .sources(sources)
                .limits(limits)
                .build()
                .map_err(|e| js_err(&e))?,
        })
    }

    /// The caps this engine applies (every one filled in).
    #[wasm_bindgen(getter, unchecked_return_type = "Limits")]
    pub fn limits(&self) -> Result<JsValue, JsValue> {
        to_js(&Limits::from_core(self.inner.limits()))
    }

    /// The PHI spans in `text` as this engine's pack finds them, in order and without
    /// overlaps. This says what is there; a view's `scrubText` applies a principal's
    /// treatments.
    #[wasm_bindgen(unchecked_return_type = "DetectedSpan[]")]
    pub fn detect(&self, text: &str) -> Result<JsValue, JsValue> {
        let spans = self.inner.detect(text).map_err(|e| js_err(&e))?;
        // Byte offsets to UTF-16 offsets, in one pass: spans come in order without overlaps.
        let mut out = Vec::with_capacity(spans.len());
        let mut unit = 0usize;
        let mut chars = text.char_indices().peekable();
        let mut to_unit = |target: usize| {
            while let Some((_, c)) = chars.next_if(|&(i, _)| i < target) {
                unit += c.len_utf16();
            }
            unit
        };
        for s in spans {
            let start = to_unit(s.start);
            let end = to_unit(s.end);
            out.push(DetectedSpan {
                start,
                end,
                category: s.category.into_owned(),
                detector: s.detector.into_owned(),
                confidence: s.confidence,
            });
        }
        to_js(&out)
    }

    /// The same engine with one more catalog (TOML text).
    #[wasm_bindgen(js_name = withCatalog)]
    pub fn with_catalog(&self, toml: &str) -> Result<Engine, JsValue> {
        Ok(Engine {
            inner: self
                .inner
                .with_catalog(&Source::new("<catalog>", toml))
                .map_err(|e| js_err(&e))?,
        })
    }

    /// Names of the dataset catalogs.
    #[wasm_bindgen(getter)]
    pub fn catalogs(&self) -> Vec<String> {
        self.inner.catalog_names()
    }

    /// Roles the pack defines.
    #[wasm_bindgen(getter)]
    pub fn roles(&self) -> Vec<String> {
        self.inner.role_names()
    }

    /// Purposes of use the pack defines.
    #[wasm_bindgen(getter)]
    pub fn purposes(&self) -> Vec<String> {
        self.inner.purpose_names()
    }

    /// Column names of a catalog, in catalog order.
    #[wasm_bindgen(js_name = catalogFields)]
    pub fn catalog_fields(&self, catalog: &str) -> Result<Vec<String>, JsValue> {
        Ok(self
            .inner
            .catalog(catalog)
            .map_err(|e| js_err(&e))?
            .fields
            .iter()
            .map(|f| f.name.clone())
            .collect())
    }

    /// The catalog whose fields cover these column names (a CSV header).
    #[wasm_bindgen(js_name = matchCatalog)]
    pub fn match_catalog(&self, columns: Vec<String>) -> Result<String, JsValue> {
        let refs: Vec<&str> = columns.iter().map(String::as_str).collect();
        Ok(self
            .inner
            .match_catalog(&refs)
            .map_err(|e| js_err(&e))?
            .name
            .clone())
    }

    /// One principal's view of one catalog.
    pub fn view(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ViewRequest")] request: JsValue,
    ) -> Result<View, JsValue> {
        let r: ViewRequest = from_js(&request, "view request")?;
        let roles: Vec<String> = r
            .role
            .into_iter()
            .chain(r.roles.unwrap_or_default())
            .collect();
        if roles.is_empty() {
            return Err(request_err("give `role` or `roles`"));
        }
        let as_of_year = match r.as_of_year {
            Some(y) => y,
            None => i64::from(js_sys::Date::new_0().get_utc_full_year()),
        };
        let req = AccessRequest {
            user: r.user.unwrap_or_else(|| "anonymous".into()),
            roles,
            purpose: r.purpose,
            operation: r.operation.unwrap_or_else(|| "read".into()),
            break_glass_reason: r.break_glass_reason,
            department: r.department,
            catalog: r.catalog,
            as_of_year: Some(as_of_year),
        };
        let mut view = self
            .inner
            .view(&req)
            .map_err(|e| js_err(&e))?
            .with_clock(clock);
        if let Some(text) = &r.key {
            view = view.with_key(KeyRing::from_key_text(text, "key").map_err(|e| js_err(&e))?);
        }
        let audit = r
            .audit
            .unwrap_or(false)
            .then(|| Arc::new(MemorySink::default()));
        if let Some(sink) = &audit {
            view = view.with_audit(sink.clone() as Arc<dyn AuditSink>);
        }
        Ok(View {
            inner: Arc::new(view),
            audit,
        })
    }
}

/// One principal's compiled access to one catalog.
#[wasm_bindgen]
pub struct View {
    inner: Arc<phiguard::View>,
    audit: Option<Arc<MemorySink>>,
}

#[wasm_bindgen]
impl View {
    /// De-identifies one record; returns the treated copy.
    pub fn apply(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] record: JsValue,
    ) -> Result<JsValue, JsValue> {
        let text = stringify(&record, "<record>")?;
        let out = self.apply_json(&text)?;
        js_sys::JSON::parse(&out)
    }

    /// De-identifies one record given as JSON text; returns compact JSON text, byte for byte
    /// what the Rust and Python runtimes return.
    #[wasm_bindgen(js_name = applyJson)]
    pub fn apply_json(&self, text: &str) -> Result<String, JsValue> {
        let mut value = parse_record(text, "<json>")?;
        self.inner
            .apply_json_records(std::slice::from_mut(&mut value), "<json>")
            .map_err(|e| js_err(&e))?;
        serde_json::to_string(&value).map_err(|e| input_err("<json>", e.to_string()))
    }

    /// De-identifies FHIR R4 (a view of the `fhir` catalog): a resource or a Bundle, or an
    /// array of them in one run (ids, references and date shifts agree across the array).
    /// Returns the treated copy; a resource withheld (an unknown `modifierExtension`) comes
    /// back as `null`.
    #[wasm_bindgen(js_name = applyFhir)]
    pub fn apply_fhir(&self, doc: JsValue) -> Result<JsValue, JsValue> {
        let text = stringify(&doc, "<fhir>")?;
        let mut value = parse_record(&text, "<fhir>")?;
        phiguard::fhir::Fhir::new(&self.inner)
            .and_then(|mut run| match &mut value {
                serde_json::Value::Array(items) => run.apply_all(items, "<fhir>"),
                one => run.apply(one, "<fhir>"),
            })
            .map_err(|e| js_err(&e))?;
        to_js(&value)
    }

    /// `applyFhir` on JSON text (a resource or a Bundle); returns compact JSON text, byte for
    /// byte what the Rust and Python runtimes return.
    #[wasm_bindgen(js_name = applyFhirJson)]
    pub fn apply_fhir_json(&self, text: &str) -> Result<String, JsValue> {
        let mut value = parse_record(text, "<fhir>")?;
        phiguard::fhir::Fhir::new(&self.inner)
            .and_then(|mut run| run.apply(&mut value, "<fhir>"))
            .map_err(|e| js_err(&e))?;
        serde_json::to_string(&value).map_err(|e| input_err("<fhir>", e.to_string()))
    }

    /// De-identifies an array of records; returns the treated copies in order.
    #[wasm_bindgen(js_name = applyMany, unchecked_return_type = "Record<string, unknown>[]")]
    pub fn apply_many(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>[]")] records: JsValue,
    ) -> Result<JsValue, JsValue> {
        let text = stringify(&records, "<records>")?;
        let mut value = parse_record(&text, "<records>")?;
        let serde_json::Value::Array(items) = &mut value else {
            return Err(input_err("<records>", "expected an array of records"));
        };
        self.inner
            .apply_json_records(items, "<records>")
            .map_err(|e| js_err(&e))?;
        to_js(&value)
    }

    /// Field by field: treatment, category and deciding policies, for records with these
    /// attributes.
    #[wasm_bindgen(unchecked_return_type = "ExplainRow[]")]
    pub fn explain(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "ExplainOptions")] options: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        let o: ExplainOptions = match options {
            Some(v) if !v.is_undefined() && !v.is_null() => from_js(&v, "explain options")?,
            _ => ExplainOptions::default(),
        };
        let attrs = RecordAttrs {
            labels: o.labels.unwrap_or_default(),
            confidentiality: o.confidentiality.unwrap_or_else(|| "N".into()),
            treating: o.treating.unwrap_or(false),
            ..RecordAttrs::default()
        };
        let plan = self.inner.plan(&attrs).map_err(|e| js_err(&e))?;
        let rows: Vec<ExplainRow> = plan
            .fields
            .iter()
            .map(|f| ExplainRow {
                field: f.field.clone(),
                category: f.category.clone(),
                treatment: f.treatment.name().to_owned(),
                reason: f.reason(),
                policies: f.policies.clone(),
                denied_by: f.denied_by.clone(),
            })
            .collect();
        to_js(&rows)
    }

    /// Treats free text as the catalog's note field: every detected identifier gets the
    /// treatment this principal's policies give its category. `null` when notes are redacted.
    /// `record` (optional) holds the identifying values of the record the note belongs to,
    /// by catalog field or category (`{name: ["Ann Lee"], mrn: "QW-448812"}`): each is found
    /// in the note wherever it stands, whatever the detectors make of it.
    #[wasm_bindgen(js_name = scrubText)]
    pub fn scrub_text(
        &self,
        text: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "Record<string, string | string[]>")]
        record: Option<JsValue>,
    ) -> Result<Option<String>, JsValue> {
        let values: BTreeMap<String, OneOrMany> = match record {
            Some(v) if !v.is_undefined() && !v.is_null() => {
                // The values are PHI: a type error must not quote them.
                let text = stringify(&v, "record")?;
                serde_json::from_str(&text).map_err(|_| {
                    request_err(
                        "record: expected an object of strings or arrays of strings".to_owned(),
                    )
                })?
            }
            _ => BTreeMap::new(),
        };
        let pairs: Vec<(&str, &str)> = values
            .iter()
            .flat_map(|(k, v)| v.iter().map(move |x| (k.as_str(), x)))
            .collect();
        self.inner
            .scrub_text_in(text, &pairs)
            .map_err(|e| js_err(&e))
    }

    /// De-identifies a whole CSV text (header first); returns the CSV text out.
    #[wasm_bindgen(js_name = deidentifyCsv)]
    pub fn deidentify_csv(&self, text: &str) -> Result<String, JsValue> {
        let mut s = self.csv_stream(None);
        let mut out = s.push(text.as_bytes())?;
        out.extend(s.finish()?);
        String::from_utf8(out).map_err(|e| input_err("<csv>", e.to_string()))
    }

    /// A CSV stream for large files: `push` slices of bytes (cut anywhere), then `finish`.
    #[wasm_bindgen(js_name = csvStream)]
    pub fn csv_stream(&self, source: Option<String>) -> CsvStream {
        let opts = IoOptions {
            source: source.unwrap_or_else(|| "<csv>".into()),
            ..IoOptions::default()
        };
        CsvStream {
            inner: CsvPush::new(self.inner.clone(), opts),
            summary: None,
        }
    }

    /// Audit events recorded since the last call (views made with `audit: true`), for the
    /// host to ship to durable storage.
    #[wasm_bindgen(js_name = takeAuditEvents, unchecked_return_type = "Record<string, unknown>[]")]
    pub fn take_audit_events(&self) -> Result<JsValue, JsValue> {
        let events = self.audit.as_ref().map(|a| a.take()).unwrap_or_default();
        to_js(&events)
    }

    /// Id of the view's key (a public fingerprint), or undefined.
    #[wasm_bindgen(getter, js_name = keyId)]
    pub fn key_id(&self) -> Option<String> {
        self.inner.key().map(|k| k.id().to_owned())
    }
}

/// Push-based CSV de-identification (see `View.csvStream`).
#[wasm_bindgen]
pub struct CsvStream {
    inner: CsvPush,
    summary: Option<phiguard::io::Summary>,
}

#[wasm_bindgen]
impl CsvStream {
    /// Takes the next slice of the input; returns the output of the records it completes.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<u8>, JsValue> {
        self.inner.push(bytes).map_err(|e| js_err(&e))
    }

    /// Ends the input; returns the output of the last records.
    pub fn finish(&mut self) -> Result<Vec<u8>, JsValue> {
        let (out, s) = self.inner.finish().map_err(|e| js_err(&e))?;
        self.summary = Some(s);
        Ok(out)
    }

    /// What the run did, after `finish`.
    #[wasm_bindgen(getter, unchecked_return_type = "RunSummary | undefined")]
    pub fn summary(&self) -> Result<JsValue, JsValue> {
        match &self.summary {
            Some(s) => to_js(&camel_keys(
                serde_json::to_value(s).map_err(|e| input_err("<summary>", e.to_string()))?,
            )),
            None => Ok(JsValue::UNDEFINED),
        }
    }
}
