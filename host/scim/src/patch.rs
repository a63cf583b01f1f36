//! SCIM PATCH (RFC 7644 §3.5.2) with Entra's quirks, and the attribute-level change set (`diff`).

use serde_json::{Map, Value};

use crate::ScimError;
use crate::coerce::{coerce_attr, coerce_single};
pub use crate::diff::{AttributeChange, ChangeKind, diff};
use crate::elements::{ElementIndex, pattern_matches};
use crate::filter::{
    AttrPath, CompValue, CompareOp, Filter, FilterLimits, parse_attr_path, parse_value_path,
    value_equals,
};
use crate::json::{get_ci, key_ci};
use crate::schema::{AttrType, AttributeDef, Mutability, Resolved, ResourceTypeDef};

/// URN of the PATCH request message (RFC 7644 §3.5.2).
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// `op` of a PATCH operation; parsed case-insensitively (Entra sends `Add`, `Replace`, `Remove`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchOpKind {
    Add,
    Replace,
    Remove,
}

/// A PATCH `path`: `attrPath` or `attrPath "[" valFilter "]" ["." subAttr]`. With a filter, `attr.sub_attr`
/// is the sub-attribute after the brackets (`emails[type eq "work"].value`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
}

impl PatchPath {
    pub fn parse(s: &str) -> Result<Self, ScimError> {
        let (attr, filter) = parse_value_path(s, FilterLimits::default())?;
        Ok(PatchPath { attr, filter })
    }
}

impl std::fmt::Display for PatchPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.filter {
            None => write!(f, "{}", self.attr),
            Some(flt) => {
                let base = AttrPath {
                    sub_attr: None,
                    ..self.attr.clone()
                };
                write!(f, "{base}[{flt}]")?;
                if let Some(s) = &self.attr.sub_attr {
                    write!(f, ".{s}")?;
                }
                Ok(())
            }
        }
    }
}

/// One PATCH operation.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub kind: PatchOpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// Result of [`apply_patch`]: the new resource and the minimal change set from the old one.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOutcome {
    pub resource: Value,
    pub changes: Vec<AttributeChange>,
}

/// Parse a PATCH request body (RFC 7644 §3.5.2); checks the PatchOp schema URN.
pub fn parse_patch(body: &Value) -> Result<Vec<PatchOp>, ScimError> {
    let Value::Object(_) = body else {
        return Err(ScimError::invalid_syntax(
            "PATCH body must be a JSON object",
        ));
    };
    let schemas_ok = get_ci(body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_URN))
            })
        });
    if !schemas_ok {
        return Err(ScimError::invalid_syntax(format!(
            "PATCH body must list '{PATCH_OP_URN}' in schemas"
        )));
    }
    let Some(Value::Array(ops)) = get_ci(body, "Operations") else {
        return Err(ScimError::invalid_syntax(
            "PATCH body needs an 'Operations' array",
        ));
    };
    if ops.is_empty() {
        return Err(ScimError::invalid_syntax("'Operations' is empty"));
    }
    ops.iter()
        .enumerate()
        .map(|(n, op)| {
            let at = |d: &str| format!("Operations[{n}]: {d}");
            let kind = match get_ci(op, "op").and_then(Value::as_str) {
                Some(s) if s.eq_ignore_ascii_case("add") => PatchOpKind::Add,
                Some(s) if s.eq_ignore_ascii_case("replace") => PatchOpKind::Replace,
                Some(s) if s.eq_ignore_ascii_case("remove") => PatchOpKind::Remove,
                Some(s) => return Err(ScimError::invalid_syntax(at(&format!("unknown op '{s}'")))),
                None => return Err(ScimError::invalid_syntax(at("missing 'op'"))),
            };
            let path = match get_ci(op, "path") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.trim().is_empty() => None,
                Some(Value::String(s)) => Some(PatchPath::parse(s).map_err(|mut e| {
                    e.detail = at(&e.detail);
                    e
                })?),
                Some(_) => return Err(ScimError::invalid_path(at("'path' must be a string"))),
            };
            let value = get_ci(op, "value").cloned();
            if kind == PatchOpKind::Remove && path.is_none() {
                return Err(ScimError::no_target(at("'remove' needs a path")));
            }
            if kind != PatchOpKind::Remove
                && path.is_none()
                && !matches!(value, Some(Value::Object(_)))
            {
                return Err(ScimError::invalid_value(at(
                    "an operation without path needs an object value",
                )));
            }
            Ok(PatchOp { kind, path, value })
        })
        .collect()
}

/// Apply PATCH operations to `resource` (which is not modified). All-or-nothing: an error leaves nothing
/// applied. The change set is [`diff`] of the old and new resource, so it is minimal by construction.
pub fn apply_patch(
    resource: &Value,
    ops: &[PatchOp],
    rt: &ResourceTypeDef,
) -> Result<PatchOutcome, ScimError> {
    let doc = patch_resource(resource, ops, rt)?;
    let changes = diff(resource, &doc, rt);
    Ok(PatchOutcome {
        resource: doc,
        changes,
    })
}

/// The resource after the PATCH operations, without the change set: what a server that
/// only needs the new resource pays for (diffing a 100,000-member group costs more than
/// applying the operation).
pub fn patch_resource(
    resource: &Value,
    ops: &[PatchOp],
    rt: &ResourceTypeDef,
) -> Result<Value, ScimError> {
    let mut doc = resource.clone();
    if !doc.is_object() {
        return Err(ScimError::internal("stored resource is not a JSON object"));
    }
    for op in ops {
        match &op.path {
            Some(p) => match schema_target(rt, &p.attr) {
                Some(target) => {
                    if p.filter.is_some() {
                        return Err(ScimError::invalid_path(format!(
                            "a value filter cannot follow the schema URN '{target}'"
                        )));
                    }
                    apply_schema_path(&mut doc, rt, op.kind, target, op.value.as_ref())?
                }
                None => apply_path(
                    &mut doc,
                    rt,
                    op.kind,
                    &p.attr,
                    p.filter.as_ref(),
                    op.value.as_ref(),
                )?,
            },
            None => apply_pathless(&mut doc, rt, op.kind, op.value.as_ref())?,
        }
    }
    fix_schemas(&mut doc, rt);
    check_required_kept(resource, &doc, rt)?;
    Ok(doc)
}

/// Path-less add/replace: every key of the object is a path (`displayName`, `name.givenName`, a URN-qualified
/// attribute, or an extension URN whose value is an object of its attributes).
fn apply_pathless(
    doc: &mut Value,
    rt: &ResourceTypeDef,
    kind: PatchOpKind,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let Some(Value::Object(m)) = value else {
        return Err(ScimError::invalid_value(
            "an operation without path needs an object value",
        ));
    };
    for (k, v) in m {
        if k.eq_ignore_ascii_case("schemas") || k.eq_ignore_ascii_case("meta") {
            continue;
        }
        if k.eq_ignore_ascii_case("id") {
            // Clients echo the id in whole-object replaces; only a different id is an error.
            if get_ci(doc, "id") != Some(v) {
                return Err(ScimError::mutability("'id' is readOnly"));
            }
            continue;
        }
        let schema_urn = rt
            .schema_urns()
            .find(|u| u.eq_ignore_ascii_case(k))
            .map(str::to_owned);
        if let Some(urn) = schema_urn {
            let Value::Object(inner) = v else {
                return Err(ScimError::invalid_value(format!("'{k}' must be an object")));
            };
            for (ik, iv) in inner {
                let mut p = parse_attr_path(ik)?;
                p.urn = Some(urn.clone());
                apply_path(doc, rt, kind, &p, None, Some(iv))?;
            }
            continue;
        }
        let p = parse_attr_path(k)?;
        apply_path(doc, rt, kind, &p, None, Some(v))?;
    }
    Ok(())
}

/// A PATCH path that is a whole schema URN (RFC 7644 §3.5.2: "urn:...:enterprise:2.0:User"): the canonical
/// URN of the core schema or of one of the extensions. The path parser reads such a URN as `urn` + `attr`.
fn schema_target<'a>(rt: &'a ResourceTypeDef, p: &AttrPath) -> Option<&'a str> {
    let u = p.urn.as_deref()?;
    if p.sub_attr.is_some() {
        return None;
    }
    let full = format!("{u}:{}", p.attr);
    rt.schema_urns().find(|s| s.eq_ignore_ascii_case(&full))
}

/// add/replace/remove whose path is a schema URN. add/replace merge the object value's attributes into that
/// schema's attributes (as a path-less operation would); remove of an extension drops the whole extension
/// object (its readOnly attributes stay, they are not the client's to remove) and so its URN from `schemas`.
fn apply_schema_path(
    doc: &mut Value,
    rt: &ResourceTypeDef,
    kind: PatchOpKind,
    urn: &str,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let is_core = urn.eq_ignore_ascii_case(&rt.schema.id);
    if kind == PatchOpKind::Remove {
        let Some(ext) = rt.extension(urn).filter(|_| !is_core) else {
            return Err(ScimError::invalid_path(format!(
                "the core schema '{urn}' cannot be removed"
            )));
        };
        if ext.required {
            return Err(ScimError::invalid_value(format!(
                "the extension '{urn}' is required and cannot be removed"
            )));
        }
        let root = doc.as_object_mut().expect("resource is an object");
        if let Some(k) = key_ci(root, urn) {
            let kept: Map<String, Value> = match root.remove(&k) {
                Some(Value::Object(m)) => m
                    .into_iter()
                    .filter(|(ak, _)| {
                        ext.schema
                            .attribute(ak)
                            .is_some_and(|d| d.mutability == Mutability::ReadOnly)
                    })
                    .collect(),
                _ => Map::new(),
            };
            if !kept.is_empty() {
                root.insert(k, Value::Object(kept));
            }
        }
        return Ok(());
    }
    let Some(Value::Object(inner)) = value.map(single_of) else {
        return Err(ScimError::invalid_value(format!(
            "the value for path '{urn}' must be an object of its attributes"
        )));
    };
    for (ik, iv) in inner {
        if ik.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if is_core {
            // Same as a path-less operation on the core attributes.
            apply_pathless(
                doc,
                rt,
                kind,
                Some(&Value::Object(Map::from_iter([(ik.clone(), iv.clone())]))),
            )?;
            continue;
        }
        let mut p = parse_attr_path(ik)?;
        p.urn = Some(urn.to_owned());
        apply_path(doc, rt, kind, &p, None, Some(iv))?;
    }
    Ok(())
}

/// A PATCH must not remove a required attribute (RFC 7643 §7) that the resource had: 400 `invalidValue`.
/// (Resources stored without one, as Entra creates them, are not rejected for it.)
fn check_required_kept(old: &Value, new: &Value, rt: &ResourceTypeDef) -> Result<(), ScimError> {
    let schemas = std::iter::once((&rt.schema, None)).chain(
        rt.extensions
            .iter()
            .map(|e| (&e.schema, Some(e.schema.id.as_str()))),
    );
    for (schema, ext) in schemas {
        for a in schema.attributes.iter().filter(|a| a.required) {
            let has = |doc: &Value| {
                let c = match ext {
                    Some(u) => get_ci(doc, u),
                    None => Some(doc),
                };
                c.and_then(|c| get_ci(c, &a.name))
                    .is_some_and(|v| !v.is_null() && v != &Value::String(String::new()))
            };
            if has(old) && !has(new) {
                return Err(ScimError::invalid_value(format!(
                    "required attribute '{}' cannot be removed",
                    a.name
                )));
            }
        }
    }
    Ok(())
}

fn resolve<'a>(rt: &'a ResourceTypeDef, p: &AttrPath) -> Result<Resolved<'a>, ScimError> {
    rt.resolve_ref(p.urn.as_deref(), &p.attr, p.sub_attr.as_deref())
        .ok_or_else(|| {
            ScimError::unknown_attribute(
                crate::ScimType::InvalidPath,
                format!("unknown attribute '{p}' for resource type {}", rt.name),
            )
        })
}

/// The object that holds the attribute (root or the extension object), created on demand.
fn container<'d>(doc: &'d mut Value, r: &Resolved<'_>) -> &'d mut Map<String, Value> {
    let root = doc.as_object_mut().expect("resource is an object");
    match r.ext {
        None => root,
        Some(urn) => {
            let k = key_ci(root, urn).unwrap_or_else(|| urn.to_owned());
            let e = root.entry(k).or_insert_with(|| Value::Object(Map::new()));
            if !e.is_object() {
                *e = Value::Object(Map::new());
            }
            e.as_object_mut().expect("just made an object")
        }
    }
}

/// Take the attribute's current value out of its container (so it can be edited and put back).
fn take(c: &mut Map<String, Value>, name: &str) -> Option<Value> {
    key_ci(c, name).and_then(|k| c.remove(&k))
}

fn put(c: &mut Map<String, Value>, name: &str, v: Option<Value>) {
    let empty = match &v {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(_) => false,
    };
    if !empty {
        c.insert(name.to_owned(), v.expect("not empty"));
    }
}

fn apply_path(
    doc: &mut Value,
    rt: &ResourceTypeDef,
    kind: PatchOpKind,
    path: &AttrPath,
    filter: Option<&Filter>,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let r = resolve(rt, path)?;
    let attr = r.attr;
    if attr.mutability == Mutability::ReadOnly
        || r.sub.is_some_and(|s| s.mutability == Mutability::ReadOnly)
    {
        return Err(ScimError::mutability(format!(
            "attribute '{path}' is readOnly"
        )));
    }
    if filter.is_some() && attr.attr_type != AttrType::Complex {
        return Err(ScimError::invalid_path(format!(
            "a value filter needs a complex attribute, '{}' is not",
            attr.name
        )));
    }
    let value = if kind == PatchOpKind::Remove {
        value.filter(|v| !v.is_null())
    } else {
        value
    };
    let c = container(doc, &r);
    let current = take(c, &attr.name);
    if attr.mutability == Mutability::Immutable && kind != PatchOpKind::Remove && current.is_some()
    {
        let same = match (value, &current) {
            (Some(v), Some(cur)) => {
                coerce_attr(attr, v)?.is_some_and(|v| value_equals(attr, &v, cur))
            }
            _ => false,
        };
        if !same {
            put(c, &attr.name, current);
            return Err(ScimError::mutability(format!(
                "attribute '{}' is immutable",
                attr.name
            )));
        }
    }
    let result = edit(current.clone(), rt, &r, kind, filter, value);
    match result {
        Ok(v) => {
            put(c, &attr.name, v);
            if let Some(urn) = r.ext {
                // Drop an extension object that became empty.
                let root = doc.as_object_mut().expect("object");
                if let Some(k) = key_ci(root, urn)
                    && root
                        .get(&k)
                        .and_then(Value::as_object)
                        .is_some_and(Map::is_empty)
                {
                    root.remove(&k);
                }
            }
            Ok(())
        }
        Err(e) => {
            put(c, &attr.name, current);
            Err(e)
        }
    }
}

/// Compute the attribute's new value from its current one.
fn edit(
    current: Option<Value>,
    rt: &ResourceTypeDef,
    r: &Resolved<'_>,
    kind: PatchOpKind,
    filter: Option<&Filter>,
    value: Option<&Value>,
) -> Result<Option<Value>, ScimError> {
    let attr = r.attr;
    use PatchOpKind::*;
    match (filter, r.sub) {
        // Whole attribute.
        (None, None) => {
            if attr.multi_valued {
                let mut items = match current {
                    Some(Value::Array(a)) => a,
                    Some(v) => vec![v],
                    None => vec![],
                };
                let new = match value {
                    Some(v) => match coerce_attr(attr, v)? {
                        Some(Value::Array(a)) => a,
                        _ => vec![],
                    },
                    None => vec![],
                };
                match kind {
                    Add => {
                        // Bucketed: adding one member to a group of 100,000 compares it with
                        // the few members that share its key, not with every member.
                        let mut index = ElementIndex::new(attr, &items, &new);
                        for v in new {
                            if !index.contains(&items, &v) {
                                index.insert(items.len(), &v);
                                items.push(v);
                            }
                        }
                        fix_primary(attr, &mut items);
                    }
                    Replace => {
                        items = new;
                        fix_primary(attr, &mut items);
                    }
                    Remove if value.is_some() => {
                        // Entra removes members by value; absent values are fine.
                        let index = ElementIndex::new(attr, &items, &new);
                        let mut gone = vec![false; items.len()];
                        for p in &new {
                            for i in index.candidates(&items, p) {
                                gone[i] |= pattern_matches(attr, p, &items[i]);
                            }
                        }
                        let mut position = 0;
                        items.retain(|_| {
                            position += 1;
                            !gone[position - 1]
                        });
                    }
                    Remove => items.clear(),
                }
                Ok(Some(Value::Array(items)))
            } else {
                if kind == Remove {
                    return Ok(None);
                }
                let new = match value {
                    Some(v) => coerce_attr(attr, v)?,
                    None => None,
                };
                match (attr.attr_type, current, new) {
                    // RFC 7644 §3.5.2.1/3: a complex value merges; sub-attributes not given stay.
                    (AttrType::Complex, Some(Value::Object(mut cur)), Some(Value::Object(n))) => {
                        for (k, v) in n {
                            if let Some(old) = key_ci(&cur, &k) {
                                cur.remove(&old);
                            }
                            cur.insert(k, v);
                        }
                        // Explicit nulls in the request clear sub-attributes.
                        if let Some(Value::Object(raw)) = value.map(single_of) {
                            for (k, v) in raw {
                                if (v.is_null() || v.as_str() == Some(""))
                                    && let Some(sd) = attr.sub(k)
                                {
                                    take(&mut cur, &sd.name);
                                }
                            }
                        }
                        Ok(Some(Value::Object(cur)))
                    }
                    (_, _, n) => Ok(n),
                }
            }
        }
        // `name.givenName` or `emails.value` (no filter): all elements.
        (None, Some(sub)) => {
            let new = match (kind, value) {
                (Remove, _) | (_, None) => None,
                (_, Some(v)) => coerce_attr(sub, v)?,
            };
            let mut elems = elements(current, attr);
            if elems.is_empty() && new.is_some() {
                elems.push(Map::new());
            }
            for e in &mut elems {
                set_sub(e, sub, new.clone());
            }
            Ok(rebuild(attr, elems))
        }
        // `emails[type eq "work"]` or `emails[type eq "work"].value`.
        (Some(f), sub) => {
            let mut elems = elements(current, attr);
            let hits: Vec<usize> = (0..elems.len())
                .filter(|&i| {
                    crate::filter::matches_element(f, rt, attr, &Value::Object(elems[i].clone()))
                })
                .collect();
            match kind {
                Remove => {
                    match sub {
                        None => {
                            let mut n = 0;
                            elems.retain(|_| {
                                n += 1;
                                !hits.contains(&(n - 1))
                            });
                        }
                        Some(sd) => {
                            for &i in &hits {
                                take(&mut elems[i], &sd.name);
                            }
                        }
                    }
                    Ok(rebuild(attr, elems))
                }
                Add | Replace => {
                    let patch: Option<Map<String, Value>> = match (sub, value) {
                        (_, None) => None,
                        (Some(sd), Some(v)) => {
                            coerce_attr(sd, v)?.map(|x| Map::from_iter([(sd.name.clone(), x)]))
                        }
                        (None, Some(v)) => match coerce_single(attr, single_of(v))? {
                            Some(Value::Object(m)) => Some(m),
                            _ => None,
                        },
                    };
                    let Some(patch) = patch else {
                        // `""`/null clears what the path addresses.
                        match sub {
                            Some(sd) => hits.iter().for_each(|&i| {
                                take(&mut elems[i], &sd.name);
                            }),
                            None => {
                                let mut n = 0;
                                elems.retain(|_| {
                                    n += 1;
                                    !hits.contains(&(n - 1))
                                });
                            }
                        }
                        return Ok(rebuild(attr, elems));
                    };
                    if hits.is_empty() {
                        // Entra: a replace/add on a filtered path with no match creates the element.
                        let mut e = equality_terms(f, attr).ok_or_else(|| {
                            ScimError::no_target(format!(
                                "no value of '{}' matches the filter {f}",
                                attr.name
                            ))
                        })?;
                        e.extend(patch);
                        elems.push(e);
                    } else {
                        for &i in &hits {
                            for (k, v) in &patch {
                                set_sub(
                                    &mut elems[i],
                                    attr.sub(k).expect("coerced"),
                                    Some(v.clone()),
                                );
                            }
                        }
                    }
                    if attr.multi_valued {
                        let mut arr: Vec<Value> = elems.into_iter().map(Value::Object).collect();
                        fix_primary(attr, &mut arr);
                        return Ok(Some(Value::Array(arr)));
                    }
                    Ok(rebuild(attr, elems))
                }
            }
        }
    }
}

fn single_of(v: &Value) -> &Value {
    match v {
        Value::Array(a) if a.len() == 1 => &a[0],
        v => v,
    }
}

fn elements(current: Option<Value>, attr: &AttributeDef) -> Vec<Map<String, Value>> {
    let _ = attr;
    match current {
        Some(Value::Array(a)) => a
            .into_iter()
            .filter_map(|v| {
                if let Value::Object(m) = v {
                    Some(m)
                } else {
                    None
                }
            })
            .collect(),
        Some(Value::Object(m)) => vec![m],
        _ => vec![],
    }
}

fn rebuild(attr: &AttributeDef, elems: Vec<Map<String, Value>>) -> Option<Value> {
    let elems: Vec<Map<String, Value>> = elems.into_iter().filter(|m| !m.is_empty()).collect();
    if attr.multi_valued {
        Some(Value::Array(elems.into_iter().map(Value::Object).collect()))
    } else {
        elems.into_iter().next().map(Value::Object)
    }
}

fn set_sub(e: &mut Map<String, Value>, sd: &AttributeDef, v: Option<Value>) {
    take(e, &sd.name);
    if let Some(v) = v {
        e.insert(sd.name.clone(), v);
    }
}

/// The `sub eq "v"` terms of an `and` chain, as the sub-attributes of a new element.
fn equality_terms(f: &Filter, attr: &AttributeDef) -> Option<Map<String, Value>> {
    fn walk(f: &Filter, attr: &AttributeDef, out: &mut Map<String, Value>) -> bool {
        match f {
            Filter::And(a, b) => walk(a, attr, out) && walk(b, attr, out),
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } if path.urn.is_none() && path.sub_attr.is_none() => {
                let Some(sd) = attr.sub(&path.attr) else {
                    return false;
                };
                if matches!(value, CompValue::Null) {
                    return false;
                }
                match coerce_single(sd, &value.to_json()) {
                    Ok(Some(v)) => {
                        out.insert(sd.name.clone(), v);
                        true
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    }
    let mut out = Map::new();
    (walk(f, attr, &mut out) && !out.is_empty()).then_some(out)
}

/// RFC 7643 §2.4: at most one value has `primary: true`; the last one set wins.
fn fix_primary(attr: &AttributeDef, items: &mut [Value]) {
    if attr.sub("primary").is_none() {
        return;
    }
    let Some(last) = items
        .iter()
        .rposition(|e| get_ci(e, "primary") == Some(&Value::Bool(true)))
    else {
        return;
    };
    for (i, e) in items.iter_mut().enumerate() {
        if i != last
            && let Some(m) = e.as_object_mut()
            && let Some(k) = key_ci(m, "primary")
        {
            m.insert(k, Value::Bool(false));
        }
    }
}

/// `schemas` lists the core schema and every extension that has data (RFC 7643 §3).
pub(crate) fn fix_schemas(doc: &mut Value, rt: &ResourceTypeDef) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    let mut schemas = vec![Value::String(rt.schema.id.clone())];
    for e in &rt.extensions {
        let has = key_ci(root, &e.schema.id)
            .and_then(|k| root.get(&k))
            .is_some_and(|v| v.as_object().is_some_and(|o| !o.is_empty()));
        if has || e.required {
            schemas.push(Value::String(e.schema.id.clone()));
        }
    }
    root.insert("schemas".to_owned(), Value::Array(schemas));
}
