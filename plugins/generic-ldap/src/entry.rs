//! Attribute look-ups in ldap3's `SearchEntry`, the form the small searches (Root DSE,
//! subschema, deltas, export read-backs) return. Names match case-insensitively, as LDAP
//! attribute names do.

use ldap3::SearchEntry;

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
