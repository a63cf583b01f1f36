//! Export: every kind of change, generated anchors, error codes, and values and names that
//! break naive SQL.

use plugin_api::model::*;

use super::tables::{add_user, groups_of, users_config, users_with_groups};
use crate::sql::connector::{anchor_text, entry, export, import_all, instance, load, value_of};
use crate::sql::target::{Kind, Target};

/// Add / Update / Replace / Delete, generated anchors, multi-values, error codes.
pub fn export_all_kinds(t: &Target) {
    let (users, groups) = ("ex_users", "ex_groups");
    users_with_groups(t, users, groups);
    let plugin = load();
    let config = users_config(t, users, groups, &[]);
    let mut inst = instance(&plugin, &config);

    let mut unknown = add_user("e4", "dora", None, &[]);
    unknown
        .changes
        .push(AttributeChange::add("no_such_column", [Value::from("x")]));
    let results = export(
        &plugin,
        inst.as_mut(),
        &config,
        vec![
            add_user("e1", "alice", Some("a@example.com"), &["g1", "g2"]),
            add_user("e2", "alice", Some("dup@example.com"), &["g7"]),
            entry("e3", ObjectModification::Add).with_change(AttributeChange::add(
                "email",
                [Value::from("noname@example.com")],
            )),
            unknown,
        ],
    )
    .expect("export");
    assert_eq!(results.len(), 4);
    let by_id = |id: &str| results.iter().find(|r| r.identifier == id).unwrap().clone();
    let r1 = by_id("e1");
    assert_eq!(r1.code, ExportErrorCode::Success, "{r1:?}");
    let id = match &r1.anchor_changes[..] {
        [a] if a.name == "id" => match a.value {
            Value::Integer(i) => i,
            ref v => panic!("generated anchor is not an integer: {v:?}"),
        },
        other => panic!("expected the generated anchor, got {other:?}"),
    };
    assert_eq!(
        by_id("e2").code,
        ExportErrorCode::ConnectedDirectoryExistingObject
    );
    assert!(
        !by_id("e2").error_detail.is_empty(),
        "the database's message is in the detail"
    );
    assert_eq!(by_id("e3").code, ExportErrorCode::SyntaxViolation);
    assert_eq!(by_id("e4").code, ExportErrorCode::SyntaxViolation);
    // Failed entries left nothing behind (each entry is its own transaction).
    assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {users}")), 1);
    assert_eq!(groups_of(t, groups, id), vec!["g1", "g2"]);
    assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {groups}")), 2);

    // AttributeUpdate: one attribute replaced, one value added and one removed.
    let update = entry("u1", ObjectModification::Update)
        .with_anchor("id", id)
        .with_change(AttributeChange::replace(
            "email",
            [Value::from("b@example.com")],
        ))
        .with_change(AttributeChange::update(
            "grp",
            vec![ValueChange::add("g3"), ValueChange::delete("g1")],
        ));
    let missing = entry("u2", ObjectModification::Update)
        .with_anchor("id", id + 100_000)
        .with_change(AttributeChange::replace(
            "email",
            [Value::from("x@example.com")],
        ));
    let r = export(&plugin, inst.as_mut(), &config, vec![update, missing]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    assert_eq!(r[1].code, ExportErrorCode::ConnectedDirectoryMissingObject);
    let row = &t.rows(&format!("SELECT name, email FROM {users} WHERE id = {id}"))[0];
    assert_eq!(
        row,
        &vec![Some("alice".to_owned()), Some("b@example.com".to_owned())]
    );
    assert_eq!(groups_of(t, groups, id), vec!["g2", "g3"]);

    // ObjectReplace: what the entry does not carry is cleared.
    let replace = entry("r1", ObjectModification::Replace)
        .with_anchor("id", id)
        .with_change(AttributeChange::replace("name", [Value::from("alice2")]))
        .with_change(AttributeChange::replace("active", [Value::Boolean(false)]))
        .with_change(AttributeChange::replace("grp", [Value::from("g9")]));
    let r = export(&plugin, inst.as_mut(), &config, vec![replace]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    let row = &t.rows(&format!("SELECT name, email FROM {users} WHERE id = {id}"))[0];
    assert_eq!(row, &vec![Some("alice2".to_owned()), None]);
    assert_eq!(groups_of(t, groups, id), vec!["g9"]);
    let (entries, _, _) =
        import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 50).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].change("active").unwrap().values[0].value,
        Value::Boolean(false)
    );
    assert!(entries[0].change("email").is_none());

    // An add that carries its own anchor gets it back.
    let mut explicit = add_user("a5", "bob", None, &[]);
    explicit = explicit.with_anchor("id", 777_777i64);
    let r = export(&plugin, inst.as_mut(), &config, vec![explicit]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    assert_eq!(r[0].anchor_changes[0].value, Value::Integer(777_777));

    // Delete removes the row and its child rows; deleting again reports the missing object.
    let del = entry("d1", ObjectModification::Delete).with_anchor("id", id);
    let r = export(&plugin, inst.as_mut(), &config, vec![del.clone()]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    assert_eq!(
        t.count(&format!("SELECT COUNT(*) FROM {users} WHERE id = {id}")),
        0
    );
    assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {groups}")), 0);
    let r = export(&plugin, inst.as_mut(), &config, vec![del]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::ConnectedDirectoryMissingObject);
}

fn long_text(t: &Target) -> &'static str {
    match t.kind {
        Kind::MariaDb => "MEDIUMTEXT",
        _ => "TEXT",
    }
}

/// Values and names that break naive SQL are stored and read back exactly.
pub fn hostile_values_and_names(t: &Target) {
    let table = "users'; DROP TABLE canary; --\"`";
    let name_col = "display \"name\" `x`";
    let note_col = "note'; --";
    t.exec(&[
        "CREATE TABLE canary (x INTEGER)",
        "INSERT INTO canary (x) VALUES (1)",
        &format!(
            "CREATE TABLE {} (id {}, {} {}, {} {})",
            t.q(table),
            t.serial_pk(),
            t.q(name_col),
            long_text(t),
            t.q(note_col),
            long_text(t)
        ),
    ]);
    let long: String = "Grüße, 世界! 🎉 ".repeat(4000);
    let values = [
        "O'Brien \"the\" `tick` \\ back\\slash".to_owned(),
        "'; DROP TABLE canary; --".to_owned(),
        "\"); DELETE FROM canary; --".to_owned(),
        "Ünïcödé 日本語 עברית 👩‍👩‍👧 e\u{301}".to_owned(),
        "@name ? $1 :x %_ * -- /* */".to_owned(),
        long.clone(),
        "   leading and trailing spaces   ".to_owned(),
    ];
    let plugin = load();
    let config = t.config(&[("Table", table), ("Anchor columns", "id")]);
    let mut inst = instance(&plugin, &config);
    let entries: Vec<CsEntryChange> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            entry(&format!("h{i}"), ObjectModification::Add)
                .with_change(AttributeChange::add(name_col, [Value::from(v.as_str())]))
                .with_change(AttributeChange::add(
                    note_col,
                    [Value::from(format!("{i}:{v}"))],
                ))
        })
        .collect();
    let results = export(&plugin, inst.as_mut(), &config, entries).unwrap();
    for r in &results {
        assert_eq!(r.code, ExportErrorCode::Success, "{r:?}");
    }
    let (imported, _, _) =
        import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 3).unwrap();
    let mut got: Vec<(String, String)> = imported
        .iter()
        .map(|e| {
            (
                value_of(e, name_col).unwrap(),
                value_of(e, note_col).unwrap(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (v.clone(), format!("{i}:{v}")))
        .collect();
    want.sort();
    assert_eq!(got, want);
    // Update with a hostile value as well, through the anchor.
    let first = &imported[0];
    let upd = entry("hu", ObjectModification::Update)
        .with_anchor("id", first.anchor_value().unwrap().clone())
        .with_change(AttributeChange::replace(
            note_col,
            [Value::from("x'); DROP TABLE canary; --")],
        ));
    let r = export(&plugin, inst.as_mut(), &config, vec![upd]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    let stored = t.rows(&format!(
        "SELECT {} FROM {} WHERE id = {}",
        t.q(note_col),
        t.q(table),
        anchor_text(first)
    ));
    assert_eq!(stored[0][0].as_deref(), Some("x'); DROP TABLE canary; --"));
    // Long strings are kept whole.
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM {} WHERE {} = '{}'",
            t.q(table),
            t.q(name_col),
            long.replace('\'', "''")
        )),
        1
    );
    // The tables are intact.
    assert_eq!(t.count("SELECT COUNT(*) FROM canary"), 1);
    assert_eq!(
        t.count(&format!("SELECT COUNT(*) FROM {}", t.q(table))),
        values.len() as i64
    );
}
