//! The SCIM-level difference between two versions of a resource, attribute by attribute.
//! The engine uses it only to tell whether a PATCH changed anything; a backend that stores SCIM
//! resources (like [`crate::testing::MemoryBackend`]) can use it as its change set.

use serde_json::Value;

use crate::json::{get_ci, values_not_in};
use crate::schema::{AttrType, AttributeDef, Resolved, ResolvedAttr, ResourceTypeDef};

/// One attribute-level change, enough to build an ECMA `Update` (or decide on a whole-object `Replace`).
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeChange {
    pub attr: ResolvedAttr,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    /// New whole value of a single-valued attribute, or of a sub-attribute of a single-valued complex
    /// attribute (`name.givenName`, `manager.value`).
    Set(Value),
    /// The attribute (or sub-attribute) no longer has a value.
    Clear,
    /// Values added to a multi-valued attribute.
    AddValues(Vec<Value>),
    /// Values removed from a multi-valued attribute.
    RemoveValues(Vec<Value>),
}

/// The attribute-level differences between two versions of a resource (used for PATCH and PUT).
/// Single-valued complex attributes are compared per sub-attribute; multi-valued ones per value.
/// `id`, `meta` and `schemas` are not reported.
pub fn diff(old: &Value, new: &Value, rt: &ResourceTypeDef) -> Vec<AttributeChange> {
    let mut out = Vec::new();
    let common = crate::schema::COMMON_ATTRIBUTES
        .iter()
        .filter(|a| a.name == "externalId");
    let core = common
        .chain(rt.schema.attributes.iter())
        .map(|a| (rt.schema.id.as_str(), None, a));
    let ext = rt.extensions.iter().flat_map(|e| {
        e.schema
            .attributes
            .iter()
            .map(move |a| (e.schema.id.as_str(), Some(e.schema.id.as_str()), a))
    });
    for (urn, ext, attr) in core.chain(ext) {
        // Borrowed, not cloned: a group's member list may hold 100,000 values.
        let get = |doc| -> Option<&Value> {
            let c = match ext {
                Some(u) => get_ci(doc, u)?,
                None => doc,
            };
            get_ci(c, &attr.name).filter(|v| !is_empty(v))
        };
        let (o, n) = (get(old), get(new));
        if o == n {
            continue;
        }
        let mk = |sub: Option<&AttributeDef>, kind| AttributeChange {
            attr: Resolved {
                urn,
                ext,
                attr,
                sub,
            }
            .to_owned_attr(),
            kind,
        };
        if attr.multi_valued {
            let as_slice = |v: Option<&Value>| -> Vec<Value> {
                match v {
                    Some(Value::Array(_)) | None => Vec::new(),
                    Some(v) => vec![v.clone()],
                }
            };
            let (os, ns) = (as_slice(o), as_slice(n));
            let ov: &[Value] = match o {
                Some(Value::Array(a)) => a,
                _ => &os,
            };
            let nv: &[Value] = match n {
                Some(Value::Array(a)) => a,
                _ => &ns,
            };
            if nv.is_empty() {
                out.push(mk(None, ChangeKind::Clear));
                continue;
            }
            let removed: Vec<Value> = values_not_in(ov, nv).into_iter().cloned().collect();
            let added: Vec<Value> = values_not_in(nv, ov).into_iter().cloned().collect();
            if !removed.is_empty() {
                out.push(mk(None, ChangeKind::RemoveValues(removed)));
            }
            if !added.is_empty() {
                out.push(mk(None, ChangeKind::AddValues(added)));
            }
        } else if attr.attr_type == AttrType::Complex {
            if n.is_none() {
                out.push(mk(None, ChangeKind::Clear));
                continue;
            }
            for sd in &attr.sub_attributes {
                let sg = |v: Option<&Value>| {
                    v.and_then(|v| get_ci(v, &sd.name))
                        .filter(|v| !is_empty(v))
                        .cloned()
                };
                match (sg(o), sg(n)) {
                    (a, b) if a == b => {}
                    (_, Some(b)) => out.push(mk(Some(sd), ChangeKind::Set(b))),
                    (Some(_), None) => out.push(mk(Some(sd), ChangeKind::Clear)),
                    (None, None) => {}
                }
            }
        } else {
            out.push(mk(
                None,
                n.cloned().map(ChangeKind::Set).unwrap_or(ChangeKind::Clear),
            ));
        }
    }
    out
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}
