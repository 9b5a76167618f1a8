//! Errors: the server's own (configuration, start) and the HTTP answer for each engine error.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The configuration is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// The pack, key or audit log cannot be loaded.
    #[error(transparent)]
    Engine(#[from] phiguard::Error),
    /// The listener cannot be bound or served.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
}

/// An HTTP error answer: a status and a JSON body `{"error": code, "message": text}`. Its
/// messages come from the core's errors, which never quote a record's value, or are fixed
/// text.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

impl From<phiguard::Error> for ApiError {
    fn from(e: phiguard::Error) -> Self {
        use phiguard::Error as E;
        match &e {
            E::Input { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "input", e.to_string())
            }
            E::Request { .. } | E::Catalog { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "request", e.to_string())
            }
            // Nothing is disclosed that cannot be audited.
            E::Audit { .. } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit_unavailable",
                "the audit log cannot be written; nothing was disclosed",
            ),
            E::Key { .. } => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "key",
                "this view needs key material the server lacks",
            ),
            // Policy and internal errors fail closed without detail.
            _ => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the request could not be decided; nothing was disclosed",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.code, "message": self.message});
        let mut r = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }
}
