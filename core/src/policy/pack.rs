//! Loading a pack: each step validates one part, and an invalid part stops the load with
//! its file, line and column.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    ActionConstraint, Authorizer, Effect, Entities, Entity, EntityUid, Policy, PolicyId, PolicySet,
    PrincipalConstraint, ResourceConstraint, RestrictedExpression, Schema, ValidationMode,
    Validator,
};

use crate::catalog::{Catalog, Categories};
use crate::error::{Error, Location, Result};

use super::{Decider, LEVELS, Level, NAMESPACE, PackSources, Source, diag_parts, policy_err, uid};

/// A validated policy pack: schema, policies, entities, categories and catalogs.
#[derive(Debug, Clone)]
pub struct Pack {
    schema: Schema,
    policies: PolicySet,
    /// Policy id -> file it came from.
    policy_files: BTreeMap<String, String>,
    /// Policies that can apply to each level (action scope slicing).
    by_level: [Vec<Policy>; LEVELS],
    entities: Entities,
    roles: HashSet<String>,
    purposes: HashMap<String, Vec<String>>,
    categories: Categories,
    catalogs: Vec<Catalog>,
    /// Per category: its `Phi::Field` uid and the uids of its groups (static resource scope).
    field_scope: Arc<HashMap<String, HashSet<EntityUid>>>,
    /// Built-in plus custom detectors, when the pack configures custom ones.
    custom_detector: Option<Arc<crate::text::Detector>>,
    /// The FHIR rules' text, parsed by the `fhir` module when a FHIR run starts.
    fhir_rules: Option<Source>,
}

impl Pack {
    /// Loads and validates a pack, one part after the other (the order decides which error a
    /// pack with several problems reports).
    ///
    /// # Errors
    /// [`Error::Policy`] or [`Error::Catalog`] with file, line and column for any malformed or
    /// invalid part; a pack that does not validate is never used.
    pub(crate) fn load(src: &PackSources, max_policies: usize) -> Result<Self> {
        let schema_src = required(src.schema.as_ref(), "schema")?;
        let schema = load_schema(schema_src)?;
        let loaded = load_policies(&src.policies, max_policies)?;
        validate_policies(&schema, &loaded, schema_src)?;
        let cat_src = required(src.categories.as_ref(), "categories file")?;
        let categories = Categories::parse(&cat_src.text, &cat_src.name)?;
        let ent_src = required(src.entities.as_ref(), "entities file")?;
        let known = load_entities(ent_src, &schema, &categories)?;
        check_named_entities(&loaded, &known.entities, schema_src)?;
        let catalogs = load_catalogs(&src.catalogs, &categories)?;
        let by_level = slice_by_level(&loaded.policies)?;
        let custom_detector = load_detectors(src.detectors.as_ref(), &categories)?;
        Ok(Pack {
            schema,
            policies: loaded.policies,
            policy_files: loaded.files,
            by_level,
            entities: known.entities,
            roles: known.roles,
            purposes: known.purposes,
            categories,
            catalogs,
            field_scope: Arc::new(known.field_scope),
            custom_detector,
            fhir_rules: src.fhir_rules.clone(),
        })
    }

    /// The categories of the pack.
    pub fn categories(&self) -> &Categories {
        &self.categories
    }

    /// The pack's detector when it configures custom detectors (`None`: the built-in one).
    pub(crate) fn custom_detector(&self) -> Option<&crate::text::Detector> {
        self.custom_detector.as_deref()
    }

    /// The pack's FHIR rules (`fhir/rules.toml`), if it has them.
    pub fn fhir_rules(&self) -> Option<&Source> {
        self.fhir_rules.as_ref()
    }

    pub(crate) fn push_catalog(&mut self, catalog: Catalog) {
        self.catalogs.push(catalog);
    }

    /// The catalogs of the pack.
    pub fn catalogs(&self) -> &[Catalog] {
        &self.catalogs
    }

    /// Role ids the entities file declares.
    pub fn roles(&self) -> Vec<&str> {
        let mut r: Vec<&str> = self.roles.iter().map(String::as_str).collect();
        r.sort_unstable();
        r
    }

    /// Purpose codes the entities file declares.
    pub fn purposes(&self) -> Vec<&str> {
        let mut r: Vec<&str> = self.purposes.keys().map(String::as_str).collect();
        r.sort_unstable();
        r
    }

    /// Whether `purpose` is `ancestor` or below it in the purpose-of-use hierarchy.
    pub fn purpose_within(&self, purpose: &str, ancestor: &str) -> bool {
        purpose == ancestor
            || self
                .purposes
                .get(purpose)
                .is_some_and(|a| a.iter().any(|x| x == ancestor))
    }

    /// Whether `purpose` is a declared purpose code.
    pub fn has_purpose(&self, purpose: &str) -> bool {
        self.purposes.contains_key(purpose)
    }

    /// Number of policies.
    pub fn policy_count(&self) -> usize {
        self.policies.num_of_policies()
    }

    /// The file a policy came from.
    pub fn policy_file(&self, id: &str) -> Option<&str> {
        self.policy_files.get(id).map(String::as_str)
    }

    /// A decider for one principal: validates the roles and slices the policies.
    pub(crate) fn decider(
        &self,
        user: &str,
        roles: &[String],
        department: Option<&str>,
    ) -> Result<Decider> {
        if roles.is_empty() {
            return Err(Error::request("at least one role is required"));
        }
        let mut parents = HashSet::new();
        for r in roles {
            if !self.roles.contains(r) {
                return Err(Error::request(format!(
                    "unknown role `{r}`; known roles: {}",
                    self.roles().join(", ")
                )));
            }
            parents.insert(uid("Role", r)?);
        }
        let principal = uid("User", user)?;
        let mut attrs = HashMap::new();
        if let Some(d) = department {
            attrs.insert(
                "department".to_owned(),
                RestrictedExpression::new_string(d.to_owned()),
            );
        }
        let user_entity = Entity::new(principal.clone(), attrs, parents)
            .map_err(|e| Error::request(format!("cannot build principal: {e}")))?;
        let entities = self
            .entities
            .clone()
            .add_entities([user_entity], Some(&self.schema))
            .map_err(|e| Error::request(format!("user `{user}` does not fit the schema: {e}")))?;
        let mut in_scope: HashSet<EntityUid> = entities
            .ancestors(&principal)
            .map(|a| a.cloned().collect())
            .unwrap_or_default();
        in_scope.insert(principal.clone());
        let user_type = principal.type_name().clone();
        let mut sliced: [PolicySet; LEVELS] = Default::default();
        let mut permit_scopes: [Vec<ResourceConstraint>; LEVELS] = Default::default();
        for level in Level::ALL {
            let keep = self
                .by_level
                .get(level.index())
                .into_iter()
                .flatten()
                .filter(|p| match p.principal_constraint() {
                    PrincipalConstraint::Any => true,
                    PrincipalConstraint::Is(t) => t == user_type,
                    PrincipalConstraint::In(e) => in_scope.contains(&e),
                    PrincipalConstraint::Eq(e) => e == principal,
                    PrincipalConstraint::IsIn(t, e) => t == user_type && in_scope.contains(&e),
                });
            let kept: Vec<Policy> = keep.cloned().collect();
            if let Some(scopes) = permit_scopes.get_mut(level.index()) {
                scopes.extend(
                    kept.iter()
                        .filter(|p| p.effect() == Effect::Permit)
                        .map(Policy::resource_constraint),
                );
            }
            let set = PolicySet::from_policies(kept)
                .map_err(|e| Error::request(format!("cannot slice policies: {e}")))?;
            if let Some(s) = sliced.get_mut(level.index()) {
                *s = set;
            }
        }
        let actions: Vec<EntityUid> = Level::ALL
            .iter()
            .map(|l| uid("Action", l.action_id()))
            .collect::<Result<_>>()?;
        let actions: [EntityUid; LEVELS] = actions
            .try_into()
            .map_err(|_| Error::request("internal: level count"))?;
        Ok(Decider {
            principal,
            entities,
            sliced,
            permit_scopes,
            field_scope: self.field_scope.clone(),
            actions,
            authorizer: Authorizer::new(),
        })
    }
}

fn required<'s>(source: Option<&'s Source>, what: &str) -> Result<&'s Source> {
    source.ok_or_else(|| {
        Error::policy(
            Location::line("<pack>", 0),
            format!("the pack has no {what}"),
        )
    })
}

/// The schema, which must declare every disclosure level as an action.
fn load_schema(schema_src: &Source) -> Result<Schema> {
    let (schema, _warnings) = Schema::from_cedarschema_str(&schema_src.text).map_err(|e| {
        let (off, msg) = diag_parts(&e);
        policy_err(schema_src, off, msg)
    })?;
    for action in Level::ALL {
        let a = uid("Action", action.action_id())?;
        if !schema.actions().any(|x| *x == a) {
            return Err(policy_err(
                schema_src,
                0,
                format!("the schema must declare action `{}`", action.action_id()),
            ));
        }
    }
    Ok(schema)
}

/// The policies of every file, each known by its `@id` and the file it came from.
struct LoadedPolicies<'s> {
    policies: PolicySet,
    /// Policy id -> file name.
    files: BTreeMap<String, String>,
    /// Policy id -> its source, for error positions.
    texts: HashMap<String, &'s Source>,
}

/// Parses each file on its own, so that error positions are relative to it, and re-ids each
/// policy by its `@id`.
fn load_policies(sources: &[Source], max_policies: usize) -> Result<LoadedPolicies<'_>> {
    let mut out = LoadedPolicies {
        policies: PolicySet::new(),
        files: BTreeMap::new(),
        texts: HashMap::new(),
    };
    for file in sources {
        let set = PolicySet::from_str(&file.text).map_err(|e| {
            let (off, msg) = diag_parts(&e);
            policy_err(file, off, msg)
        })?;
        if out.files.len() + set.policies().count() > max_policies {
            return Err(policy_err(
                file,
                0,
                format!("the pack holds more than {max_policies} policies (Limits::max_policies)"),
            ));
        }
        if set.num_of_templates() > 0 {
            return Err(policy_err(file, 0, "templates are not supported in a pack"));
        }
        for (n, p) in set.policies().enumerate() {
            let id = match p.annotation("id") {
                Some(id) => id.to_owned(),
                None => format!("{}#{n}", file.name),
            };
            if out.files.contains_key(&id) {
                return Err(policy_err(file, 0, format!("duplicate policy id `{id}`")));
            }
            out.policies
                .add(p.new_id(PolicyId::new(&id)))
                .map_err(|e| policy_err(file, 0, e.to_string()))?;
            out.files.insert(id.clone(), file.name.clone());
            out.texts.insert(id, file);
        }
    }
    Ok(out)
}

/// Cedar's strict validation of every policy against the schema.
fn validate_policies(
    schema: &Schema,
    loaded: &LoadedPolicies<'_>,
    schema_src: &Source,
) -> Result<()> {
    let validator = Validator::new(schema.clone());
    let result = validator.validate(&loaded.policies, ValidationMode::Strict);
    if let Some(e) = result.validation_errors().next() {
        let (off, msg) = diag_parts(e);
        let id = e.policy_id().to_string();
        return Err(match loaded.texts.get(&id) {
            Some(file) => policy_err(file, off, format!("policy `{id}`: {msg}")),
            None => policy_err(schema_src, 0, msg),
        });
    }
    Ok(())
}

/// The pack's entities: roles and purposes from the entities file, fields and groups from
/// the categories.
struct KnownEntities {
    entities: Entities,
    roles: HashSet<String>,
    /// Purpose -> its ancestors in the HL7 hierarchy.
    purposes: HashMap<String, Vec<String>>,
    /// Per category: its `Phi::Field` uid and the uids of its groups (static resource scope).
    field_scope: HashMap<String, HashSet<EntityUid>>,
}

fn load_entities(
    ent_src: &Source,
    schema: &Schema,
    categories: &Categories,
) -> Result<KnownEntities> {
    let base = Entities::from_json_str(&ent_src.text, Some(schema)).map_err(|e| {
        let (off, msg) = diag_parts(&e);
        policy_err(ent_src, off, msg)
    })?;
    let mut roles = HashSet::new();
    let mut purposes = HashMap::new();
    for e in base.iter() {
        let u = e.uid();
        let ty = u.type_name().to_string();
        let id = u.id().unescaped().to_owned();
        if ty == format!("{NAMESPACE}::Role") {
            roles.insert(id);
        } else if ty == format!("{NAMESPACE}::Purpose") {
            let ancestors = base
                .ancestors(&u)
                .map(|it| it.map(|a| a.id().unescaped().to_owned()).collect())
                .unwrap_or_default();
            purposes.insert(id, ancestors);
        }
    }
    let mut generated = Vec::new();
    for g in categories.groups() {
        generated.push(Entity::new_no_attrs(uid("Group", g)?, HashSet::new()));
    }
    // A category's static resource scope: its field and its groups (see `Decider::decide`).
    let mut field_scope = HashMap::new();
    for c in categories.iter() {
        let parents = c
            .groups
            .iter()
            .map(|g| uid("Group", g))
            .collect::<Result<HashSet<_>>>()?;
        let field = uid("Field", &c.name)?;
        let mut scope = parents.clone();
        scope.insert(field.clone());
        field_scope.insert(c.name.clone(), scope);
        generated.push(Entity::new_no_attrs(field, parents));
    }
    let entities = base.add_entities(generated, Some(schema)).map_err(|e| {
        let (_, msg) = diag_parts(&e);
        policy_err(
            ent_src,
            0,
            format!("categories do not fit the schema: {msg}"),
        )
    })?;
    Ok(KnownEntities {
        entities,
        roles,
        purposes,
        field_scope,
    })
}

/// Cedar's validator checks types, not that an entity exists: a policy naming
/// `Phi::Field::"snn"` would validate and silently never match. Every role, purpose, field
/// and group a policy names must be one the pack defines.
fn check_named_entities(
    loaded: &LoadedPolicies<'_>,
    entities: &Entities,
    schema_src: &Source,
) -> Result<()> {
    for p in loaded.policies.policies() {
        for lit in p.entity_literals() {
            let ty = lit.type_name().to_string();
            let checked = ["Role", "Purpose", "Field", "Group"]
                .iter()
                .any(|t| ty == format!("{NAMESPACE}::{t}"));
            if checked && entities.get(&lit).is_none() {
                let id = p.id().to_string();
                let file = loaded.texts.get(&id).copied().unwrap_or(schema_src);
                let needle = format!("\"{}\"", lit.id().unescaped());
                let offset = file.text.find(&needle).unwrap_or(0);
                return Err(policy_err(
                    file,
                    offset,
                    format!("policy `{id}` names `{lit}`, which the pack does not define"),
                ));
            }
        }
    }
    Ok(())
}

fn load_catalogs(sources: &[Source], categories: &Categories) -> Result<Vec<Catalog>> {
    let mut catalogs: Vec<Catalog> = Vec::new();
    for c in sources {
        let cat = Catalog::parse(&c.text, &c.name, categories)?;
        if catalogs.iter().any(|x| x.name == cat.name) {
            return Err(Error::catalog(
                Location::at(&c.name, 1, 1),
                format!("duplicate catalog name `{}`", cat.name),
            ));
        }
        catalogs.push(cat);
    }
    Ok(catalogs)
}

/// The policies that can apply to each level, by their action scope, so a decision looks
/// only at those.
fn slice_by_level(policies: &PolicySet) -> Result<[Vec<Policy>; LEVELS]> {
    let mut by_level: [Vec<Policy>; LEVELS] = Default::default();
    let disclose = uid("Action", "disclose")?;
    for p in policies.policies() {
        for level in Level::ALL {
            let a = uid("Action", level.action_id())?;
            let applies = match p.action_constraint() {
                ActionConstraint::Any => true,
                ActionConstraint::Eq(x) => x == a,
                ActionConstraint::In(xs) => xs.iter().any(|x| *x == a || *x == disclose),
            };
            if applies && let Some(v) = by_level.get_mut(level.index()) {
                v.push(p.clone());
            }
        }
    }
    Ok(by_level)
}

/// Built-in plus custom detectors when the pack configures custom ones.
fn load_detectors(
    source: Option<&Source>,
    categories: &Categories,
) -> Result<Option<Arc<crate::text::Detector>>> {
    let Some(d) = source else {
        return Ok(None);
    };
    let custom = crate::text::parse_detectors(&d.text, &d.name, |c| categories.get(c).is_some())?;
    if custom.is_empty() {
        Ok(None)
    } else {
        Ok(Some(Arc::new(crate::text::Detector::with_custom(&custom)?)))
    }
}
