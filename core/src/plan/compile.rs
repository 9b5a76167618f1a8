//! Compiling a plan: for each field, the most revealing level some permit allows and the
//! field's category supports, asked of Cedar once per (category, level).

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use crate::catalog::{Catalog, Categories, FieldSpec, Params};
use crate::error::{Error, Result};
use crate::policy::{Decider, Level, LevelDecision};
use crate::record::RecordAttrs;
use crate::treat::{PseudonymParams, RedactParams};
use crate::util::hex;

use super::{FieldPlan, Plan, Treatment};

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
}
