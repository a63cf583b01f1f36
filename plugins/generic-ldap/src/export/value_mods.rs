//! The modify operations of value-by-value updates (`AttributeModification::Update`): of an
//! ordinary multi-valued attribute, and of a membership attribute that must keep a value (the
//! placeholder member goes in when the last member leaves and out when a real one arrives).
//!
//! Values compare by key: DNs normalised, other values ASCII case-insensitively (the matching
//! rules of almost all attributes one manages by value). Each current value is keyed once and
//! looked up in a set, so a group of 100,000 members costs 100,000 normalisations, not that
//! many for every value changed.

use std::collections::HashSet;

use ldap3::Mod;
use plugin_api::prelude::*;

use crate::dn;

pub fn value_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) | Value::Reference(s) => s.clone().into_bytes(),
        Value::Integer(i) => i.to_string().into_bytes(),
        Value::Boolean(b) => if *b { "TRUE" } else { "FALSE" }.as_bytes().to_vec(),
        Value::Binary(b) => b.clone(),
    }
}

/// The keys a change's values compare by: a current value (text read from the directory, its
/// kind unknown) needs only the keys of the kinds the change holds.
#[derive(Debug, Clone, Copy, Default)]
struct Kinds {
    dns: bool,
    texts: bool,
}

impl Kinds {
    fn of(c: &AttributeChange) -> Self {
        let mut kinds = Self::default();
        for v in &c.values {
            match v.value {
                Value::Reference(_) => kinds.dns = true,
                _ => kinds.texts = true,
            }
        }
        kinds
    }

    /// The keys of current value `h`: its normalised DN, its lower-cased text, as asked for.
    fn keys_of(self, h: &str) -> (Option<String>, Option<String>) {
        (
            self.dns.then(|| dn::normalize(h)),
            self.texts.then(|| h.to_ascii_lowercase()),
        )
    }
}

/// A set of values by their keys.
#[derive(Default)]
struct Keys {
    dns: HashSet<String>,
    texts: HashSet<String>,
}

impl Keys {
    /// The keys of change values, each by its own kind.
    fn of_values<'v>(values: impl IntoIterator<Item = &'v Value>) -> Self {
        let mut keys = Self::default();
        for v in values {
            match v {
                Value::Reference(d) => keys.dns.insert(dn::normalize(d)),
                other => keys.texts.insert(other.as_text().to_ascii_lowercase()),
            };
        }
        keys
    }

    /// The keys of current values, as far as the values of `kinds` compare with them.
    fn of_current(have: &[String], kinds: Kinds) -> Self {
        let mut keys = Self::default();
        for h in have {
            keys.insert(kinds.keys_of(h));
        }
        keys
    }

    fn insert(&mut self, (dn_key, text): (Option<String>, Option<String>)) {
        self.dns.extend(dn_key);
        self.texts.extend(text);
    }

    /// Whether change value `v` is among them.
    fn contains(&self, v: &Value) -> bool {
        match v {
            Value::Reference(d) => self.dns.contains(&dn::normalize(d)),
            other => self.texts.contains(&other.as_text().to_ascii_lowercase()),
        }
    }

    /// Whether a current value, by the keys [`Kinds::keys_of`] gave it, is among them.
    fn matches(&self, dn_key: Option<&str>, text: Option<&str>) -> bool {
        dn_key.is_some_and(|k| self.dns.contains(k)) || text.is_some_and(|t| self.texts.contains(t))
    }
}

/// The values `c` adds and deletes. With `current`, adds already present and deletes already
/// absent are left out.
fn value_sets(c: &AttributeChange, current: Option<&Keys>) -> (HashSet<Vec<u8>>, HashSet<Vec<u8>>) {
    let add = c
        .added_values()
        .filter(|v| current.is_none_or(|k| !k.contains(v)))
        .map(value_bytes)
        .collect();
    let del = c
        .deleted_values()
        .filter(|v| current.is_none_or(|k| k.contains(v)))
        .map(value_bytes)
        .collect();
    (add, del)
}

/// A value update. With the current values `have`, adds already present and deletes already
/// absent are left out.
pub(super) fn value_update_mods(
    c: &AttributeChange,
    have: Option<&[String]>,
    mods: &mut Vec<Mod<Vec<u8>>>,
) {
    let current = have.map(|h| Keys::of_current(h, Kinds::of(c)));
    let (add, del) = value_sets(c, current.as_ref());
    let name = c.name.clone().into_bytes();
    // Deletes first: an update that swaps values must not hit a single-value limit.
    if !del.is_empty() {
        mods.push(Mod::Delete(name.clone(), del));
    }
    if !add.is_empty() {
        mods.push(Mod::Add(name, add));
    }
}

/// A value update of a membership attribute that needs `placeholder`, against its current
/// values `have`: the whole new member set is known (current - deleted + added), so the
/// placeholder goes in when it would be empty and out when a real member remains.
pub(super) fn membership_update_mods(
    c: &AttributeChange,
    have: &[String],
    placeholder: &str,
    mods: &mut Vec<Mod<Vec<u8>>>,
) {
    // DN keys always: the placeholder is recognised by its DN.
    let kinds = Kinds {
        dns: true,
        ..Kinds::of(c)
    };
    let placeholder_key = dn::normalize(placeholder);
    let deleted = Keys::of_values(c.deleted_values());
    let mut current = Keys::default();
    // The placeholder as the directory spells it, to delete it by a value it holds.
    let mut placeholders: Vec<&str> = Vec::new();
    // Whether a real member stays after the deletes.
    let mut kept = false;
    for h in have {
        let (dn_key, text) = kinds.keys_of(h);
        if dn_key.as_deref() == Some(placeholder_key.as_str()) {
            placeholders.push(h);
        } else if !deleted.matches(dn_key.as_deref(), text.as_deref()) {
            kept = true;
        }
        current.insert((dn_key, text));
    }
    let (add, mut del) = value_sets(c, Some(&current));
    let remaining = kept || !add.is_empty();
    let name = c.name.clone().into_bytes();
    // Add before delete here: the set must never be empty in between.
    if !remaining && placeholders.is_empty() {
        mods.push(Mod::Add(
            name.clone(),
            HashSet::from([placeholder.as_bytes().to_vec()]),
        ));
    }
    if remaining {
        del.extend(placeholders.iter().map(|h| h.as_bytes().to_vec()));
    }
    if !add.is_empty() {
        mods.push(Mod::Add(name.clone(), add));
    }
    if !del.is_empty() {
        mods.push(Mod::Delete(name, del));
    }
}

/// A value update of a membership attribute that needs the placeholder, without its current
/// values: the added members go in, then the deleted ones and `placeholder_leaving` (the
/// placeholder, when it is there and members arrive) go out. Adds come first so the set is
/// never empty in between; a change that needs the current values after all (a delete that
/// empties the group) is the directory's to refuse.
pub(super) fn membership_update_mods_unread(
    c: &AttributeChange,
    placeholder_leaving: Option<&str>,
    mods: &mut Vec<Mod<Vec<u8>>>,
) {
    let (add, mut del) = value_sets(c, None);
    let name = c.name.clone().into_bytes();
    if !add.is_empty() {
        del.extend(placeholder_leaving.map(|p| p.as_bytes().to_vec()));
        mods.push(Mod::Add(name.clone(), add));
    }
    if !del.is_empty() {
        mods.push(Mod::Delete(name, del));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLACEHOLDER: &str = "cn=empty-membership-placeholder";

    fn reference(d: &str) -> Value {
        Value::Reference(d.to_owned())
    }

    fn update(adds: &[&str], dels: &[&str]) -> AttributeChange {
        let values = adds
            .iter()
            .map(|d| ValueChange::add(reference(d)))
            .chain(dels.iter().map(|d| ValueChange::delete(reference(d))))
            .collect();
        AttributeChange::update("member", values)
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    /// The mods as (kind, sorted values) for comparison.
    fn shape(mods: &[Mod<Vec<u8>>]) -> Vec<(&'static str, Vec<String>)> {
        let sorted = |s: &HashSet<Vec<u8>>| {
            let mut v: Vec<String> = s
                .iter()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect();
            v.sort();
            v
        };
        mods.iter()
            .map(|m| match m {
                Mod::Add(_, s) => ("add", sorted(s)),
                Mod::Delete(_, s) => ("delete", sorted(s)),
                Mod::Replace(_, s) => ("replace", sorted(s)),
                Mod::Increment(..) => ("increment", Vec::new()),
            })
            .collect()
    }

    #[test]
    fn values_to_bytes() {
        assert_eq!(value_bytes(&Value::Boolean(true)), b"TRUE");
        assert_eq!(value_bytes(&Value::Integer(-5)), b"-5");
        assert_eq!(value_bytes(&Value::Reference("cn=a".into())), b"cn=a");
    }

    #[test]
    fn current_values_compare_by_normalised_dn_and_case_insensitive_text() {
        let have = strings(&["UID=A, OU=People", "Keep"]);
        let mut mods = Vec::new();
        let c = AttributeChange::update(
            "seeAlso",
            vec![
                ValueChange::add(reference("uid=a,ou=people")),
                ValueChange::add(Value::from("keep")),
                ValueChange::add(Value::from("new")),
                ValueChange::delete(reference("uid=b,ou=people")),
                ValueChange::delete(Value::from("KEEP")),
            ],
        );
        value_update_mods(&c, Some(&have), &mut mods);
        assert_eq!(
            shape(&mods),
            [("delete", strings(&["KEEP"])), ("add", strings(&["new"]))]
        );
        // Unread: everything goes as it is.
        let mut mods = Vec::new();
        value_update_mods(&c, None, &mut mods);
        assert_eq!(shape(&mods)[0].1.len(), 2);
        assert_eq!(shape(&mods)[1].1.len(), 3);
    }

    #[test]
    fn membership_with_current_values() {
        let run = |have: &[&str], adds: &[&str], dels: &[&str]| {
            let mut mods = Vec::new();
            membership_update_mods(&update(adds, dels), &strings(have), PLACEHOLDER, &mut mods);
            shape(&mods)
        };
        // The first real member replaces the placeholder (as the directory spells it).
        assert_eq!(
            run(&["CN=Empty-Membership-Placeholder"], &["cn=a"], &[]),
            [
                ("add", strings(&["cn=a"])),
                ("delete", strings(&["CN=Empty-Membership-Placeholder"]))
            ]
        );
        // The last one out brings it back, added first.
        assert_eq!(
            run(&["cn=a"], &[], &["CN=A"]),
            [
                ("add", strings(&[PLACEHOLDER])),
                ("delete", strings(&["CN=A"]))
            ]
        );
        // Present adds and absent deletes are left out; other members stay.
        assert_eq!(run(&["cn=a", "cn=b"], &["cn=A"], &["cn=c"]), []);
        assert_eq!(
            run(&["cn=a", "cn=b"], &[], &["cn=b"]),
            [("delete", strings(&["cn=b"]))]
        );
    }

    #[test]
    fn membership_unread() {
        let mut mods = Vec::new();
        membership_update_mods_unread(&update(&["cn=a"], &["cn=b"]), Some(PLACEHOLDER), &mut mods);
        assert_eq!(
            shape(&mods),
            [
                ("add", strings(&["cn=a"])),
                ("delete", strings(&["cn=b", PLACEHOLDER]))
            ]
        );
        // Without added members the placeholder stays where it is.
        let mut mods = Vec::new();
        membership_update_mods_unread(&update(&[], &["cn=b"]), Some(PLACEHOLDER), &mut mods);
        assert_eq!(shape(&mods), [("delete", strings(&["cn=b"]))]);
    }
}
