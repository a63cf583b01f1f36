//! The elements of a multi-valued attribute: when two denote the same value, when a removal
//! pattern matches one, and an index that finds them without comparing every pair (a group
//! may have 100,000 members).

use serde_json::Value;

use crate::filter::value_equals;
use crate::json::get_ci;
use crate::schema::{AttrType, AttributeDef};

/// Two elements of a multi-valued attribute denote the same value: same `value` (and same `type` when
/// either has one) for complex attributes, typed equality otherwise.
fn same_element(attr: &AttributeDef, a: &Value, b: &Value) -> bool {
    if attr.attr_type != AttrType::Complex {
        return value_equals(attr, a, b);
    }
    match (get_ci(a, "value"), get_ci(b, "value"), attr.sub("value")) {
        (Some(x), Some(y), Some(vd)) => {
            value_equals(vd, x, y)
                && match (get_ci(a, "type"), get_ci(b, "type")) {
                    (Some(Value::String(p)), Some(Value::String(q))) => p.eq_ignore_ascii_case(q),
                    (None, None) => true,
                    _ => false,
                }
        }
        _ => value_equals(attr, a, b),
    }
}

/// A bucket key for an element of a multi-valued attribute: elements equal by [`same_element`],
/// and a removal pattern and the elements it matches, always share their key (a hash of the
/// value's lower-cased text; a collision only puts two values in one bucket), so a lookup
/// compares only within one bucket. `None` where no cheap key exists (non-text values,
/// elements without `value`): those share one bucket.
fn element_key(attr: &AttributeDef, v: &Value) -> Option<u64> {
    let (def, x) = if attr.attr_type == AttrType::Complex {
        (attr.sub("value")?, get_ci(v, "value")?)
    } else {
        (attr, v)
    };
    match (def.attr_type, x) {
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(s)) => {
            Some(lowercase_hash(s))
        }
        _ => None,
    }
}

/// The hash of `s` lower-cased, without building the lower-cased text when it already is
/// (identifiers and e-mail addresses usually are).
fn lowercase_hash(s: &str) -> u64 {
    use std::hash::BuildHasher;
    let state = foldhash::fast::FixedState::default();
    if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        state.hash_one(s)
    } else {
        state.hash_one(s.to_lowercase().as_str())
    }
}

/// The positions of a multi-valued attribute's elements by [`element_key`].
pub(crate) struct ElementIndex<'a> {
    attr: &'a AttributeDef,
    buckets: foldhash::HashMap<Option<u64>, Vec<usize>>,
}

impl<'a> ElementIndex<'a> {
    /// The index of `items` for looking up `probes` (the values a PATCH adds or removes):
    /// only elements that share a key with a probe are indexed, so adding one member to a
    /// group of 100,000 hashes each member once and allocates nothing per member.
    pub(crate) fn new(attr: &'a AttributeDef, items: &[Value], probes: &[Value]) -> Self {
        let wanted: foldhash::HashSet<Option<u64>> =
            probes.iter().map(|p| element_key(attr, p)).collect();
        let mut index = Self {
            attr,
            buckets: foldhash::HashMap::with_capacity_and_hasher(wanted.len(), Default::default()),
        };
        for (i, e) in items.iter().enumerate() {
            let key = element_key(attr, e);
            if wanted.contains(&key) {
                index.buckets.entry(key).or_default().push(i);
            }
        }
        index
    }

    pub(crate) fn insert(&mut self, position: usize, v: &Value) {
        self.buckets
            .entry(element_key(self.attr, v))
            .or_default()
            .push(position);
    }

    pub(crate) fn contains(&self, items: &[Value], v: &Value) -> bool {
        self.buckets
            .get(&element_key(self.attr, v))
            .is_some_and(|b| b.iter().any(|&i| same_element(self.attr, &items[i], v)))
    }

    /// Positions a removal pattern may match: its bucket, or every element when the pattern
    /// names no value (it may then match any of them).
    pub(crate) fn candidates(&self, items: &[Value], pattern: &Value) -> Vec<usize> {
        match element_key(self.attr, pattern) {
            Some(k) => self.buckets.get(&Some(k)).cloned().unwrap_or_default(),
            None => (0..items.len()).collect(),
        }
    }
}

/// Does element `e` match the removal pattern `p` (every sub-attribute given in `p` is equal in `e`)?
pub(crate) fn pattern_matches(attr: &AttributeDef, p: &Value, e: &Value) -> bool {
    match (attr.attr_type, p) {
        (AttrType::Complex, Value::Object(pm)) => pm.iter().all(|(k, pv)| {
            let Some(sd) = attr.sub(k) else { return false };
            get_ci(e, k).is_some_and(|ev| value_equals(sd, pv, ev))
        }),
        _ => value_equals(attr, p, e),
    }
}
