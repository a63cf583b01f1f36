//! Attribute look-ups in ldap3's `SearchEntry`, the form the small searches (Root DSE,
//! subschema, deltas, export read-backs) return, and anchor values as the directory holds
//! them. Names match case-insensitively, as LDAP attribute names do.

use ldap3::SearchEntry;
use plugin_api::model::Value;

/// Every value of attribute `name`; empty when the entry has none.
pub(crate) fn attr_values(e: &SearchEntry, name: &str) -> Vec<String> {
    e.attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// The first value of attribute `name`.
pub(crate) fn first_value(e: &SearchEntry, name: &str) -> Option<String> {
    e.attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first().cloned())
}

/// The first value of attribute `name` as bytes, whether ldap3 read it as text or (not
/// UTF-8) as binary.
pub(crate) fn first_raw_value(e: &SearchEntry, name: &str) -> Option<Vec<u8>> {
    first_value(e, name).map(String::into_bytes).or_else(|| {
        e.bin_attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.first().cloned())
    })
}

/// An anchor value as the directory holds it: bytes for a binary anchor (and for any value
/// that is not UTF-8, which text would change), else text.
pub(crate) fn anchor_value(raw: Vec<u8>, binary: bool) -> Value {
    if binary {
        return Value::Binary(raw);
    }
    match String::from_utf8(raw) {
        Ok(s) => Value::String(s),
        Err(e) => Value::Binary(e.into_bytes()),
    }
}

/// A value for a message: text as it is, bytes as hex (lossy text would hide which object
/// is meant).
pub(crate) fn show_value(v: &Value) -> String {
    match v {
        Value::Binary(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("0x{hex}")
        }
        other => other.as_text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_values_keep_their_bytes() {
        let bytes = vec![0xff, 0x00, 0xfe, b'a'];
        assert_eq!(
            anchor_value(bytes.clone(), false),
            Value::Binary(bytes.clone())
        );
        assert_eq!(
            anchor_value(b"abc".to_vec(), true),
            Value::Binary(b"abc".to_vec())
        );
        assert_eq!(
            anchor_value(b"abc".to_vec(), false),
            Value::String("abc".into())
        );
        assert_eq!(show_value(&Value::Binary(bytes)), "0xff00fe61");
    }
}
