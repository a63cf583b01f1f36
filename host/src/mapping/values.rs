//! Values between SCIM JSON and connector `Value`s: one attribute's values each way, and
//! reading and writing a (sub-)attribute of a resource.

use base64::Engine as _;
use ecma_scim::ScimError;
use ecma_scim::json::get_ci;
use plugin_api::model::{DataType, Value};
use serde_json::{Map, Value as Json};

use super::AttrMapping;

pub(super) fn get_path<'a>(v: &'a Json, attr: &str, sub: Option<&str>) -> Option<&'a Json> {
    let top = get_ci(v, attr)?;
    match sub {
        None => Some(top),
        Some(s) => get_ci(top, s),
    }
}

pub(super) fn set_path(obj: &mut Map<String, Json>, attr: &str, sub: Option<&str>, value: Json) {
    match sub {
        None => {
            obj.insert(attr.to_owned(), value);
        }
        Some(s) => {
            let entry = obj
                .entry(attr.to_owned())
                .or_insert_with(|| Json::Object(Map::new()));
            if let Json::Object(m) = entry {
                m.insert(s.to_owned(), value);
            }
        }
    }
}

pub(super) fn value_json(
    v: &Value,
    data_type: DataType,
    dn_to_id: &dyn Fn(&str) -> Option<String>,
) -> Json {
    match v {
        Value::String(s) if data_type == DataType::Reference => {
            Json::String(dn_to_id(s).unwrap_or_else(|| s.clone()))
        }
        Value::Reference(s) => Json::String(dn_to_id(s).unwrap_or_else(|| s.clone())),
        Value::String(s) => Json::String(s.clone()),
        Value::Integer(i) => Json::from(*i),
        Value::Boolean(b) => Json::Bool(*b),
        Value::Binary(b) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
    }
}

pub(super) fn to_json(
    values: &[Value],
    multi: bool,
    data_type: DataType,
    dn_to_id: &dyn Fn(&str) -> Option<String>,
) -> Json {
    if multi {
        Json::Array(
            values
                .iter()
                .map(|v| value_json(v, data_type, dn_to_id))
                .collect(),
        )
    } else {
        value_json(&values[0], data_type, dn_to_id)
    }
}

pub(super) fn from_json(
    raw: &Json,
    m: &AttrMapping,
    id_to_ref: &dyn Fn(&str) -> String,
) -> Result<Vec<Value>, ScimError> {
    let items: Vec<&Json> = match raw {
        Json::Null => Vec::new(),
        Json::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(v) = one_from_json(item, m, id_to_ref)? {
            out.push(v);
        }
    }
    if !m.multi_valued {
        out.truncate(1);
    }
    Ok(out)
}

fn one_from_json(
    item: &Json,
    m: &AttrMapping,
    id_to_ref: &dyn Fn(&str) -> String,
) -> Result<Option<Value>, ScimError> {
    let bad = |what: &str| {
        ScimError::invalid_value(format!(
            "attribute '{}' expects {what}, got {item}",
            m.connector
        ))
    };
    // Complex values ({"value": ...}) carry the value in `value` (members, manager).
    let item = match item {
        Json::Object(o) => match o.get("value") {
            Some(v) => v,
            None => return Err(bad("a value")),
        },
        other => other,
    };
    Ok(match (m.data_type, item) {
        (_, Json::Null) => None,
        (_, Json::String(s)) if s.is_empty() => None,
        (DataType::Reference, Json::String(s)) => Some(Value::Reference(id_to_ref(s))),
        (DataType::String, Json::String(s)) => Some(Value::String(s.clone())),
        (DataType::String, Json::Number(n)) => Some(Value::String(n.to_string())),
        (DataType::String, Json::Bool(b)) => Some(Value::String(b.to_string())),
        (DataType::Integer, Json::Number(n)) => {
            Some(Value::Integer(n.as_i64().ok_or_else(|| bad("an integer"))?))
        }
        (DataType::Integer, Json::String(s)) => Some(Value::Integer(
            s.trim().parse().map_err(|_| bad("an integer"))?,
        )),
        (DataType::Boolean, Json::Bool(b)) => Some(Value::Boolean(*b)),
        (DataType::Boolean, Json::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(Value::Boolean(true)),
            "false" => Some(Value::Boolean(false)),
            _ => return Err(bad("a boolean")),
        },
        (DataType::Binary, Json::String(s)) => Some(Value::Binary(
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| bad("base64 binary"))?,
        )),
        (DataType::String, _) => return Err(bad("a string")),
        (DataType::Integer, _) => return Err(bad("an integer")),
        (DataType::Boolean, _) => return Err(bad("a boolean")),
        (DataType::Binary, _) => return Err(bad("base64 binary")),
        (DataType::Reference, _) => return Err(bad("a reference")),
    })
}
