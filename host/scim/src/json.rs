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

/// A hash of `v` consistent with `==` on [`Value`]: equal values hash equally whatever the order
/// of their object members (so it holds with and without serde_json's `preserve_order`).
pub fn hash_value(v: &Value) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    // Fixed keys: hashes are compared within one call, never stored (and foldhash, not
    // SipHash: a group's 100,000 members are hashed on every PATCH that diffs them).
    let state = foldhash::fast::FixedState::default();
    fn feed(v: &Value, h: &mut impl Hasher, state: &impl BuildHasher) {
        match v {
            Value::Null => 0u8.hash(h),
            Value::Bool(b) => (1u8, b).hash(h),
            Value::Number(n) => (2u8, n.to_string()).hash(h),
            Value::String(s) => (3u8, s).hash(h),
            Value::Array(a) => {
                (4u8, a.len()).hash(h);
                for x in a {
                    feed(x, h, state);
                }
            }
            Value::Object(m) => {
                // Members are combined with a commutative sum of their own hashes.
                let sum = m.iter().fold(0u64, |acc, (k, x)| {
                    let mut eh = state.build_hasher();
                    k.hash(&mut eh);
                    feed(x, &mut eh, state);
                    acc.wrapping_add(eh.finish())
                });
                (5u8, m.len(), sum).hash(h);
            }
        }
    }
    let mut h = state.build_hasher();
    feed(v, &mut h, &state);
    h.finish()
}

/// The values of `a` that are not in `b` (by `==`), in `a`'s order; linear in `a.len() + b.len()`,
/// so a group of 100,000 members is diffed in milliseconds, not minutes.
pub fn values_not_in<'a>(a: &'a [Value], b: &[Value]) -> Vec<&'a Value> {
    let mut by_hash: foldhash::HashMap<u64, Vec<&Value>> =
        foldhash::HashMap::with_capacity_and_hasher(b.len(), Default::default());
    for y in b {
        by_hash.entry(hash_value(y)).or_default().push(y);
    }
    a.iter()
        .filter(|x| by_hash.get(&hash_value(x)).is_none_or(|ys| !ys.contains(x)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_values_hash_equally_whatever_the_member_order() {
        let a: Value =
            serde_json::from_str(r#"{"value":"1","type":"User","n":[1,{"x":2,"y":3}]}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{"n":[1,{"y":3,"x":2}],"type":"User","value":"1"}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(hash_value(&a), hash_value(&b));
        assert_ne!(
            hash_value(&json!({"value":"1"})),
            hash_value(&json!({"value":"2"}))
        );
        assert_ne!(hash_value(&json!([1, 2])), hash_value(&json!([2, 1])));
    }

    #[test]
    fn values_not_in_is_a_set_difference_in_order() {
        let a = [
            json!({"value":"1"}),
            json!({"value":"2"}),
            json!("x"),
            json!(3),
        ];
        let b = [json!("x"), json!({"value":"1"}), json!(3.0)];
        let d: Vec<&Value> = values_not_in(&a, &b);
        // 3 and 3.0 are different JSON numbers (as `==` says).
        assert_eq!(d, [&json!({"value":"2"}), &json!(3)]);
        assert!(values_not_in(&a, &a).is_empty());
    }
}
