//! Cedar, asked for one principal: the policies sliced to it, and one decision per
//! (level, category, record context).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Entities, EntityUid, PolicySet, Request,
    ResourceConstraint, RestrictedExpression,
};

use crate::error::{Error, Result};
use crate::record::RecordAttrs;

use super::{LEVELS, Level, NAMESPACE, uid};

/// The outcome of asking Cedar about one level of one category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LevelDecision {
    pub allowed: bool,
    /// Permits that allowed it, or forbids that denied it.
    pub policies: Vec<String>,
    /// Evaluation errors (the level is then denied: fail closed).
    pub errors: Vec<String>,
}

/// Cedar, prepared for one principal: the policies sliced to it, and its entity store.
pub(crate) struct Decider {
    pub(super) principal: EntityUid,
    pub(super) entities: Entities,
    pub(super) sliced: [PolicySet; LEVELS],
    /// Resource scopes of the permits in each sliced set: a category none of them can match
    /// is denied without asking Cedar, since no permit can apply and Cedar would deny too.
    /// (Forbids are then not reported for that level: nothing there was theirs to block.)
    pub(super) permit_scopes: [Vec<ResourceConstraint>; LEVELS],
    pub(super) field_scope: Arc<HashMap<String, HashSet<EntityUid>>>,
    pub(super) actions: [EntityUid; LEVELS],
    pub(super) authorizer: Authorizer,
}

impl Decider {
    pub fn context(
        &self,
        purpose: &str,
        operation: &str,
        break_glass: bool,
        attrs: &RecordAttrs,
    ) -> Result<Context> {
        let set = |v: &[String]| {
            RestrictedExpression::new_set(
                v.iter()
                    .map(|s| RestrictedExpression::new_string(s.clone())),
            )
        };
        Context::from_pairs([
            (
                "purpose".to_owned(),
                RestrictedExpression::new_entity_uid(uid("Purpose", purpose)?),
            ),
            (
                "operation".to_owned(),
                RestrictedExpression::new_string(operation.to_owned()),
            ),
            (
                "break_glass".to_owned(),
                RestrictedExpression::new_bool(break_glass),
            ),
            ("labels".to_owned(), set(&attrs.labels)),
            (
                "confidentiality".to_owned(),
                RestrictedExpression::new_string(attrs.confidentiality.clone()),
            ),
            (
                "treating".to_owned(),
                RestrictedExpression::new_bool(attrs.treating),
            ),
            (
                "own_record".to_owned(),
                RestrictedExpression::new_bool(attrs.own_record),
            ),
            ("consent".to_owned(), set(&attrs.consent)),
        ])
        .map_err(|e| Error::request(format!("cannot build context: {e}")))
    }

    /// Asks Cedar whether `level` of `category` is permitted. An evaluation error in any policy
    /// denies the level (Cedar itself would skip an erroring forbid; we must not).
    pub fn decide(&self, level: Level, category: &str, context: &Context) -> Result<LevelDecision> {
        let (Some(action), Some(set)) = (
            self.actions.get(level.index()),
            self.sliced.get(level.index()),
        ) else {
            return Err(Error::request("internal: level out of range"));
        };
        let scope = self.field_scope.get(category);
        let field_type = || format!("{NAMESPACE}::Field");
        let may_apply = self
            .permit_scopes
            .get(level.index())
            .into_iter()
            .flatten()
            .any(|rc| match rc {
                ResourceConstraint::Any => true,
                ResourceConstraint::Eq(e) | ResourceConstraint::In(e) => {
                    scope.is_none_or(|s| s.contains(e))
                }
                ResourceConstraint::Is(t) => t.to_string() == field_type(),
                ResourceConstraint::IsIn(t, e) => {
                    t.to_string() == field_type() && scope.is_none_or(|s| s.contains(e))
                }
            });
        if !may_apply {
            return Ok(LevelDecision {
                allowed: false,
                policies: Vec::new(),
                errors: Vec::new(),
            });
        }
        let request = Request::new(
            self.principal.clone(),
            action.clone(),
            uid("Field", category)?,
            context.clone(),
            None,
        )
        .map_err(|e| Error::request(format!("cannot build request: {e}")))?;
        let response = self.authorizer.is_authorized(&request, set, &self.entities);
        let errors: Vec<String> = response
            .diagnostics()
            .errors()
            .map(|e| e.to_string())
            .collect();
        let mut policies: Vec<String> = response
            .diagnostics()
            .reason()
            .map(|p| p.to_string())
            .collect();
        policies.sort();
        Ok(LevelDecision {
            allowed: response.decision() == CedarDecision::Allow && errors.is_empty(),
            policies,
            errors,
        })
    }
}
