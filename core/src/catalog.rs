//! PHI categories and dataset catalogs.
//!
//! A *category* (`ssn`, `birth_date`, `zip`, ...) is what Cedar policies reason about: each is
//! a `Phi::Field` entity in one or more `Phi::Group`s, with default treatment parameters. A
//! *catalog* maps one dataset's columns (or JSON paths such as `name[].given[]`) to categories,
//! optionally overriding parameters, and names the columns that carry record attributes
//! (patient id, sensitivity labels, care team, consent). Both are TOML so every semantic error
//! points at a line and column.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Location, Result};
use crate::record::RecordColumns;
use crate::treat::{
    GeneralizeParams, MaskParams, PseudonymParams, RedactParams, ScrubParams, ShiftParams,
};

/// Treatment parameters of a category or a catalog field.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// How `mask` shows the value; without it `mask` does not apply.
    #[serde(default)]
    pub mask: Option<MaskParams>,
    /// How `pseudonymize` writes the value (always applicable).
    #[serde(default)]
    pub pseudonymize: Option<PseudonymParams>,
    /// How `shift` moves dates; without it `shift` does not apply.
    #[serde(default)]
    pub shift: Option<ShiftParams>,
    /// How `generalize` coarsens the value; without it `generalize` does not apply.
    #[serde(default)]
    pub generalize: Option<GeneralizeParams>,
    /// How the value is redacted.
    #[serde(default)]
    pub redact: Option<RedactParams>,
    /// Free text: how `scrub` treats detected spans; without it `scrub` does not apply.
    #[serde(default)]
    pub scrub: Option<ScrubParams>,
}

impl Params {
    fn overlay(&self, over: &Params) -> Params {
        Params {
            mask: over.mask.clone().or_else(|| self.mask.clone()),
            pseudonymize: over
                .pseudonymize
                .clone()
                .or_else(|| self.pseudonymize.clone()),
            shift: over.shift.clone().or_else(|| self.shift.clone()),
            generalize: over.generalize.clone().or_else(|| self.generalize.clone()),
            redact: over.redact.clone().or_else(|| self.redact.clone()),
            scrub: over.scrub.clone().or_else(|| self.scrub.clone()),
        }
    }

    fn check(&self) -> std::result::Result<(), String> {
        if let Some(m) = &self.mask
            && m.mask_char.is_alphanumeric()
        {
            return Err("`mask_char` must not be a letter or digit".into());
        }
        if let Some(p) = &self.pseudonymize
            && !(8..=64).contains(&p.length)
        {
            return Err(format!("pseudonym `length` {} is outside 8..=64", p.length));
        }
        if let Some(s) = &self.shift
            && !(1..=36_500).contains(&s.max_days)
        {
            return Err(format!(
                "shift `max_days` {} is outside 1..=36500",
                s.max_days
            ));
        }
        if let Some(GeneralizeParams::Buckets { edges }) = &self.generalize {
            let ascending = edges.windows(2).all(|w| matches!(w, [a, b] if a < b));
            if edges.is_empty() || !ascending || edges.iter().any(|e| !e.is_finite()) {
                return Err(
                    "bucket `edges` must be finite, non-empty and strictly ascending".into(),
                );
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryFile {
    groups: Vec<String>,
    #[serde(default)]
    description: String,
    // Not `#[serde(flatten)] Params`: flattening loses the spans of nested errors.
    #[serde(default)]
    mask: Option<MaskParams>,
    #[serde(default)]
    pseudonymize: Option<PseudonymParams>,
    #[serde(default)]
    shift: Option<ShiftParams>,
    #[serde(default)]
    generalize: Option<GeneralizeParams>,
    #[serde(default)]
    redact: Option<RedactParams>,
    #[serde(default)]
    scrub: Option<ScrubParams>,
}

/// A PHI category: the unit Cedar decides on.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// Its name, also the `Phi::Field` entity id.
    pub name: String,
    /// The `Phi::Group`s it belongs to.
    pub groups: Vec<String>,
    /// A human description (shown by `explain`).
    pub description: String,
    /// Default treatment parameters.
    pub params: Params,
}

/// Every category of a policy pack, by name.
#[derive(Debug, Clone, Default)]
pub struct Categories {
    by_name: BTreeMap<String, Category>,
}

fn toml_error(
    source: &str,
    text: &str,
    e: &toml::de::Error,
    make: fn(Location, String) -> Error,
) -> Error {
    let offset = e.span().map_or(0, |s| s.start);
    let message = e.message().trim_end_matches('\n').to_owned();
    make(Location::from_offset(source, text, offset), message)
}

impl Categories {
    /// Parses a categories file (`policies/categories.toml`).
    ///
    /// # Errors
    /// [`Error::Catalog`] with line and column for malformed TOML, unknown keys or bad
    /// parameters.
    pub fn parse(text: &str, source: &str) -> Result<Self> {
        let raw: BTreeMap<String, Spanned<CategoryFile>> =
            toml::from_str(text).map_err(|e| toml_error(source, text, &e, Error::catalog))?;
        let mut by_name = BTreeMap::new();
        for (name, spanned) in raw {
            let loc = Location::from_offset(source, text, spanned.span().start);
            let file = spanned.into_inner();
            let params = Params {
                mask: file.mask,
                pseudonymize: file.pseudonymize,
                shift: file.shift,
                generalize: file.generalize,
                redact: file.redact,
                scrub: file.scrub,
            };
            if !valid_ident(&name) {
                return Err(Error::catalog(
                    loc,
                    format!("category name `{name}` must be [a-z0-9_]+"),
                ));
            }
            params
                .check()
                .map_err(|m| Error::catalog(loc.clone(), format!("category `{name}`: {m}")))?;
            if file.groups.is_empty() {
                return Err(Error::catalog(
                    loc,
                    format!("category `{name}` needs at least one group"),
                ));
            }
            by_name.insert(
                name.clone(),
                Category {
                    name,
                    groups: file.groups,
                    description: file.description,
                    params,
                },
            );
        }
        Ok(Categories { by_name })
    }

    /// The category named `name`.
    pub fn get(&self, name: &str) -> Option<&Category> {
        self.by_name.get(name)
    }

    /// All categories, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Category> {
        self.by_name.values()
    }

    /// Every group any category belongs to.
    pub fn groups(&self) -> BTreeSet<&str> {
        self.by_name
            .values()
            .flat_map(|c| c.groups.iter().map(String::as_str))
            .collect()
    }
}

fn valid_ident(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    record: RecordColumns,
    fields: BTreeMap<String, Spanned<FieldFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldFile {
    category: Spanned<String>,
    #[serde(default)]
    mask: Option<MaskParams>,
    #[serde(default)]
    pseudonymize: Option<PseudonymParams>,
    #[serde(default)]
    shift: Option<ShiftParams>,
    #[serde(default)]
    generalize: Option<GeneralizeParams>,
    #[serde(default)]
    redact: Option<RedactParams>,
    #[serde(default)]
    scrub: Option<ScrubParams>,
}

/// One catalog field: a column name or JSON path, its category and resolved parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    /// Column name (CSV) or JSON path (`name[].given[]`).
    pub name: String,
    /// Category name.
    pub category: String,
    /// Category defaults overlaid with the field's own parameters.
    pub params: Params,
}

/// A dataset catalog: which column is which PHI category.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Catalog name (`synthea-patients`).
    pub name: String,
    /// Human description.
    pub description: String,
    /// Record attribute columns.
    pub record: RecordColumns,
    /// Fields in file order of their names (sorted).
    pub fields: Vec<FieldSpec>,
}

impl Catalog {
    /// Parses a catalog and resolves it against `categories`.
    ///
    /// # Errors
    /// [`Error::Catalog`] with line and column for malformed TOML, an unknown category, bad
    /// parameters, or record columns that are not fields of the catalog.
    ///
    /// # Examples
    /// ```
    /// use phiguard::catalog::{Catalog, Categories};
    /// let cats = Categories::parse("[ssn]\ngroups = [\"direct_identifier\"]\n", "cats.toml").unwrap();
    /// let err = Catalog::parse("name = \"x\"\n[fields]\nssn = { category = \"snn\" }\n", "x.toml", &cats)
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "x.toml:3:20: catalog error: unknown category `snn`");
    /// ```
    pub fn parse(text: &str, source: &str, categories: &Categories) -> Result<Self> {
        let raw: CatalogFile =
            toml::from_str(text).map_err(|e| toml_error(source, text, &e, Error::catalog))?;
        let mut fields = Vec::with_capacity(raw.fields.len());
        for (name, spanned) in raw.fields {
            let loc = Location::from_offset(source, text, spanned.span().start).with_field(&name);
            let f = spanned.into_inner();
            let cat_loc = Location::from_offset(source, text, f.category.span().start);
            let category = f.category.into_inner();
            let Some(cat) = categories.get(&category) else {
                return Err(Error::catalog(
                    cat_loc,
                    format!("unknown category `{category}`"),
                ));
            };
            let own = Params {
                mask: f.mask,
                pseudonymize: f.pseudonymize,
                shift: f.shift,
                generalize: f.generalize,
                redact: f.redact,
                scrub: f.scrub,
            };
            let params = cat.params.overlay(&own);
            params.check().map_err(|m| Error::catalog(loc.clone(), m))?;
            if name.is_empty() {
                return Err(Error::catalog(loc, "empty field name"));
            }
            fields.push(FieldSpec {
                name,
                category,
                params,
            });
        }
        let cat = Catalog {
            name: raw.name,
            description: raw.description,
            record: raw.record,
            fields,
        };
        for col in [
            &cat.record.id,
            &cat.record.patient,
            &cat.record.labels,
            &cat.record.confidentiality,
            &cat.record.care_team,
            &cat.record.consent,
        ]
        .into_iter()
        .flatten()
        {
            if cat.field(col).is_none() {
                let offset = text.find(&format!("\"{col}\"")).unwrap_or(0);
                return Err(Error::catalog(
                    Location::from_offset(source, text, offset),
                    format!("record column `{col}` is not a field of the catalog"),
                ));
            }
        }
        Ok(cat)
    }

    /// The field spec for a column name or path.
    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// How many of `columns` this catalog names (used to pick a catalog for an input header).
    pub fn matches(&self, columns: &[&str]) -> usize {
        columns.iter().filter(|c| self.field(c).is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATS: &str = r#"
[ssn]
groups = ["direct_identifier"]
mask = { keep_last = 4 }

[zip]
groups = ["quasi_identifier"]
generalize = { kind = "zip3" }
"#;

    #[test]
    fn field_params_overlay_category_defaults() {
        let cats = Categories::parse(CATS, "c.toml").unwrap();
        let cat = Catalog::parse(
            "name = \"t\"\n[fields]\nssn = { category = \"ssn\", mask = { keep_last = 2 } }\npostal = { category = \"zip\" }\n",
            "t.toml",
            &cats,
        )
        .unwrap();
        assert_eq!(
            cat.field("ssn")
                .unwrap()
                .params
                .mask
                .as_ref()
                .unwrap()
                .keep_last,
            2
        );
        assert_eq!(
            cat.field("postal").unwrap().params.generalize,
            Some(GeneralizeParams::Zip3 {
                census: crate::treat::ZipCensus::Y2020
            })
        );
        assert_eq!(cat.matches(&["ssn", "other"]), 1);
    }

    #[test]
    fn bad_parameters_are_located() {
        let err = Categories::parse(
            "[x]\ngroups = [\"g\"]\nmask = { keep_lats = 4 }\n",
            "c.toml",
        )
        .unwrap_err();
        assert_eq!(err.code(), "catalog");
        assert!(err.to_string().starts_with("c.toml:3:"), "{err}");
        let err = Categories::parse(
            "[b]\ngroups = [\"g\"]\ngeneralize = { kind = \"buckets\", edges = [5.0, 1.0] }\n",
            "c.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("ascending"), "{err}");
    }

    #[test]
    fn record_columns_must_be_fields() {
        let cats = Categories::parse(CATS, "c.toml").unwrap();
        let err = Catalog::parse(
            "name = \"t\"\n[record]\npatient = \"pid\"\n[fields]\nssn = { category = \"ssn\" }\n",
            "t.toml",
            &cats,
        )
        .unwrap_err();
        assert!(err.to_string().contains("t.toml:3:"), "{err}");
    }
}
