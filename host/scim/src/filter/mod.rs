//! SCIM filters (RFC 7644 §3.4.2.2): AST, parser, printer, evaluator and index planner.

mod eval;
mod parse;
mod plan;

use std::fmt;

pub(crate) use eval::matches_element;
pub use eval::{matches, value_equals};
pub use parse::{
    DEFAULT_MAX_FILTER_DEPTH, DEFAULT_MAX_FILTER_LEN, FilterLimits, parse_filter, parse_filter_with,
};
pub(crate) use parse::{parse_attr_path, parse_value_path};
pub use plan::{IndexPlan, index_key, index_plan};

/// An attribute path (RFC 7644 §3.10): `[urn ":"] attr ["." subAttr]`, as written by the client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    pub urn: Option<String>,
    pub attr: String,
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// A plain path `attr` without URN or sub-attribute.
    pub fn simple(attr: &str) -> Self {
        AttrPath {
            urn: None,
            attr: attr.to_owned(),
            sub_attr: None,
        }
    }
    /// Parse `[urn:]attr[.sub]` (used for `sortBy`, `attributes`, `excludedAttributes`).
    pub fn parse(s: &str) -> Result<Self, crate::ScimError> {
        parse_attr_path(s)
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(u) = &self.urn {
            write!(f, "{u}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(s) = &self.sub_attr {
            write!(f, ".{s}")?;
        }
        Ok(())
    }
}

/// Comparison operators of RFC 7644 §3.4.2.2 (`pr` is [`Filter::Present`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
    /// Case-insensitive operator name (RFC 7644 §3.4.2.2: "Attribute names and attribute operators used in
    /// filters are case insensitive").
    pub fn from_name(s: &str) -> Option<Self> {
        const ALL: [CompareOp; 9] = [
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Co,
            CompareOp::Sw,
            CompareOp::Ew,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ];
        ALL.into_iter().find(|o| o.as_str().eq_ignore_ascii_case(s))
    }
}

/// A comparison value (RFC 7644 `compValue`: false / null / true / number / string).
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
}

impl CompValue {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            CompValue::Null => serde_json::Value::Null,
            CompValue::Bool(b) => serde_json::Value::Bool(*b),
            CompValue::Number(n) => serde_json::Value::Number(n.clone()),
            CompValue::String(s) => serde_json::Value::String(s.clone()),
        }
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // JSON encoding is exactly the RFC's compValue syntax (strings are JSON strings).
        write!(f, "{}", self.to_json())
    }
}

/// A parsed filter. `and` binds tighter than `or`; both are left-associative.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `path[filter]`: the inner filter's paths are sub-attributes of `path`.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

impl Filter {
    /// Nesting depth of the tree (1 for a leaf).
    pub fn depth(&self) -> usize {
        match self {
            Filter::Compare { .. } | Filter::Present(_) => 1,
            Filter::And(a, b) | Filter::Or(a, b) => 1 + a.depth().max(b.depth()),
            Filter::Not(f) | Filter::ValuePath { filter: f, .. } => 1 + f.depth(),
        }
    }
}

impl fmt::Display for Filter {
    /// Prints a canonical form that parses back to an equal AST: parentheses are added exactly where the
    /// tree shape differs from default precedence/associativity.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn wrap(f: &mut fmt::Formatter<'_>, x: &Filter, paren: bool) -> fmt::Result {
            if paren {
                write!(f, "({x})")
            } else {
                write!(f, "{x}")
            }
        }
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {} {value}", op.as_str()),
            Filter::Present(p) => write!(f, "{p} pr"),
            Filter::And(a, b) => {
                wrap(f, a, matches!(**a, Filter::Or(..)))?;
                f.write_str(" and ")?;
                wrap(f, b, matches!(**b, Filter::Or(..) | Filter::And(..)))
            }
            Filter::Or(a, b) => {
                write!(f, "{a} or ")?;
                wrap(f, b, matches!(**b, Filter::Or(..)))
            }
            Filter::Not(x) => write!(f, "not ({x})"),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}
