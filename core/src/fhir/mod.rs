//! FHIR R4: resources, Bundles and bulk NDJSON de-identified per policy, with references
//! and labels intact.
//!
//! A [`Fhir`] run walks each resource with the FHIR R4 element table (`schema`), classifies
//! every element by the rules of `policies/fhir/rules.toml` (`rules`: by path, data type and
//! extension URL), and treats it as the principal's plan says for its category. The plan is
//! the view's, over the `fhir` catalog, whose fields are named by category; it is compiled
//! per resource from the resource's own attributes (`meta.security` labels and
//! confidentiality, whether it is the user's own record, whether the user is on its
//! patient's care team — a `CareTeam` member or an `Encounter` participant — and what the
//! patient's active `Consent`s permit), so applying it makes no Cedar call per element. A
//! resource whose plan redacts even its structure (`resource_meta`) is removed, and every
//! reference to it.
//!
//! Per patient, everything: each resource is tied to its patient (`Patient.id`, `subject`,
//! `patient`, `beneficiary`, ...), whose id keys its date shift (the same offset as the CSV
//! path gives that patient id) and whose own names, ids, phones and addresses are found in
//! the resource's notes (`notes`, record-aware scrubbing). Ids and references are recoded
//! alike across a run (`ids`), so every reference still resolves. What was done is labelled
//! in `meta.security` with v3 ObservationValue codes (`REDACTED`, `MASKED`, `PSEUDED`,
//! `ABSTRED`).

mod ids;
mod notes;
mod rules;
mod schema;
mod walk;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{BufRead, Write};
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::engine::View;
use crate::error::{Error, Location, Result};
use crate::plan::RowCtx;
use crate::record::RecordAttrs;
use crate::text::{RecordTerms, record_category};

use ids::{IdMap, Ref, parse_ref};
use rules::Rules;
use walk::{Walk, add_labels, prune};

/// Checks a pack's FHIR rules against the FHIR R4 element table and the pack's categories
/// (what `phiguard check` runs); a pack without rules passes.
///
/// # Errors
/// [`Error::Catalog`] naming the rules file and line of the first bad key or value.
pub fn check_rules(pack: &crate::policy::Pack) -> Result<()> {
    match pack.fhir_rules() {
        Some(src) => Rules::parse(&src.text, &src.name, &|c| {
            pack.categories().get(c).is_some()
        })
        .map(drop),
        None => Ok(()),
    }
}

/// Whether `name` is a FHIR R4 resource type (`Patient`, `Bundle`).
///
/// # Examples
/// ```
/// assert!(phiguard::fhir::is_resource_type("Observation"));
/// assert!(!phiguard::fhir::is_resource_type("HumanName"));
/// ```
pub fn is_resource_type(name: &str) -> bool {
    schema::schema().is_resource(name)
}

/// What a run did, per resource type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FhirSummary {
    /// Resources released, by type (Bundles and contained resources included).
    pub resources: BTreeMap<String, u64>,
    /// Resources withheld (a `modifierExtension` no rule knows, or an error in it under
    /// [`OnError::Withhold`]), by type.
    pub withheld: BTreeMap<String, u64>,
    /// Why each resource withheld for an error was (file, line or entry, element path and
    /// message; never a value), at most [`MAX_REPORTED`] of them.
    pub withheld_errors: Vec<String>,
    /// Resources the principal may not see at all (the pack redacts even their structure,
    /// `resource_meta`: a sensitive record outside the care team, a forbidden purpose),
    /// removed with every reference to them, by type.
    pub hidden: BTreeMap<String, u64>,
    /// Values treated.
    pub treated: u64,
    /// Elements no rule classifies, redacted (deny by default), by `Owner.element` (a path
    /// of the FHIR element table, never a value).
    pub unknown_elements: BTreeMap<String, u64>,
}

/// The most withheld-resource errors a summary lists (the counts cover all).
pub const MAX_REPORTED: usize = 1000;

/// What a run does with a resource it cannot treat (a malformed Bundle entry, an element
/// of the wrong shape, a value its treatment cannot treat under `untreatable = "error"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnError {
    /// The run stops with the located error and writes nothing (the default).
    #[default]
    Stop,
    /// Just that resource (a Bundle entry, an NDJSON line, a document) is withheld and the
    /// error is reported in [`FhirSummary::withheld_errors`].
    Withhold,
}

/// How a view treats one element of a resource type (`phiguard explain --fhir TYPE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ElementPlan {
    /// The element's path below the resource (`name`, `contact.name`, `address`).
    pub path: String,
    /// Its FHIR type (`HumanName`, `date`, `PatientContact`).
    pub ty: String,
    /// What the rules make of it: a category, `keep` (structure), `drop`, `reference`,
    /// `identifier` or `contact`.
    pub class: String,
    /// The treatment this view gives it (`clear`, `redact`, `shift`, ...; `recode` for ids
    /// and references that are not shown in clear).
    pub treatment: String,
    /// The policies that decided, or why it is treated so.
    pub reason: String,
}

/// One FHIR de-identification run: the state shared by every resource, Bundle and NDJSON
/// file of it (recoded ids, each patient's own values), so that ids and references agree.
///
/// # Examples
/// ```
/// use phiguard::{AccessRequest, Engine};
/// use phiguard::fhir::Fhir;
/// let engine = Engine::builder().build().unwrap();
/// let mut req = AccessRequest::new("a1", ["data_analyst"], "HRESCH", "fhir");
/// req.as_of_year = Some(2026);
/// let view = engine.view(&req).unwrap();
/// let mut fhir = Fhir::new(&view).unwrap();
/// let mut patient = serde_json::json!({"resourceType": "Patient", "id": "p1",
///     "name": [{"family": "Goldner995", "given": ["Andrew29"]}],
///     "birthDate": "1931-05-02", "gender": "male",
///     "address": [{"city": "Bloom", "state": "KS", "postalCode": "67202"}]});
/// fhir.apply(&mut patient, "<doc>").unwrap();
/// assert_eq!(patient["id"], "00000000-0000-8000-8000-000000000001");
/// assert!(patient.get("name").is_none() && patient.get("birthDate").is_none());
/// assert_eq!(patient["address"][0]["postalCode"], "672");
/// assert_eq!(patient["gender"], "male");
/// ```
pub struct Fhir<'v> {
    view: &'v View,
    rules: Rules,
    /// Category -> the `fhir` catalog's field index.
    fields: HashMap<String, usize>,
    ids: IdMap,
    /// `urn:uuid:` ids of a Bundle -> their id category.
    uuid_types: HashMap<String, &'static str>,
    /// A resource's id (`urn:uuid:` or plain) -> its patient's id, for resources that name
    /// their patient only through another (a Provenance's `target`).
    owners: HashMap<String, String>,
    /// Patient id -> that patient's own identifying values.
    patients: HashMap<String, Vec<(&'static str, String)>>,
    /// Patients on whose care team the user is (a `CareTeam` member or an `Encounter`
    /// participant).
    treating: HashSet<String>,
    /// Patient id -> the purposes of use their active `Consent`s permit.
    consent: HashMap<String, Vec<String>>,
    /// Resources the principal may not see (`urn:uuid` id or `Type/id`): references to them
    /// are removed.
    pub(crate) hidden: HashSet<String>,
    terms: HashMap<String, Arc<RecordTerms>>,
    summary: FhirSummary,
    on_error: OnError,
    /// Resources released in the document being treated, audited when it ends.
    disclosures: crate::engine::Disclosures,
    /// Errors of resources withheld in the document being treated (located when it ends).
    pending: Vec<(String, Error)>,
}

impl std::fmt::Debug for Fhir<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Patient values are PHI: only counts.
        f.debug_struct("Fhir")
            .field("patients", &self.patients.len())
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

impl<'v> Fhir<'v> {
    /// A run for `view`, whose catalog must name its fields by category (the pack's `fhir`
    /// catalog does), with the pack's FHIR rules (`fhir/rules.toml`).
    ///
    /// # Errors
    /// [`Error::Catalog`] when the rules name a category the catalog has no field for, or
    /// do not load.
    pub fn new(view: &'v View) -> Result<Self> {
        let catalog = view.catalog();
        let fields: HashMap<String, usize> = catalog
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        let Some(src) = view.fhir_rules() else {
            return Err(Error::catalog(
                Location::at("fhir/rules.toml", 0, 0),
                "the pack has no FHIR rules (fhir/rules.toml)",
            ));
        };
        let rules = Rules::parse(&src.text, &src.name, &|c| fields.contains_key(c))?;
        for c in [
            "patient_id",
            "encounter_id",
            "resource_id",
            "mrn",
            "phone",
            "note",
        ] {
            if !fields.contains_key(c) {
                return Err(Error::catalog(
                    Location::at(&catalog.name, 0, 0),
                    format!(
                        "catalog `{}` has no field `{c}`: FHIR needs a catalog whose fields are named by category (the `fhir` catalog)",
                        catalog.name
                    ),
                ));
            }
        }
        Ok(Fhir {
            view,
            rules,
            fields,
            ids: IdMap::default(),
            uuid_types: HashMap::new(),
            owners: HashMap::new(),
            patients: HashMap::new(),
            treating: HashSet::new(),
            consent: HashMap::new(),
            hidden: HashSet::new(),
            terms: HashMap::new(),
            summary: FhirSummary::default(),
            on_error: OnError::Stop,
            disclosures: crate::engine::Disclosures::default(),
            pending: Vec::new(),
        })
    }

    /// The run with `on_error` for resources it cannot treat.
    #[must_use]
    pub fn on_error(mut self, on_error: OnError) -> Self {
        self.on_error = on_error;
        self
    }

    /// What the run did so far.
    pub fn summary(&self) -> &FhirSummary {
        &self.summary
    }

    /// How this view treats each element of `resource_type` (for records without
    /// attributes): a data type the rules classify is one row, a backbone element the rules
    /// leave open is listed element by element.
    ///
    /// # Errors
    /// [`Error::Request`] for a name that is not a FHIR R4 resource type; errors of
    /// [`View::plan`].
    ///
    /// # Examples
    /// ```
    /// use phiguard::{AccessRequest, Engine};
    /// let engine = Engine::builder().build().unwrap();
    /// let view = engine.view(&AccessRequest::new("a1", ["data_analyst"], "HRESCH", "fhir")).unwrap();
    /// let rows = phiguard::fhir::Fhir::new(&view).unwrap().explain("Patient").unwrap();
    /// let birth = rows.iter().find(|r| r.path == "birthDate").unwrap();
    /// assert_eq!((birth.class.as_str(), birth.treatment.as_str()), ("birth_date", "generalize"));
    /// ```
    pub fn explain(&self, resource_type: &str) -> Result<Vec<ElementPlan>> {
        let s = schema::schema();
        if !s.is_resource(resource_type) {
            return Err(Error::request(format!(
                "`{resource_type}` is not a FHIR R4 resource type"
            )));
        }
        let plan = self.view.plan(&RecordAttrs::others())?;
        let mut rows = Vec::new();
        let treat = |cat: &str| -> (String, String) {
            match self.field_index(cat).and_then(|i| plan.fields.get(i)) {
                Some(f) => (f.treatment.name().to_owned(), f.reason()),
                None => ("redact".into(), "no field in the catalog".into()),
            }
        };
        let id_cat = ids::id_category(resource_type);
        let (t, r) = treat(id_cat);
        rows.push(ElementPlan {
            path: "id".into(),
            ty: "id".into(),
            class: id_cat.into(),
            treatment: if t == "clear" { t } else { "recode".into() },
            reason: r,
        });
        let mut stack: Vec<(String, &str, usize)> = vec![(String::new(), resource_type, 0)];
        while let Some((prefix, owner, depth)) = stack.pop() {
            let mut nested = Vec::new();
            for &name in s.elements_of(owner) {
                if matches!(name, "id" | "extension" | "modifierExtension" | "contained") {
                    continue;
                }
                let Some(el) = s.element(owner, name) else {
                    continue;
                };
                let path = if prefix.is_empty() {
                    name.to_owned()
                } else {
                    format!("{prefix}.{name}")
                };
                let class = self.rules.classify(owner, name, el, None);
                // A data type the rules classify whole may still hold elements with rules of
                // their own (`Address.postalCode` is a zip): they come after it.
                let mut own_rules: Vec<(String, &str, rules::Class)> = Vec::new();
                if matches!(class, Some(rules::Class::Category(_) | rules::Class::Keep))
                    && !schema::is_primitive(el.ty)
                {
                    for &child in s.elements_of(el.ty) {
                        if let (Some(c), Some(cel)) = (
                            self.rules.element_rule(el.ty, child),
                            s.element(el.ty, child),
                        ) {
                            own_rules.push((format!("{path}.{child}"), cel.ty, c.clone()));
                        }
                    }
                }
                let (class, treatment, reason) = match class {
                    None if !schema::is_primitive(el.ty) && depth < 3 => {
                        nested.push((path, el.ty, depth + 1));
                        continue;
                    }
                    None => (
                        "(none)".into(),
                        "redact".into(),
                        "no rule: deny by default".into(),
                    ),
                    Some(rules::Class::Keep) => {
                        ("keep".into(), "clear".into(), "structure (rules)".into())
                    }
                    Some(rules::Class::Drop) => (
                        "drop".into(),
                        "drop".into(),
                        "always removed (rules)".into(),
                    ),
                    Some(rules::Class::Open) => ("(open)".into(), "redact".into(), String::new()),
                    Some(rules::Class::Reference) => {
                        let (t, r) = treat("resource_id");
                        (
                            "reference".into(),
                            if t == "clear" { t } else { "recode".into() },
                            r,
                        )
                    }
                    Some(rules::Class::Identifier) => {
                        let (t, r) = treat("mrn");
                        (
                            "identifier".into(),
                            t,
                            format!("by type or system (mrn: {r})"),
                        )
                    }
                    Some(rules::Class::Contact) => {
                        let (t, r) = treat("phone");
                        ("contact".into(), t, format!("by system (phone: {r})"))
                    }
                    Some(rules::Class::Category(c)) => {
                        let (t, r) = treat(&c);
                        (c, t, r)
                    }
                };
                rows.push(ElementPlan {
                    path,
                    ty: el.ty.to_owned(),
                    class,
                    treatment,
                    reason,
                });
                for (path, ty, c) in own_rules {
                    let (class, treatment, reason) = match c {
                        rules::Class::Category(c) => {
                            let (t, r) = treat(&c);
                            (c, t, r)
                        }
                        rules::Class::Keep => {
                            ("keep".into(), "clear".into(), "structure (rules)".into())
                        }
                        rules::Class::Drop => (
                            "drop".into(),
                            "drop".into(),
                            "always removed (rules)".into(),
                        ),
                        _ => ("reference".into(), "recode".into(), String::new()),
                    };
                    rows.push(ElementPlan {
                        path,
                        ty: ty.to_owned(),
                        class,
                        treatment,
                        reason,
                    });
                }
            }
            stack.extend(nested.into_iter().rev());
        }
        Ok(rows)
    }

    pub(crate) fn field_index(&self, cat: &str) -> Option<usize> {
        self.fields.get(cat).copied()
    }

    pub(crate) fn uuid_category(&self, uuid: &str) -> &'static str {
        self.uuid_types.get(uuid).copied().unwrap_or("resource_id")
    }

    /// De-identifies a resource or a Bundle in place. A Bundle is read twice: first its
    /// entries' `fullUrl`s and patients, so references and notes are treated with the
    /// whole Bundle known.
    ///
    /// # Errors
    /// [`Error::Input`] naming `source` and the element path for a document that is not a
    /// FHIR resource; [`Error::Key`] when a treatment needs a key the view lacks.
    pub fn apply(&mut self, doc: &mut Value, source: &str) -> Result<()> {
        self.apply_at(doc, source, 0)
    }

    /// [`Fhir::apply`] for the document on `line` of `source` (0: a whole file).
    fn apply_at(&mut self, doc: &mut Value, source: &str, line: u64) -> Result<()> {
        self.learn(doc);
        self.learn_hidden(doc)?;
        let res = self.apply_resource_inner(doc, "", false).map(drop);
        for (ty, e) in std::mem::take(&mut self.pending) {
            self.withhold(&ty, &relocate(e, source, line));
        }
        res.map_err(|e| relocate(e, source, line))?;
        if !prune(doc) {
            *doc = Value::Null;
        }
        // A view with an audit sink audits what this document released (one event per
        // plan, with the resources' original ids) before the caller can hand it on.
        self.view
            .audit_disclosures(std::mem::take(&mut self.disclosures))?;
        Ok(())
    }

    /// Counts a resource of type `ty` withheld for `e`.
    fn withhold(&mut self, ty: &str, e: &Error) {
        *self.summary.withheld.entry(ty.to_owned()).or_default() += 1;
        if self.summary.withheld_errors.len() < MAX_REPORTED {
            self.summary.withheld_errors.push(e.to_string());
        }
    }

    /// [`Fhir::apply`] on each of `docs` in turn, within this run; document `i` is
    /// `source[i]` in errors.
    ///
    /// # Errors
    /// The first error of [`Fhir::apply`].
    pub fn apply_all(&mut self, docs: &mut [Value], source: &str) -> Result<()> {
        for (i, d) in docs.iter_mut().enumerate() {
            self.apply(d, &format!("{source}[{i}]"))?;
        }
        Ok(())
    }

    /// Reads ids, types and each Patient's own values from `doc` (a resource or a Bundle)
    /// before it is treated.
    fn learn(&mut self, doc: &Value) {
        let Some(rt) = doc.get("resourceType").and_then(Value::as_str) else {
            return;
        };
        if rt == "Bundle" {
            for e in doc
                .get("entry")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let res = e.get("resource");
                let ty = res
                    .and_then(|r| r.get("resourceType"))
                    .and_then(Value::as_str);
                if let (Some(Value::String(url)), Some(ty)) = (e.get("fullUrl"), ty)
                    && let Some(Ref::Uuid(u)) = parse_ref(url)
                {
                    self.uuid_types.insert(u.to_owned(), ids::id_category(ty));
                }
                if let Some(r) = res {
                    self.learn(r);
                    if let (Some(Value::Object(o)), Some(Value::String(url))) =
                        (res, e.get("fullUrl"))
                        && let Some(ty) = ty
                        && let Some(p) = resource_patient(o, ty, &self.owners)
                    {
                        let key = match parse_ref(url) {
                            Some(Ref::Uuid(u)) => u.to_owned(),
                            _ => url.clone(),
                        };
                        self.owners.insert(key, p);
                    }
                }
            }
        } else if rt == "Patient"
            && let Some(id) = doc.get("id").and_then(Value::as_str)
        {
            self.uuid_types.insert(id.to_owned(), "patient_id");
            let values = patient_values(doc);
            self.terms.remove(id);
            self.patients.insert(id.to_owned(), values);
        } else if let Value::Object(o) = doc
            && let Some(patient) = resource_patient(o, rt, &self.owners)
        {
            match rt {
                "CareTeam" | "Encounter" => {
                    let (list, member) = if rt == "CareTeam" {
                        ("participant", "member")
                    } else {
                        ("participant", "individual")
                    };
                    let user = self.view.request().user.as_str();
                    let on_team = o
                        .get(list)
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|p| p.get(member)?.get("reference")?.as_str())
                        .any(|r| names_user(r, user));
                    if on_team {
                        self.treating.insert(patient);
                    }
                }
                "Consent" => {
                    let purposes = consent_purposes(o);
                    if !purposes.is_empty() {
                        let c = self.consent.entry(patient).or_default();
                        c.extend(purposes);
                        c.sort();
                        c.dedup();
                    }
                }
                _ => {}
            }
        }
    }

    /// Finds the entries of a Bundle the principal may not see, so that references to them
    /// are removed wherever they stand, before or after them.
    fn learn_hidden(&mut self, doc: &Value) -> Result<()> {
        if doc.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
            return Ok(());
        }
        for e in doc
            .get("entry")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(Value::Object(res)) = e.get("resource") else {
                continue;
            };
            let Some(rtype) = res.get("resourceType").and_then(Value::as_str) else {
                continue;
            };
            if rtype == "Bundle" {
                if let Some(r) = e.get("resource") {
                    self.learn_hidden(r)?;
                }
                continue;
            }
            let patient = resource_patient(res, rtype, &self.owners);
            let plan = self.view.plan(&self.attrs(res, patient.as_deref()))?;
            if !self.visible(&plan) {
                if let Some(Value::String(url)) = e.get("fullUrl") {
                    self.hide(url, rtype, res);
                } else {
                    self.hide("", rtype, res);
                }
            }
        }
        Ok(())
    }

    /// Whether `plan` lets the principal see a resource at all: its structure
    /// (`resource_meta`, what the rules `keep`) is shown. A catalog without that field shows
    /// every resource.
    fn visible(&self, plan: &crate::plan::Plan) -> bool {
        match self.field_index("resource_meta") {
            Some(i) => plan
                .fields
                .get(i)
                .is_some_and(|f| walk::is_clear(&f.treatment)),
            None => true,
        }
    }

    /// Records a resource the principal may not see under every name a reference can use.
    fn hide(&mut self, full_url: &str, rtype: &str, res: &Map<String, Value>) {
        match parse_ref(full_url) {
            Some(Ref::Uuid(u)) => {
                self.hidden.insert(u.to_owned());
            }
            Some(Ref::Literal(_, ty, id, _)) => {
                self.hidden.insert(format!("{ty}/{id}"));
            }
            _ => {}
        }
        if let Some(id) = res.get("id").and_then(Value::as_str) {
            self.hidden.insert(format!("{rtype}/{id}"));
            self.hidden.insert(id.to_owned());
        }
    }

    /// Treats one resource (top level, a Bundle entry or a contained resource) in place;
    /// under [`OnError::Withhold`] a resource that fails is removed and its error kept for
    /// the summary.
    ///
    /// Returns the labels the resource got (a container carries its contained resources').
    fn apply_resource_inner(
        &mut self,
        v: &mut Value,
        path: &str,
        contained: bool,
    ) -> Result<BTreeSet<&'static str>> {
        match self.treat_resource(v, path, contained) {
            // A contained resource fails with its container: removing it alone would leave
            // the container's `#id` references dangling.
            Err(e @ (Error::Input { .. } | Error::Catalog { .. }))
                if self.on_error == OnError::Withhold && !contained =>
            {
                let ty = v
                    .get("resourceType")
                    .and_then(Value::as_str)
                    .filter(|t| schema::schema().is_resource(t))
                    .unwrap_or("(not a resource)")
                    .to_owned();
                *v = Value::Null;
                self.pending.push((ty, e));
                Ok(BTreeSet::new())
            }
            other => other,
        }
    }

    fn treat_resource(
        &mut self,
        v: &mut Value,
        path: &str,
        contained: bool,
    ) -> Result<BTreeSet<&'static str>> {
        let at = || {
            let l = Location::at("", 0, 0);
            if path.is_empty() {
                l
            } else {
                l.with_field(path)
            }
        };
        let Value::Object(res) = v else {
            return Err(Error::input(at(), "a resource must be a JSON object"));
        };
        let Some(rtype) = res
            .get("resourceType")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return Err(Error::input(at(), "a resource needs a `resourceType`"));
        };
        if !schema::schema().is_resource(&rtype) {
            // The type is not echoed: a misplaced document's first field can be anything.
            return Err(Error::input(
                at(),
                "`resourceType` is not a FHIR R4 resource type",
            ));
        }
        if res
            .get("modifierExtension")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            // Whatever the caller chose for errors: a modifier can change what the resource
            // means, so it is never released with the modifier unread.
            let e = Error::input(
                at(),
                "withheld: a modifierExtension no rule knows (it can change the resource's meaning)",
            );
            self.pending.push((rtype, e));
            *v = Value::Null;
            return Ok(BTreeSet::new());
        }
        let patient = resource_patient(res, &rtype, &self.owners);
        let attrs = self.attrs(res, patient.as_deref());
        let plan = self.view.plan(&attrs)?;
        if !self.visible(&plan) {
            // Not even its structure may be shown: the resource goes, and references to it.
            self.hide("", &rtype, res);
            *self.summary.hidden.entry(rtype).or_default() += 1;
            *v = Value::Null;
            return Ok(BTreeSet::new());
        }
        let terms = match &patient {
            Some(p) if plan.scrubs() => self.terms_of(p),
            _ => None,
        };
        let ctx = RowCtx::new(self.view.key(), patient.as_deref(), self.view.as_of_year())
            .with_detector(self.view.custom_detector())
            .with_record(terms.as_deref());
        let original_id = if self.view.is_audited() {
            res.get("id").and_then(Value::as_str).map(str::to_owned)
        } else {
            None
        };
        let mut walk = Walk::new(self, &plan, &ctx);
        walk.contained = contained;
        walk.resource(res, &rtype)
            .map_err(|e| prefix_path(e, path))?;
        let (labels, unknown, treated) = (walk.labels, walk.unknown, walk.treated);
        if self.view.is_audited() {
            let id = original_id.as_deref();
            self.disclosures.add(&plan.id, id);
        }
        for (k, n) in unknown {
            *self.summary.unknown_elements.entry(k).or_default() += n;
        }
        self.summary.treated += treated;
        add_labels(res, &labels);
        *self.summary.resources.entry(rtype).or_default() += 1;
        Ok(labels)
    }

    /// The record attributes of a resource: its `meta.security` labels and
    /// confidentiality, and whether it is the user's own.
    fn attrs(&self, res: &Map<String, Value>, patient: Option<&str>) -> RecordAttrs {
        let mut attrs = RecordAttrs::others();
        for c in res
            .get("meta")
            .and_then(|m| m.get("security"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(code), system) = (
                c.get("code").and_then(Value::as_str),
                c.get("system").and_then(Value::as_str).unwrap_or(""),
            ) else {
                continue;
            };
            if system.ends_with("v3-Confidentiality") {
                attrs.confidentiality = code.to_owned();
            } else if system != walk::OBSERVATION_VALUE {
                attrs.labels.push(code.to_owned());
            }
        }
        attrs.labels.sort();
        attrs.labels.dedup();
        attrs.own_record = patient.is_some_and(|p| p == self.view.request().user);
        if let Some(p) = patient {
            attrs.treating = self.treating.contains(p);
            attrs.consent = self.consent.get(p).cloned().unwrap_or_default();
        }
        attrs
    }

    fn terms_of(&mut self, patient: &str) -> Option<Arc<RecordTerms>> {
        if let Some(t) = self.terms.get(patient) {
            return Some(t.clone());
        }
        let values = self.patients.get(patient)?;
        let t = Arc::new(RecordTerms::new(
            values.iter().map(|(c, v)| (*c, v.as_str())),
        ));
        self.terms.insert(patient.to_owned(), t.clone());
        Some(t)
    }
}

/// The patient a resource belongs to: a Patient's own id, else the first of its `subject`,
/// `patient`, `beneficiary` or `individual` references to a Patient, else the patient of a
/// resource it is about (`target`, `focus`, `encounter`; known from `owners`).
fn resource_patient(
    res: &Map<String, Value>,
    rtype: &str,
    owners: &HashMap<String, String>,
) -> Option<String> {
    if rtype == "Patient" {
        return res.get("id").and_then(Value::as_str).map(str::to_owned);
    }
    let refs = |k: &str| -> Vec<String> {
        match res.get(k) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|r| {
                    r.get("reference")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect(),
            Some(r) => r
                .get("reference")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .into_iter()
                .collect(),
            None => Vec::new(),
        }
    };
    for k in ["subject", "patient", "beneficiary", "individual"] {
        for r in refs(k) {
            match parse_ref(&r) {
                Some(Ref::Uuid(u)) => return Some(u.to_owned()),
                Some(Ref::Literal(_, "Patient", id, _)) => return Some(id.to_owned()),
                _ => {}
            }
        }
    }
    for k in ["target", "focus", "encounter"] {
        for r in refs(k) {
            let key = match parse_ref(&r) {
                Some(Ref::Uuid(u)) => u.to_owned(),
                _ => r.clone(),
            };
            if let Some(p) = owners.get(&key) {
                return Some(p.clone());
            }
        }
    }
    None
}

/// Whether reference `r` names the user: `Practitioner/{user}`, or a conditional reference
/// by identifier whose value is the user's id (`Practitioner?identifier=npi|{user}`, as
/// Synthea writes them).
fn names_user(r: &str, user: &str) -> bool {
    if user.is_empty() {
        return false;
    }
    match parse_ref(r) {
        Some(Ref::Literal(_, _, id, _)) => id == user,
        Some(Ref::Conditional(_, q)) => q.split('&').any(|part| {
            part.strip_prefix("identifier=")
                .map(|v| v.rsplit('|').next().unwrap_or(v))
                == Some(user)
        }),
        _ => false,
    }
}

/// The purposes of use an active `Consent` permits: the `purpose` codes of its permit
/// provisions (nested ones too). A consent that is not active, or a `deny` provision,
/// permits nothing.
fn consent_purposes(c: &Map<String, Value>) -> Vec<String> {
    fn walk(p: &Value, out: &mut Vec<String>) {
        if p.get("type").and_then(Value::as_str) == Some("deny") {
            return;
        }
        for code in p
            .get("purpose")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("code").and_then(Value::as_str))
        {
            out.push(code.to_owned());
        }
        for inner in p
            .get("provision")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            walk(inner, out);
        }
    }
    let mut out = Vec::new();
    if c.get("status").and_then(Value::as_str) == Some("active")
        && let Some(p) = c.get("provision")
    {
        walk(p, &mut out);
    }
    out
}

/// A Patient's own identifying values, by text category: names and their parts, telecom,
/// address lines, city and postcode, identifier values, the birth date.
fn patient_values(p: &Value) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut push = |cat: &str, v: Option<&Value>| {
        if let (Some(c), Some(s)) = (record_category(cat), v.and_then(Value::as_str)) {
            out.push((c, s.to_owned()));
        }
    };
    let arr = |v: &Value, k: &str| -> Vec<Value> {
        v.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for n in arr(p, "name") {
        push("name", n.get("family"));
        for g in arr(&n, "given") {
            push("name", Some(&g));
        }
    }
    for t in arr(p, "telecom") {
        let cat = match t.get("system").and_then(Value::as_str) {
            Some("email") => "email",
            Some("fax") => "fax",
            _ => "phone",
        };
        push(cat, t.get("value"));
    }
    for a in arr(p, "address") {
        for l in arr(&a, "line") {
            push("street", Some(&l));
        }
        push("city", a.get("city"));
        push("zip", a.get("postalCode"));
    }
    for i in arr(p, "identifier") {
        push("mrn", i.get("value"));
    }
    push("birth_date", p.get("birthDate"));
    out
}

/// `e` located in `source` at `line` (0: keep the error's own; the walk knows only element
/// paths).
fn relocate(e: Error, source: &str, line: u64) -> Error {
    match e {
        Error::Input { location, message } => {
            let line = if line == 0 { location.line } else { line };
            let mut l = Location::at(source, line, location.column);
            if let Some(f) = location.field {
                l = l.with_field(f.as_str());
            }
            Error::input(l, message)
        }
        other => other,
    }
}

/// `e` with `path` (the path of the resource inside its container) before its field.
fn prefix_path(e: Error, path: &str) -> Error {
    match e {
        Error::Input { location, message } if !path.is_empty() => {
            let field = match &location.field {
                Some(f) => format!("{path}.{f}"),
                None => path.to_owned(),
            };
            Error::input(
                Location::at(&location.source, location.line, location.column)
                    .with_field(field.as_str()),
                message,
            )
        }
        other => other,
    }
}

/// De-identifies FHIR NDJSON (one resource a line, as a bulk `$export` writes it) from
/// `input` to `output` within `run`; returns the lines read. A line that is not a FHIR
/// resource stops the run with its line number (no value of it is quoted), or is withheld
/// under [`OnError::Withhold`].
///
/// One thread does the work, in input order: a three-stage pipeline (parse, treat, write on
/// their own threads) measured slower on 2 cores (61 against 82 MiB/s, values allocated on
/// one thread and freed on another), so it was not kept.
///
/// # Errors
/// [`Error::Input`] with `source` and line; [`Error::Io`] when writing fails.
pub fn deidentify_ndjson<R: BufRead, W: Write>(
    run: &mut Fhir<'_>,
    input: R,
    mut output: W,
    source: &str,
) -> Result<u64> {
    let mut n = 0u64;
    for (line, parsed) in ParsedLines::new(input, source) {
        n = line;
        if let Some(v) = treat_line(run, line, parsed, source)? {
            write_line(&mut output, &v)?;
        }
    }
    Ok(n)
}

/// A line of NDJSON read and parsed, or why it could not be.
enum Parsed {
    Blank,
    Resource(Value),
    /// Not JSON: withheld under [`OnError::Withhold`].
    Malformed(Error),
    /// Not readable (not UTF-8, an I/O error): the run stops, since what follows is unknown.
    Unreadable(Error),
}

/// The lines of `input`, numbered from 1, each parsed; blank lines are `Ok(None)`.
struct ParsedLines<'s, R> {
    lines: std::io::Lines<R>,
    n: u64,
    source: &'s str,
}

impl<'s, R: BufRead> ParsedLines<'s, R> {
    fn new(input: R, source: &'s str) -> Self {
        ParsedLines {
            lines: input.lines(),
            n: 0,
            source,
        }
    }
}

impl<R: BufRead> Iterator for ParsedLines<'_, R> {
    type Item = (u64, Parsed);

    fn next(&mut self) -> Option<(u64, Parsed)> {
        let line = self.lines.next()?;
        self.n += 1;
        let n = self.n;
        let parsed = match line {
            Err(e) => Parsed::Unreadable(Error::input(
                Location::line(self.source, n),
                format!("cannot read (is it utf-8?): {e}"),
            )),
            Ok(l) if l.trim().is_empty() => Parsed::Blank,
            Ok(l) => match serde_json::from_str(&l) {
                Ok(v) => Parsed::Resource(v),
                Err(e) => Parsed::Malformed(Error::malformed_json(self.source, n, &e)),
            },
        };
        Some((n, parsed))
    }
}

/// Treats one parsed line: the resource to write, if any.
fn treat_line(run: &mut Fhir<'_>, n: u64, parsed: Parsed, source: &str) -> Result<Option<Value>> {
    let mut v = match parsed {
        Parsed::Resource(v) => v,
        Parsed::Blank => return Ok(None),
        Parsed::Malformed(e) if run.on_error == OnError::Withhold => {
            run.withhold("(not a resource)", &e);
            return Ok(None);
        }
        Parsed::Malformed(e) | Parsed::Unreadable(e) => return Err(e),
    };
    run.apply_at(&mut v, source, n)?;
    Ok((!v.is_null()).then_some(v))
}

fn write_line<W: Write>(output: &mut W, v: &Value) -> Result<()> {
    serde_json::to_writer(&mut *output, v).map_err(|e| Error::io("<output>", e.into()))?;
    output
        .write_all(b"\n")
        .map_err(|e| Error::io("<output>", e))
}

/// Reads a FHIR NDJSON file ahead of the run: its patients (a bulk export's
/// `Patient.ndjson`), so that the notes of the other files are scrubbed with each patient's
/// own values, and its care teams and consents (`CareTeam`, `Encounter`, `Consent`), so that
/// each resource's plan knows whether the user treats its patient and what the patient
/// consented to. Bad lines are skipped here and reported when the file itself is treated.
pub fn learn_patients<R: BufRead>(run: &mut Fhir<'_>, input: R) {
    for line in input.lines().map_while(std::result::Result::ok) {
        if let Ok(v) = serde_json::from_str::<Value>(&line) {
            run.learn(&v);
        }
    }
}
