//! Case-insensitive JSON member lookup: SCIM attribute names are case-insensitive
//! (RFC 7643 §2.1). The one implementation the engine and the host share.

use serde_json::{Map, Value};

/// `obj[key]`, exact match first, then case-insensitive; `None` when `obj` is not an object.
pub fn get_ci<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    get_ci_in(obj.as_object()?, key)
}

/// `m[key]`, exact match first, then case-insensitive.
pub fn get_ci_in<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
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
