//! Filter evaluation over SCIM JSON resources (RFC 7644 §3.4.2.2), typed by the resource type's schema.

use std::cmp::Ordering;
use std::sync::LazyLock;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{AttrPath, CompValue, CompareOp, Filter};
use crate::json::get_ci;
use crate::schema::{AttrType, AttributeDef, ResourceTypeDef};

/// Attributes that are not in the schema (e.g. Entra's default `PLACEHOLDER`) compare as case-insensitive
/// strings: they simply never match rather than failing the request.
static UNKNOWN: LazyLock<AttributeDef> = LazyLock::new(|| AttributeDef::string("unknown"));

/// Does `resource` match `f`? Attribute names resolve through `rt` (short or URN-qualified, case-insensitive);
/// comparisons follow the attribute's type and `caseExact`.
pub fn matches(f: &Filter, resource: &Value, rt: &ResourceTypeDef) -> bool {
    eval(f, resource, rt, None)
}

/// Does one element of complex attribute `parent` match a value filter (`emails[type eq "work"]`)?
pub(crate) fn matches_element(
    f: &Filter,
    rt: &ResourceTypeDef,
    parent: &AttributeDef,
    elem: &Value,
) -> bool {
    eval(f, &Value::Null, rt, Some((parent, elem)))
}

/// The value(s) a path addresses, with the definition that types them.
fn for_each_value(
    resource: &Value,
    rt: &ResourceTypeDef,
    ctx: Option<(&AttributeDef, &Value)>,
    path: &AttrPath,
    f: &mut dyn FnMut(&AttributeDef, &Value) -> bool,
) -> bool {
    if let Some((parent, elem)) = ctx {
        // Inside a value path: names are sub-attributes of the complex attribute.
        if path.urn.is_some() || path.sub_attr.is_some() {
            return false;
        }
        let def = parent.sub(&path.attr).unwrap_or(&UNKNOWN);
        return match get_ci(elem, &path.attr) {
            Some(Value::Array(a)) => a.iter().any(|v| f(def, v)),
            Some(v) => f(def, v),
            None => false,
        };
    }
    let Some(r) = rt.resolve_ref(path.urn.as_deref(), &path.attr, path.sub_attr.as_deref()) else {
        // Unknown attribute: look it up literally, typed as a case-insensitive string.
        let container = match &path.urn {
            Some(u) => get_ci(resource, u),
            None => Some(resource),
        };
        let v = container.and_then(|c| get_ci(c, &path.attr));
        let v = match (&path.sub_attr, v) {
            (Some(s), Some(v)) => get_ci(v, s),
            (None, v) => v,
            _ => None,
        };
        return match v {
            Some(Value::Array(a)) => a.iter().any(|x| f(&UNKNOWN, x)),
            Some(v) => f(&UNKNOWN, v),
            None => false,
        };
    };
    let container = match r.ext {
        Some(u) => match get_ci(resource, u) {
            Some(c) => c,
            None => return false,
        },
        None => resource,
    };
    let Some(v) = get_ci(container, &r.attr.name) else {
        return false;
    };
    let elems: &[Value] = match v {
        Value::Array(a) => a,
        v => std::slice::from_ref(v),
    };
    match r.sub {
        Some(sub) => elems
            .iter()
            .filter_map(|e| get_ci(e, &sub.name))
            .any(|x| f(sub, x)),
        None if r.attr.attr_type == AttrType::Complex => {
            // RFC 7644 §3.4.2.2: a complex attribute without sub-attribute compares its `value`.
            let def = r.attr.sub("value").unwrap_or(&UNKNOWN);
            elems
                .iter()
                .filter_map(|e| get_ci(e, "value"))
                .any(|x| f(def, x))
        }
        None => elems.iter().any(|x| f(r.attr, x)),
    }
}

fn eval(
    f: &Filter,
    res: &Value,
    rt: &ResourceTypeDef,
    ctx: Option<(&AttributeDef, &Value)>,
) -> bool {
    match f {
        Filter::And(a, b) => eval(a, res, rt, ctx) && eval(b, res, rt, ctx),
        Filter::Or(a, b) => eval(a, res, rt, ctx) || eval(b, res, rt, ctx),
        Filter::Not(x) => !eval(x, res, rt, ctx),
        Filter::Present(p) => for_each_value(res, rt, ctx, p, &mut |_, v| is_present(v)),
        Filter::Compare {
            path,
            op: CompareOp::Ne,
            value,
        } => !eval_cmp(res, rt, ctx, path, CompareOp::Eq, value),
        Filter::Compare { path, op, value } => eval_cmp(res, rt, ctx, path, *op, value),
        Filter::ValuePath { path, filter } => {
            if ctx.is_some() {
                return false;
            }
            let Some(r) = rt.resolve_ref(path.urn.as_deref(), &path.attr, None) else {
                return false;
            };
            let container = match r.ext {
                Some(u) => get_ci(res, u),
                None => Some(res),
            };
            match container.and_then(|c| get_ci(c, &r.attr.name)) {
                Some(Value::Array(a)) => a.iter().any(|e| eval(filter, res, rt, Some((r.attr, e)))),
                Some(e @ Value::Object(_)) => eval(filter, res, rt, Some((r.attr, e))),
                _ => false,
            }
        }
    }
}

fn eval_cmp(
    res: &Value,
    rt: &ResourceTypeDef,
    ctx: Option<(&AttributeDef, &Value)>,
    path: &AttrPath,
    op: CompareOp,
    value: &CompValue,
) -> bool {
    if let CompValue::Null = value {
        // `attr eq null` holds when the attribute has no value.
        let present = for_each_value(res, rt, ctx, path, &mut |_, v| is_present(v));
        return op == CompareOp::Eq && !present;
    }
    for_each_value(res, rt, ctx, path, &mut |def, v| compare(def, v, op, value))
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn ordering_op(op: CompareOp, o: Ordering) -> bool {
    match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// Compare one attribute value with a filter value, typed by `def` (RFC 7644 §3.4.2.2).
fn compare(def: &AttributeDef, actual: &Value, op: CompareOp, expected: &CompValue) -> bool {
    match def.attr_type {
        AttrType::Boolean => match (as_bool(actual), expected) {
            (Some(a), CompValue::Bool(b)) => {
                ordering_op(op, a.cmp(b)) && matches!(op, CompareOp::Eq | CompareOp::Ne)
            }
            (Some(a), CompValue::String(s)) => {
                as_bool(&Value::String(s.clone())).is_some_and(|b| op == CompareOp::Eq && a == b)
            }
            _ => false,
        },
        AttrType::Integer | AttrType::Decimal => {
            let e = match expected {
                CompValue::Number(n) => n.as_f64(),
                CompValue::String(s) => s.trim().parse().ok(),
                _ => None,
            };
            match (as_f64(actual), e) {
                (Some(a), Some(e)) => a.partial_cmp(&e).is_some_and(|o| ordering_op(op, o)),
                _ => false,
            }
        }
        AttrType::DateTime => match (actual, expected) {
            (Value::String(a), CompValue::String(e)) => match (parse_time(a), parse_time(e)) {
                (Some(a), Some(e)) => ordering_op(op, a.cmp(&e)),
                _ => compare_str(a, e, op, def.case_exact),
            },
            _ => false,
        },
        _ => {
            let e: std::borrow::Cow<'_, str> = match expected {
                CompValue::String(s) => s.into(),
                CompValue::Bool(b) => b.to_string().into(),
                CompValue::Number(n) => n.to_string().into(),
                CompValue::Null => return false,
            };
            match actual {
                Value::String(a) => compare_str(a, &e, op, def.case_exact),
                Value::Bool(_) | Value::Number(_) => compare_str(&actual.to_string(), &e, op, true),
                _ => false,
            }
        }
    }
}

fn compare_str(a: &str, e: &str, op: CompareOp, case_exact: bool) -> bool {
    if case_exact {
        return str_op(a, e, op);
    }
    if a.is_ascii() && e.is_ascii() && op == CompareOp::Eq {
        return a.eq_ignore_ascii_case(e);
    }
    str_op(&a.to_lowercase(), &e.to_lowercase(), op)
}

fn str_op(a: &str, e: &str, op: CompareOp) -> bool {
    match op {
        CompareOp::Co => a.contains(e),
        CompareOp::Sw => a.starts_with(e),
        CompareOp::Ew => a.ends_with(e),
        _ => ordering_op(op, a.cmp(e)),
    }
}

/// SCIM equality of two attribute values of type `def` (caseExact-aware for strings; used by PATCH).
pub fn value_equals(def: &AttributeDef, a: &Value, b: &Value) -> bool {
    match (def.attr_type, a, b) {
        (AttrType::Complex, Value::Object(x), Value::Object(y)) => {
            let keys = x.keys().chain(y.keys());
            keys.into_iter().all(|k| {
                let sd = def.sub(k).unwrap_or(&UNKNOWN);
                match (get_ci(a, k), get_ci(b, k)) {
                    (Some(p), Some(q)) => value_equals(sd, p, q),
                    (None, None) => true,
                    (Some(Value::Null), None) | (None, Some(Value::Null)) => true,
                    _ => false,
                }
            })
        }
        (_, Value::String(x), Value::String(y))
            if !def.case_exact && def.attr_type == AttrType::String =>
        {
            x == y || x.to_lowercase() == y.to_lowercase()
        }
        (AttrType::DateTime, Value::String(x), Value::String(y)) => {
            match (parse_time(x), parse_time(y)) {
                (Some(p), Some(q)) => p == q,
                _ => x == y,
            }
        }
        (AttrType::Integer | AttrType::Decimal, _, _) => match (as_f64(a), as_f64(b)) {
            (Some(p), Some(q)) => p == q,
            _ => a == b,
        },
        _ => a == b,
    }
}
