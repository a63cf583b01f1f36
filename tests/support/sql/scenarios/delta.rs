//! Delta import: by watermark column and by change table.

use plugin_api::host::ConnectorPlugin;
use plugin_api::model::*;

use crate::sql::connector::{anchor_text, import_all, instance, load, value_of};
use crate::sql::target::{Kind, Target};

/// Watermark delta: only rows changed since the last import's database clock.
pub fn delta_watermark(t: &Target) {
    let users = "wm_users";
    let old = match t.kind {
        Kind::Postgres => "'2000-01-01 00:00:00+00'",
        _ => "'2000-01-01 00:00:00'",
    };
    let mut stmts = vec![format!(
        "CREATE TABLE {users} (id {}, name VARCHAR(200) NOT NULL, modified {})",
        t.serial_pk(),
        t.modified_column()
    )];
    for i in 0..6 {
        stmts.push(format!(
            "INSERT INTO {users} (name, modified) VALUES ('w{i}', {old})"
        ));
    }
    t.exec(&stmts.iter().map(String::as_str).collect::<Vec<_>>());
    let plugin = load();
    let config = t.config(&[
        ("Table", users),
        ("Anchor columns", "id"),
        ("Delta strategy", "Watermark"),
        ("Watermark column", "modified"),
    ]);
    let caps = plugin.capabilities(&config).unwrap();
    assert!(caps.delta_import);
    let mut inst = instance(&plugin, &config);
    let (full, _, watermark) =
        import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 4).unwrap();
    assert_eq!(full.len(), 6);
    assert!(!watermark.is_empty());
    // Date-times arrive as ISO-8601 UTC.
    let modified = value_of(&full[0], "modified").unwrap();
    assert!(
        modified.starts_with("2000-01-01T00:00:00") && modified.ends_with('Z'),
        "{modified}"
    );
    // A delta before any change returns nothing.
    let (none, _, _) = import_all(
        &plugin,
        inst.as_mut(),
        &config,
        ImportType::Delta,
        &watermark,
        4,
    )
    .unwrap();
    assert!(none.is_empty(), "{none:?}");

    t.exec(&[
        &format!(
            "UPDATE {users} SET name = 'w2-changed', modified = {} WHERE name = 'w2'",
            t.now()
        ),
        &format!("INSERT INTO {users} (name) VALUES ('w-new')"),
    ]);
    let (delta, _, next) = import_all(
        &plugin,
        inst.as_mut(),
        &config,
        ImportType::Delta,
        &watermark,
        4,
    )
    .unwrap();
    let mut names: Vec<String> = delta.iter().map(|e| value_of(e, "name").unwrap()).collect();
    names.sort();
    assert_eq!(names, vec!["w-new", "w2-changed"]);
    assert!(
        delta
            .iter()
            .all(|e| e.modification == ObjectModification::Replace)
    );
    assert!(!next.is_empty());
    // Delta without a previous watermark is refused, not silently a full import.
    let err = import_all(&plugin, inst.as_mut(), &config, ImportType::Delta, "", 4).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
}

fn change_triggers(t: &Target, users: &str, changes: &str) -> Vec<String> {
    match t.kind {
        Kind::Sqlite => vec![
            format!(
                "CREATE TRIGGER {users}_i AFTER INSERT ON {users} BEGIN INSERT INTO {changes} (user_id, change_type) VALUES (NEW.id, 'Add'); END"
            ),
            format!(
                "CREATE TRIGGER {users}_u AFTER UPDATE ON {users} BEGIN INSERT INTO {changes} (user_id, change_type) VALUES (NEW.id, 'Update'); END"
            ),
            format!(
                "CREATE TRIGGER {users}_d AFTER DELETE ON {users} BEGIN INSERT INTO {changes} (user_id, change_type) VALUES (OLD.id, 'Delete'); END"
            ),
        ],
        Kind::Postgres => vec![
            format!(
                "CREATE FUNCTION {users}_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF TG_OP = 'DELETE' THEN INSERT INTO {changes} (user_id, change_type) VALUES (OLD.id, 'Delete'); RETURN OLD; \
                 ELSIF TG_OP = 'INSERT' THEN INSERT INTO {changes} (user_id, change_type) VALUES (NEW.id, 'Add'); RETURN NEW; \
                 ELSE INSERT INTO {changes} (user_id, change_type) VALUES (NEW.id, 'Update'); RETURN NEW; END IF; END $$"
            ),
            format!(
                "CREATE TRIGGER {users}_t AFTER INSERT OR UPDATE OR DELETE ON {users} FOR EACH ROW EXECUTE FUNCTION {users}_log()"
            ),
        ],
        Kind::MariaDb => vec![
            format!(
                "CREATE TRIGGER {users}_i AFTER INSERT ON {users} FOR EACH ROW INSERT INTO {changes} (user_id, change_type) VALUES (NEW.id, 'Add')"
            ),
            format!(
                "CREATE TRIGGER {users}_u AFTER UPDATE ON {users} FOR EACH ROW INSERT INTO {changes} (user_id, change_type) VALUES (NEW.id, 'Update')"
            ),
            format!(
                "CREATE TRIGGER {users}_d AFTER DELETE ON {users} FOR EACH ROW INSERT INTO {changes} (user_id, change_type) VALUES (OLD.id, 'Delete')"
            ),
        ],
    }
}

/// Change-table delta: adds, updates and deletes recorded by triggers.
pub fn delta_change_table(t: &Target) {
    let (users, changes) = ("ct_users", "ct_changes");
    let mut stmts = vec![
        format!(
            "CREATE TABLE {users} (id {}, name VARCHAR(200) NOT NULL)",
            t.serial_pk()
        ),
        format!(
            "CREATE TABLE {changes} (change_id {}, user_id BIGINT NOT NULL, change_type VARCHAR(10) NOT NULL)",
            t.serial_pk()
        ),
    ];
    stmts.extend(change_triggers(t, users, changes));
    for i in 0..5 {
        stmts.push(format!("INSERT INTO {users} (name) VALUES ('c{i}')"));
    }
    t.exec(&stmts.iter().map(String::as_str).collect::<Vec<_>>());
    let plugin = load();
    let config = t.config(&[
        ("Table", users),
        ("Anchor columns", "id"),
        ("Delta strategy", "Change table"),
        ("Change table", changes),
        ("Change table anchor column", "user_id"),
    ]);
    let mut inst = instance(&plugin, &config);
    let (full, _, watermark) =
        import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 2).unwrap();
    assert_eq!(full.len(), 5);
    let id_of = |name: &str| {
        full.iter()
            .find(|e| value_of(e, "name").as_deref() == Some(name))
            .map(anchor_text)
            .unwrap()
    };
    let (c1, c3) = (id_of("c1"), id_of("c3"));
    t.exec(&[
        &format!("INSERT INTO {users} (name) VALUES ('c-new')"),
        &format!("UPDATE {users} SET name = 'c-new2' WHERE name = 'c-new'"),
        &format!("UPDATE {users} SET name = 'c1-changed' WHERE id = {c1}"),
        &format!("DELETE FROM {users} WHERE id = {c3}"),
    ]);
    // Page size 1 exercises paging through the change table.
    let (delta, _, next) = import_all(
        &plugin,
        inst.as_mut(),
        &config,
        ImportType::Delta,
        &watermark,
        1,
    )
    .unwrap();
    let find = |pred: &dyn Fn(&CsEntryChange) -> bool| {
        delta
            .iter()
            .filter(|e| pred(e))
            .cloned()
            .collect::<Vec<_>>()
    };
    let deleted = find(&|e| e.modification == ObjectModification::Delete);
    assert!(deleted.iter().any(|e| anchor_text(e) == c3), "{delta:?}");
    assert!(deleted.iter().all(|e| anchor_text(e) == c3));
    let changed = find(&|e| anchor_text(e) == c1 && e.modification != ObjectModification::Delete);
    assert!(!changed.is_empty());
    assert!(
        changed
            .iter()
            .all(|e| value_of(e, "name").as_deref() == Some("c1-changed"))
    );
    let new = find(&|e| value_of(e, "name").as_deref() == Some("c-new2"));
    assert!(!new.is_empty(), "{delta:?}");
    assert!(
        new.iter()
            .any(|e| e.modification == ObjectModification::Add)
    );
    let untouched = find(&|e| {
        let a = anchor_text(e);
        a == id_of("c0") || a == id_of("c2") || a == id_of("c4")
    });
    assert!(untouched.is_empty(), "{untouched:?}");
    // Nothing new since.
    let (again, _, _) = import_all(
        &plugin,
        inst.as_mut(),
        &config,
        ImportType::Delta,
        &next,
        10,
    )
    .unwrap();
    assert!(again.is_empty(), "{again:?}");
}
