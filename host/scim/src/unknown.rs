//! Attributes a resource type does not define, in a write: refused (the default, RFC 7644's
//! `invalidSyntax`/`invalidPath`), or dropped before the write is validated, for applications
//! that serve generic SCIM clients sending more than the target stores.

use serde_json::{Map, Value};

use crate::patch::PatchOp;
use crate::schema::{AttrType, AttributeDef, ResourceTypeDef, SchemaDef};

/// What a write does with an attribute the resource type does not define.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnknownAttributes {
    /// 400, naming the attribute (and the application, where the engine knows it).
    #[default]
    Reject,
    /// Dropped from the write; the engine reports each one ([`crate::EngineConfig`]).
    Ignore,
}

/// Removes from a POST/PUT body what `rt` does not define (top-level attributes, unknown
/// schema URNs, extension attributes, sub-attributes of complex values). Returns the names
/// removed.
pub(crate) fn strip_resource(body: &mut Value, rt: &ResourceTypeDef) -> Vec<String> {
    let mut removed = Vec::new();
    let Some(obj) = body.as_object_mut() else {
        return removed;
    };
    let keys: Vec<String> = obj.keys().cloned().collect();
    for k in keys {
        if ["schemas", "id", "meta", "externalId"]
            .iter()
            .any(|x| x.eq_ignore_ascii_case(&k))
        {
            continue;
        }
        if let Some(ext) = rt.extension(&k) {
            if let Some(inner) = obj.get_mut(&k).and_then(Value::as_object_mut) {
                strip_attributes(inner, &ext.schema, Some(&ext.schema.id), &mut removed);
            }
            continue;
        }
        if k.eq_ignore_ascii_case(&rt.schema.id) {
            if let Some(inner) = obj.get_mut(&k).and_then(Value::as_object_mut) {
                strip_attributes(inner, &rt.schema, None, &mut removed);
            }
            continue;
        }
        if k.contains(':') {
            // A URN-qualified attribute flattened to the top level, or a whole schema the
            // type does not have.
            if !qualified_known(rt, &k) {
                obj.remove(&k);
                removed.push(k);
            }
            continue;
        }
        match rt.schema.attribute(&k) {
            None => {
                obj.remove(&k);
                removed.push(k);
            }
            Some(def) => {
                if let Some(v) = obj.get_mut(&k) {
                    strip_subs(v, def, &k, &mut removed);
                }
            }
        }
    }
    removed
}

/// Removes PATCH operations whose path names what `rt` does not define, and unknown
/// attributes from the values of path-less operations. Returns the names removed.
pub(crate) fn strip_patch(ops: &mut Vec<PatchOp>, rt: &ResourceTypeDef) -> Vec<String> {
    let mut removed = Vec::new();
    ops.retain_mut(|op| match &op.path {
        Some(p) => match unknown_in_path(
            rt,
            p.attr.urn.as_deref(),
            &p.attr.attr,
            p.attr.sub_attr.as_deref(),
        ) {
            Some(name) => {
                removed.push(name);
                false
            }
            None => true,
        },
        None => {
            if let Some(v) = op.value.as_mut() {
                removed.extend(strip_resource(v, rt));
            }
            true
        }
    });
    removed
}

fn strip_attributes(
    obj: &mut Map<String, Value>,
    schema: &SchemaDef,
    urn: Option<&str>,
    removed: &mut Vec<String>,
) {
    let keys: Vec<String> = obj.keys().cloned().collect();
    for k in keys {
        let name = match urn {
            Some(u) => format!("{u}:{k}"),
            None => k.clone(),
        };
        match schema.attribute(&k) {
            None => {
                obj.remove(&k);
                removed.push(name);
            }
            Some(def) => {
                if let Some(v) = obj.get_mut(&k) {
                    strip_subs(v, def, &name, removed);
                }
            }
        }
    }
}

/// Unknown sub-attributes of a complex value (or of each element of a multi-valued one).
fn strip_subs(v: &mut Value, def: &AttributeDef, name: &str, removed: &mut Vec<String>) {
    if def.attr_type != AttrType::Complex {
        return;
    }
    let mut strip_one = |item: &mut Value| {
        if let Some(o) = item.as_object_mut() {
            let keys: Vec<String> = o.keys().cloned().collect();
            for k in keys {
                if def.sub(&k).is_none() {
                    o.remove(&k);
                    let full = format!("{name}.{k}");
                    if !removed.contains(&full) {
                        removed.push(full);
                    }
                }
            }
        }
    };
    match v {
        Value::Array(items) => items.iter_mut().for_each(&mut strip_one),
        other => strip_one(other),
    }
}

/// Whether a URN-qualified key (`urn:…:attr` or a schema URN) names something `rt` has.
fn qualified_known(rt: &ResourceTypeDef, key: &str) -> bool {
    match crate::filter::parse_attr_path(key) {
        Ok(p) => unknown_in_path(rt, p.urn.as_deref(), &p.attr, p.sub_attr.as_deref()).is_none(),
        Err(_) => false,
    }
}

/// The name of what a path addresses that `rt` does not define, if anything.
fn unknown_in_path(
    rt: &ResourceTypeDef,
    urn: Option<&str>,
    attr: &str,
    sub: Option<&str>,
) -> Option<String> {
    let full = || {
        let mut n = match urn {
            Some(u) => format!("{u}:{attr}"),
            None => attr.to_owned(),
        };
        if let Some(s) = sub {
            n.push('.');
            n.push_str(s);
        }
        n
    };
    if urn.is_some_and(|u| rt.extension(&format!("{u}:{attr}")).is_some()) {
        // The path is a whole extension schema (`urn:…:enterprise:2.0:User`).
        return None;
    }
    match rt.resolve_ref(urn, attr, sub) {
        Some(_) => None,
        None => Some(full()),
    }
}
