//! Compiling Cedar decisions into a [`Plan`], and applying plans to values and records.
//!
//! A plan is plain data: for each catalog field, the treatment it gets and the ids of the
//! policies that decided it. Cedar is asked only while compiling; applying a plan to a million
//! rows makes no Cedar call. Plans serialize (for explain, audit and shipping to workers).

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::{Catalog, Categories, FieldSpec, Params};
use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::policy::{Decider, Level, LevelDecision};
use crate::record::RecordAttrs;
use crate::treat::{
    self, GeneralizeParams, MaskParams, PseudonymParams, RedactParams, ScrubParams, ShiftParams,
    TreatmentKind,
};
use crate::util::hex;

/// What a field becomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "treatment", rename_all = "snake_case")]
pub enum Treatment {
    /// As is.
    Clear,
    /// Partially masked.
    Mask(MaskParams),
    /// Date shifted by the patient's offset.
    Shift(ShiftParams),
    /// Keyed pseudonym in `domain`.
    Pseudonymize {
        /// Pseudonym format.
        #[serde(flatten)]
        params: PseudonymParams,
    },
    /// Generalized.
    Generalize(GeneralizeParams),
    /// Redacted (null, placeholder or dropped): the default when nothing permits more.
    Redact(RedactParams),
    /// Free text with each detected span treated as [`Plan::spans`] says.
    Scrub(ScrubParams),
}

impl Treatment {
    /// Its kind (a redaction that drops the field is [`TreatmentKind::Drop`]).
    pub fn kind(&self) -> TreatmentKind {
        match self {
            Treatment::Clear => TreatmentKind::Clear,
            Treatment::Mask(_) => TreatmentKind::Mask,
            Treatment::Shift(_) => TreatmentKind::Shift,
            Treatment::Pseudonymize { .. } => TreatmentKind::Pseudonymize,
            Treatment::Generalize(_) => TreatmentKind::Generalize,
            Treatment::Redact(r) if r.drop => TreatmentKind::Drop,
            Treatment::Redact(_) => TreatmentKind::Redact,
            Treatment::Scrub(_) => TreatmentKind::Scrub,
        }
    }

    /// The name of its kind: `clear`, `mask`, `shift`, `pseudonymize`, `generalize`, `scrub`,
    /// `redact` or `drop`.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// Whether this treatment needs key material.
    pub fn needs_key(&self) -> bool {
        self.kind().needs_key()
    }
}

/// One field's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldPlan {
    /// Column name or JSON path.
    pub field: String,
    /// PHI category.
    pub category: String,
    /// The treatment applied.
    #[serde(flatten)]
    pub treatment: Treatment,
    /// Policies that permitted the chosen level (empty when redacted by default).
    pub policies: Vec<String>,
    /// Forbid policies that blocked a more revealing level.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub denied_by: Vec<String>,
    /// Policy evaluation errors met on the way (each denied its level: fail closed).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<String>,
}

impl FieldPlan {
    /// Why the field gets its treatment, for people: the deciding policies (or deny by
    /// default), then the forbids that matched at a more revealing level.
    ///
    /// # Examples
    /// ```
    /// use phiguard::{FieldPlan, Treatment};
    /// let f = FieldPlan { field: "ssn".into(), category: "ssn".into(), treatment: Treatment::Clear,
    ///     policies: vec![], denied_by: vec!["base.no-marketing".into()], errors: vec![] };
    /// assert_eq!(f.reason(), "no permit (deny by default); forbidden above by base.no-marketing");
    /// ```
    pub fn reason(&self) -> String {
        let mut why = if self.policies.is_empty() {
            "no permit (deny by default)".to_owned()
        } else {
            self.policies.join(", ")
        };
        if !self.denied_by.is_empty() {
            why.push_str("; forbidden above by ");
            why.push_str(&self.denied_by.join(", "));
        }
        if !self.errors.is_empty() {
            why.push_str(&format!(
                "; {} policy evaluation error(s), failed closed",
                self.errors.len()
            ));
        }
        why
    }
}

/// The compiled decision for one (principal, operation, purpose, record attributes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Content hash of the plan (16 hex digits), referenced by audit events.
    pub id: String,
    /// Record attributes it was compiled for.
    pub attrs: RecordAttrs,
    /// One entry per catalog field, in catalog order.
    pub fields: Vec<FieldPlan>,
    /// When a field is scrubbed: the treatment of each category the text detector finds, as
    /// the same policies decide it for this principal and record.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub spans: BTreeMap<String, FieldPlan>,
}

fn applicable(level: Level, p: &Params) -> bool {
    match level {
        Level::Clear | Level::Pseudonymize => true,
        Level::Mask => p.mask.is_some(),
        Level::Shift => p.shift.is_some(),
        Level::Generalize => p.generalize.is_some(),
        Level::Scrub => p.scrub.is_some(),
    }
}

fn treatment_for(level: Option<Level>, f: &FieldSpec) -> Treatment {
    let p = &f.params;
    match level {
        Some(Level::Clear) => Treatment::Clear,
        Some(Level::Mask) => p.mask.clone().map_or_else(|| redact(p), Treatment::Mask),
        Some(Level::Shift) => p.shift.clone().map_or_else(|| redact(p), Treatment::Shift),
        Some(Level::Generalize) => p
            .generalize
            .clone()
            .map_or_else(|| redact(p), Treatment::Generalize),
        Some(Level::Scrub) => p.scrub.clone().map_or_else(|| redact(p), Treatment::Scrub),
        Some(Level::Pseudonymize) => {
            let mut params = p.pseudonymize.clone().unwrap_or(PseudonymParams {
                prefix: String::new(),
                length: 16,
                domain: None,
                case_insensitive: false,
            });
            params.domain.get_or_insert_with(|| f.category.clone());
            Treatment::Pseudonymize { params }
        }
        None => redact(p),
    }
}

fn redact(p: &Params) -> Treatment {
    Treatment::Redact(p.redact.clone().unwrap_or_default())
}

impl Plan {
    pub(crate) fn compile(
        decider: &Decider,
        catalog: &Catalog,
        categories: &Categories,
        purpose: &str,
        operation: &str,
        break_glass: bool,
        attrs: &RecordAttrs,
    ) -> Result<Plan> {
        let context = decider.context(purpose, operation, break_glass, attrs)?;
        let mut asked: HashMap<(String, Level), LevelDecision> = HashMap::new();
        let mut decide_field = |f: &FieldSpec| -> Result<FieldPlan> {
            let mut denied_by = Vec::new();
            let mut errors = Vec::new();
            let mut chosen = None;
            for level in Level::ALL {
                if !applicable(level, &f.params) {
                    continue;
                }
                let key = (f.category.clone(), level);
                let d = match asked.get(&key) {
                    Some(d) => d.clone(),
                    None => {
                        let d = decider.decide(level, &f.category, &context)?;
                        asked.insert(key, d.clone());
                        d
                    }
                };
                errors.extend(d.errors.iter().cloned());
                if d.allowed {
                    chosen = Some((level, d.policies));
                    break;
                }
                denied_by.extend(d.policies);
            }
            denied_by.sort();
            denied_by.dedup();
            let (level, policies) = match chosen {
                Some((l, p)) => (Some(l), p),
                None => (None, Vec::new()),
            };
            Ok(FieldPlan {
                field: f.name.clone(),
                category: f.category.clone(),
                treatment: treatment_for(level, f),
                policies,
                denied_by,
                errors,
            })
        };
        let fields = catalog
            .fields
            .iter()
            .map(&mut decide_field)
            .collect::<Result<Vec<_>>>()?;
        let mut spans = BTreeMap::new();
        if fields
            .iter()
            .any(|f| matches!(f.treatment, Treatment::Scrub(_)))
        {
            for cat in crate::text::CATEGORIES {
                // A category the pack lacks is redacted in text (deny by default).
                let params = categories
                    .get(cat)
                    .map(|c| c.params.clone())
                    .unwrap_or_default();
                let spec = FieldSpec {
                    name: (*cat).to_owned(),
                    category: (*cat).to_owned(),
                    params,
                };
                let fp = if categories.get(cat).is_some() {
                    decide_field(&spec)?
                } else {
                    FieldPlan {
                        field: spec.name,
                        category: spec.category,
                        treatment: Treatment::Redact(RedactParams::default()),
                        policies: Vec::new(),
                        denied_by: Vec::new(),
                        errors: Vec::new(),
                    }
                };
                spans.insert((*cat).to_owned(), fp);
            }
        }
        let mut plan = Plan {
            id: String::new(),
            attrs: attrs.clone(),
            fields,
            spans,
        };
        let bytes = serde_json::to_vec(&plan)
            .map_err(|e| Error::request(format!("cannot hash plan: {e}")))?;
        plan.id = hex::lower(Sha256::digest(&bytes).get(..8).unwrap_or(&[]));
        Ok(plan)
    }

    /// Whether any field, or any span of a scrubbed field, needs key material.
    pub fn needs_key(&self) -> bool {
        self.fields.iter().any(|f| f.treatment.needs_key())
            || (self
                .fields
                .iter()
                .any(|f| matches!(f.treatment, Treatment::Scrub(_)))
                && self.spans.values().any(|f| f.treatment.needs_key()))
    }

    /// Index of the field named `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.field == name)
    }

    /// Applies field `i`'s treatment to `value`, appending to `out` when the result is new text.
    ///
    /// # Errors
    /// [`Error::Key`] when the treatment needs a key and `ctx` has none.
    pub fn apply_value(
        &self,
        i: usize,
        value: &str,
        ctx: &RowCtx<'_>,
        out: &mut String,
    ) -> Result<Applied> {
        let Some(f) = self.fields.get(i) else {
            return Ok(Applied::Null);
        };
        match &f.treatment {
            Treatment::Scrub(p) if !value.is_empty() => self.scrub(value, p, ctx, out),
            t => apply_treatment(t, &f.field, value, ctx, out),
        }
    }

    /// Free text with each detected span replaced as [`Plan::spans`] says: kept, masked,
    /// pseudonymized (`[name-3fa8...]`), generalized or shifted where the span's category
    /// allows, else a label such as `[NAME]`.
    fn scrub(
        &self,
        value: &str,
        p: &ScrubParams,
        ctx: &RowCtx<'_>,
        out: &mut String,
    ) -> Result<Applied> {
        let detector = match ctx.detector {
            Some(d) => d,
            None => crate::text::builtin()?,
        };
        let mut last = 0;
        let mut piece = String::new();
        for span in detector.detect(value) {
            if span.confidence < p.min_confidence {
                continue;
            }
            out.push_str(value.get(last..span.start).unwrap_or(""));
            let original = value.get(span.start..span.end).unwrap_or("");
            let label = |out: &mut String| {
                out.push('[');
                out.push_str(&span.category.to_uppercase());
                out.push(']');
            };
            match self.spans.get(span.category.as_ref()).map(|f| &f.treatment) {
                Some(Treatment::Clear) => out.push_str(original),
                Some(Treatment::Redact(r)) => match &r.placeholder {
                    Some(ph) => out.push_str(ph),
                    None => label(out),
                },
                Some(t @ Treatment::Pseudonymize { .. }) => {
                    piece.clear();
                    apply_treatment(t, &span.category, original, ctx, &mut piece)?;
                    out.push('[');
                    out.push_str(&piece);
                    out.push(']');
                }
                Some(t) => {
                    piece.clear();
                    match apply_treatment(t, &span.category, original, ctx, &mut piece)? {
                        Applied::Written => out.push_str(&piece),
                        Applied::Clear => out.push_str(original),
                        _ => label(out),
                    }
                }
                None => label(out),
            }
            last = span.end;
        }
        out.push_str(value.get(last..).unwrap_or(""));
        Ok(Applied::Written)
    }
}

/// What happened to one value, as a summary counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Treated as its plan says.
    Treated(TreatmentKind),
    /// The plan's treatment did not fit the value (not a date, no patient id): redacted.
    Untreatable,
    /// A field the catalog does not know: redacted.
    UnknownField,
}

const SLOTS: usize = TreatmentKind::ALL.len() + 2;

impl Counted {
    fn slot(self) -> usize {
        match self {
            Counted::Treated(k) => k as usize,
            Counted::Untreatable => SLOTS - 2,
            Counted::UnknownField => SLOTS - 1,
        }
    }

    /// `clear`, `mask`, ... for treated values; `untreatable`, `unknown_field`.
    pub const fn name(self) -> &'static str {
        match self {
            Counted::Treated(k) => k.name(),
            Counted::Untreatable => "untreatable",
            Counted::UnknownField => "unknown_field",
        }
    }
}

/// Values counted per treatment (plus untreatable values and unknown fields): the one tally
/// of every reader and writer. It lists, and serializes as a map, only the names counted, in
/// name order.
///
/// # Examples
/// ```
/// use phiguard::{Counted, Tally, TreatmentKind};
/// let mut t = Tally::default();
/// t.add(Counted::Treated(TreatmentKind::Scrub), 2);
/// t.add(Counted::UnknownField, 1);
/// assert_eq!(t.iter().collect::<Vec<_>>(), [("scrub", 2), ("unknown_field", 1)]);
/// assert_eq!(t.get(Counted::Treated(TreatmentKind::Redact)), 0);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally([u64; SLOTS]);

impl std::fmt::Debug for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Every slot, in name order (how summaries have always listed them).
const BY_NAME: [Counted; SLOTS] = {
    use TreatmentKind as K;
    [
        Counted::Treated(K::Clear),
        Counted::Treated(K::Drop),
        Counted::Treated(K::Generalize),
        Counted::Treated(K::Mask),
        Counted::Treated(K::Pseudonymize),
        Counted::Treated(K::Redact),
        Counted::Treated(K::Scrub),
        Counted::Treated(K::Shift),
        Counted::UnknownField,
        Counted::Untreatable,
    ]
};

impl Tally {
    /// Counts `n` more values that met `what`.
    pub fn add(&mut self, what: Counted, n: u64) {
        if let Some(c) = self.0.get_mut(what.slot()) {
            *c += n;
        }
    }

    /// Adds another tally to this one.
    pub fn merge(&mut self, other: &Tally) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    /// The values counted as `what`.
    pub fn get(&self, what: Counted) -> u64 {
        self.0.get(what.slot()).copied().unwrap_or(0)
    }

    /// (name, count) of every name counted at least once, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        BY_NAME
            .iter()
            .filter_map(|c| self.0.get(c.slot()).map(|&n| (c.name(), n)))
            .filter(|(_, n)| *n > 0)
    }

    /// Values counted in all.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

impl Serialize for Tally {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

/// Outcome of applying a treatment to one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Write the input value unchanged.
    Clear,
    /// Write the text now in `out`.
    Written,
    /// Write null (empty in CSV).
    Null,
    /// Remove the field.
    Drop,
    /// The value could not be treated as the plan says (not a date, no patient id): it is
    /// redacted, and counted so the caller can report it.
    Untreatable,
}

/// Per-row context: keys, the patient id for date shifts, the reference year for ages.
#[derive(Debug)]
pub struct RowCtx<'a> {
    key: Option<&'a KeyRing>,
    /// The pack's detector when it has custom detectors (else the built-in one is used).
    detector: Option<&'a crate::text::Detector>,
    patient: Option<&'a str>,
    as_of_year: i64,
    offset: Cell<Option<(u32, i64)>>,
}

impl<'a> RowCtx<'a> {
    /// A context for one row.
    pub fn new(key: Option<&'a KeyRing>, patient: Option<&'a str>, as_of_year: i64) -> Self {
        RowCtx {
            key,
            detector: None,
            patient: patient.filter(|p| !p.is_empty()),
            as_of_year,
            offset: Cell::new(None),
        }
    }

    /// The same context scrubbing text with `detector` (a pack's custom detectors).
    #[must_use]
    pub fn with_detector(mut self, detector: Option<&'a crate::text::Detector>) -> Self {
        self.detector = detector;
        self
    }

    fn key(&self, field: &str, what: &str) -> Result<&'a KeyRing> {
        self.key.ok_or_else(|| {
            Error::key(format!(
                "treatment `{what}` of field `{field}` needs a key (pass a key file)"
            ))
        })
    }

    fn offset(&self, key: &KeyRing, max_days: u32) -> Option<i64> {
        if let Some((m, o)) = self.offset.get()
            && m == max_days
        {
            return Some(o);
        }
        let o = treat::date_offset(key.date_shift_mac(), self.patient?, max_days);
        self.offset.set(Some((max_days, o)));
        Some(o)
    }
}

/// Appends the treated value to `out` (never touching what `out` already holds).
pub(crate) fn apply_treatment(
    t: &Treatment,
    field: &str,
    value: &str,
    ctx: &RowCtx<'_>,
    out: &mut String,
) -> Result<Applied> {
    if value.is_empty() {
        // Nothing to protect; keeps empties distinguishable from redactions... except drop.
        return Ok(match t {
            Treatment::Redact(r) if r.drop => Applied::Drop,
            _ => Applied::Clear,
        });
    }
    let start = out.len();
    Ok(match t {
        Treatment::Clear => Applied::Clear,
        Treatment::Mask(p) => {
            treat::mask(value, p, out);
            Applied::Written
        }
        Treatment::Pseudonymize { params } => {
            let key = ctx.key(field, "pseudonymize")?;
            let domain = params.domain.as_deref().unwrap_or("");
            treat::pseudonymize(value, key.pseudonym_mac(), domain, params, out);
            Applied::Written
        }
        Treatment::Shift(p) => {
            let key = ctx.key(field, "shift")?;
            match ctx.offset(key, p.max_days) {
                Some(o) if treat::shift_date(value, o, out) => Applied::Written,
                _ => {
                    out.truncate(start);
                    Applied::Untreatable
                }
            }
        }
        Treatment::Generalize(p) => {
            if treat::generalize(value, p, ctx.as_of_year, out) {
                Applied::Written
            } else {
                out.truncate(start);
                Applied::Untreatable
            }
        }
        Treatment::Redact(r) => match (&r.placeholder, r.drop) {
            (_, true) => Applied::Drop,
            (Some(ph), false) => {
                out.push_str(ph);
                Applied::Written
            }
            (None, false) => Applied::Null,
        },
        // Scrubbing needs the plan's span treatments (`Plan::apply_value`); reaching here
        // means a caller bypassed it, so nothing is released.
        Treatment::Scrub(_) => Applied::Null,
    })
}
