//! One principal's view of one dataset: its plan cache, its audit events, and what it
//! applies to free text.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use crate::audit::{AuditEvent, AuditSink, FieldAudit};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::limits::Limits;
use crate::plan::{Applied, Plan, RowCtx};
use crate::policy::{Decider, Pack};
use crate::record::RecordAttrs;

use super::{AccessRequest, check_text_len};

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
    pub(super) fn new(
        pack: Arc<Pack>,
        request: AccessRequest,
        break_glass: bool,
        catalog: Catalog,
        decider: Decider,
        as_of_year: i64,
        limits: Limits,
    ) -> Self {
        let field_index = catalog
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        View {
            pack,
            field_index: Arc::new(field_index),
            request,
            break_glass,
            catalog: Arc::new(catalog),
            decider: Arc::new(decider),
            key: None,
            audit: None,
            clock: crate::util::calendar::now_rfc3339,
            as_of_year,
            limits,
            cache: Arc::new(RwLock::new(PlanCache::default())),
        }
    }

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

    /// The pack's FHIR rules (`fhir/rules.toml`), if it has them.
    pub(crate) fn fhir_rules(&self) -> Option<&crate::policy::Source> {
        self.pack.fhir_rules()
    }

    /// The pack's detector when it configures custom detectors.
    pub(crate) fn custom_detector(&self) -> Option<&crate::text::Detector> {
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

    /// Index of the catalog field named `name` (a column or JSON path).
    pub(crate) fn field_position(&self, name: &str) -> Option<usize> {
        self.field_index.get(name).copied()
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
    ///
    /// # Errors
    /// As [`View::plan`].
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
    /// let engine = Engine::builder().build().unwrap();
    /// let req = AccessRequest { as_of_year: Some(2026), ..AccessRequest::new("a", ["data_analyst"], "HRESCH", "free-text") };
    /// let view = engine.view(&req).unwrap();
    /// let out = view.scrub_text("Pt Mr. John Smith, SSN 123-45-6789, seen 03/04/2024.").unwrap();
    /// assert_eq!(out.as_deref(), Some("Pt Mr. [NAME], SSN [SSN], seen 2024."));
    /// ```
    pub fn scrub_text(&self, text: &str) -> Result<Option<String>> {
        self.scrub_text_in(text, &[])
    }

    /// [`View::scrub_text`] for a note of a record whose identifying values are `record`:
    /// `(key, value)` pairs where the key is a field of the view's catalog or a PHI category
    /// (`name`, `mrn`, `phone`, `street`, `city`, `birth_date`, ...). Each value, and each
    /// part of a name, is found in the text wherever it stands and treated as its category,
    /// whatever the detectors make of it (see [`crate::text::RecordTerms`]). Keys whose
    /// category does not identify in free text (`diagnosis`, `age`) are not searched.
    ///
    /// # Errors
    /// [`Error::Request`] for a key that is neither a field nor a category; as
    /// [`View::scrub_text`].
    ///
    /// # Examples
    /// ```
    /// use phiguard::{AccessRequest, Engine};
    /// let engine = Engine::builder().build().unwrap();
    /// let req = AccessRequest { as_of_year: Some(2026), ..AccessRequest::new("a", ["data_analyst"], "HRESCH", "free-text") };
    /// let view = engine.view(&req).unwrap();
    /// let note = "whitfield called from 555 010 4477 about her rash.";
    /// let out = view.scrub_text_in(note, &[("name", "Rose Whitfield"), ("phone", "555-010-4477")]).unwrap();
    /// assert_eq!(out.as_deref(), Some("[NAME] called from [PHONE] about her rash."));
    /// ```
    pub fn scrub_text_in(&self, text: &str, record: &[(&str, &str)]) -> Result<Option<String>> {
        check_text_len(text, &self.limits)?;
        let mut values = Vec::with_capacity(record.len());
        for &(key, value) in record {
            let category = match self
                .field_position(key)
                .and_then(|i| self.catalog.fields.get(i))
            {
                Some(f) => f.category.as_str(),
                None if self.pack.categories().get(key).is_some() => key,
                None => {
                    return Err(Error::request(format!(
                        "`{key}` is neither a field of catalog `{}` nor a category",
                        self.catalog.name
                    )));
                }
            };
            if let Some(c) = crate::text::record_category(category) {
                values.push((c, value));
            }
        }
        let terms = (!values.is_empty()).then(|| crate::text::RecordTerms::new(values));
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
            .with_detector(self.pack.custom_detector())
            .with_record(terms.as_ref());
        let mut out = String::new();
        Ok(match plan.apply_value(i, text, &ctx, &mut out)? {
            Applied::Clear => Some(text.to_owned()),
            Applied::Written => Some(out),
            Applied::Null | Applied::Drop | Applied::Untreatable => None,
        })
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
