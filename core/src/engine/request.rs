//! Who asks, for what, and why: the request a view is made for.

/// Who asks, for what, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRequest {
    /// User id of the principal (matched against care teams and patient ids).
    pub user: String,
    /// Roles (entities of the pack), e.g. `coder`.
    pub roles: Vec<String>,
    /// Purpose of use, an HL7 v3-ActReason code (`TREAT`, `HPAYMT`, `HRESCH`, ...).
    pub purpose: String,
    /// Operation: `read` or `export`.
    #[serde(default = "default_operation")]
    pub operation: String,
    /// Required for break-glass purposes (`ETREAT`, `BTG`), refused otherwise.
    #[serde(default)]
    pub break_glass_reason: Option<String>,
    /// Department of the user, visible to policies as `principal.department`.
    #[serde(default)]
    pub department: Option<String>,
    /// Catalog name of the dataset.
    pub catalog: String,
    /// Reference year for ages (Safe Harbor's 90+ rule). Defaults to the current year; pin it
    /// for reproducible output.
    #[serde(default)]
    pub as_of_year: Option<i64>,
}

fn default_operation() -> String {
    "read".to_owned()
}

impl AccessRequest {
    /// A `read` request.
    pub fn new<R: Into<String>>(
        user: impl Into<String>,
        roles: impl IntoIterator<Item = R>,
        purpose: impl Into<String>,
        catalog: impl Into<String>,
    ) -> Self {
        AccessRequest {
            user: user.into(),
            roles: roles.into_iter().map(Into::into).collect(),
            purpose: purpose.into(),
            operation: default_operation(),
            break_glass_reason: None,
            department: None,
            catalog: catalog.into(),
            as_of_year: None,
        }
    }
}
