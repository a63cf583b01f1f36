//! Value normalisation shared by PATCH and POST/PUT: canonical attribute names, typed values, and Entra's
//! quirks (`"True"`/`"False"` strings, a single value wrapped in an array, `""`/`null` meaning "no value",
//! `manager` given as a plain id).

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ScimError;
use crate::schema::{AttrType, AttributeDef, Mutability};

/// Normalise a value for attribute `def` as a whole (multi-valued → array of elements; single-valued →
/// one element). `Ok(None)` means "no value" (clear).
pub(crate) fn coerce_attr(def: &AttributeDef, v: &Value) -> Result<Option<Value>, ScimError> {
    if def.multi_valued {
        let items: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            Value::Null => return Ok(None),
            v => vec![v],
        };
        let mut out = Vec::with_capacity(items.len());
        for it in items {
            if let Some(x) = coerce_single(def, it)? {
                out.push(x);
            }
        }
        return Ok(if out.is_empty() {
            None
        } else {
            Some(Value::Array(out))
        });
    }
    let v = match v {
        // Entra sends single values as one-element arrays (e.g. manager: [{"$ref":null,"value":"id"}]).
        Value::Array(a) if a.len() <= 1 => match a.first() {
            Some(x) => x,
            None => return Ok(None),
        },
        Value::Array(_) => {
            return Err(ScimError::invalid_value(format!(
                "attribute '{}' is single-valued but several values were given",
                def.name
            )));
        }
        v => v,
    };
    coerce_single(def, v)
}

/// Normalise one element of attribute `def` (ignoring `multi_valued`).
pub(crate) fn coerce_single(def: &AttributeDef, v: &Value) -> Result<Option<Value>, ScimError> {
    let bad = || {
        ScimError::invalid_value(format!(
            "invalid value {v} for attribute '{}' of type {}",
            def.name,
            def.attr_type.as_str()
        ))
    };
    if v.is_null() || v.as_str() == Some("") {
        return Ok(None);
    }
    Ok(Some(match def.attr_type {
        AttrType::Complex => match v {
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, sv) in m {
                    let Some(sd) = def.sub(k) else {
                        return Err(ScimError::unknown_attribute(
                            crate::ScimType::InvalidValue,
                            format!("'{k}' is not a sub-attribute of '{}'", def.name),
                        ));
                    };
                    // readOnly sub-attributes in a request are ignored (RFC 7643 §7).
                    if sd.mutability == Mutability::ReadOnly {
                        continue;
                    }
                    if let Some(x) = coerce_attr(sd, sv)? {
                        out.insert(sd.name.clone(), x);
                    }
                }
                if out.is_empty() {
                    return Ok(None);
                }
                Value::Object(out)
            }
            // A plain value for a complex attribute is its `value` sub-attribute (manager: "id").
            Value::String(_) | Value::Number(_) | Value::Bool(_) if def.sub("value").is_some() => {
                let sd = def.sub("value").expect("checked");
                let mut out = Map::new();
                if let Some(x) = coerce_single(sd, v)? {
                    out.insert(sd.name.clone(), x);
                }
                Value::Object(out)
            }
            _ => return Err(bad()),
        },
        AttrType::Boolean => match v {
            Value::Bool(_) => v.clone(),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err(bad()),
        },
        AttrType::Integer => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => v.clone(),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
                _ => return Err(bad()),
            },
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| bad())?,
            _ => return Err(bad()),
        },
        AttrType::Decimal => match v {
            Value::Number(_) => v.clone(),
            Value::String(s) => {
                let n: serde_json::Number = serde_json::from_str(s.trim()).map_err(|_| bad())?;
                Value::Number(n)
            }
            _ => return Err(bad()),
        },
        AttrType::DateTime => match v {
            Value::String(s) if OffsetDateTime::parse(s, &Rfc3339).is_ok() => v.clone(),
            _ => return Err(bad()),
        },
        AttrType::String | AttrType::Reference | AttrType::Binary => match v {
            Value::String(_) => v.clone(),
            // Connectors' numbers and booleans mapped to string attributes arrive unquoted.
            Value::Number(_) | Value::Bool(_) => Value::String(v.to_string()),
            _ => return Err(bad()),
        },
    }))
}
