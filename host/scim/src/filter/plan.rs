//! Index planning: which part of a filter the cache's equality indexes can answer.

use serde_json::Value;

use super::{CompValue, CompareOp, Filter};
use crate::schema::{AttrType, AttributeDef, ResolvedAttr, ResourceTypeDef};

/// What the indexes can answer. Evaluating the plan gives a superset of the filter's matches; the caller runs
/// [`super::matches`] on the candidates.
// Plans are tiny and short-lived; boxing the common `Eq` leaf would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexPlan {
    /// Resources whose `attr` has a value with this index key (see [`index_key`]).
    Eq { attr: ResolvedAttr, value: String },
    /// Intersection.
    And(Vec<IndexPlan>),
    /// Union.
    Or(Vec<IndexPlan>),
}

/// The index key of a value of attribute `def`: strings are lower-cased unless `caseExact`, booleans and
/// integers use their JSON text. Backends must build their indexes with this function so that plans match.
/// `None` for values an equality index does not hold (objects, arrays, decimals, dateTimes).
pub fn index_key(def: &AttributeDef, v: &Value) -> Option<String> {
    match (def.attr_type, v) {
        (AttrType::String, Value::String(s)) if !def.case_exact => Some(s.to_lowercase()),
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(s)) => {
            Some(s.clone())
        }
        (AttrType::Boolean, Value::Bool(b)) => Some(b.to_string()),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// Plan `f` against indexes: `attr eq "v"` on an indexed attribute, `and` of which at least one child is
/// indexable (the others are checked by `matches`), `or` whose children are all indexable, and value paths
/// (`members[value eq "id"]` uses the `members.value` index).
pub fn index_plan(
    f: &Filter,
    rt: &ResourceTypeDef,
    is_indexed: impl Fn(&ResolvedAttr) -> bool,
) -> Option<IndexPlan> {
    plan(f, rt, None, &is_indexed)
}

fn plan(
    f: &Filter,
    rt: &ResourceTypeDef,
    parent: Option<&crate::filter::AttrPath>,
    is_indexed: &dyn Fn(&ResolvedAttr) -> bool,
) -> Option<IndexPlan> {
    match f {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } => {
            let r = match parent {
                Some(p) => {
                    if path.urn.is_some() || path.sub_attr.is_some() {
                        return None;
                    }
                    rt.resolve_ref(p.urn.as_deref(), &p.attr, Some(&path.attr))?
                }
                None => {
                    rt.resolve_ref(path.urn.as_deref(), &path.attr, path.sub_attr.as_deref())?
                }
            };
            if r.leaf().attr_type == AttrType::Complex {
                return None;
            }
            let key = match value {
                CompValue::Null => return None,
                v => index_key(r.leaf(), &v.to_json())?,
            };
            let attr = r.to_owned_attr();
            is_indexed(&attr).then_some(IndexPlan::Eq { attr, value: key })
        }
        Filter::And(a, b) => match (
            plan(a, rt, parent, is_indexed),
            plan(b, rt, parent, is_indexed),
        ) {
            (Some(x), Some(y)) => Some(join(x, y, true)),
            (Some(x), None) | (None, Some(x)) => Some(x),
            (None, None) => None,
        },
        Filter::Or(a, b) => Some(join(
            plan(a, rt, parent, is_indexed)?,
            plan(b, rt, parent, is_indexed)?,
            false,
        )),
        Filter::ValuePath { path, filter } if parent.is_none() => {
            plan(filter, rt, Some(path), is_indexed)
        }
        _ => None,
    }
}

/// Combine two plans, flattening nested chains of the same kind.
fn join(x: IndexPlan, y: IndexPlan, and: bool) -> IndexPlan {
    let mut v = Vec::new();
    for p in [x, y] {
        match (p, and) {
            (IndexPlan::And(c), true) | (IndexPlan::Or(c), false) => v.extend(c),
            (p, _) => v.push(p),
        }
    }
    if and {
        IndexPlan::And(v)
    } else {
        IndexPlan::Or(v)
    }
}
