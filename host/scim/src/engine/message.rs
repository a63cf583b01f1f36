//! The engine's request and response: HTTP reduced to what SCIM needs, so the engine runs
//! without a server (the host adapts actix-web to these; tests build them directly).

use serde_json::Value;

use crate::{SCIM_CONTENT_TYPE, ScimError};

/// HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    /// HEAD, OPTIONS, ...: answered with 405.
    Other,
}

impl Method {
    pub fn parse(s: &str) -> Method {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => Method::Other,
        }
    }
}

/// A request, path relative to the base URL (`/Users/123`, `/Users/.search`, `/Schemas`, `/Bulk`).
#[derive(Debug, Clone)]
pub struct ScimRequest {
    pub method: Method,
    pub path: String,
    /// Raw query string without `?` (`filter=userName+eq+%22x%22&count=5`).
    pub query: String,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl ScimRequest {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        let path = path.into();
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p.to_owned(), q.to_owned()),
            None => (path, String::new()),
        };
        ScimRequest {
            method,
            path,
            query,
            if_match: None,
            if_none_match: None,
            content_type: None,
            body: vec![],
        }
    }
    pub fn with_json(mut self, body: &Value) -> Self {
        self.body = body.to_string().into_bytes();
        self.content_type = Some(SCIM_CONTENT_TYPE.to_owned());
        self
    }
}

/// A response: status, headers (`Content-Type`, `Location`, `ETag`, `Retry-After`, `WWW-Authenticate`) and an
/// optional JSON body (none for 204 and 304).
#[derive(Debug, Clone, PartialEq)]
pub struct ScimResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Body>,
}

/// A response body: a JSON tree, or JSON text already encoded (cached resources are served from
/// their stored encoding, without building a tree per request).
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Json(Value),
    Encoded(String),
}

impl Body {
    /// The body as a JSON tree (parsed when it is encoded text).
    pub fn to_json(&self) -> Value {
        match self {
            Body::Json(v) => v.clone(),
            // The engine only encodes what serde_json printed, so this parses.
            Body::Encoded(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Body::Json(v) => serde_json::to_vec(&v).unwrap_or_default(),
            Body::Encoded(s) => s.into_bytes(),
        }
    }
}

impl ScimResponse {
    pub(super) fn json(status: u16, body: Value) -> Self {
        Self::with_body(status, Body::Json(body))
    }
    pub(super) fn with_body(status: u16, body: Body) -> Self {
        ScimResponse {
            status,
            headers: vec![("Content-Type".into(), SCIM_CONTENT_TYPE.into())],
            body: Some(body),
        }
    }
    /// The body as a JSON tree, if there is one.
    pub fn json_body(&self) -> Option<Value> {
        self.body.as_ref().map(Body::to_json)
    }
    pub(super) fn empty(status: u16) -> Self {
        ScimResponse {
            status,
            headers: vec![],
            body: None,
        }
    }
    /// The SCIM error response for `e`.
    pub fn error(e: &ScimError) -> Self {
        let mut r = Self::json(e.status, e.to_json());
        r.headers.extend(e.headers());
        r
    }
    pub(super) fn header(mut self, k: &str, v: String) -> Self {
        self.headers.push((k.to_owned(), v));
        self
    }
    /// First header with this name, case-insensitively.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
