//! The engine (a loaded, validated pack) and views (one principal's compiled access).
//!
//! An [`Engine`] is immutable and cheap to share. [`Engine::view`] validates a request (roles,
//! purpose, break-glass reason) and prepares Cedar for that principal; a [`View`] compiles one
//! [`Plan`] per distinct set of record attributes, caches it, audits the decision once, and
//! applies plans to records without asking Cedar again.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, RwLock};

use serde_json::Value;

use crate::audit::{AuditEvent, AuditSink, FieldAudit};
use crate::catalog::Catalog;
use crate::error::{Error, Location, Result};
use crate::keys::KeyRing;
use crate::limits::Limits;
use crate::plan::{Applied, Counted, Plan, RowCtx, Tally};
use crate::policy::{Decider, Pack, PackSources, Source};
use crate::record::RecordAttrs;
use crate::treat::TreatmentKind;

/// A loaded, validated policy pack: the one judge of who sees what.
///
/// # Examples
/// ```
/// use phiguard::{AccessRequest, Engine};
/// let engine = Engine::default_pack().unwrap();
/// let req = AccessRequest::new("u1", ["billing_analyst"], "HPAYMT", "synthea-patients");
/// let view = engine.view(&req).unwrap();
/// let plan = view.plan(&Default::default()).unwrap();
/// let ssn = plan.fields.iter().find(|f| f.field == "ssn").unwrap();
/// assert_eq!(ssn.treatment.name(), "mask");
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    pack: Arc<Pack>,
    limits: Limits,
    /// What it was loaded from, so it can be rebuilt elsewhere (a Spark executor, a worker).
    sources: Arc<PackSources>,
}

/// Who asks, for what, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRequest {
    /// User id of the principal (matched against care teams and patient ids).
    pub user: String,
    /// Roles (entities of the pack), e.g. `coder`.
    pub roles: Vec<String>,
    /// Purpose of use, an HL7 v3-ActReason code (`TREAT`, `HPAYMT`, `HRESCH`, ...).
    pub purpose: String,
    /// Operation: `read` or `export`.
    #[serde(default = "default_operation")]
    pub operation: String,
    /// Required for break-glass purposes (`ETREAT`, `BTG`), refused otherwise.
    #[serde(default)]
    pub break_glass_reason: Option<String>,
    /// Department of the user, visible to policies as `principal.department`.
    #[serde(default)]
    pub department: Option<String>,
    /// Catalog name of the dataset.
    pub catalog: String,
    /// Reference year for ages (Safe Harbor's 90+ rule). Defaults to the current year; pin it
    /// for reproducible output.
    #[serde(default)]
    pub as_of_year: Option<i64>,
}

fn default_operation() -> String {
    "read".to_owned()
}

impl AccessRequest {
    /// A `read` request.
    pub fn new<R: Into<String>>(
        user: impl Into<String>,
        roles: impl IntoIterator<Item = R>,
        purpose: impl Into<String>,
        catalog: impl Into<String>,
    ) -> Self {
        AccessRequest {
            user: user.into(),
            roles: roles.into_iter().map(Into::into).collect(),
            purpose: purpose.into(),
            operation: default_operation(),
            break_glass_reason: None,
            department: None,
            catalog: catalog.into(),
            as_of_year: None,
        }
    }
}

macro_rules! pack_file {
    ($name:literal) => {
        Source::new(
            concat!("policies/", $name),
            include_str!(concat!("../../policies/", $name)),
        )
    };
}

impl Engine {
    /// The default HIPAA pack shipped with phiguard (`policies/`).
    ///
    /// # Errors
    /// Only if the embedded pack were invalid (tested).
    pub fn default_pack() -> Result<Self> {
        Self::from_sources(&Self::default_sources())
    }

    /// The sources of the default pack.
    pub fn default_sources() -> PackSources {
        PackSources {
            schema: Some(pack_file!("schema.cedarschema")),
            entities: Some(pack_file!("entities.json")),
            categories: Some(pack_file!("categories.toml")),
            policies: vec![
                pack_file!("base.cedar"),
                pack_file!("treatment.cedar"),
                pack_file!("payment.cedar"),
                pack_file!("operations.cedar"),
                pack_file!("research.cedar"),
                pack_file!("patient.cedar"),
            ],
            catalogs: vec![
                pack_file!("catalogs/synthea-patients.toml"),
                pack_file!("catalogs/fhir-patient.toml"),
                pack_file!("catalogs/encounters.toml"),
                pack_file!("catalogs/free-text.toml"),
            ],
            detectors: Some(pack_file!("detectors.toml")),
        }
    }

    /// Loads a pack from a directory: `schema.cedarschema`, `entities.json`,
    /// `categories.toml`, every `*.cedar`, and `catalogs/*.toml`.
    ///
    /// # Errors
    /// [`Error::Io`] for unreadable files, [`Error::Policy`] / [`Error::Catalog`] for invalid ones.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        Self::from_dir_with_limits(dir, Limits::default())
    }

    /// Loads a pack directory, as [`Engine::from_dir`], with caps other than the defaults.
    ///
    /// # Errors
    /// As [`Engine::from_dir`] and [`Engine::from_sources_with_limits`].
    pub fn from_dir_with_limits(dir: impl AsRef<Path>, limits: Limits) -> Result<Self> {
        let dir = dir.as_ref();
        let read = |p: &Path| -> Result<Source> {
            let text = std::fs::read_to_string(p).map_err(|e| Error::io(p.display(), e))?;
            Ok(Source::new(p.display().to_string(), text))
        };
        let list = |d: &Path, ext: &str| -> Result<Vec<std::path::PathBuf>> {
            let mut v: Vec<_> = std::fs::read_dir(d)
                .map_err(|e| Error::io(d.display(), e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect();
            v.sort();
            Ok(v)
        };
        let catalogs_dir = dir.join("catalogs");
        let catalogs = if catalogs_dir.is_dir() {
            list(&catalogs_dir, "toml")?
        } else {
            Vec::new()
        };
        let detectors = dir.join("detectors.toml");
        let sources = PackSources {
            detectors: if detectors.is_file() {
                Some(read(&detectors)?)
            } else {
                None
            },
            schema: Some(read(&dir.join("schema.cedarschema"))?),
            entities: Some(read(&dir.join("entities.json"))?),
            categories: Some(read(&dir.join("categories.toml"))?),
            policies: list(dir, "cedar")?
                .iter()
                .map(|p| read(p))
                .collect::<Result<_>>()?,
            catalogs: catalogs.iter().map(|p| read(p)).collect::<Result<_>>()?,
        };
        Self::from_sources_with_limits(&sources, limits)
    }

    /// Loads a pack from in-memory sources.
    ///
    /// # Errors
    /// [`Error::Policy`] / [`Error::Catalog`] for invalid sources.
    pub fn from_sources(sources: &PackSources) -> Result<Self> {
        Self::from_sources_with_limits(sources, Limits::default())
    }

    /// Loads a pack from in-memory sources with caps other than the defaults.
    ///
    /// # Errors
    /// As [`Engine::from_sources`], and [`Error::Policy`] when the pack holds more policies
    /// than `limits.max_policies`.
    pub fn from_sources_with_limits(sources: &PackSources, limits: Limits) -> Result<Self> {
        Ok(Engine {
            pack: Arc::new(Pack::load(sources, limits.max_policies)?),
            limits,
            sources: Arc::new(sources.clone()),
        })
    }

    /// The caps this engine and its views apply.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The PHI spans in `text` as this engine's pack finds them (the built-in detectors plus
    /// the pack's custom ones), in order and without overlaps. This says what is there, not
    /// who may see it: [`View::scrub_text`] applies a principal's treatments.
    ///
    /// # Errors
    /// [`Error::Input`] when `text` is longer than [`Limits::max_text_bytes`].
    ///
    /// # Examples
    /// ```
    /// let engine = phiguard::Engine::default_pack().unwrap();
    /// let spans = engine.detect("Seen by Dr. Alvarez on 03/04/2021, SSN 123-45-6789").unwrap();
    /// let found: Vec<(&str, usize, usize)> =
    ///     spans.iter().map(|s| (s.category.as_ref(), s.char_start, s.char_end)).collect();
    /// assert_eq!(found, [("name", 12, 19), ("event_date", 23, 33), ("ssn", 39, 50)]);
    /// ```
    pub fn detect(&self, text: &str) -> Result<Vec<crate::text::Span>> {
        check_text_len(text, &self.limits)?;
        let detector = match self.pack.custom_detector() {
            Some(d) => d,
            None => crate::text::builtin()?,
        };
        Ok(detector.detect(text))
    }

    /// The same engine with one more catalog (e.g. a file given on the command line).
    ///
    /// # Errors
    /// [`Error::Catalog`] when the catalog is invalid or its name is taken.
    pub fn with_catalog(&self, source: &Source) -> Result<Self> {
        let cat = Catalog::parse(&source.text, &source.name, self.pack.categories())?;
        if self.pack.catalogs().iter().any(|c| c.name == cat.name) {
            return Err(Error::Catalog {
                location: Location::line(&source.name, 1),
                message: format!("catalog name `{}` is already in the pack", cat.name),
            });
        }
        let mut pack = (*self.pack).clone();
        pack.push_catalog(cat);
        let mut sources = (*self.sources).clone();
        sources.catalogs.push(source.clone());
        Ok(Engine {
            pack: Arc::new(pack),
            limits: self.limits,
            sources: Arc::new(sources),
        })
    }

    /// The sources this engine was loaded from (catalogs added later included):
    /// `Engine::from_sources(engine.sources())` rebuilds the same engine.
    pub fn sources(&self) -> &PackSources {
        &self.sources
    }

    /// Names of the pack's catalogs, in load order (for pickers and listings).
    pub fn catalog_names(&self) -> Vec<String> {
        self.pack
            .catalogs()
            .iter()
            .map(|c| c.name.clone())
            .collect()
    }

    /// Roles the pack defines.
    pub fn role_names(&self) -> Vec<String> {
        self.pack.roles().into_iter().map(str::to_owned).collect()
    }

    /// Purposes of use the pack defines (HL7 v3 ActReason codes).
    pub fn purpose_names(&self) -> Vec<String> {
        self.pack
            .purposes()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// The loaded pack.
    pub fn pack(&self) -> &Pack {
        &self.pack
    }

    /// The catalog named `name`.
    ///
    /// # Errors
    /// [`Error::Request`] listing the known catalogs.
    pub fn catalog(&self, name: &str) -> Result<&Catalog> {
        self.pack
            .catalogs()
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| {
                Error::request(format!(
                    "unknown catalog `{name}`; known: {}",
                    self.catalog_names().join(", ")
                ))
            })
    }

    /// The one catalog whose fields cover the most of `columns` (at least half of them).
    ///
    /// # Errors
    /// [`Error::Request`] listing candidates when none or several match equally.
    pub fn match_catalog(&self, columns: &[&str]) -> Result<&Catalog> {
        let mut scored: Vec<(usize, &Catalog)> = self
            .pack
            .catalogs()
            .iter()
            .map(|c| (c.matches(columns), c))
            .collect();
        scored.sort_by_key(|s| std::cmp::Reverse(s.0));
        let need = columns.len().div_ceil(2).max(1);
        match scored.as_slice() {
            [(best, c), rest @ ..]
                if *best >= need && rest.first().is_none_or(|(n, _)| n < best) =>
            {
                Ok(c)
            }
            _ => Err(Error::request(format!(
                "no single catalog matches the input columns; candidates: {} (pass --catalog)",
                scored
                    .iter()
                    .map(|(n, c)| format!("{} ({n}/{} columns)", c.name, columns.len()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Prepares a view for `request`.
    ///
    /// # Errors
    /// [`Error::Request`] for an unknown role, purpose, operation or catalog, a break-glass
    /// purpose without a reason, or a reason without a break-glass purpose.
    pub fn view(&self, request: &AccessRequest) -> Result<View> {
        let pack = &self.pack;
        if !pack.has_purpose(&request.purpose) {
            return Err(Error::request(format!(
                "unknown purpose of use `{}`; known: {}",
                request.purpose,
                pack.purposes().join(", ")
            )));
        }
        if !matches!(request.operation.as_str(), "read" | "export") {
            return Err(Error::request(format!(
                "unknown operation `{}`; known: read, export",
                request.operation
            )));
        }
        let emergency = pack.purpose_within(&request.purpose, "ETREAT");
        let reason = request
            .break_glass_reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        match (emergency, reason) {
            (true, None) => {
                return Err(Error::request(format!(
                    "purpose `{}` is break-glass access and needs a stated reason",
                    request.purpose
                )));
            }
            (false, Some(_)) => {
                return Err(Error::request(format!(
                    "a break-glass reason was given but purpose `{}` is not emergency access (use ETREAT or BTG)",
                    request.purpose
                )));
            }
            _ => {}
        }
        if request.user.is_empty() {
            return Err(Error::request("user id must not be empty"));
        }
        let catalog = self.catalog(&request.catalog)?.clone();
        let decider = pack.decider(&request.user, &request.roles, request.department.as_deref())?;
        let as_of_year = match request.as_of_year {
            Some(y) => y,
            None => current_year()?,
        };
        let field_index = catalog
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        Ok(View {
            pack: self.pack.clone(),
            field_index: Arc::new(field_index),
            request: request.clone(),
            break_glass: emergency,
            catalog: Arc::new(catalog),
            decider: Arc::new(decider),
            key: None,
            audit: None,
            clock: crate::util::calendar::now_rfc3339,
            as_of_year,
            limits: self.limits,
            cache: Arc::new(RwLock::new(PlanCache::default())),
        })
    }
}

fn current_year() -> Result<i64> {
    crate::util::calendar::current_year().ok_or_else(|| {
        Error::request(if cfg!(target_arch = "wasm32") {
            "`as_of_year` is required on this platform"
        } else {
            "cannot read the clock"
        })
    })
}

/// One principal's access to one dataset: compiles, caches, audits and applies plans.
///
/// Cheap to clone; clones share the plan cache. `Send + Sync`.
#[derive(Clone)]
pub struct View {
    pack: Arc<Pack>,
    /// Catalog field name or path -> index; plans list fields in catalog order, so it serves
    /// every plan of the view.
    field_index: Arc<FieldIndex>,
    request: AccessRequest,
    break_glass: bool,
    catalog: Arc<Catalog>,
    decider: Arc<Decider>,
    key: Option<KeyRing>,
    audit: Option<Arc<dyn AuditSink>>,
    clock: fn() -> String,
    as_of_year: i64,
    limits: Limits,
    cache: Arc<RwLock<PlanCache>>,
}

impl std::fmt::Debug for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("View")
            .field("request", &self.request)
            .field("catalog", &self.catalog.name)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl View {
    /// The caps of the engine this view came from.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The same view with key material (needed by `pseudonymize` and `shift`).
    #[must_use]
    pub fn with_key(mut self, key: KeyRing) -> Self {
        self.key = Some(key);
        self
    }

    /// The same view writing audit events to `sink`.
    #[must_use]
    pub fn with_audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(sink);
        self
    }

    /// The same view with another clock for audit times (bindings without a system clock).
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> String) -> Self {
        self.clock = clock;
        self
    }

    /// The request this view serves.
    pub fn request(&self) -> &AccessRequest {
        &self.request
    }

    /// The catalog of the dataset.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The key ring, if any.
    pub fn key(&self) -> Option<&KeyRing> {
        self.key.as_ref()
    }

    /// The pack's detector when it configures custom detectors.
    pub fn custom_detector(&self) -> Option<&crate::text::Detector> {
        self.pack.custom_detector()
    }

    /// Reference year for ages.
    pub fn as_of_year(&self) -> i64 {
        self.as_of_year
    }

    /// Whether this is break-glass access.
    pub fn is_break_glass(&self) -> bool {
        self.break_glass
    }

    /// The plan for records with `attrs`: from the cache, or compiled (asking Cedar), checked
    /// and audited once.
    ///
    /// # Errors
    /// [`Error::Key`] when the plan needs a key the view lacks; [`Error::Audit`] when the
    /// decision cannot be audited; [`Error::Request`] when Cedar cannot be asked.
    pub fn plan(&self, attrs: &RecordAttrs) -> Result<Arc<Plan>> {
        if let Some(p) = self.cache.read().ok().and_then(|c| c.get(attrs).cloned()) {
            return Ok(p);
        }
        let plan = Plan::compile(
            &self.decider,
            &self.catalog,
            self.pack.categories(),
            &self.request.purpose,
            &self.request.operation,
            self.break_glass,
            attrs,
        )?;
        let scrubbed = plan
            .needs_key()
            .then(|| plan.spans.values().find(|f| f.treatment.needs_key()))
            .flatten();
        if self.key.is_none()
            && let Some(f) = plan
                .fields
                .iter()
                .find(|f| f.treatment.needs_key())
                .or(scrubbed)
        {
            return Err(Error::key(format!(
                "field `{}` is to be treated with `{}`, which needs a key (pass a key file)",
                f.field,
                f.treatment.name()
            )));
        }
        let plan = Arc::new(plan);
        let mut cache = self
            .cache
            .write()
            .map_err(|_| Error::request("plan cache poisoned"))?;
        if let Some(existing) = cache.get(attrs) {
            return Ok(existing.clone());
        }
        self.emit(AuditEvent {
            kind: "decision".into(),
            attrs: Some(attrs.clone()),
            fields: plan
                .fields
                .iter()
                .map(|f| FieldAudit {
                    field: f.field.clone(),
                    treatment: f.treatment.name().into(),
                    policies: f.policies.clone(),
                })
                .collect(),
            ..self.event_base(&plan.id)
        })?;
        cache.insert(attrs.clone(), plan.clone());
        Ok(plan)
    }

    /// Number of distinct plans compiled so far.
    pub fn plans_compiled(&self) -> usize {
        self.cache.read().map_or(0, |c| c.len())
    }

    fn event_base(&self, plan: &str) -> AuditEvent {
        AuditEvent {
            kind: String::new(),
            time: (self.clock)(),
            user: self.request.user.clone(),
            roles: self.request.roles.clone(),
            operation: self.request.operation.clone(),
            purpose: self.request.purpose.clone(),
            break_glass: self.break_glass,
            break_glass_reason: self.request.break_glass_reason.clone(),
            catalog: self.catalog.name.clone(),
            plan: plan.to_owned(),
            key_id: self.key.as_ref().map(|k| k.id().to_owned()),
            attrs: None,
            fields: Vec::new(),
            records: Vec::new(),
            count: 0,
        }
    }

    fn emit(&self, event: AuditEvent) -> Result<()> {
        match &self.audit {
            Some(sink) => sink.record(&event),
            None => Ok(()),
        }
    }

    /// Audits released records: one `disclosure` event per plan, in plan id order.
    ///
    /// # Errors
    /// [`Error::Audit`] when the sink fails.
    pub fn audit_disclosures(&self, released: Disclosures) -> Result<()> {
        if self.audit.is_none() {
            return Ok(());
        }
        for (plan, (records, count)) in released.0 {
            self.emit(AuditEvent {
                kind: "disclosure".into(),
                records,
                count,
                ..self.event_base(&plan)
            })?;
        }
        Ok(())
    }

    /// Record attributes from a record, given a way to read a column or path as text.
    pub fn record_attrs<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> RecordAttrs {
        self.catalog.record.attrs(&self.request.user, get)
    }

    /// Whether audit events are recorded.
    pub fn is_audited(&self) -> bool {
        self.audit.is_some()
    }

    /// Which record attributes can vary between rows of a table with these columns.
    pub fn attr_use_in<V>(&self, columns: &HashMap<String, V>) -> AttrUse {
        let r = &self.catalog.record;
        if r.any_varying(|c| columns.contains_key(c)) {
            AttrUse::Full
        } else if let Some(p) = r.patient.as_ref().filter(|p| columns.contains_key(*p)) {
            AttrUse::OwnRecordOnly {
                patient_column: p.clone(),
            }
        } else {
            AttrUse::None
        }
    }

    /// The plan for rows that carry no attribute but a patient id other than the user's.
    pub fn plan_for_others(&self) -> Result<Arc<Plan>> {
        self.plan(&RecordAttrs::others())
    }

    /// Treats `text` as the catalog's first free-text field (a category that can be scrubbed,
    /// such as `note`) is treated for this view: `None` when it is redacted, the text itself
    /// when in clear, else the scrubbed text. Date shifts in free text without a patient id
    /// cannot be computed, so such dates get a label.
    ///
    /// # Errors
    /// [`Error::Request`] when the catalog has no free-text field; errors of [`View::plan`].
    ///
    /// # Examples
    /// ```
    /// use phiguard::{AccessRequest, Engine};
    /// let engine = Engine::default_pack().unwrap();
    /// let req = AccessRequest { as_of_year: Some(2026), ..AccessRequest::new("a", ["data_analyst"], "HRESCH", "free-text") };
    /// let view = engine.view(&req).unwrap();
    /// let out = view.scrub_text("Pt Mr. John Smith, SSN 123-45-6789, seen 03/04/2024.").unwrap();
    /// assert_eq!(out.as_deref(), Some("Pt Mr. [NAME], SSN [SSN], seen 2024."));
    /// ```
    pub fn scrub_text(&self, text: &str) -> Result<Option<String>> {
        check_text_len(text, &self.limits)?;
        let plan = self.plan_for_others()?;
        let i = self
            .catalog
            .fields
            .iter()
            .position(|f| f.params.scrub.is_some())
            .ok_or_else(|| {
                Error::request(format!(
                    "catalog `{}` has no free-text field",
                    self.catalog.name
                ))
            })?;
        let ctx = RowCtx::new(self.key.as_ref(), None, self.as_of_year)
            .with_detector(self.pack.custom_detector());
        let mut out = String::new();
        Ok(match plan.apply_value(i, text, &ctx, &mut out)? {
            Applied::Clear => Some(text.to_owned()),
            Applied::Written => Some(out),
            Applied::Null | Applied::Drop | Applied::Untreatable => None,
        })
    }

    /// De-identifies JSON records in place (on all cores with feature `parallel`), then audits
    /// the records released, once for the batch. Record `i` is line `i + 1` of `source` in
    /// errors.
    ///
    /// # Errors
    /// The first error of [`View::apply_json`]; [`Error::Audit`] when the audit fails.
    pub fn apply_json_records(&self, records: &mut [Value], source: &str) -> Result<()> {
        let apply = |i: usize, r: &mut Value| self.apply_json(r, source, i as u64 + 1);
        let outcomes = crate::util::par::map_mut(records, apply);
        if !self.is_audited() {
            return outcomes.into_iter().try_for_each(|o| o.map(drop));
        }
        let mut released = Disclosures::default();
        for o in outcomes {
            let o = o?;
            released.add(&o.plan, o.record_id.as_deref());
        }
        self.audit_disclosures(released)
    }

    /// De-identifies one JSON record in place; returns per-treatment counts of leaf values.
    ///
    /// Every leaf whose path is not in the catalog is redacted (deny by default). Paths are
    /// object keys joined by `.`, with `[]` after an array (`name[].given[]`).
    ///
    /// # Errors
    /// [`Error::Input`] for nesting deeper than [`crate::MAX_JSON_DEPTH`] or a non-object record,
    /// [`Error::Key`] when a key is needed and missing, [`Error::Audit`] for audit failures.
    ///
    /// # Examples
    /// ```
    /// use phiguard::{AccessRequest, Engine};
    /// let engine = Engine::default_pack().unwrap();
    /// let mut req = AccessRequest::new("u1", ["data_analyst"], "HRESCH", "fhir-patient");
    /// req.as_of_year = Some(2026);
    /// let view = engine.view(&req).unwrap();
    /// let mut rec = serde_json::json!({"resourceType": "Patient", "birthDate": "1931-05-02",
    ///     "name": [{"family": "Goldner995", "given": ["Andrew29"]}],
    ///     "address": [{"postalCode": "82301", "state": "KS"}]});
    /// view.apply_json(&mut rec, "<doc>", 1).unwrap();
    /// assert_eq!(rec["birthDate"], "90+");
    /// assert_eq!(rec["name"][0]["family"], serde_json::Value::Null);
    /// assert_eq!(rec["address"][0]["postalCode"], "000");
    /// ```
    pub fn apply_json(&self, record: &mut Value, source: &str, line: u64) -> Result<JsonOutcome> {
        let Value::Object(_) = record else {
            return Err(Error::input(
                Location::line(source, line),
                "a record must be a JSON object",
            ));
        };
        let get_str = |path: &str| first_leaf(record, path);
        let attrs = self.record_attrs(|p| get_str(p));
        let patient = self
            .catalog
            .record
            .patient
            .as_deref()
            .and_then(|p| first_leaf(record, p))
            .map(str::to_owned);
        let record_id = self
            .catalog
            .record
            .id
            .as_deref()
            .and_then(|p| first_leaf(record, p))
            .map(str::to_owned);
        let plan = self.plan(&attrs)?;
        let ctx = RowCtx::new(self.key.as_ref(), patient.as_deref(), self.as_of_year)
            .with_detector(self.pack.custom_detector());
        let mut outcome = JsonOutcome {
            plan: plan.id.clone(),
            record_id,
            counts: Tally::default(),
        };
        let mut path = String::new();
        let mut buf = String::new();
        let limits = self.limits;
        walk(record, &mut path, 0, &limits, &mut |p, v| {
            let counted = match self.field_index.get(p) {
                Some(&i) => {
                    let kind = plan
                        .fields
                        .get(i)
                        .map_or(TreatmentKind::Redact, |f| f.treatment.kind());
                    let res = apply_leaf(&plan, i, v, &ctx, &mut buf)?;
                    if res == Applied::Untreatable {
                        Counted::Untreatable
                    } else {
                        Counted::Treated(kind)
                    }
                }
                None => {
                    *v = Value::Null;
                    Counted::UnknownField
                }
            };
            outcome.counts.add(counted, 1);
            Ok(())
        })
        .map_err(|e| match e {
            Error::Input { message, .. } => Error::input(Location::line(source, line), message),
            other => other,
        })?;
        remove_dropped(record);
        Ok(outcome)
    }
}

/// Which record attributes vary between the rows of a table (see [`View::attr_use_in`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrUse {
    /// None: one plan serves every row.
    None,
    /// Only the patient id: one plan for every row, except rows whose patient is the user.
    OwnRecordOnly {
        /// The patient id column.
        patient_column: String,
    },
    /// Labels, confidentiality, care team or consent: a plan per distinct attribute set.
    Full,
}

/// Records released, per plan id: gathered while treating, audited by
/// [`View::audit_disclosures`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disclosures(BTreeMap<String, (Vec<String>, u64)>);

impl Disclosures {
    /// Notes one record released under `plan`, with its original id when known.
    pub fn add(&mut self, plan: &str, record_id: Option<&str>) {
        let entry = match self.0.get_mut(plan) {
            Some(e) => e,
            None => self.0.entry(plan.to_owned()).or_default(),
        };
        entry.0.extend(record_id.map(str::to_owned));
        entry.1 += 1;
    }
}

/// Field-name lookups run once per JSON leaf; the keys come from the catalog, not the input,
/// so a fixed-seed hash is safe and several times cheaper than SipHash in WebAssembly.
type FieldIndex = HashMap<String, usize, foldhash::fast::FixedState>;

/// One lookup per record; plans are compiled for a handful of attribute sets.
type PlanCache = HashMap<RecordAttrs, Arc<Plan>, foldhash::fast::FixedState>;

/// What [`View::apply_json`] did to one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonOutcome {
    /// Plan id used.
    pub plan: String,
    /// Record id, when the catalog names one.
    pub record_id: Option<String>,
    /// Leaf values per treatment (plus unknown fields and untreatable values).
    pub counts: Tally,
}

/// Marker left where a leaf is to be dropped, removed after the walk.
const DROP_MARK: &str = "\u{0}phiguard-drop\u{0}";

fn apply_leaf(
    plan: &Plan,
    i: usize,
    v: &mut Value,
    ctx: &RowCtx<'_>,
    buf: &mut String,
) -> Result<Applied> {
    let text: std::borrow::Cow<'_, str> = match v {
        Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
        Value::Number(n) => std::borrow::Cow::Owned(n.to_string()),
        Value::Bool(b) => std::borrow::Cow::Owned(b.to_string()),
        _ => return Ok(Applied::Clear),
    };
    buf.clear();
    let res = plan.apply_value(i, &text, ctx, buf)?;
    let was_number = v.is_number();
    match res {
        Applied::Clear => {}
        Applied::Written => {
            *v = match (was_number, buf.parse::<serde_json::Number>()) {
                (true, Ok(n)) => Value::Number(n),
                _ => Value::String(buf.clone()),
            };
        }
        Applied::Null | Applied::Untreatable => *v = Value::Null,
        Applied::Drop => *v = Value::String(DROP_MARK.to_owned()),
    }
    Ok(res)
}

fn remove_dropped(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| x.as_str() != Some(DROP_MARK));
            m.values_mut().for_each(remove_dropped);
        }
        Value::Array(a) => {
            a.retain(|x| x.as_str() != Some(DROP_MARK));
            a.iter_mut().for_each(remove_dropped);
        }
        _ => {}
    }
}

fn walk(
    v: &mut Value,
    path: &mut String,
    depth: usize,
    limits: &Limits,
    f: &mut dyn FnMut(&str, &mut Value) -> Result<()>,
) -> Result<()> {
    if depth > limits.max_depth {
        return Err(Error::input(
            Location::line("", 0),
            format!(
                "nesting deeper than {} levels at `{path}`",
                limits.max_depth
            ),
        ));
    }
    if let Value::String(s) = v
        && s.len() > limits.max_field_bytes
    {
        return Err(Error::input(
            Location::line("", 0).with_field(path.as_str()),
            format!(
                "a value of {} bytes exceeds the field limit of {} bytes",
                s.len(),
                limits.max_field_bytes
            ),
        ));
    }
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                walk(x, path, depth + 1, limits, f)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Array(a) => {
            let len = path.len();
            path.push_str("[]");
            for x in a.iter_mut() {
                walk(x, path, depth + 1, limits, f)?;
            }
            path.truncate(len);
            Ok(())
        }
        Value::Null => Ok(()),
        leaf => f(path, leaf),
    }
}

/// The first scalar at `path` in `v`, as text (strings only).
fn first_leaf<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    if !path.contains("[]") {
        // Object keys only: one value at most, found without collecting candidates.
        return path.split('.').try_fold(v, |x, k| x.get(k))?.as_str();
    }
    let mut cur = vec![v];
    for seg in path.split('.') {
        let (key, arrays) = match seg.find("[]") {
            Some(i) => (seg.get(..i)?, seg.get(i..)?.matches("[]").count()),
            None => (seg, 0),
        };
        let mut next: Vec<&Value> = cur.iter().filter_map(|x| x.get(key)).collect();
        for _ in 0..arrays {
            next = next
                .iter()
                .flat_map(|x| x.as_array().into_iter().flatten())
                .collect();
        }
        cur = next;
    }
    cur.into_iter().find_map(Value::as_str)
}

/// Free text longer than [`Limits::max_text_bytes`] is refused before any detector runs.
fn check_text_len(text: &str, limits: &Limits) -> Result<()> {
    if text.len() > limits.max_text_bytes {
        return Err(Error::input(
            Location::line("<text>", 0),
            format!(
                "text of {} bytes exceeds the detector limit of {} bytes (Limits::max_text_bytes)",
                text.len(),
                limits.max_text_bytes
            ),
        ));
    }
    Ok(())
}
