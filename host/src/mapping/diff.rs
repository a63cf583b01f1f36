//! Changes between connector records: the ECMA attribute changes a SCIM write exports (the
//! one diff of the write path), and an imported entry's changes applied to a cached record.

use std::collections::BTreeSet;

use foldhash::HashSet;

use plugin_api::model::{AttributeChange, AttributeModification, ExportType, Value, ValueChange};
use plugin_api::page::ChangeView;

use super::Record;
/// Applies imported attribute changes to a record.
pub fn apply_changes<'a>(record: &mut Record, changes: impl Iterator<Item = ChangeView<'a>>) {
    for c in changes {
        match c.modification {
            AttributeModification::Add | AttributeModification::Replace => {
                let values: Vec<Value> = c.added_values().map(Value::from).collect();
                if values.is_empty() {
                    record.remove(c.name);
                } else {
                    record.insert(c.name.to_owned(), values);
                }
            }
            AttributeModification::Delete => {
                record.remove(c.name);
            }
            AttributeModification::Update => {
                let values = record.entry(c.name.to_owned()).or_default();
                // Sets, not pairwise scans: a delta can touch one member of a 100,000-member group.
                let deleted: HashSet<Value> = c.deleted_values().map(Value::from).collect();
                if !deleted.is_empty() {
                    values.retain(|v| !deleted.contains(v));
                }
                let mut present: HashSet<Value> = values.iter().cloned().collect();
                for a in c.added_values().map(Value::from) {
                    if present.insert(a.clone()) {
                        values.push(a);
                    }
                }
                if values.is_empty() {
                    record.remove(c.name);
                }
            }
        }
    }
}

/// The ECMA attribute changes that turn `old` into `new`: replaces for single values and
/// value-level updates for multi-valued attributes (or whole replaces for AttributeReplace).
pub fn diff_records(old: &Record, new: &Record, export_type: ExportType) -> Vec<AttributeChange> {
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let (o, n) = (old.get(name), new.get(name));
            if o == n {
                return None;
            }
            Some(attribute_change(
                name,
                o.map(Vec::len),
                n.map(Vec::as_slice),
                export_type,
                || {
                    let (o, n) = (
                        o.map_or(&[][..], Vec::as_slice),
                        n.map_or(&[][..], Vec::as_slice),
                    );
                    let (os, ns): (HashSet<&Value>, HashSet<&Value>) =
                        (o.iter().collect(), n.iter().collect());
                    let mut changes: Vec<ValueChange> = o
                        .iter()
                        .filter(|v| !ns.contains(v))
                        .cloned()
                        .map(ValueChange::delete)
                        .collect();
                    changes.extend(
                        n.iter()
                            .filter(|v| !os.contains(v))
                            .cloned()
                            .map(ValueChange::add),
                    );
                    changes
                },
            ))
        })
        .collect()
}

/// The export of an attribute that changed: it had `old_len` values (`None`: the record did
/// not have it) and now has `new`. `value_changes` gives the value-level deletes and adds
/// when a multi-valued attribute is updated value by value: a caller that already knows
/// them (a membership PATCH adding one member to 100,000) passes them rather than having
/// the lists compared.
pub fn attribute_change(
    name: &str,
    old_len: Option<usize>,
    new: Option<&[Value]>,
    export_type: ExportType,
    value_changes: impl FnOnce() -> Vec<ValueChange>,
) -> AttributeChange {
    match (old_len, new) {
        (_, None) => AttributeChange::delete(name),
        (None, Some(n)) => AttributeChange::add(name, n.iter().cloned()),
        (Some(o), Some(n)) => {
            if o <= 1 && n.len() <= 1 || export_type == ExportType::AttributeReplace {
                AttributeChange::replace(name, n.iter().cloned())
            } else {
                AttributeChange::update(name, value_changes())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_gives_replaces_deletes_and_value_updates() {
        let mut old = Record::new();
        old.insert("mail".into(), vec![Value::from("a@x")]);
        old.insert("gone".into(), vec![Value::from("g")]);
        old.insert("groups".into(), vec![Value::from("1"), Value::from("2")]);
        let mut new = Record::new();
        new.insert("mail".into(), vec![Value::from("b@x")]);
        new.insert("added".into(), vec![Value::from("n")]);
        new.insert("groups".into(), vec![Value::from("2"), Value::from("3")]);
        let d = diff_records(&old, &new, ExportType::AttributeUpdate);
        let by = |n: &str| d.iter().find(|c| c.name == n).unwrap();
        assert_eq!(by("mail").modification, AttributeModification::Replace);
        assert_eq!(by("gone").modification, AttributeModification::Delete);
        assert_eq!(by("added").modification, AttributeModification::Add);
        let g = by("groups");
        assert_eq!(g.modification, AttributeModification::Update);
        assert_eq!(g.deleted_values().collect::<Vec<_>>(), [&Value::from("1")]);
        assert_eq!(g.added_values().collect::<Vec<_>>(), [&Value::from("3")]);
        let d = diff_records(&old, &new, ExportType::AttributeReplace);
        assert_eq!(
            d.iter().find(|c| c.name == "groups").unwrap().modification,
            AttributeModification::Replace
        );
        assert!(diff_records(&old, &old, ExportType::AttributeUpdate).is_empty());
    }
}
