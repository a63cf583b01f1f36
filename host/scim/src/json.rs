//! Small JSON helpers: SCIM attribute names are case-insensitive (RFC 7643 §2.1).

use serde_json::{Map, Value};

/// `obj[key]`, exact match first, then case-insensitive.
pub(crate) fn get_ci<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    let m = obj.as_object()?;
    m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The actual key in `m` that equals `key` case-insensitively.
pub(crate) fn key_ci(m: &Map<String, Value>, key: &str) -> Option<String> {
    if m.contains_key(key) {
        return Some(key.to_owned());
    }
    m.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()
}
