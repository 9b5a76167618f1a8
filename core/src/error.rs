//! The one error type of phiguard, with stable codes.
//!
//! An error means *no decision*: nothing is released. A deny is not an error; it is a
//! redacted field. Messages never carry a field value (PHI) or key material; user input that
//! is safe to echo (file names, column names, policy ids, role and purpose codes) is put in
//! backticks.

use std::fmt;

/// Where in a text source (policy file, catalog, input file) an error was found.
///
/// Built with [`Location::line`], [`Location::at`] or [`Location::from_offset`] and refined with
/// [`Location::with_field`]; the fields are public to read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// File name or a label for the source (`<catalog>` for a string).
    pub source: String,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// 1-based column (in characters) for text sources, 0 when unknown.
    pub column: u64,
    /// Field, column or JSON path involved, when known.
    pub field: Option<String>,
}

impl Location {
    /// A location at `line` and `column` (1-based; 0 for unknown).
    ///
    /// # Examples
    /// ```
    /// let at = phiguard::Location::at("pack.cedar", 3, 14);
    /// assert_eq!(at.to_string(), "pack.cedar:3:14");
    /// ```
    pub fn at(source: &str, line: u64, column: u64) -> Self {
        Location {
            source: source.to_owned(),
            line,
            column,
            field: None,
        }
    }

    /// A location from a byte offset into `text`.
    pub fn from_offset(source: &str, text: &str, offset: usize) -> Self {
        let (line, column) = line_col(text, offset);
        Self::at(source, line, column)
    }

    /// A location with a line but no column (records of a data file).
    pub fn line(source: &str, line: u64) -> Self {
        Self::at(source, line, 0)
    }

    /// The same location naming a field.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, " (field `{field}`)")?;
        }
        Ok(())
    }
}

/// 1-based line and character column of a byte offset (clamped to the text).
pub(crate) fn line_col(text: &str, offset: usize) -> (u64, u64) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = text.get(..end).unwrap_or("");
    let line = before.matches('\n').count() as u64 + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) as u64 + 1;
    (line, column)
}

/// Every failure phiguard reports. Match on [`Error::code`] for a stable, machine-readable kind.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// A Cedar schema, policy or entity file is malformed or fails validation.
    #[error("{location}: policy error: {message}")]
    #[diagnostic(code(phiguard::policy))]
    #[non_exhaustive]
    Policy {
        /// Where the problem is.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// A category or catalog file is malformed or names something unknown.
    #[error("{location}: catalog error: {message}")]
    #[diagnostic(code(phiguard::catalog))]
    #[non_exhaustive]
    Catalog {
        /// Where the problem is.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// The request (role, purpose, user, break-glass reason) cannot be served.
    #[error("request error: {message}")]
    #[diagnostic(code(phiguard::request))]
    #[non_exhaustive]
    Request {
        /// What is wrong.
        message: String,
    },
    /// Input data is malformed (bad CSV/JSON, invalid UTF-8, too deep, too large).
    #[error("{location}: input error: {message}")]
    #[diagnostic(code(phiguard::input))]
    #[non_exhaustive]
    Input {
        /// Where the problem is.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// Key material is missing, malformed or too short. Never carries key bytes.
    #[error("key error: {message}")]
    #[diagnostic(code(phiguard::key))]
    #[non_exhaustive]
    Key {
        /// What is wrong.
        message: String,
    },
    /// An audit log failed verification or could not be written.
    #[error("audit error{}: {message}", entry.map(|e| format!(" at entry {e}")).unwrap_or_default())]
    #[diagnostic(code(phiguard::audit))]
    #[non_exhaustive]
    Audit {
        /// 1-based index of the first bad entry, when the error is about one.
        entry: Option<u64>,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("i/o error on `{path}`: {source}")]
    #[diagnostic(code(phiguard::io))]
    #[non_exhaustive]
    Io {
        /// The file involved.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The stable code of this error kind: `policy`, `catalog`, `request`, `input`, `key`,
    /// `audit` or `io`.
    ///
    /// # Examples
    /// ```
    /// let err = phiguard::Error::request("unknown role `nobody`");
    /// assert_eq!(err.code(), "request");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::Policy { .. } => "policy",
            Error::Catalog { .. } => "catalog",
            Error::Request { .. } => "request",
            Error::Input { .. } => "input",
            Error::Key { .. } => "key",
            Error::Audit { .. } => "audit",
            Error::Io { .. } => "io",
        }
    }

    /// The location the error points at, if it has one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Error::Policy { location, .. }
            | Error::Catalog { location, .. }
            | Error::Input { location, .. } => Some(location),
            _ => None,
        }
    }

    /// A policy error at `location`.
    pub fn policy(location: Location, message: impl Into<String>) -> Self {
        Error::Policy {
            location,
            message: message.into(),
        }
    }

    /// A catalog error at `location`.
    pub fn catalog(location: Location, message: impl Into<String>) -> Self {
        Error::Catalog {
            location,
            message: message.into(),
        }
    }

    /// A request that cannot be served.
    pub fn request(message: impl Into<String>) -> Self {
        Error::Request {
            message: message.into(),
        }
    }

    /// Malformed input at `location`.
    pub fn input(location: Location, message: impl Into<String>) -> Self {
        Error::Input {
            location,
            message: message.into(),
        }
    }

    /// JSON that does not parse, in `source` whose text starts at line `first_line` (1 for a
    /// whole document; the record's line for NDJSON). The message is serde's, which names what
    /// it expected and never quotes the input.
    ///
    /// # Examples
    /// ```
    /// let e = serde_json::from_str::<serde_json::Value>("{\"a\": }").unwrap_err();
    /// let err = phiguard::Error::malformed_json("in.ndjson", 7, &e);
    /// assert_eq!(err.to_string(), "in.ndjson:7:7: input error: malformed json: expected value at line 1 column 7");
    /// ```
    pub fn malformed_json(source: &str, first_line: u64, err: &serde_json::Error) -> Self {
        let line = first_line + (err.line() as u64).saturating_sub(1);
        Error::input(
            Location::at(source, line, err.column() as u64),
            format!("malformed json: {err}"),
        )
    }

    /// A key error; `message` must not carry key bytes.
    pub fn key(message: impl Into<String>) -> Self {
        Error::Key {
            message: message.into(),
        }
    }

    /// An audit error, about the 1-based `entry` when there is one.
    pub fn audit(entry: Option<u64>, message: impl Into<String>) -> Self {
        Error::Audit {
            entry,
            message: message.into(),
        }
    }

    /// A failed read or write of `path`.
    pub fn io(path: impl fmt::Display, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_string(),
            source,
        }
    }
}

/// Result with phiguard's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars_not_bytes() {
        let text = "ab\nçé x";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        // byte 7 is after "çé " (2+2+1 bytes) => column 4
        assert_eq!(line_col(text, 8), (2, 4));
        assert_eq!(line_col(text, 999), (2, 5));
    }

    #[test]
    fn display_is_lowercase_and_located() {
        let err = Error::input(
            Location::line("in.csv", 7).with_field("ssn"),
            "invalid utf-8",
        );
        assert_eq!(
            err.to_string(),
            "in.csv:7 (field `ssn`): input error: invalid utf-8"
        );
        assert_eq!(err.code(), "input");
    }
}
