//! Values as pages carry them: borrowed, never copied into a `Value` on the way.

use crate::model::*;

/// A value borrowed from wherever the connector holds it (a database row, a BER buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRef<'a> {
    String(&'a str),
    Integer(i64),
    Boolean(bool),
    Binary(&'a [u8]),
    Reference(&'a str),
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::String(s) => ValueRef::String(s),
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Boolean(b) => ValueRef::Boolean(*b),
            Value::Binary(b) => ValueRef::Binary(b),
            Value::Reference(s) => ValueRef::Reference(s),
        }
    }
}

impl From<ValueRef<'_>> for Value {
    fn from(v: ValueRef<'_>) -> Self {
        match v {
            ValueRef::String(s) => Value::String(s.to_owned()),
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Boolean(b) => Value::Boolean(b),
            ValueRef::Binary(b) => Value::Binary(b.to_vec()),
            ValueRef::Reference(s) => Value::Reference(s.to_owned()),
        }
    }
}

impl ValueRef<'_> {
    /// The value as text, as [`Value::as_text`] gives it.
    #[inline]
    pub fn as_text(&self) -> String {
        match self {
            ValueRef::String(s) | ValueRef::Reference(s) => (*s).to_owned(),
            ValueRef::Integer(i) => i.to_string(),
            ValueRef::Boolean(b) => b.to_string(),
            ValueRef::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }
}

impl PartialEq<ValueRef<'_>> for Value {
    #[inline]
    fn eq(&self, other: &ValueRef<'_>) -> bool {
        ValueRef::from(self) == *other
    }
}
