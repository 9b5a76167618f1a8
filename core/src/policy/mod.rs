//! Loading and validating a policy pack, and asking Cedar.
//!
//! A pack is a Cedar schema, Cedar policy files, an entities file (roles and the HL7
//! purpose-of-use hierarchy), a categories file and dataset catalogs. Everything is validated
//! at load: Cedar's strict validator checks every policy against the schema, and each error
//! carries the file, line and column it came from.
//!
//! Disclosure levels are Cedar actions (`clear`, `mask`, `shift`, `pseudonymize`,
//! `generalize`, `scrub`, all in the group `disclose`); categories are `Phi::Field` entities in
//! `Phi::Group`s. A [`Decider`] holds, for one principal, the policies that can possibly
//! apply to it — sliced by action and principal scope at creation — so a decision costs only
//! the handful of policies that concern that principal and level.

mod decider;
mod pack;

pub(crate) use decider::{Decider, LevelDecision};
pub use pack::Pack;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use cedar_policy::{EntityId, EntityTypeName, EntityUid};
use miette::Diagnostic;

use crate::error::{Error, Location, Result};
use crate::treat::TreatmentKind;

/// Cedar namespace of the phiguard schema.
pub(crate) const NAMESPACE: &str = "Phi";

/// A disclosure level, from most to least revealing. Each is a Cedar action of the same name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Level {
    /// The value as is.
    Clear,
    /// Part of the value, the rest masked.
    Mask,
    /// A date moved by the patient's offset: intervals survive, the calendar date does not.
    Shift,
    /// A keyed pseudonym: equality survives, the value does not.
    Pseudonymize,
    /// A coarser value (year, ZIP3, age group, bucket).
    Generalize,
    /// Free text with every detected identifier treated as the principal's policy treats its
    /// category (a name redacted or pseudonymized, a date generalized or shifted, ...).
    Scrub,
}

/// Number of disclosure levels.
const LEVELS: usize = 6;

impl Level {
    /// All levels, most revealing first: the order in which a plan tries them.
    pub const ALL: [Level; LEVELS] = [
        Level::Clear,
        Level::Mask,
        Level::Shift,
        Level::Pseudonymize,
        Level::Generalize,
        Level::Scrub,
    ];

    /// The treatment this level releases.
    pub const fn kind(self) -> TreatmentKind {
        match self {
            Level::Clear => TreatmentKind::Clear,
            Level::Mask => TreatmentKind::Mask,
            Level::Shift => TreatmentKind::Shift,
            Level::Pseudonymize => TreatmentKind::Pseudonymize,
            Level::Generalize => TreatmentKind::Generalize,
            Level::Scrub => TreatmentKind::Scrub,
        }
    }

    /// The Cedar action id: the name of its treatment.
    pub const fn action_id(self) -> &'static str {
        self.kind().name()
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A named text: a file name (for errors) and its contents.
#[derive(Debug, Clone)]
pub struct Source {
    /// File name or label used in error locations.
    pub name: String,
    /// The text.
    pub text: String,
}

impl Source {
    /// A source from a name and text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// The sources of a policy pack.
#[derive(Debug, Clone, Default)]
pub struct PackSources {
    /// Cedar schema (`schema.cedarschema`).
    pub schema: Option<Source>,
    /// Cedar policy files (`*.cedar`).
    pub policies: Vec<Source>,
    /// Cedar entities JSON: roles and purposes (`entities.json`).
    pub entities: Option<Source>,
    /// Categories (`categories.toml`).
    pub categories: Option<Source>,
    /// Dataset catalogs (`catalogs/*.toml`).
    pub catalogs: Vec<Source>,
    /// Custom free-text detectors (`detectors.toml`), optional.
    pub detectors: Option<Source>,
    /// How FHIR elements map to categories (`fhir/rules.toml`), optional: without it the
    /// pack cannot treat FHIR.
    pub fhir_rules: Option<Source>,
}

macro_rules! pack_file {
    ($name:literal) => {
        Source::new(
            concat!("policies/", $name),
            include_str!(concat!("../../../policies/", $name)),
        )
    };
}

impl PackSources {
    /// The default HIPAA pack shipped with phiguard (`policies/`), compiled in.
    pub fn default_pack() -> Self {
        PackSources {
            schema: Some(pack_file!("schema.cedarschema")),
            entities: Some(pack_file!("entities.json")),
            categories: Some(pack_file!("categories.toml")),
            policies: vec![
                pack_file!("base.cedar"),
                pack_file!("treatment.cedar"),
                pack_file!("payment.cedar"),
                pack_file!("operations.cedar"),
                pack_file!("research.cedar"),
                pack_file!("patient.cedar"),
            ],
            catalogs: vec![
                pack_file!("catalogs/synthea-patients.toml"),
                pack_file!("catalogs/fhir-patient.toml"),
                pack_file!("catalogs/encounters.toml"),
                pack_file!("catalogs/free-text.toml"),
                pack_file!("catalogs/fhir.toml"),
            ],
            detectors: Some(pack_file!("detectors.toml")),
            fhir_rules: Some(pack_file!("fhir/rules.toml")),
        }
    }

    /// The pack's version: SHA-256 over every source's role, name and text, in a fixed
    /// order, as 64 hex digits. Two packs with the same files have the same version; any
    /// edit changes it. Servers put it on every response and audit entry.
    ///
    /// # Examples
    /// ```
    /// let a = phiguard::PackSources::default_pack();
    /// let mut b = a.clone();
    /// assert_eq!(a.content_hash(), b.content_hash());
    /// b.policies[0].text.push_str("\n// edited\n");
    /// assert_ne!(a.content_hash(), b.content_hash());
    /// ```
    pub fn content_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut add = |role: &str, s: &Source| {
            for part in [role, s.name.as_str(), s.text.as_str()] {
                h.update((part.len() as u64).to_be_bytes());
                h.update(part.as_bytes());
            }
        };
        let one = |o: &Option<Source>| o.iter().cloned().collect::<Vec<_>>();
        let mut policies = self.policies.clone();
        policies.sort_by(|a, b| a.name.cmp(&b.name));
        let mut catalogs = self.catalogs.clone();
        catalogs.sort_by(|a, b| a.name.cmp(&b.name));
        for (role, list) in [
            ("schema", one(&self.schema)),
            ("policy", policies),
            ("entities", one(&self.entities)),
            ("categories", one(&self.categories)),
            ("catalog", catalogs),
            ("detectors", one(&self.detectors)),
            ("fhir_rules", one(&self.fhir_rules)),
        ] {
            for s in &list {
                add(role, s);
            }
        }
        crate::util::hex::lower(&h.finalize())
    }

    /// Reads a pack directory: `schema.cedarschema`, `entities.json`, `categories.toml`,
    /// every `*.cedar`, `catalogs/*.toml` and, when present, `detectors.toml` and
    /// `fhir/rules.toml`. Files are read
    /// in name order, so the same directory gives the same sources.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file that cannot be read (a required one missing included).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let read = |p: &Path| -> Result<Source> {
            let text = std::fs::read_to_string(p).map_err(|e| Error::io(p.display(), e))?;
            Ok(Source::new(p.display().to_string(), text))
        };
        let list = |d: &Path, ext: &str| -> Result<Vec<PathBuf>> {
            let mut v: Vec<_> = std::fs::read_dir(d)
                .map_err(|e| Error::io(d.display(), e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect();
            v.sort();
            Ok(v)
        };
        let catalogs_dir = dir.join("catalogs");
        let catalogs = if catalogs_dir.is_dir() {
            list(&catalogs_dir, "toml")?
        } else {
            Vec::new()
        };
        let detectors = dir.join("detectors.toml");
        let fhir_rules = dir.join("fhir").join("rules.toml");
        Ok(PackSources {
            fhir_rules: if fhir_rules.is_file() {
                Some(read(&fhir_rules)?)
            } else {
                None
            },
            detectors: if detectors.is_file() {
                Some(read(&detectors)?)
            } else {
                None
            },
            schema: Some(read(&dir.join("schema.cedarschema"))?),
            entities: Some(read(&dir.join("entities.json"))?),
            categories: Some(read(&dir.join("categories.toml"))?),
            policies: list(dir, "cedar")?
                .iter()
                .map(|p| read(p))
                .collect::<Result<_>>()?,
            catalogs: catalogs.iter().map(|p| read(p)).collect::<Result<_>>()?,
        })
    }
}

fn policy_err(source: &Source, offset: usize, message: impl Into<String>) -> Error {
    Error::policy(
        Location::from_offset(&source.name, &source.text, offset),
        message,
    )
}

/// First label offset of a Cedar diagnostic, and its message with help.
fn diag_parts(d: &dyn Diagnostic) -> (usize, String) {
    let offset = d
        .labels()
        .and_then(|mut l| l.next())
        .map_or(0, |l| l.offset());
    let mut msg = d.to_string();
    if let Some(help) = d.help() {
        msg.push_str(&format!(" (help: {help})"));
    }
    (offset, msg)
}

pub(crate) fn uid(ty: &str, id: &str) -> Result<EntityUid> {
    let ty = EntityTypeName::from_str(&format!("{NAMESPACE}::{ty}"))
        .map_err(|e| Error::request(format!("bad entity type `{ty}`: {e}")))?;
    Ok(EntityUid::from_type_name_and_id(ty, EntityId::new(id)))
}
