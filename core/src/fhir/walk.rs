//! Walking one resource with the element table: each element classified by the rules and
//! treated as the resource's plan says for its category; ids and references recoded alike;
//! notes scrubbed with the patient's own values; what was done labelled in `meta.security`.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::ids::{IdOutcome, Ref, id_category, parse_ref};
use super::rules::{Class, Unclassified, Untreatable};
use super::schema::{Element, is_primitive, schema};
use super::{Fhir, notes};
use crate::error::{Error, Location, Result};
use crate::plan::{Applied, Plan, RowCtx, Treatment};
use crate::treat::TreatmentKind;

/// The v3 ObservationValue code system of the security labels that say what was done.
pub(crate) const OBSERVATION_VALUE: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

/// One resource being treated.
pub(crate) struct Walk<'a, 'v> {
    pub(crate) run: &'a mut Fhir<'v>,
    pub(crate) plan: &'a Plan,
    pub(crate) ctx: &'a RowCtx<'a>,
    /// Security label codes for what was done.
    pub(crate) labels: BTreeSet<&'static str>,
    /// Elements no rule classifies (redacted), by `Owner.element`.
    pub(crate) unknown: std::collections::BTreeMap<String, u64>,
    /// Leaves treated.
    pub(crate) treated: u64,
    buf: String,
    /// The element path, for errors (no values ever).
    path: String,
    /// A contained resource: its id is local and kept.
    pub(crate) contained: bool,
    /// The resource type walked (path rules are below it).
    rtype: String,
    /// The index of the Bundle entry being walked, for errors.
    entry: Option<usize>,
}

impl<'a, 'v> Walk<'a, 'v> {
    pub(crate) fn new(run: &'a mut Fhir<'v>, plan: &'a Plan, ctx: &'a RowCtx<'a>) -> Self {
        Walk {
            run,
            plan,
            ctx,
            labels: BTreeSet::new(),
            unknown: std::collections::BTreeMap::new(),
            treated: 0,
            buf: String::new(),
            path: String::new(),
            contained: false,
            rtype: String::new(),
            entry: None,
        }
    }

    /// Treats resource `res` of type `rtype` in place.
    pub(crate) fn resource(&mut self, res: &mut Map<String, Value>, rtype: &str) -> Result<()> {
        let present = present_required(res, rtype);
        rtype.clone_into(&mut self.rtype);
        let keys: Vec<String> = res.keys().cloned().collect();
        for key in keys {
            let Some(v) = res.get_mut(&key) else { continue };
            let len = self.path.len();
            if !self.path.is_empty() {
                self.path.push('.');
            }
            self.path.push_str(&key);
            match key.as_str() {
                "resourceType" => {}
                "id" if self.contained => {}
                "id" => {
                    let cat = id_category(rtype);
                    self.id(v, cat)?;
                }
                _ => self.child(v, rtype, &key, None)?,
            }
            self.path.truncate(len);
        }
        mark_absent(res, rtype, &present);
        Ok(())
    }

    /// Element `key` of an object of type `owner`, inside a value of class `inherited`.
    fn child(
        &mut self,
        v: &mut Value,
        owner: &str,
        key: &str,
        inherited: Option<&Class>,
    ) -> Result<()> {
        if key == "extension" || key == "modifierExtension" {
            return self.extensions(v);
        }
        if key.starts_with('_') {
            // A primitive's own extensions and id: kept only with data-absent-reason.
            return self.primitive_extension(v);
        }
        if key == "id" {
            // An element's local id: structure.
            return Ok(());
        }
        let Some(el) = schema().element(owner, key) else {
            self.note_unknown(owner, key);
            *v = Value::Null;
            return Ok(());
        };
        match (owner, key) {
            ("BundleEntry", "fullUrl")
            | ("BundleEntryRequest", "url")
            | ("BundleEntryResponse", "location") => {
                return self.reference_string(v);
            }
            ("BundleEntryRequest", "ifNoneExist") => return self.query(v),
            ("BundleEntry", "resource") => {
                return self.inner_resource(v, false);
            }
            (_, "contained") => {
                return self.each(v, |w, item| w.inner_resource(item, true));
            }
            _ => {}
        }
        let rules = &self.run.rules;
        let class = match rules
            .path_rule(&self.rtype, &self.path)
            .cloned()
            .or_else(|| rules.classify(owner, key, el, inherited))
        {
            Some(c) => c,
            None if !is_primitive(el.ty) => Class::Open,
            None if rules.unclassified == Unclassified::Keep => Class::Keep,
            None => {
                self.note_unknown(owner, key);
                *v = Value::Null;
                return Ok(());
            }
        };
        self.value(v, el, &class, key)
    }

    /// A resource inside another (a Bundle entry, a contained resource): its own plan,
    /// patient and labels (see [`Fhir::apply_resource`]).
    /// A contained resource's id is local to its container (`#coverage`) and stays.
    fn inner_resource(&mut self, v: &mut Value, contained: bool) -> Result<()> {
        let path = match self.entry {
            Some(i) if !contained => format!("entry[{i}].resource"),
            _ => self.path.clone(),
        };
        let labels = self.run.apply_resource_inner(v, &path, contained)?;
        if contained {
            // What was done inside a contained resource was done to its container.
            self.labels.extend(labels);
        }
        Ok(())
    }

    fn each(
        &mut self,
        v: &mut Value,
        mut f: impl FnMut(&mut Self, &mut Value) -> Result<()>,
    ) -> Result<()> {
        match v {
            Value::Array(items) => {
                for item in items {
                    f(self, item)?;
                }
                Ok(())
            }
            other => f(self, other),
        }
    }

    /// A value of element type `el` and class `class` (each item of an array).
    fn value(&mut self, v: &mut Value, el: Element, class: &Class, key: &str) -> Result<()> {
        let ty = el.ty;
        if ty == "BundleEntry"
            && let Value::Array(items) = v
        {
            for (i, item) in items.iter_mut().enumerate() {
                self.entry = Some(i);
                let had = item.get("resource").is_some_and(|r| !r.is_null());
                self.composite(item, ty, class, key)?;
                if had && item.get("resource").is_none_or(Value::is_null) {
                    // A withheld resource takes its entry with it (its fullUrl, request).
                    *item = Value::Null;
                }
            }
            self.entry = None;
            return Ok(());
        }
        self.each(v, |w, item| {
            if is_primitive(ty) {
                w.leaf(item, class, ty)
            } else {
                w.composite(item, ty, class, key)
            }
        })
    }

    /// An object of data type (or backbone element) `ty`.
    fn composite(&mut self, v: &mut Value, ty: &str, class: &Class, key: &str) -> Result<()> {
        let Value::Object(obj) = v else {
            // A primitive where FHIR wants an object: not valid FHIR, nothing to keep.
            self.note_unknown(ty, key);
            *v = Value::Null;
            return Ok(());
        };
        if *class == Class::Drop {
            self.labels.insert("REDACTED");
            *v = Value::Null;
            return Ok(());
        }
        if let Class::Category(c) = class
            && let Some(sub) = self.substitute(c)
        {
            return self.substitute_composite(obj, ty, sub);
        }
        // The category the data type's own values take: an identifier's by its type or
        // system, a contact point's by its system.
        let own = match class {
            Class::Identifier => Some(Class::Category(identifier_category(obj).to_owned())),
            Class::Contact => Some(Class::Category(contact_category(obj).to_owned())),
            _ => None,
        };
        // Free text is scrubbed unless a rule keeps it (or the pack keeps what it does not
        // name).
        let note = match class {
            Class::Keep => false,
            Class::Open => self.run.rules.unclassified == Unclassified::Redact,
            _ => true,
        };
        if ty == "Attachment" && note {
            return notes::attachment(self, obj);
        }
        if ty == "Narrative" && note {
            return notes::narrative(self, obj);
        }
        let present = present_required(obj, ty);
        let keys: Vec<String> = obj.keys().cloned().collect();
        for k in keys {
            let Some(child) = obj.get_mut(&k) else {
                continue;
            };
            let len = self.path.len();
            self.path.push('.');
            self.path.push_str(&k);
            let inherited = match (&own, k.as_str()) {
                (Some(c), "value") => Some(c.clone()),
                _ if *class == Class::Open => None,
                _ => Some(class.clone()),
            };
            if ty == "Reference" && k == "reference" {
                self.reference_string(child)?;
            } else {
                self.child(child, ty, &k, inherited.as_ref())?;
            }
            self.path.truncate(len);
        }
        mark_absent(obj, ty, &present);
        Ok(())
    }

    /// The fixed value category `cat` is replaced with, if its plan redacts it so.
    fn substitute(&self, cat: &str) -> Option<&'a Value> {
        let plan = self.plan;
        match self
            .field(cat)
            .and_then(|i| plan.fields.get(i))
            .map(|f| &f.treatment)
        {
            Some(Treatment::Redact(r)) if !r.drop => r.substitute.as_ref(),
            _ => None,
        }
    }

    /// A data type substituted whole: its elements become the substitute's, except those
    /// that a more specific rule names (an element rule of the type, a path rule below this
    /// one), which keep their own treatment. A substitute that is not an object replaces
    /// nothing of a data type: the value is redacted.
    fn substitute_composite(
        &mut self,
        obj: &mut Map<String, Value>,
        ty: &str,
        sub: &Value,
    ) -> Result<()> {
        self.treated += 1;
        let Value::Object(with) = sub else {
            self.labels.insert("REDACTED");
            obj.clear();
            return Ok(());
        };
        self.labels.insert("MASKED");
        let keys: Vec<String> = obj.keys().cloned().collect();
        for k in keys {
            let len = self.path.len();
            self.path.push('.');
            self.path.push_str(&k);
            let own = schema().element(ty, &k).is_some_and(|el| {
                let rules = &self.run.rules;
                rules.element_rule(ty, &k).is_some()
                    || rules.path_rule(&self.rtype, &self.path).is_some()
                    || rules.rules_below(&self.rtype, &self.path, el.ty)
            });
            if own {
                if let Some(child) = obj.get_mut(&k) {
                    self.child(child, ty, &k, None)?;
                }
            } else {
                obj.remove(&k);
            }
            self.path.truncate(len);
        }
        for (k, v) in with {
            obj.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Ok(())
    }

    /// A primitive value of type `ty` and class `class`.
    fn leaf(&mut self, v: &mut Value, class: &Class, ty: &str) -> Result<()> {
        match class {
            Class::Keep => Ok(()),
            Class::Drop => {
                self.labels.insert("REDACTED");
                *v = Value::Null;
                Ok(())
            }
            Class::Reference => self.reference_string(v),
            Class::Identifier => self.category_leaf(v, "mrn", ty),
            Class::Contact => self.category_leaf(v, "phone", ty),
            Class::Category(c) => {
                let c = c.clone();
                self.category_leaf(v, &c, ty)
            }
            Class::Open => {
                self.note_unknown(ty, "value");
                *v = Value::Null;
                Ok(())
            }
        }
    }

    /// Counts an element no rule classifies (its path in the table, never a value).
    fn note_unknown(&mut self, owner: &str, key: &str) {
        self.labels.insert("REDACTED");
        *self.unknown.entry(format!("{owner}.{key}")).or_default() += 1;
    }

    /// Whether the plan shows category `cat` in clear.
    pub(crate) fn shows_clear(&self, cat: &str) -> bool {
        self.field(cat)
            .and_then(|i| self.plan.fields.get(i))
            .is_some_and(|f| is_clear(&f.treatment))
    }

    /// The plan's field for category `cat` (the `fhir` catalog names its fields by
    /// category).
    fn field(&self, cat: &str) -> Option<usize> {
        self.run.field_index(cat)
    }

    /// A primitive of PHI category `cat`, treated as the plan says.
    pub(crate) fn category_leaf(&mut self, v: &mut Value, cat: &str, ty: &str) -> Result<()> {
        self.treated += 1;
        let Some(i) = self.field(cat) else {
            self.labels.insert("REDACTED");
            *v = Value::Null;
            return Ok(());
        };
        if let Some(sub) = self.substitute(cat) {
            // A fixed value: written as given when it is a primitive; an object or array
            // cannot stand for a primitive.
            if sub.is_object() || sub.is_array() {
                self.labels.insert("REDACTED");
                *v = Value::Null;
            } else {
                self.labels.insert("MASKED");
                *v = sub.clone();
            }
            return Ok(());
        }
        let kind = self
            .plan
            .fields
            .get(i)
            .map_or(TreatmentKind::Redact, |f| f.treatment.kind());
        let Value::String(s) = v else {
            // Numbers and booleans: shown only in clear.
            if kind != TreatmentKind::Clear {
                self.labels.insert("REDACTED");
                *v = Value::Null;
            }
            return Ok(());
        };
        self.buf.clear();
        let res = self.plan.apply_value(i, s, self.ctx, &mut self.buf)?;
        match res {
            Applied::Clear => {}
            Applied::Written => {
                if is_date_type(ty) && !valid_date(&self.buf, ty) {
                    // `90+` or a year where an instant must be whole: not a valid value of
                    // the type, so the element goes.
                    self.labels.insert("REDACTED");
                    *v = Value::Null;
                    return Ok(());
                }
                if *s != self.buf {
                    self.labels.insert(label(kind));
                }
                *s = self.buf.clone();
            }
            Applied::Untreatable if self.run.rules.untreatable == Untreatable::Error => {
                let t = self
                    .plan
                    .fields
                    .get(i)
                    .map_or("redact", |f| f.treatment.name());
                return Err(Error::input(
                    Location::at("", 0, 0).with_field(self.path.as_str()),
                    format!("the value cannot be treated by `{t}` (category `{cat}`)"),
                ));
            }
            Applied::Null | Applied::Drop | Applied::Untreatable => {
                self.labels.insert("REDACTED");
                *v = Value::Null;
            }
        }
        Ok(())
    }

    /// A resource's own id.
    fn id(&mut self, v: &mut Value, cat: &'static str) -> Result<()> {
        let Value::String(s) = v else {
            *v = Value::Null;
            return Ok(());
        };
        match self.recode(cat, s)? {
            Some(new) => *s = new,
            None => *v = Value::Null,
        }
        Ok(())
    }

    /// The new id of `id` in category `cat`, `None` when it cannot be shown.
    fn recode(&mut self, cat: &'static str, id: &str) -> Result<Option<String>> {
        // The plan is borrowed apart from the run, so the treatment needs no copy.
        let plan = self.plan;
        let Some(t) = self
            .field(cat)
            .and_then(|i| plan.fields.get(i))
            .map(|f| &f.treatment)
        else {
            return Ok(None);
        };
        if matches!(t, Treatment::Redact(r) if r.drop) {
            // Ids dropped: the id goes, and every reference to it.
            return Ok(None);
        }
        let key = self.run.view.key();
        let Some((new, outcome)) = self.run.ids.rewrite(cat, id, t, key) else {
            return Err(Error::key(format!(
                "pseudonymizing `{cat}` ids needs a key (pass a key file)"
            )));
        };
        if outcome == IdOutcome::Recoded {
            self.labels.insert("PSEUDED");
        }
        Ok(Some(new))
    }

    /// A reference string (`Reference.reference`, `fullUrl`, `request.url`): its id
    /// recoded as the referenced resource's id is.
    fn reference_string(&mut self, v: &mut Value) -> Result<()> {
        let Value::String(s) = v else {
            *v = Value::Null;
            return Ok(());
        };
        let new = match parse_ref(s) {
            Some(Ref::Contained) => return Ok(()),
            Some(Ref::Uuid(u)) if self.run.hidden.contains(u) => None,
            Some(Ref::Literal(_, ty, id, _))
                if !self.run.hidden.is_empty()
                    && self.run.hidden.contains(&format!("{ty}/{id}")) =>
            {
                None
            }
            Some(Ref::Uuid(u)) => {
                let cat = self.run.uuid_category(u);
                self.recode(cat, u)?.map(|n| format!("urn:uuid:{n}"))
            }
            Some(Ref::Literal(_, ty, id, rest)) => {
                // A server base URL can name the organisation: only the relative part stays
                // of a recoded id; an id shown in clear leaves the reference as it is.
                let recoded = self.recode(id_category(ty), id)?;
                if recoded.as_deref() == Some(id) {
                    return Ok(());
                }
                recoded.map(|n| {
                    let rest = rest.split("/_history/").next().unwrap_or("");
                    format!("{ty}/{n}{rest}")
                })
            }
            Some(Ref::Conditional(ty, q)) => {
                let ty = ty.to_owned();
                let q = q.to_owned();
                self.conditional(&q).map(|q| format!("{ty}?{q}"))
            }
            None if s.is_empty() => None,
            None => {
                // A type-less relative url (`request.url` = `Patient` for a create) names no one.
                if schema().is_resource(s) {
                    return Ok(());
                }
                None
            }
        };
        match new {
            Some(n) => *s = n,
            None => {
                self.labels.insert("REDACTED");
                *v = Value::Null;
            }
        }
        Ok(())
    }

    /// `ifNoneExist`: a search query.
    fn query(&mut self, v: &mut Value) -> Result<()> {
        let Value::String(s) = v else {
            *v = Value::Null;
            return Ok(());
        };
        let q = s.clone();
        match self.conditional(&q) {
            Some(n) => *s = n,
            None => *v = Value::Null,
        }
        Ok(())
    }

    /// A conditional reference's query: `identifier=system|value` keeps its system and
    /// treats its value as an MRN; any other parameter may carry PHI and removes the whole
    /// query (`None`).
    fn conditional(&mut self, q: &str) -> Option<String> {
        let mut out = Vec::new();
        for part in q.split('&') {
            let (name, value) = part.split_once('=')?;
            if name != "identifier" {
                return None;
            }
            let (system, id) = value.rsplit_once('|').unwrap_or(("", value));
            let mut v = Value::String(id.to_owned());
            self.category_leaf(&mut v, "mrn", "string").ok()?;
            let id = v.as_str()?;
            out.push(if system.is_empty() {
                format!("identifier={id}")
            } else {
                format!("identifier={system}|{id}")
            });
        }
        Some(out.join("&"))
    }

    /// Extensions: a known URL's value takes its category; an unknown extension goes.
    fn extensions(&mut self, v: &mut Value) -> Result<()> {
        let Value::Array(items) = v else {
            *v = Value::Null;
            return Ok(());
        };
        for item in items.iter_mut() {
            let url = item.get("url").and_then(Value::as_str);
            if url == Some(DATA_ABSENT) {
                continue;
            }
            let rules = &self.run.rules;
            let class = url
                .and_then(|u| rules.extensions.get(u))
                .or(rules.other_extensions.as_ref())
                .cloned()
                .or_else(|| (rules.unclassified == Unclassified::Keep).then_some(Class::Keep));
            match class {
                None => {
                    self.labels.insert("REDACTED");
                    *item = Value::Null;
                }
                Some(class) => self.extension(item, &class)?,
            }
        }
        Ok(())
    }

    /// One known extension: every value in it (nested extensions included) is of `class`.
    /// An extension left with neither a value nor extensions goes too (FHIR wants one).
    fn extension(&mut self, v: &mut Value, class: &Class) -> Result<()> {
        self.extension_values(v, class)?;
        let holds = v.as_object().is_some_and(|o| {
            o.iter()
                .any(|(k, x)| k != "url" && k != "id" && prune(&mut x.clone()))
        });
        if !holds {
            *v = Value::Null;
        }
        Ok(())
    }

    fn extension_values(&mut self, v: &mut Value, class: &Class) -> Result<()> {
        let Value::Object(obj) = v else {
            *v = Value::Null;
            return Ok(());
        };
        let keys: Vec<String> = obj.keys().cloned().collect();
        for k in keys {
            let Some(child) = obj.get_mut(&k) else {
                continue;
            };
            match k.as_str() {
                "url" | "id" => {}
                "extension" => {
                    if let Value::Array(items) = child {
                        for item in items {
                            self.extension(item, class)?;
                        }
                    }
                }
                _ => match schema().element("Extension", &k) {
                    Some(el) => {
                        let class = self
                            .run
                            .rules
                            .of_type(el.ty)
                            .filter(|c| **c == Class::Keep && *class == Class::Keep)
                            .cloned()
                            .unwrap_or_else(|| class.clone());
                        self.value(child, el, &class, &k)?;
                    }
                    None => {
                        self.note_unknown("Extension", &k);
                        *child = Value::Null;
                    }
                },
            }
        }
        Ok(())
    }

    /// `_element`: the extensions and id of a primitive, extensions read as any others are
    /// (data-absent-reason always kept).
    fn primitive_extension(&mut self, v: &mut Value) -> Result<()> {
        self.each(v, |w, item| {
            if let Some(exts) = item.get_mut("extension") {
                w.extensions(exts)?;
            }
            if let Value::Object(o) = item {
                o.remove("id");
            }
            Ok(())
        })
    }
}

/// The required elements of `owner` that `obj` holds before it is treated.
fn present_required(obj: &Map<String, Value>, owner: &str) -> Vec<&'static str> {
    schema()
        .required(owner)
        .iter()
        .copied()
        .filter(|k| obj.contains_key(*k))
        .collect()
}

/// A required element the treatment removed says so with the data-absent-reason extension
/// (code `masked`), so the resource stays valid FHIR: on the element itself for a data type,
/// on its `_element` for a primitive.
fn mark_absent(obj: &mut Map<String, Value>, owner: &str, present: &[&'static str]) {
    for &name in present {
        let empty = obj.get(name).is_none_or(|v| !prune(&mut v.clone()));
        if !empty {
            continue;
        }
        let Some(el) = schema().element(owner, name) else {
            continue;
        };
        let dar = serde_json::json!({"extension": [{"url": DATA_ABSENT, "valueCode": "masked"}]});
        obj.remove(name);
        match (is_primitive(el.ty), el.many) {
            (true, false) => {
                obj.insert(format!("_{name}"), dar);
            }
            (true, true) => {}
            (false, many) => {
                obj.insert(
                    name.to_owned(),
                    if many { Value::Array(vec![dar]) } else { dar },
                );
            }
        }
    }
}

/// The data-absent-reason extension, kept wherever it stands.
pub(crate) const DATA_ABSENT: &str = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";

/// The security label code for a treatment that changed a value.
fn label(kind: TreatmentKind) -> &'static str {
    match kind {
        TreatmentKind::Mask => "MASKED",
        // No v3 code says "shifted": a shifted date masks the true one.
        TreatmentKind::Shift => "MASKED",
        TreatmentKind::Pseudonymize => "PSEUDED",
        TreatmentKind::Generalize => "ABSTRED",
        _ => "REDACTED",
    }
}

fn is_date_type(ty: &str) -> bool {
    matches!(ty, "date" | "dateTime" | "instant")
}

/// Whether `s` is a value of FHIR type `ty` (`date`: `YYYY[-MM[-DD]]`; `dateTime` also with
/// a time; `instant` always with a time and zone).
fn valid_date(s: &str, ty: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let date_ok = match b.len() {
        4 => digits(0..4),
        7 => digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7),
        n if n >= 10 => {
            digits(0..4)
                && b.get(4) == Some(&b'-')
                && digits(5..7)
                && b.get(7) == Some(&b'-')
                && digits(8..10)
        }
        _ => false,
    };
    match ty {
        "date" => date_ok && b.len() <= 10,
        "instant" => date_ok && b.len() > 10 && b.get(10) == Some(&b'T'),
        _ => date_ok && (b.len() <= 10 || b.get(10) == Some(&b'T')),
    }
}

/// An identifier's category, by its type code (`SS`, `DL`, `PPN`, `MR`) or its system.
fn identifier_category(obj: &Map<String, Value>) -> &'static str {
    let codes: Vec<&str> = obj
        .get("type")
        .and_then(|t| t.get("coding"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("code").and_then(Value::as_str))
        .collect();
    let system = obj.get("system").and_then(Value::as_str).unwrap_or("");
    if codes.contains(&"SS") || system.ends_with("us-ssn") {
        "ssn"
    } else if codes.contains(&"DL") || system == "urn:oid:2.16.840.1.113883.4.3.25" {
        "license"
    } else if codes.contains(&"PPN") || system.contains("passport") {
        "passport"
    } else if codes.contains(&"MB") || codes.contains(&"SN") {
        "health_plan_id"
    } else if codes.contains(&"NPI") || system == "http://hl7.org/fhir/sid/us-npi" {
        "license"
    } else {
        "mrn"
    }
}

/// A contact point's category, by its system.
fn contact_category(obj: &Map<String, Value>) -> &'static str {
    match obj.get("system").and_then(Value::as_str) {
        Some("email") => "email",
        Some("fax") => "fax",
        Some("url") => "url",
        _ => "phone",
    }
}

/// Removes the nulls the walk left, and the objects and arrays they emptied: FHIR allows no
/// empty object, array or null.
pub(crate) fn prune(v: &mut Value) -> bool {
    match v {
        Value::Null => false,
        Value::Object(o) => {
            o.retain(|_, x| prune(x));
            !o.is_empty()
        }
        Value::Array(a) => {
            a.retain_mut(prune);
            !a.is_empty()
        }
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// Adds `labels` to the resource's `meta.security` (each once).
pub(crate) fn add_labels(res: &mut Map<String, Value>, labels: &BTreeSet<&'static str>) {
    if labels.is_empty() {
        return;
    }
    let meta = res
        .entry("meta")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(meta) = meta else { return };
    let sec = meta
        .entry("security")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(sec) = sec else { return };
    for code in labels {
        let present = sec.iter().any(|c| {
            c.get("system").and_then(Value::as_str) == Some(OBSERVATION_VALUE)
                && c.get("code").and_then(Value::as_str) == Some(code)
        });
        if !present {
            sec.push(serde_json::json!({
                "system": OBSERVATION_VALUE,
                "code": code,
                "display": label_display(code),
            }));
        }
    }
}

/// The display v3 ObservationValue gives a label code.
fn label_display(code: &str) -> &'static str {
    match code {
        "MASKED" => "masked",
        "PSEUDED" => "pseudonymized",
        "ABSTRED" => "abstracted",
        _ => "redacted",
    }
}

/// Whether a treatment shows the value as it is.
pub(crate) fn is_clear(t: &Treatment) -> bool {
    matches!(t, Treatment::Clear)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fhir_dates_by_type() {
        assert!(valid_date("1931", "date") && valid_date("1931-05", "date"));
        assert!(!valid_date("90+", "date") && !valid_date("1931", "instant"));
        assert!(valid_date("2019-02-03T10:00:00Z", "dateTime"));
        assert!(!valid_date("2019-02-03T10:00:00Z", "date"));
        assert!(valid_date("2019-02-03T10:00:00.000-05:00", "instant"));
    }

    #[test]
    fn prune_removes_what_the_walk_emptied() {
        let mut v =
            serde_json::json!({"a": null, "b": [null, {"c": null}], "d": "x", "e": {"f": []}});
        assert!(prune(&mut v));
        assert_eq!(v, serde_json::json!({"d": "x"}));
    }
}
