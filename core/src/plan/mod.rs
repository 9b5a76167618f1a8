//! Compiling Cedar decisions into a [`Plan`], and applying plans to values and records.
//!
//! A plan is plain data: for each catalog field, the treatment it gets and the ids of the
//! policies that decided it. Cedar is asked only while compiling; applying a plan to a million
//! rows makes no Cedar call. Plans serialize (for explain, audit and shipping to workers).

mod apply;
mod compile;
mod tally;

pub(crate) use apply::{Applied, RowCtx};
pub use tally::{Counted, Tally};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::record::RecordAttrs;
use crate::treat::{
    GeneralizeParams, MaskParams, PseudonymParams, RedactParams, ScrubParams, ShiftParams,
    TreatmentKind,
};

/// What a field becomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "treatment", rename_all = "snake_case")]
#[non_exhaustive]
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
