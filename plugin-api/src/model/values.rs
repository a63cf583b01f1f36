//! Typed attribute values.

use serde::{Deserialize, Serialize};

use super::schema::DataType;

/// A typed attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Value {
    String(String),
    Integer(i64),
    Boolean(bool),
    Binary(Vec<u8>),
    Reference(String),
}

impl Value {
    pub fn data_type(&self) -> DataType {
        match self {
            Value::String(_) => DataType::String,
            Value::Integer(_) => DataType::Integer,
            Value::Boolean(_) => DataType::Boolean,
            Value::Binary(_) => DataType::Binary,
            Value::Reference(_) => DataType::Reference,
        }
    }
    /// The value as text (binary as standard base64 is left to callers; here it is lossy UTF-8).
    pub fn as_text(&self) -> String {
        match self {
            Value::String(s) | Value::Reference(s) => s.clone(),
            Value::Integer(i) => i.to_string(),
            Value::Boolean(b) => b.to_string(),
            Value::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Reference(s) => Some(s),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Integer(i)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Boolean(b)
    }
}
