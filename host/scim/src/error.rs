//! SCIM errors (RFC 7644 §3.12) and their JSON form.

use serde_json::{Value, json};

/// URN of the SCIM error message schema (RFC 7644 §3.12).
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` detail keyword of a 400/409/413 error (RFC 7644 §3.12, table 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    InvalidVers,
    Sensitive,
}

impl ScimType {
    /// The keyword as written on the wire (`invalidFilter`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
        }
    }
}

impl std::fmt::Display for ScimType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SCIM protocol error: HTTP status, optional `scimType` and a human-readable detail.
///
/// This is the only error type of the crate; the `actix` feature maps it to an HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SCIM error {status}{}: {detail}", scim_type.map(|t| format!(" ({t})")).unwrap_or_default())]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<ScimType>,
    pub detail: String,
    /// When set, a `Retry-After` header is sent (503 while importing, 429 when throttling).
    pub retry_after_secs: Option<u32>,
    /// The request named an attribute the resource type does not define (so the engine can
    /// say which application refused it and how to accept such writes).
    pub unknown_attribute: bool,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
            retry_after_secs: None,
            unknown_attribute: false,
        }
    }
    fn bad(t: ScimType, detail: impl Into<String>) -> Self {
        Self::new(400, Some(t), detail)
    }
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidFilter, detail)
    }
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidSyntax, detail)
    }
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidPath, detail)
    }
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::NoTarget, detail)
    }
    /// 400 for an attribute the resource type does not define, with the `scimType` of where
    /// it was found (`invalidSyntax` in a body, `invalidPath` in a PATCH path, ...).
    pub fn unknown_attribute(scim_type: ScimType, detail: impl Into<String>) -> Self {
        ScimError {
            unknown_attribute: true,
            ..Self::bad(scim_type, detail)
        }
    }
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidValue, detail)
    }
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::Mutability, detail)
    }
    pub fn invalid_vers(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidVers, detail)
    }
    pub fn sensitive(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::Sensitive, detail)
    }
    /// 400 `tooMany`: the filter would return more than `maxResults` (RFC 7644 §3.4.2.4).
    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::TooMany, detail)
    }
    /// 409 `uniqueness` (RFC 7644 §3.3).
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some(ScimType::Uniqueness), detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(401, None, detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(403, None, detail)
    }
    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(405, None, detail)
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(409, None, detail)
    }
    /// 412: `If-Match` did not match the current version (RFC 7644 §3.14).
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(412, None, detail)
    }
    /// 413: bulk limits exceeded (RFC 7644 §3.7.4).
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(413, None, detail)
    }
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(415, None, detail)
    }
    pub fn too_many_requests(detail: impl Into<String>, retry_after_secs: Option<u32>) -> Self {
        ScimError {
            retry_after_secs,
            ..Self::new(429, None, detail)
        }
    }
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, None, detail)
    }
    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::new(501, None, detail)
    }
    /// 503 with `Retry-After` (e.g. "The ECMA host is currently importing data from the target application").
    pub fn unavailable(detail: impl Into<String>, retry_after_secs: Option<u32>) -> Self {
        ScimError {
            retry_after_secs,
            ..Self::new(503, None, detail)
        }
    }

    /// The SCIM error body; `status` is a string as RFC 7644 §3.12 requires.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "schemas": [ERROR_URN],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            v["scimType"] = Value::String(t.as_str().to_owned());
        }
        v
    }

    /// Extra HTTP headers this error needs besides `Content-Type`.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut h = Vec::new();
        if let Some(s) = self.retry_after_secs {
            h.push(("Retry-After".to_owned(), s.to_string()));
        }
        if self.status == 401 {
            h.push(("WWW-Authenticate".to_owned(), "Bearer".to_owned()));
        }
        h
    }
}

#[cfg(feature = "actix")]
mod actix_impl {
    use super::ScimError;
    use actix_web::http::StatusCode;
    use actix_web::{HttpResponse, ResponseError};

    impl ResponseError for ScimError {
        fn status_code(&self) -> StatusCode {
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }
        fn error_response(&self) -> HttpResponse {
            let mut b = HttpResponse::build(self.status_code());
            b.insert_header(("Content-Type", crate::SCIM_CONTENT_TYPE));
            for (k, v) in self.headers() {
                b.insert_header((k, v));
            }
            b.body(self.to_json().to_string())
        }
    }
}
