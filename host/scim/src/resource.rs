//! Stored resources, `meta` (RFC 7643 §3.1) and request-body validation for POST/PUT (RFC 7644 §3.3, §3.5.1).

use serde_json::{Map, Value, json};

use crate::ScimError;
use crate::coerce::coerce_attr;
use crate::filter::parse_attr_path;
use crate::json::get_ci;
use crate::patch::fix_schemas;
use crate::schema::{Mutability, ResourceTypeDef, SchemaDef};

/// `meta` of a resource. `version` is the weak entity tag (`W/"..."`) also sent as the `ETag` header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Meta {
    pub resource_type: String,
    /// RFC 3339 timestamps.
    pub created: String,
    pub last_modified: String,
    /// Absolute URL; when empty the engine fills it from the base URL, endpoint and id.
    pub location: String,
    pub version: String,
}

impl Meta {
    pub fn to_json(&self) -> Value {
        let mut m = json!({"resourceType": self.resource_type, "location": self.location});
        for (k, v) in [
            ("created", &self.created),
            ("lastModified", &self.last_modified),
            ("version", &self.version),
        ] {
            if !v.is_empty() {
                m[k] = Value::String(v.clone());
            }
        }
        m
    }
}

/// A weak entity tag for an opaque version string: `W/"<v>"` (RFC 7232 §2.3).
pub fn weak_etag(v: &str) -> String {
    format!("W/\"{}\"", v.replace('"', ""))
}

/// Does an `If-Match`/`If-None-Match` header value match `version`? Weak comparison; `*` matches anything.
pub fn etag_matches(header: &str, version: &str) -> bool {
    let strip = |s: &str| {
        s.trim()
            .trim_start_matches("W/")
            .trim_start_matches("w/")
            .trim()
            .to_owned()
    };
    let v = strip(version);
    header.split(',').any(|h| h.trim() == "*" || strip(h) == v)
}

/// What a [`crate::Backend`] stores and returns: the SCIM JSON (with `id` and `schemas`, without `meta`) and its
/// meta data.
///
/// A stored resource is immutable once shared (backends hand out `Arc`s), so the engine keeps the
/// served JSON of the default projection next to it, encoded on first read: a cached lookup then
/// costs no JSON tree building at all. A clone starts without it, because a clone is made to be
/// changed.
#[derive(Debug)]
pub struct StoredResource {
    pub resource: Value,
    pub meta: Meta,
    encoded: std::sync::OnceLock<Box<str>>,
}

impl StoredResource {
    pub fn new(resource: Value, meta: Meta) -> Self {
        Self {
            resource,
            meta,
            encoded: std::sync::OnceLock::new(),
        }
    }

    pub fn id(&self) -> Option<&str> {
        self.resource.get("id").and_then(Value::as_str)
    }

    /// The served JSON of the default projection, computed by `encode` on first use.
    pub(crate) fn encoded(&self, encode: impl FnOnce() -> String) -> &str {
        self.encoded.get_or_init(|| encode().into_boxed_str())
    }

    /// The served JSON of the default projection, taken out of a resource no one else holds
    /// (no copy); `encode` makes it when it was not made yet.
    pub(crate) fn into_encoded(mut self, encode: impl FnOnce(&Self) -> String) -> String {
        match self.encoded.take() {
            Some(text) => text.into_string(),
            None => encode(&self),
        }
    }
}

impl Clone for StoredResource {
    fn clone(&self) -> Self {
        Self::new(self.resource.clone(), self.meta.clone())
    }
}

impl PartialEq for StoredResource {
    fn eq(&self, other: &Self) -> bool {
        self.resource == other.resource && self.meta == other.meta
    }
}

/// Validate and normalise a POST/PUT body for `rt`: canonical attribute names, typed values (with Entra's
/// string booleans and one-element arrays), readOnly attributes dropped (RFC 7643 §7), unknown attributes
/// rejected (400 `invalidSyntax`), bad values rejected (400 `invalidValue`), required attributes checked, and
/// `schemas` rebuilt from the data present. `id` is not kept: the backend assigns it.
pub fn normalize_resource(body: &Value, rt: &ResourceTypeDef) -> Result<Value, ScimError> {
    let Some(m) = body.as_object() else {
        return Err(ScimError::invalid_syntax("resource must be a JSON object"));
    };
    let mut out = Map::new();
    let core = &rt.schema;
    for (k, v) in m {
        if ["schemas", "id", "meta"]
            .iter()
            .any(|x| x.eq_ignore_ascii_case(k))
        {
            continue;
        }
        if k.eq_ignore_ascii_case(&core.id) {
            let Some(inner) = v.as_object() else {
                return Err(ScimError::invalid_syntax(format!(
                    "'{k}' must be an object"
                )));
            };
            for (ik, iv) in inner {
                put_attr(&mut out, core, None, ik, iv)?;
            }
            continue;
        }
        if let Some(ext) = rt.extension(k) {
            let Some(inner) = v.as_object() else {
                if v.is_null() {
                    continue;
                }
                return Err(ScimError::invalid_syntax(format!(
                    "'{k}' must be an object"
                )));
            };
            for (ik, iv) in inner {
                put_attr(&mut out, &ext.schema, Some(&ext.schema.id), ik, iv)?;
            }
            continue;
        }
        if k.contains(':') {
            // A URN-qualified attribute flattened to the top level.
            let p = parse_attr_path(k).map_err(|_| {
                ScimError::unknown_attribute(
                    crate::ScimType::InvalidSyntax,
                    format!("unknown schema or attribute '{k}'"),
                )
            })?;
            let urn = p.urn.as_deref().unwrap_or_default();
            if p.sub_attr.is_none()
                && let Some(ext) = rt.extension(urn)
            {
                put_attr(&mut out, &ext.schema, Some(&ext.schema.id), &p.attr, v)?;
                continue;
            }
            if p.sub_attr.is_none() && urn.eq_ignore_ascii_case(&core.id) {
                put_attr(&mut out, core, None, &p.attr, v)?;
                continue;
            }
            return Err(ScimError::unknown_attribute(
                crate::ScimType::InvalidSyntax,
                format!("unknown schema or attribute '{k}'"),
            ));
        }
        if k.eq_ignore_ascii_case("externalId") {
            if let Some(x) = v.as_str().filter(|s| !s.is_empty()) {
                out.insert("externalId".into(), Value::String(x.to_owned()));
            } else if !v.is_null() && v.as_str().is_none() {
                return Err(ScimError::invalid_value("'externalId' must be a string"));
            }
            continue;
        }
        put_attr(&mut out, core, None, k, v)?;
    }
    let mut doc = Value::Object(out);
    // Required attributes (RFC 7643 §7) of the core schema and of extensions in use.
    let missing = |s: &SchemaDef, ext: bool| -> Option<String> {
        let c = if ext { get_ci(&doc, &s.id) } else { Some(&doc) };
        s.attributes
            .iter()
            .find(|a| a.required && c.and_then(|c| get_ci(c, &a.name)).is_none())
            .map(|a| a.name.clone())
    };
    if let Some(a) = missing(core, false) {
        return Err(ScimError::invalid_value(format!(
            "required attribute '{a}' is missing"
        )));
    }
    for e in &rt.extensions {
        if (e.required || get_ci(&doc, &e.schema.id).is_some())
            && let Some(a) = missing(&e.schema, true)
        {
            return Err(ScimError::invalid_value(format!(
                "required attribute '{}:{a}' is missing",
                e.schema.id
            )));
        }
    }
    fix_schemas(&mut doc, rt);
    Ok(doc)
}

fn put_attr(
    out: &mut Map<String, Value>,
    schema: &SchemaDef,
    ext: Option<&str>,
    k: &str,
    v: &Value,
) -> Result<(), ScimError> {
    let Some(def) = schema.attribute(k) else {
        return Err(ScimError::unknown_attribute(
            crate::ScimType::InvalidSyntax,
            format!("unknown attribute '{k}' in schema {}", schema.id),
        ));
    };
    // readOnly values in a request are ignored (RFC 7643 §7), except in extensions: there
    // they are attributes the target only imports, and a client that writes one is told so
    // ([`reject_read_only_extension_values`]) instead of losing the value silently.
    if def.mutability == Mutability::ReadOnly && ext.is_none() {
        return Ok(());
    }
    let Some(x) = coerce_attr(def, v)? else {
        return Ok(());
    };
    let target = match ext {
        None => out,
        Some(u) => out
            .entry(u.to_owned())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("extension object"),
    };
    target.insert(def.name.clone(), x);
    Ok(())
}

/// readOnly extension attributes in a POST or PUT body (kept by [`normalize_resource`]): a
/// value equal to the current one (a client echoing what it read) is dropped, any other is a
/// 400 `mutability` naming the attribute. `current` is `None` for a create.
pub(crate) fn reject_read_only_extension_values(
    doc: &mut Value,
    rt: &ResourceTypeDef,
    current: Option<&Value>,
) -> Result<(), ScimError> {
    use crate::filter::value_equals;
    use crate::json::key_ci;
    for e in &rt.extensions {
        let Some(container) = doc
            .as_object_mut()
            .and_then(|root| key_ci(root, &e.schema.id).and_then(|k| root.get_mut(&k)))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for def in e
            .schema
            .attributes
            .iter()
            .filter(|d| d.mutability == Mutability::ReadOnly)
        {
            let Some(k) = key_ci(container, &def.name) else {
                continue;
            };
            let now = current
                .and_then(|c| get_ci(c, &e.schema.id))
                .and_then(|c| get_ci(c, &def.name));
            let unchanged = match (now, &container[&k]) {
                (Some(Value::Array(a)), Value::Array(b)) => {
                    a.len() == b.len()
                        && a.iter().all(|x| b.iter().any(|y| value_equals(def, x, y)))
                }
                (Some(a), b) => value_equals(def, a, b),
                (None, _) => false,
            };
            if !unchanged {
                return Err(ScimError::mutability(format!(
                    "attribute '{}:{}' is readOnly: the target only imports it",
                    e.schema.id, def.name
                )));
            }
            container.remove(&k);
        }
    }
    Ok(())
}

/// PUT and immutable attributes (RFC 7643 §7, RFC 7644 §3.5.1): an immutable attribute that already has a
/// value must be given the same value (else 400 `mutability`); when the body omits it, the current value is
/// kept. Applies to top-level attributes of the core schema and the extensions, and to the immutable
/// sub-attributes of single-valued complex attributes. (Elements of multi-valued attributes such as
/// `members` are added and removed as a whole, so their immutable sub-attributes are not compared here.)
pub(crate) fn enforce_immutable(
    old: &Value,
    new: &mut Value,
    rt: &ResourceTypeDef,
) -> Result<(), ScimError> {
    use crate::filter::value_equals;
    use crate::json::key_ci;
    let same = |def: &crate::schema::AttributeDef, a: &Value, b: &Value| -> bool {
        match (a, b) {
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len()
                    && x.iter().all(|p| y.iter().any(|q| value_equals(def, p, q)))
                    && y.iter().all(|q| x.iter().any(|p| value_equals(def, p, q)))
            }
            _ => value_equals(def, a, b),
        }
    };
    let schemas = std::iter::once((&rt.schema, None)).chain(
        rt.extensions
            .iter()
            .map(|e| (&e.schema, Some(e.schema.id.as_str()))),
    );
    for (schema, ext) in schemas {
        for def in &schema.attributes {
            let old_c = match ext {
                Some(u) => get_ci(old, u),
                None => Some(old),
            };
            let Some(cur) = old_c
                .and_then(|c| get_ci(c, &def.name))
                .filter(|v| !v.is_null())
            else {
                continue;
            };
            let complex_subs = def.attr_type == crate::schema::AttrType::Complex
                && !def.multi_valued
                && def.mutability != Mutability::Immutable;
            if def.mutability != Mutability::Immutable && !complex_subs {
                continue;
            }
            let root = new
                .as_object_mut()
                .expect("normalised resource is an object");
            let container = match ext {
                None => root,
                Some(u) => {
                    let k = key_ci(root, u).unwrap_or_else(|| u.to_owned());
                    let e = root.entry(k).or_insert_with(|| Value::Object(Map::new()));
                    e.as_object_mut().expect("extension object")
                }
            };
            if def.mutability == Mutability::Immutable {
                match key_ci(container, &def.name).and_then(|k| container.get(&k)) {
                    Some(v) if !same(def, cur, v) => {
                        return Err(ScimError::mutability(format!(
                            "attribute '{}' is immutable and already has a value",
                            def.name
                        )));
                    }
                    // Equal (perhaps in another case or order): keep the stored form, no change.
                    _ => {
                        let k = key_ci(container, &def.name).unwrap_or_else(|| def.name.clone());
                        container.insert(k, cur.clone());
                    }
                }
                continue;
            }
            // A single-valued complex attribute: its immutable sub-attributes.
            for sd in def
                .sub_attributes
                .iter()
                .filter(|s| s.mutability == Mutability::Immutable)
            {
                let Some(sc) = get_ci(cur, &sd.name).filter(|v| !v.is_null()) else {
                    continue;
                };
                let k = key_ci(container, &def.name).unwrap_or_else(|| def.name.clone());
                let obj = container
                    .entry(k)
                    .or_insert_with(|| Value::Object(Map::new()));
                let Some(obj) = obj.as_object_mut() else {
                    continue;
                };
                match key_ci(obj, &sd.name).and_then(|k| obj.get(&k)) {
                    Some(v) if !same(sd, sc, v) => {
                        return Err(ScimError::mutability(format!(
                            "attribute '{}.{}' is immutable and already has a value",
                            def.name, sd.name
                        )));
                    }
                    _ => {
                        let k = key_ci(obj, &sd.name).unwrap_or_else(|| sd.name.clone());
                        obj.insert(k, sc.clone());
                    }
                }
            }
        }
    }
    // Drop containers the checks may have created empty.
    if let Some(root) = new.as_object_mut() {
        root.retain(|_, v| !v.as_object().is_some_and(Map::is_empty));
    }
    fix_schemas(new, rt);
    Ok(())
}
