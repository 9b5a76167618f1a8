//! The engine (a loaded, validated pack) and views (one principal's compiled access).
//!
//! An [`Engine`] is immutable and cheap to share. [`Engine::view`] validates a request (roles,
//! purpose, break-glass reason) and prepares Cedar for that principal; a [`View`] compiles one
//! [`Plan`] per distinct set of record attributes, caches it, audits the decision once, and
//! applies plans to records without asking Cedar again.

mod request;
mod view;

pub use request::AccessRequest;
pub use view::{AttrUse, Disclosures, View};

use std::path::Path;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::error::{Error, Location, Result};
use crate::limits::Limits;
use crate::policy::{Pack, PackSources, Source};

/// A loaded, validated policy pack: the one judge of who sees what.
///
/// # Examples
/// ```
/// use phiguard::{AccessRequest, Engine};
/// let engine = Engine::default_pack().unwrap();
/// let req = AccessRequest::new("u1", ["billing_analyst"], "HPAYMT", "synthea-patients");
/// let view = engine.view(&req).unwrap();
/// let plan = view.plan(&Default::default()).unwrap();
/// let ssn = plan.fields.iter().find(|f| f.field == "ssn").unwrap();
/// assert_eq!(ssn.treatment.name(), "mask");
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    pack: Arc<Pack>,
    limits: Limits,
    /// What it was loaded from, so it can be rebuilt elsewhere (a Spark executor, a worker).
    sources: Arc<PackSources>,
}

macro_rules! pack_file {
    ($name:literal) => {
        Source::new(
            concat!("policies/", $name),
            include_str!(concat!("../../../policies/", $name)),
        )
    };
}

impl Engine {
    /// The default HIPAA pack shipped with phiguard (`policies/`).
    ///
    /// # Errors
    /// Only if the embedded pack were invalid (tested).
    pub fn default_pack() -> Result<Self> {
        Self::from_sources(&Self::default_sources())
    }

    /// The sources of the default pack.
    pub fn default_sources() -> PackSources {
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
            ],
            detectors: Some(pack_file!("detectors.toml")),
        }
    }

    /// Loads a pack from a directory: `schema.cedarschema`, `entities.json`,
    /// `categories.toml`, every `*.cedar`, and `catalogs/*.toml`.
    ///
    /// # Errors
    /// [`Error::Io`] for unreadable files, [`Error::Policy`] / [`Error::Catalog`] for invalid ones.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        Self::from_dir_with_limits(dir, Limits::default())
    }

    /// Loads a pack directory, as [`Engine::from_dir`], with caps other than the defaults.
    ///
    /// # Errors
    /// As [`Engine::from_dir`] and [`Engine::from_sources_with_limits`].
    pub fn from_dir_with_limits(dir: impl AsRef<Path>, limits: Limits) -> Result<Self> {
        let dir = dir.as_ref();
        let read = |p: &Path| -> Result<Source> {
            let text = std::fs::read_to_string(p).map_err(|e| Error::io(p.display(), e))?;
            Ok(Source::new(p.display().to_string(), text))
        };
        let list = |d: &Path, ext: &str| -> Result<Vec<std::path::PathBuf>> {
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
        let sources = PackSources {
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
        };
        Self::from_sources_with_limits(&sources, limits)
    }

    /// Loads a pack from in-memory sources.
    ///
    /// # Errors
    /// [`Error::Policy`] / [`Error::Catalog`] for invalid sources.
    pub fn from_sources(sources: &PackSources) -> Result<Self> {
        Self::from_sources_with_limits(sources, Limits::default())
    }

    /// Loads a pack from in-memory sources with caps other than the defaults.
    ///
    /// # Errors
    /// As [`Engine::from_sources`], and [`Error::Policy`] when the pack holds more policies
    /// than `limits.max_policies`.
    pub fn from_sources_with_limits(sources: &PackSources, limits: Limits) -> Result<Self> {
        Ok(Engine {
            pack: Arc::new(Pack::load(sources, limits.max_policies)?),
            limits,
            sources: Arc::new(sources.clone()),
        })
    }

    /// The caps this engine and its views apply.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The PHI spans in `text` as this engine's pack finds them (the built-in detectors plus
    /// the pack's custom ones), in order and without overlaps. This says what is there, not
    /// who may see it: [`View::scrub_text`] applies a principal's treatments.
    ///
    /// # Errors
    /// [`Error::Input`] when `text` is longer than [`Limits::max_text_bytes`].
    ///
    /// # Examples
    /// ```
    /// let engine = phiguard::Engine::default_pack().unwrap();
    /// let spans = engine.detect("Seen by Dr. Alvarez on 03/04/2021, SSN 123-45-6789").unwrap();
    /// let found: Vec<(&str, usize, usize)> =
    ///     spans.iter().map(|s| (s.category.as_ref(), s.char_start, s.char_end)).collect();
    /// assert_eq!(found, [("name", 12, 19), ("event_date", 23, 33), ("ssn", 39, 50)]);
    /// ```
    pub fn detect(&self, text: &str) -> Result<Vec<crate::text::Span>> {
        check_text_len(text, &self.limits)?;
        let detector = match self.pack.custom_detector() {
            Some(d) => d,
            None => crate::text::builtin()?,
        };
        Ok(detector.detect(text))
    }

    /// The same engine with one more catalog (e.g. a file given on the command line).
    ///
    /// # Errors
    /// [`Error::Catalog`] when the catalog is invalid or its name is taken.
    pub fn with_catalog(&self, source: &Source) -> Result<Self> {
        let cat = Catalog::parse(&source.text, &source.name, self.pack.categories())?;
        if self.pack.catalogs().iter().any(|c| c.name == cat.name) {
            return Err(Error::Catalog {
                location: Location::line(&source.name, 1),
                message: format!("catalog name `{}` is already in the pack", cat.name),
            });
        }
        let mut pack = (*self.pack).clone();
        pack.push_catalog(cat);
        let mut sources = (*self.sources).clone();
        sources.catalogs.push(source.clone());
        Ok(Engine {
            pack: Arc::new(pack),
            limits: self.limits,
            sources: Arc::new(sources),
        })
    }

    /// The sources this engine was loaded from (catalogs added later included):
    /// `Engine::from_sources(engine.sources())` rebuilds the same engine.
    pub fn sources(&self) -> &PackSources {
        &self.sources
    }

    /// Names of the pack's catalogs, in load order (for pickers and listings).
    pub fn catalog_names(&self) -> Vec<String> {
        self.pack
            .catalogs()
            .iter()
            .map(|c| c.name.clone())
            .collect()
    }

    /// Roles the pack defines.
    pub fn role_names(&self) -> Vec<String> {
        self.pack.roles().into_iter().map(str::to_owned).collect()
    }

    /// Purposes of use the pack defines (HL7 v3 ActReason codes).
    pub fn purpose_names(&self) -> Vec<String> {
        self.pack
            .purposes()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// The loaded pack.
    pub fn pack(&self) -> &Pack {
        &self.pack
    }

    /// The catalog named `name`.
    ///
    /// # Errors
    /// [`Error::Request`] listing the known catalogs.
    pub fn catalog(&self, name: &str) -> Result<&Catalog> {
        self.pack
            .catalogs()
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| {
                Error::request(format!(
                    "unknown catalog `{name}`; known: {}",
                    self.catalog_names().join(", ")
                ))
            })
    }

    /// The one catalog whose fields cover the most of `columns` (at least half of them).
    ///
    /// # Errors
    /// [`Error::Request`] listing candidates when none or several match equally.
    pub fn match_catalog(&self, columns: &[&str]) -> Result<&Catalog> {
        let mut scored: Vec<(usize, &Catalog)> = self
            .pack
            .catalogs()
            .iter()
            .map(|c| (c.matches(columns), c))
            .collect();
        scored.sort_by_key(|s| std::cmp::Reverse(s.0));
        let need = columns.len().div_ceil(2).max(1);
        match scored.as_slice() {
            [(best, c), rest @ ..]
                if *best >= need && rest.first().is_none_or(|(n, _)| n < best) =>
            {
                Ok(c)
            }
            _ => Err(Error::request(format!(
                "no single catalog matches the input columns; candidates: {} (pass --catalog)",
                scored
                    .iter()
                    .map(|(n, c)| format!("{} ({n}/{} columns)", c.name, columns.len()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Prepares a view for `request`.
    ///
    /// # Errors
    /// [`Error::Request`] for an unknown role, purpose, operation or catalog, a break-glass
    /// purpose without a reason, or a reason without a break-glass purpose.
    pub fn view(&self, request: &AccessRequest) -> Result<View> {
        let pack = &self.pack;
        if !pack.has_purpose(&request.purpose) {
            return Err(Error::request(format!(
                "unknown purpose of use `{}`; known: {}",
                request.purpose,
                pack.purposes().join(", ")
            )));
        }
        if !matches!(request.operation.as_str(), "read" | "export") {
            return Err(Error::request(format!(
                "unknown operation `{}`; known: read, export",
                request.operation
            )));
        }
        let emergency = pack.purpose_within(&request.purpose, "ETREAT");
        let reason = request
            .break_glass_reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        match (emergency, reason) {
            (true, None) => {
                return Err(Error::request(format!(
                    "purpose `{}` is break-glass access and needs a stated reason",
                    request.purpose
                )));
            }
            (false, Some(_)) => {
                return Err(Error::request(format!(
                    "a break-glass reason was given but purpose `{}` is not emergency access (use ETREAT or BTG)",
                    request.purpose
                )));
            }
            _ => {}
        }
        if request.user.is_empty() {
            return Err(Error::request("user id must not be empty"));
        }
        let catalog = self.catalog(&request.catalog)?.clone();
        let decider = pack.decider(&request.user, &request.roles, request.department.as_deref())?;
        let as_of_year = match request.as_of_year {
            Some(y) => y,
            None => current_year()?,
        };
        Ok(View::new(
            self.pack.clone(),
            request.clone(),
            emergency,
            catalog,
            decider,
            as_of_year,
            self.limits,
        ))
    }
}

fn current_year() -> Result<i64> {
    crate::util::calendar::current_year().ok_or_else(|| {
        Error::request(if cfg!(target_arch = "wasm32") {
            "`as_of_year` is required on this platform"
        } else {
            "cannot read the clock"
        })
    })
}

/// Free text longer than [`Limits::max_text_bytes`] is refused before any detector runs.
fn check_text_len(text: &str, limits: &Limits) -> Result<()> {
    if text.len() > limits.max_text_bytes {
        return Err(Error::input(
            Location::line("<text>", 0),
            format!(
                "text of {} bytes exceeds the detector limit of {} bytes (Limits::max_text_bytes)",
                text.len(),
                limits.max_text_bytes
            ),
        ));
    }
    Ok(())
}
