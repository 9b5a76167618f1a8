//! The server's configuration: one TOML file, with `PHIGUARD_*` environment overrides.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ServerError;

/// Everything `phiguard serve` needs to start.
///
/// # Examples
/// ```
/// let c = phiguard_server::Config::from_toml(
///     "listen = \"127.0.0.1:8707\"\n[auth]\nmode = \"development\"\n",
///     "serve.toml",
/// ).unwrap();
/// assert_eq!(c.limits.batch, 100);
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// Where to listen (`127.0.0.1:8707` unless set).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// A pack directory; the built-in default pack without it.
    #[serde(default)]
    pub policies: Option<PathBuf>,
    /// The master key file (when a role pseudonymizes or shifts dates, and for the audit).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The HMAC-chained audit log (needs `key_file`).
    #[serde(default)]
    pub audit_log: Option<PathBuf>,
    /// The reference year for ages (this year unless set).
    #[serde(default)]
    pub as_of_year: Option<i64>,
    /// Roles that may reload the pack (`POST /admin/reload`); none unless set.
    #[serde(default)]
    pub admin_roles: Vec<String>,
    /// Request limits.
    #[serde(default)]
    pub limits: Limits,
    /// How callers are identified.
    pub auth: Auth,
}

/// Request limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Limits {
    /// The largest request body, in bytes: a larger one is refused with 413 before it is
    /// parsed.
    #[serde(default = "default_body_bytes")]
    pub body_bytes: usize,
    /// The most records in one batch request.
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Requests served at once; past it a request is shed at once with 503 and
    /// `Retry-After` rather than queued.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// The longest a request may take, in milliseconds (408 past it).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: default_body_bytes(),
            batch: default_batch(),
            concurrency: default_concurrency(),
            timeout_ms: default_timeout_ms(),
        }
    }
}

/// How callers are identified.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Auth {
    /// Bearer JWTs from these issuers.
    Jwt {
        /// The issuers whose tokens are accepted.
        issuers: Vec<Issuer>,
    },
    /// No authentication: the caller names themself in `X-Phiguard-User` and
    /// `X-Phiguard-Roles`. For development only, so the server refuses it unless it listens
    /// on a loopback address, and says so loudly at start.
    Development,
}

/// One issuer of accepted tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Issuer {
    /// The `iss` its tokens carry.
    pub issuer: String,
    /// The `aud` its tokens must carry for this server.
    pub audience: String,
    /// Its public keys (a JWKS document); RS256, ES256 and EdDSA keys are used.
    pub jwks_file: PathBuf,
    /// The claim naming the user.
    #[serde(default = "default_user_claim")]
    pub user_claim: String,
    /// The claim listing the user's roles (an array, or a space-separated string).
    #[serde(default = "default_roles_claim")]
    pub roles_claim: String,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8707))
}

fn default_body_bytes() -> usize {
    1 << 20
}

fn default_batch() -> usize {
    100
}

fn default_concurrency() -> usize {
    256
}

fn default_timeout_ms() -> u64 {
    10_000
}

fn default_user_claim() -> String {
    "sub".into()
}

fn default_roles_claim() -> String {
    "roles".into()
}

impl Config {
    /// Parses a configuration; `source` names it in errors.
    ///
    /// # Errors
    /// [`ServerError::Config`] with the line of the first problem.
    pub fn from_toml(text: &str, source: &str) -> Result<Config, ServerError> {
        let c: Config = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map_or(0, |s| text[..s.start.min(text.len())].lines().count());
            ServerError::Config(format!("{source}:{line}: {}", e.message()))
        })?;
        c.check(source)?;
        Ok(c)
    }

    /// Reads `path`, then applies the environment's overrides: `PHIGUARD_LISTEN`,
    /// `PHIGUARD_POLICIES`, `PHIGUARD_KEY_FILE`, `PHIGUARD_AUDIT_LOG`.
    ///
    /// # Errors
    /// [`ServerError::Config`] for an unreadable or invalid file or override.
    pub fn load(path: &Path) -> Result<Config, ServerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))?;
        let mut c = Config::from_toml(&text, &path.display().to_string())?;
        if let Ok(v) = std::env::var("PHIGUARD_LISTEN") {
            c.listen = v
                .parse()
                .map_err(|_| ServerError::Config("PHIGUARD_LISTEN: not an address".into()))?;
        }
        for (var, slot) in [
            ("PHIGUARD_POLICIES", &mut c.policies),
            ("PHIGUARD_KEY_FILE", &mut c.key_file),
            ("PHIGUARD_AUDIT_LOG", &mut c.audit_log),
        ] {
            if let Some(v) = std::env::var_os(var) {
                *slot = Some(PathBuf::from(v));
            }
        }
        c.check("environment")?;
        Ok(c)
    }

    fn check(&self, source: &str) -> Result<(), ServerError> {
        if matches!(self.auth, Auth::Development) && !self.listen.ip().is_loopback() {
            return Err(ServerError::Config(format!(
                "{source}: auth mode `development` serves without authentication and listens on loopback only, not {}",
                self.listen
            )));
        }
        if let Auth::Jwt { issuers } = &self.auth
            && issuers.is_empty()
        {
            return Err(ServerError::Config(format!(
                "{source}: auth mode `jwt` needs at least one [[auth.issuers]]"
            )));
        }
        if self.audit_log.is_some() && self.key_file.is_none() {
            return Err(ServerError::Config(format!(
                "{source}: `audit_log` needs `key_file` (the chain is keyed)"
            )));
        }
        if self.limits.batch == 0
            || self.limits.body_bytes == 0
            || self.limits.concurrency == 0
            || self.limits.timeout_ms == 0
        {
            return Err(ServerError::Config(format!(
                "{source}: limits must be above 0"
            )));
        }
        Ok(())
    }
}
