//! The FHIR rules (`policies/fhir/rules.toml`): which category each element is, by path,
//! by data type and by extension URL, checked against the element table at load.

use std::collections::HashMap;

use serde::Deserialize;

use super::schema::{Element, schema};
use crate::error::{Error, Location, Result};

/// What the walk does with an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Class {
    /// Structure shown as is.
    Keep,
    /// Always removed.
    Drop,
    /// A reference (or a resource's own id): its id follows the referenced resource's id
    /// category.
    Reference,
    /// An identifier: its value's category comes from its type or system.
    Identifier,
    /// A contact point: its value's category comes from its system.
    Contact,
    /// A PHI category of the pack.
    Category(String),
    /// An object no rule names (a backbone element such as `BundleEntry`): no category of
    /// its own, each of its elements classified by itself.
    Open,
}

impl Class {
    fn parse(v: &str) -> Class {
        match v {
            "keep" => Class::Keep,
            "drop" => Class::Drop,
            "reference" => Class::Reference,
            "identifier" => Class::Identifier,
            "contact" => Class::Contact,
            c => Class::Category(c.to_owned()),
        }
    }
}

/// What happens to an element no rule classifies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Unclassified {
    /// Redacted and counted as unknown (deny by default).
    #[default]
    Redact,
    /// Shown as is (a pack that lists what it treats, as other anonymizers' configurations
    /// do, rather than what it shows).
    Keep,
}

/// What happens to a value its treatment cannot treat (a number's buckets on a name).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Untreatable {
    /// The value is redacted (fails closed).
    #[default]
    Redact,
    /// The resource fails with a located error (withheld or stopping the run, as the caller
    /// chose).
    Error,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    unclassified: Unclassified,
    #[serde(default)]
    untreatable: Untreatable,
    #[serde(default)]
    types: HashMap<String, String>,
    #[serde(default)]
    elements: HashMap<String, String>,
    #[serde(default)]
    extensions: HashMap<String, String>,
}

/// The rules, checked.
#[derive(Debug)]
pub(crate) struct Rules {
    types: HashMap<String, Class>,
    /// Owner -> element -> class (looked up per element walked, without building a key).
    elements: HashMap<String, HashMap<String, Class>>,
    /// Resource type -> element path below it (`name.period.start`) -> class: rules for
    /// one place in one resource type, before any rule by owner or type.
    paths: HashMap<String, HashMap<String, Class>>,
    pub(crate) extensions: HashMap<String, Class>,
    /// The class of an extension no URL rule names (`"*"` in `[extensions]`).
    pub(crate) other_extensions: Option<Class>,
    pub(crate) unclassified: Unclassified,
    pub(crate) untreatable: Untreatable,
}

/// The line of `source` that holds `key` first, for errors.
fn line_of(source: &str, key: &str) -> u64 {
    source
        .lines()
        .position(|l| l.contains(key))
        .map_or(0, |i| i as u64 + 1)
}

impl Rules {
    /// Parses and checks rules: every `Owner.element` must be an element of the FHIR R4
    /// table, every type a type of it, and every category one of `categories`.
    ///
    /// # Errors
    /// [`Error::Catalog`] naming the line of the first bad key or value.
    pub(crate) fn parse(
        text: &str,
        source: &str,
        categories: &dyn Fn(&str) -> bool,
    ) -> Result<Rules> {
        let file: RulesFile = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map_or(0, |s| text[..s.start.min(text.len())].lines().count());
            Error::catalog(Location::at(source, line as u64, 0), e.message().to_owned())
        })?;
        let s = schema();
        let err = |key: &str, msg: String| {
            Error::catalog(Location::at(source, line_of(text, key), 0), msg)
        };
        let check_value = |key: &str, v: &str| -> Result<Class> {
            let class = Class::parse(v);
            if let Class::Category(c) = &class
                && !categories(c)
            {
                return Err(err(
                    key,
                    format!("`{key}`: `{c}` is not a category of the pack"),
                ));
            }
            Ok(class)
        };
        let mut types = HashMap::new();
        for (ty, v) in &file.types {
            if !(super::schema::is_primitive(ty) || s.knows_type(ty)) {
                return Err(err(ty, format!("`{ty}` is not a FHIR R4 data type")));
            }
            types.insert(ty.clone(), check_value(ty, v)?);
        }
        let mut elements: HashMap<String, HashMap<String, Class>> = HashMap::new();
        let mut paths: HashMap<String, HashMap<String, Class>> = HashMap::new();
        for (path, v) in &file.elements {
            let Some((owner, name)) = path.split_once('.') else {
                return Err(err(path, format!("`{path}`: write Owner.element")));
            };
            if name.contains('.') {
                // `Resource.a.b.c`: a path below a resource type, followed through the
                // element table.
                if !s.is_resource(owner) {
                    return Err(err(
                        path,
                        format!("`{path}`: a longer path must start at a resource type"),
                    ));
                }
                let mut ty = owner.to_owned();
                for step in name.split('.') {
                    match s.element(&ty, step) {
                        Some(el) => ty = el.ty.to_owned(),
                        None => {
                            return Err(err(
                                path,
                                format!(
                                    "`{path}` is not an element path of FHIR R4 (no `{step}` in `{ty}`)"
                                ),
                            ));
                        }
                    }
                }
                paths
                    .entry(owner.to_owned())
                    .or_default()
                    .insert(name.to_owned(), check_value(path, v)?);
                continue;
            }
            if s.element(owner, name).is_none() {
                return Err(err(
                    path,
                    format!("`{path}` is not an element of FHIR R4 (owner `{owner}`)"),
                ));
            }
            elements
                .entry(owner.to_owned())
                .or_default()
                .insert(name.to_owned(), check_value(path, v)?);
        }
        let mut extensions = HashMap::new();
        let mut other_extensions = None;
        for (url, v) in &file.extensions {
            let class = check_value(url, v)?;
            if url == "*" {
                other_extensions = Some(class);
            } else {
                extensions.insert(url.clone(), class);
            }
        }
        Ok(Rules {
            types,
            elements,
            paths,
            extensions,
            other_extensions,
            unclassified: file.unclassified,
            untreatable: file.untreatable,
        })
    }

    /// The class a path rule gives element `path` (`name.period`) of resource type `rtype`.
    pub(crate) fn path_rule(&self, rtype: &str, path: &str) -> Option<&Class> {
        self.paths.get(rtype)?.get(path)
    }

    /// Whether a rule names something below `path` of `rtype` (a path rule under it) or
    /// inside data type `ty` (an element rule of that type): such an element keeps its own
    /// treatment inside a data type that is substituted whole.
    pub(crate) fn rules_below(&self, rtype: &str, path: &str, ty: &str) -> bool {
        self.elements.contains_key(ty)
            || self.paths.get(rtype).is_some_and(|m| {
                m.keys().any(|k| {
                    k.len() > path.len()
                        && k.starts_with(path)
                        && k.as_bytes().get(path.len()) == Some(&b'.')
                })
            })
    }

    /// The class of element `name` of `owner`, whose type and cardinality are `el`, inside a
    /// value of class `inherited` (the category of the data type around it), if any.
    pub(crate) fn classify(
        &self,
        owner: &str,
        name: &str,
        el: Element,
        inherited: Option<&Class>,
    ) -> Option<Class> {
        self.element_rule(owner, name)
            .or_else(|| self.types.get(el.ty))
            .or(inherited)
            .cloned()
    }

    /// The class an `[elements]` rule gives `owner.name`, if one does.
    pub(crate) fn element_rule(&self, owner: &str, name: &str) -> Option<&Class> {
        self.elements.get(owner)?.get(name)
    }

    /// The class the rules give data type `ty` itself.
    pub(crate) fn of_type(&self, ty: &str) -> Option<&Class> {
        self.types.get(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any(_: &str) -> bool {
        true
    }

    #[test]
    fn the_default_rules_load() {
        let r = Rules::parse(
            include_str!("../../../policies/fhir/rules.toml"),
            "rules.toml",
            &any,
        )
        .unwrap();
        let s = schema();
        let birth = s.element("Patient", "birthDate").unwrap();
        assert_eq!(
            r.classify("Patient", "birthDate", birth, None),
            Some(Class::Category("birth_date".into()))
        );
        let given = s.element("HumanName", "given").unwrap();
        let name = Class::Category("name".into());
        assert_eq!(
            r.classify("HumanName", "given", given, Some(&name)),
            Some(name)
        );
    }

    #[test]
    fn unknown_elements_types_and_categories_are_located() {
        let e = Rules::parse(
            "[elements]\n\"Patient.nickname\" = \"name\"\n",
            "r.toml",
            &any,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("r.toml:2") && e.contains("Patient.nickname"),
            "{e}"
        );
        let e = Rules::parse("[types]\nHumanNam = \"name\"\n", "r.toml", &any)
            .unwrap_err()
            .to_string();
        assert!(e.contains("HumanNam"), "{e}");
        let e = Rules::parse("[types]\nHumanName = \"nom\"\n", "r.toml", &|c| c == "name")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`nom` is not a category"), "{e}");
    }
}
