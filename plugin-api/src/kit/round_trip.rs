//! The checks that create objects: full imports in pages of several sizes, Add / Update /
//! Replace / Delete seen by a re-import, hostile values, passwords, and the export codes of
//! the usual mistakes (a missing object, an existing one).

use std::collections::HashMap;

use crate::model::*;

use super::Sample;
use super::contract::joined;
use super::session::{Imported, Known, Session, key_of, said, text_of};

/// Values that break naive quoting, splitting, line-based formats and byte-counting.
pub const HOSTILE_VALUES: [&str; 7] = [
    "it's \"quoted\"",
    "a,b;c|d\te=f",
    "line one\nline two\r\nline three",
    "Zoë Ångström 日本語 👋",
    "  padded  ",
    "back\\slash #+<>=",
    "",
];

/// The objects the kit created and how it finds them again.
pub(crate) struct Created {
    pub objects: Vec<(Known, String)>,
}

fn identifier(key: &str, step: &str) -> String {
    format!("{key}-{step}")
}

fn add_entry(sample: &Sample, key: &str, text: &str) -> CsEntryChange {
    let mut e = (sample.build)(key, text);
    e.modification = ObjectModification::Add;
    e.identifier = identifier(key, "add");
    e
}

/// Adds one object per value; every result must be a success. Returns each object with the
/// value it was given.
pub(crate) fn add(
    s: &Session<'_>,
    sample: &Sample,
    keys_and_values: &[(String, String)],
) -> Result<Created, String> {
    let adds: Vec<CsEntryChange> = keys_and_values
        .iter()
        .map(|(k, v)| add_entry(sample, k, v))
        .collect();
    let results = s.export(adds.clone())?;
    let mut objects = Vec::new();
    let mut problems = Vec::new();
    for ((add, result), (_, value)) in adds.iter().zip(&results).zip(keys_and_values) {
        if result.code == ExportErrorCode::Success {
            objects.push((Known::from_add(add, result), value.clone()));
        } else if value.is_empty() && result.code == ExportErrorCode::SyntaxViolation {
            // A target whose syntax forbids empty values (LDAP's directory strings) may
            // refuse one, as the request's fault (400); storing it is fine too.
        } else {
            problems.push(format!(
                "the Add of {:?} (text {value:?}) returned {:?}: {}",
                add.dn, result.code, result.error_detail
            ));
        }
    }
    joined(problems)?;
    Ok(Created { objects })
}

/// A full import that must succeed, for the checks that read what an export did.
fn reimport(s: &Session<'_>, caps: &Capabilities) -> Result<Imported, String> {
    s.import(ImportType::Full, caps.import_default_page_size.max(1), "")
        .map_err(|e| format!("the re-import returned {}", said(&e)))
}

/// Each created object appears once with the value it should have (`None`: gone).
fn expect_values(
    imported: &Imported,
    text: &str,
    expected: &[(&Known, Option<&str>)],
    after: &str,
) -> Result<(), String> {
    let mut problems = Vec::new();
    for (known, value) in expected {
        let found: Vec<&CsEntryChange> = imported.entries.iter().filter(|e| known.is(e)).collect();
        match (found.as_slice(), value) {
            ([], None) => {}
            ([one], Some(v)) => {
                let got = text_of(one, text);
                // An empty value may come back as no value at all.
                let same = got.as_deref() == Some(*v) || (v.is_empty() && got.is_none());
                if !same {
                    problems.push(format!(
                        "after {after}, {} reads back {text} = {got:?}, not {v:?}",
                        known.describe()
                    ));
                }
            }
            ([], Some(_)) => problems.push(format!(
                "after {after}, the re-import does not see {}",
                known.describe()
            )),
            (_, None) => problems.push(format!(
                "after {after}, the re-import still sees {} (deleted)",
                known.describe()
            )),
            (many, Some(_)) => problems.push(format!(
                "after {after}, the re-import sees {} {} times",
                known.describe(),
                many.len()
            )),
        }
    }
    joined(problems)
}

/// Full imports in pages of 1, 2 and the default size read the same objects, each once;
/// every entry has an anchor or a DN; the kit's objects are among them.
pub(crate) fn paging(
    s: &Session<'_>,
    caps: &Capabilities,
    created: &Created,
) -> Result<(), String> {
    let mut seen: Vec<(u32, Vec<String>)> = Vec::new();
    let mut problems = Vec::new();
    for size in [1, 2, caps.import_default_page_size.max(1)] {
        let imported = s
            .import(ImportType::Full, size, "")
            .map_err(|e| format!("a full import in pages of {size} returned {}", said(&e)))?;
        let mut counts: HashMap<String, usize> = HashMap::new();
        for e in &imported.entries {
            if e.anchor.is_empty() && e.dn.is_empty() {
                problems.push(format!(
                    "pages of {size}: an entry of type '{}' has neither an anchor nor a DN",
                    e.object_type
                ));
            }
            *counts.entry(key_of(e)).or_default() += 1;
        }
        for (key, n) in counts.iter().filter(|(_, n)| **n > 1) {
            problems.push(format!("pages of {size}: {key} was read {n} times"));
        }
        for (known, _) in &created.objects {
            if !imported.entries.iter().any(|e| known.is(e)) {
                problems.push(format!(
                    "pages of {size} ({} pages): {} is missing",
                    imported.pages,
                    known.describe()
                ));
            }
        }
        let objects = imported.entries.len() as u32;
        if size < objects && imported.pages < 2 {
            problems.push(format!(
                "pages of {size}: {objects} entries came in one page; the page size was ignored"
            ));
        }
        let mut keys: Vec<String> = counts.into_keys().collect();
        keys.sort();
        seen.push((size, keys));
    }
    if let [(first, a), rest @ ..] = seen.as_slice() {
        for (size, b) in rest {
            if a != b {
                let only_a: Vec<&String> = a.iter().filter(|k| !b.contains(k)).collect();
                let only_b: Vec<&String> = b.iter().filter(|k| !a.contains(k)).collect();
                problems.push(format!(
                    "pages of {first} and of {size} read different objects: only in the first \
                     {only_a:?}, only in the second {only_b:?}"
                ));
            }
        }
    }
    joined(problems)
}

/// Update (the text attribute replaced), Replace (the whole object) and Delete, each seen by
/// a re-import. Uses the first three created objects.
pub(crate) fn modify(
    s: &Session<'_>,
    caps: &Capabilities,
    sample: &Sample,
    created: &Created,
    key_of_object: &[String],
) -> Result<(), String> {
    let [(updated, _), (replaced, _), (deleted, _), ..] = created.objects.as_slice() else {
        return Err("fewer than three objects were created".into());
    };
    let text = sample.text_attribute.as_str();
    let mut update = updated.entry(
        ObjectModification::Update,
        &identifier(&key_of_object[0], "update"),
    );
    update
        .changes
        .push(AttributeChange::replace(text, [Value::from("kit updated")]));
    let mut replace = (sample.build)(&key_of_object[1], "kit replaced");
    replace.modification = ObjectModification::Replace;
    replace.identifier = identifier(&key_of_object[1], "replace");
    replace.dn = replaced.dn.clone();
    replace.anchor = replaced.anchors.clone();
    let delete = deleted.entry(
        ObjectModification::Delete,
        &identifier(&key_of_object[2], "delete"),
    );
    let mut problems = Vec::new();
    for (what, entry) in [("Update", update), ("Replace", replace), ("Delete", delete)] {
        let results = s.export(vec![entry])?;
        if results[0].code != ExportErrorCode::Success {
            problems.push(format!(
                "the {what} returned {:?}: {}",
                results[0].code, results[0].error_detail
            ));
        }
    }
    joined(problems)?;
    let imported = reimport(s, caps)?;
    expect_values(
        &imported,
        text,
        &[
            (updated, Some("kit updated")),
            (replaced, Some("kit replaced")),
            (deleted, None),
        ],
        "Update, Replace and Delete",
    )
}

/// Every hostile value, added as an object's text, reads back unchanged.
pub(crate) fn hostile(
    s: &Session<'_>,
    caps: &Capabilities,
    sample: &Sample,
    created: &Created,
) -> Result<(), String> {
    let imported = reimport(s, caps)?;
    let text = &sample.text_attribute;
    let expected: Vec<(&Known, Option<&str>)> = created
        .objects
        .iter()
        .map(|(k, v)| (k, Some(v.as_str())))
        .collect();
    expect_values(&imported, text, &expected, "the Add of hostile values")
}

/// The usual mistakes get the codes the host maps to the right HTTP statuses: an Add of an
/// existing object is ConnectedDirectoryExistingObject (409), an Update or Delete of a
/// missing one ConnectedDirectoryMissingObject (404).
pub(crate) fn mistakes(
    s: &Session<'_>,
    sample: &Sample,
    existing_key: &str,
    existing_text: &str,
    missing_key: &str,
) -> Result<(), String> {
    let mut problems = Vec::new();
    let again = add_entry(sample, existing_key, existing_text);
    let mut missing = add_entry(sample, missing_key, "never created");
    missing.changes.clear();
    let mut update_missing = missing.clone();
    update_missing.modification = ObjectModification::Update;
    update_missing.identifier = identifier(missing_key, "update");
    update_missing.changes.push(AttributeChange::replace(
        &sample.text_attribute,
        [Value::from("x")],
    ));
    let mut delete_missing = missing;
    delete_missing.modification = ObjectModification::Delete;
    delete_missing.identifier = identifier(missing_key, "delete");
    for (what, entry, code) in [
        (
            "an Add of an existing object",
            again,
            ExportErrorCode::ConnectedDirectoryExistingObject,
        ),
        (
            "an Update of a missing object",
            update_missing,
            ExportErrorCode::ConnectedDirectoryMissingObject,
        ),
        (
            "a Delete of a missing object",
            delete_missing,
            ExportErrorCode::ConnectedDirectoryMissingObject,
        ),
    ] {
        let results = s.export(vec![entry])?;
        if results[0].code != code {
            problems.push(format!(
                "{what} returned {:?} ({}), not {code:?}",
                results[0].code, results[0].error_detail
            ));
        }
    }
    // A call out of order is an error, never a panic.
    let mut instance = s.instance()?;
    if let Err(e) = instance.get_import_page()
        && e.kind == ErrorKind::Panicked
    {
        problems.push(format!(
            "get_import_page before open_import returned {}",
            said(&e)
        ));
    }
    joined(problems)
}

/// A declared password call works on an object the kit created.
pub(crate) fn password(s: &Session<'_>, object: &Known) -> Result<(), String> {
    let mut instance = s.instance()?;
    instance
        .set_password(
            PasswordTarget {
                object_type: object.object_type.clone(),
                dn: object.dn.clone(),
                anchor: object.anchors.clone(),
            },
            Secret::new("Kit-Passw0rd!9".to_owned()),
            PasswordOptions::default(),
        )
        .map_err(|e| {
            format!(
                "support_password is declared, but set_password on {} returned {}",
                object.describe(),
                said(&e)
            )
        })
}

/// Deletes what the kit created (best effort: a failure here is reported by the checks).
pub(crate) fn clean_up(s: &Session<'_>, created: &Created) {
    let deletes: Vec<CsEntryChange> = created
        .objects
        .iter()
        .enumerate()
        .map(|(i, (k, _))| k.entry(ObjectModification::Delete, &format!("cleanup-{i}")))
        .collect();
    if !deletes.is_empty() {
        let _ = s.export(deletes);
    }
}
