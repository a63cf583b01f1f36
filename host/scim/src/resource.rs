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
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResource {
    pub resource: Value,
    pub meta: Meta,
}

impl StoredResource {
    pub fn id(&self) -> Option<&str> {
        self.resource.get("id").and_then(Value::as_str)
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
                ScimError::invalid_syntax(format!("unknown schema or attribute '{k}'"))
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
            return Err(ScimError::invalid_syntax(format!(
                "unknown schema or attribute '{k}'"
            )));
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
        return Err(ScimError::invalid_syntax(format!(
            "unknown attribute '{k}' in schema {}",
            schema.id
        )));
    };
    if def.mutability == Mutability::ReadOnly {
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
