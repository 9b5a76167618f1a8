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
/// let engine = Engine::builder().build().unwrap();
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

/// Builds an [`Engine`]: which pack (the default one unless told) and which caps.
///
/// # Examples
/// ```
/// use phiguard::{Engine, Limits, PackSources};
/// let limits = Limits { max_text_bytes: 4096, ..Limits::default() };
/// let engine = Engine::builder()
///     .sources(PackSources::default_pack())
///     .limits(limits)
///     .build()
///     .unwrap();
/// assert_eq!(engine.limits().max_text_bytes, 4096);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct EngineBuilder {
    sources: Option<PackSources>,
    limits: Limits,
}

impl EngineBuilder {
    /// Loads this pack instead of the default one ([`PackSources::from_dir`] reads a
    /// directory).
    pub fn sources(mut self, sources: PackSources) -> Self {
        self.sources = Some(sources);
        self
    }

    /// Applies these caps instead of [`Limits::default`].
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Loads and validates the pack.
    ///
    /// # Errors
    /// [`Error::Policy`] / [`Error::Catalog`] with file, line and column for an invalid
    /// source, and [`Error::Policy`] when the pack holds more policies than
    /// [`Limits::max_policies`].
    pub fn build(self) -> Result<Engine> {
        let sources = self.sources.unwrap_or_else(PackSources::default_pack);
        Ok(Engine {
            pack: Arc::new(Pack::load(&sources, self.limits.max_policies)?),
            limits: self.limits,
            sources: Arc::new(sources),
        })
    }
}

impl Engine {
    /// A builder; `Engine::builder().build()` loads the default HIPAA pack (`policies/`).
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
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
    /// let engine = phiguard::Engine::builder().build().unwrap();
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
            return Err(Error::catalog(
                Location::line(&source.name, 1),
                format!("catalog name `{}` is already in the pack", cat.name),
            ));
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
    /// `Engine::builder().sources(engine.sources().clone())` rebuilds the same engine.
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
