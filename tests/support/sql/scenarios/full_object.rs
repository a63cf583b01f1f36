//! FullObject import (`get_full_objects`): the objects the host names, read again after they
//! changed behind the connector's back, compared with what a full import yields for the same
//! rows; deleted rows come back as deletes; the SQL query and stored procedure methods.

use plugin_api::host::{ConnectorInstance, ConnectorPlugin};
use plugin_api::model::*;

use super::tables::users_with_groups;
use crate::sql::connector::{anchor_text, import_all, instance, load, value_of, values_of};
use crate::sql::target::{Kind, Target};

/// A request as the host sends it: the object type, the anchor as text, the DN it knows.
fn request(anchor: Option<&str>, dn: &str) -> CsEntryChange {
    let mut e = CsEntryChange::new("User", ObjectModification::None);
    e.dn = dn.to_owned();
    match anchor {
        Some(a) => e.with_anchor("id", a),
        None => e,
    }
}

fn full_objects(
    inst: &mut dyn ConnectorInstance,
    requests: Vec<CsEntryChange>,
) -> ConnectorResult<Vec<CsEntryChange>> {
    let page = inst.get_full_objects(requests)?;
    assert!(!page.more_to_import);
    Ok(page.entries.to_entries().expect("a well-formed page"))
}

fn full_import(
    plugin: &impl ConnectorPlugin,
    inst: &mut dyn ConnectorInstance,
    config: &ConfigParameters,
) -> Vec<CsEntryChange> {
    import_all(plugin, inst, config, ImportType::Full, "", 3)
        .expect("full import")
        .0
}

fn by_anchor<'e>(entries: &'e [CsEntryChange], anchor: &str) -> &'e CsEntryChange {
    entries
        .iter()
        .find(|e| anchor_text(e) == anchor)
        .unwrap_or_else(|| panic!("no entry with anchor {anchor} in {entries:#?}"))
}

/// Four users with groups; returns the ids of ann, bob, cid and dan.
fn four_users(t: &Target, users: &str, groups: &str) -> [String; 4] {
    users_with_groups(t, users, groups);
    let names = ["ann", "bob", "cid", "dan"];
    for (i, name) in names.iter().enumerate() {
        t.exec(&[&format!(
            "INSERT INTO {users} (name, email, active, age) VALUES ('{name}', '{name}@example.com', TRUE, {})",
            30 + i
        )]);
    }
    t.exec(&[
        &format!(
            "INSERT INTO {groups} (user_id, grp) SELECT id, 'a' FROM {users} WHERE name = 'ann'"
        ),
        &format!(
            "INSERT INTO {groups} (user_id, grp) SELECT id, 'b' FROM {users} WHERE name = 'ann'"
        ),
        &format!(
            "INSERT INTO {groups} (user_id, grp) SELECT id, 'c' FROM {users} WHERE name = 'bob'"
        ),
        &format!(
            "INSERT INTO {groups} (user_id, grp) SELECT id, 'd' FROM {users} WHERE name = 'dan'"
        ),
    ]);
    names.map(|n| {
        t.count(&format!("SELECT id FROM {users} WHERE name = '{n}'"))
            .to_string()
    })
}

/// Changes ann (single values and multi-values) and deletes bob, behind the connector's back.
fn change_behind_the_back(t: &Target, users: &str, groups: &str, ann: &str, bob: &str) {
    t.exec(&[
        &format!("UPDATE {users} SET email = 'ann@changed.example', active = FALSE, age = NULL WHERE id = {ann}"),
        &format!("DELETE FROM {groups} WHERE user_id = {ann} AND grp = 'a'"),
        &format!("INSERT INTO {groups} (user_id, grp) VALUES ({ann}, 'z')"),
        &format!("DELETE FROM {groups} WHERE user_id = {bob}"),
        &format!("DELETE FROM {users} WHERE id = {bob}"),
    ]);
}

/// Table mode: changed rows come back exactly as a full import yields them (multi-values
/// included), a deleted row and an anchor never seen as deletes, several objects in one call,
/// a repeated request answered once, a request with nothing to find it by left unanswered;
/// a DN column finds an object whose anchor the host does not know.
pub fn full_object_import(t: &Target) {
    let (users, groups) = ("fo_users", "fo_groups");
    let [ann, bob, cid, dan] = four_users(t, users, groups);
    let plugin = load();
    let config = super::tables::users_config(t, users, groups, &[]);
    let mut inst = instance(&plugin, &config);
    let before = full_import(&plugin, inst.as_mut(), &config);
    assert_eq!(before.len(), 4);
    change_behind_the_back(t, users, groups, &ann, &bob);

    let got = full_objects(
        inst.as_mut(),
        vec![
            request(Some(&ann), ""),
            request(Some(&bob), &bob),
            request(Some(&cid), ""),
            request(Some("987654"), ""),
            request(Some(&ann), ""),
            // Nothing to search by: no anchor, and no DN column.
            request(None, "CN=somebody"),
        ],
    )
    .expect("get_full_objects");
    let after = full_import(&plugin, inst.as_mut(), &config);
    assert_eq!(got.len(), 4, "{got:#?}");

    let ann_now = by_anchor(&got, &ann);
    assert_eq!(
        ann_now,
        by_anchor(&after, &ann),
        "as a full import yields it"
    );
    assert_ne!(ann_now, by_anchor(&before, &ann), "the change is seen");
    assert_eq!(ann_now.modification, ObjectModification::Add);
    assert_eq!(
        value_of(ann_now, "email").as_deref(),
        Some("ann@changed.example")
    );
    assert!(ann_now.change("age").is_none(), "NULL is no value");
    assert_eq!(values_of(ann_now, "grp"), ["b", "z"]);
    assert_eq!(by_anchor(&got, &cid), by_anchor(&after, &cid));
    assert_eq!(by_anchor(&got, &cid), by_anchor(&before, &cid));
    for gone in [&bob, "987654"] {
        let e = by_anchor(&got, gone);
        assert_eq!(e.modification, ObjectModification::Delete, "{e:#?}");
        assert_eq!(e.object_type, "User");
        assert_eq!(e.anchor[0].name, "id");
        // The DN the host gave, or the one a full import generates from the anchor.
        assert_eq!(e.dn, gone);
    }
    assert!(
        got.iter().all(|e| anchor_text(e) != dan),
        "only what was asked for"
    );

    // An object found by its DN column, its anchor unknown to the host (a create whose
    // anchor the database generated).
    let accounts = "fo_accounts";
    t.exec(&[
        &format!(
            "CREATE TABLE {accounts} (id {}, dn VARCHAR(200) NOT NULL UNIQUE, name VARCHAR(100))",
            t.serial_pk()
        ),
        &format!("INSERT INTO {accounts} (dn, name) VALUES ('CN=eve,O=x', 'eve')"),
        &format!("INSERT INTO {accounts} (dn, name) VALUES ('CN=fay,O=x', 'fay')"),
    ]);
    let by_dn = t.config(&[
        ("Table", accounts),
        ("Anchor columns", "id"),
        ("DN column", "dn"),
    ]);
    let mut inst = instance(&plugin, &by_dn);
    let imported = full_import(&plugin, inst.as_mut(), &by_dn);
    let got = full_objects(
        inst.as_mut(),
        vec![
            request(None, "CN=eve,O=x"),
            request(None, "CN=fay,O=x"),
            request(None, "CN=gone,O=x"),
        ],
    )
    .unwrap();
    assert_eq!(got.len(), 3, "{got:#?}");
    for dn in ["CN=eve,O=x", "CN=fay,O=x"] {
        let e = got.iter().find(|e| e.dn == dn).expect(dn);
        assert_eq!(Some(e), imported.iter().find(|i| i.dn == dn));
    }
    let gone = got.iter().find(|e| e.dn == "CN=gone,O=x").unwrap();
    assert_eq!(gone.modification, ObjectModification::Delete);
    assert!(gone.anchor.is_empty());

    // The database's own comparison decides which row an anchor names: a case-insensitive
    // collation (SQLite's NOCASE, MariaDB's general_ci) finds 'ann' for 'ANN', PostgreSQL's
    // default one does not.
    let logins = "fo_logins";
    let collation = match t.kind {
        Kind::Sqlite => " COLLATE NOCASE",
        Kind::MariaDb => " COLLATE utf8mb4_general_ci",
        Kind::Postgres => "",
    };
    t.exec(&[
        &format!(
            "CREATE TABLE {logins} (login VARCHAR(50){collation} NOT NULL PRIMARY KEY, name VARCHAR(100))"
        ),
        &format!("INSERT INTO {logins} VALUES ('ann', 'Ann'), ('bob', 'Bob')"),
    ]);
    let by_login = t.config(&[("Table", logins), ("Anchor columns", "login")]);
    let mut inst = instance(&plugin, &by_login);
    let mut asked = |anchors: &[&str]| {
        let requests = anchors
            .iter()
            .map(|a| CsEntryChange::new("User", ObjectModification::None).with_anchor("login", *a))
            .collect();
        full_objects(inst.as_mut(), requests).unwrap()
    };
    let got = asked(&["ANN", "bob"]);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(
        value_of(by_anchor(&got, "bob"), "name").as_deref(),
        Some("Bob")
    );
    if t.kind != Kind::Postgres {
        let ann = by_anchor(&got, "ann");
        assert_eq!(ann.modification, ObjectModification::Add);
        assert_eq!(value_of(ann, "name").as_deref(), Some("Ann"));
    } else {
        assert_eq!(
            by_anchor(&got, "ANN").modification,
            ObjectModification::Delete
        );
    }
}

/// The SQL query method: the paged import query, filtered by anchor as a derived table,
/// answers as the query's full import does, multi-values from the child table included.
pub fn full_object_query_mode(t: &Target) {
    let (users, groups) = ("foq_users", "foq_groups");
    let [ann, bob, cid, _] = four_users(t, users, groups);
    let plugin = load();
    let import_query = format!(
        "SELECT id, name, email FROM (SELECT id, name, email, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM {users}) x \
         WHERE rn BETWEEN @StartIndex AND @EndIndex ORDER BY rn -- paged"
    );
    let config = super::tables::users_config(
        t,
        users,
        groups,
        &[
            ("Import method", "SQL query"),
            ("Import query", &import_query),
        ],
    );
    let mut inst = instance(&plugin, &config);
    change_behind_the_back(t, users, groups, &ann, &bob);
    let got = full_objects(
        inst.as_mut(),
        vec![
            request(Some(&ann), ""),
            request(Some(&bob), ""),
            request(Some(&cid), ""),
        ],
    )
    .expect("the import query filtered by anchor");
    let after = full_import(&plugin, inst.as_mut(), &config);
    assert_eq!(got.len(), 3, "{got:#?}");
    let ann_now = by_anchor(&got, &ann);
    assert_eq!(ann_now, by_anchor(&after, &ann));
    assert_eq!(values_of(ann_now, "grp"), ["b", "z"]);
    assert!(
        ann_now.change("active").is_none(),
        "not in the query's columns"
    );
    assert_eq!(by_anchor(&got, &cid), by_anchor(&after, &cid));
    assert_eq!(
        by_anchor(&got, &bob).modification,
        ObjectModification::Delete
    );
}

/// The stored procedure method: a PostgreSQL set-returning function is read as a derived
/// table like a query; a procedure called with `CALL` (MySQL/MariaDB) or the ODBC call escape
/// cannot be filtered, and the answer is Unsupported (the host re-reads everything).
pub fn full_object_procedure_mode(t: &Target) {
    let users = "fop_users";
    let [ann, ..] = four_users(t, users, "fop_groups");
    let ddl = match t.kind {
        Kind::Postgres => format!(
            "CREATE FUNCTION fop_page(s bigint, e bigint) RETURNS TABLE (id bigint, name varchar, email varchar) LANGUAGE sql AS $$ SELECT id, name, email FROM {users} ORDER BY id OFFSET s - 1 LIMIT e - s + 1 $$"
        ),
        Kind::MariaDb => format!(
            "CREATE PROCEDURE fop_page(IN s BIGINT, IN e BIGINT) BEGIN DECLARE o BIGINT DEFAULT s - 1; DECLARE n BIGINT DEFAULT e - s + 1; SELECT id, name, email FROM {users} ORDER BY id LIMIT o, n; END"
        ),
        Kind::Sqlite => panic!("SQLite has no stored procedures"),
    };
    t.exec(&[&ddl]);
    let plugin = load();
    let config = t.config(&[
        ("Table", users),
        ("Anchor columns", "id"),
        ("Import method", "Stored procedure"),
        ("Import procedure", "fop_page"),
    ]);
    let mut inst = instance(&plugin, &config);
    t.exec(&[&format!(
        "UPDATE {users} SET email = 'ann@changed.example' WHERE id = {ann}"
    )]);
    let got = full_objects(inst.as_mut(), vec![request(Some(&ann), "")]);
    let odbc = t.connector_url.starts_with("odbc:");
    if t.kind == Kind::Postgres && !odbc {
        let got = got.expect("the function read as a derived table");
        let after = full_import(&plugin, inst.as_mut(), &config);
        assert_eq!(got, vec![by_anchor(&after, &ann).clone()]);
        assert_eq!(
            value_of(&got[0], "email").as_deref(),
            Some("ann@changed.example")
        );
    } else {
        let err = got.expect_err("a CALL cannot be filtered");
        assert_eq!(err.kind, ErrorKind::Unsupported, "{err:?}");
        assert!(err.message.contains("CALL"), "{}", err.message);
        // The full import itself still works.
        assert_eq!(full_import(&plugin, inst.as_mut(), &config).len(), 4);
    }
}

/// The database is down: the call fails as a retryable connection error (the host asks again
/// later), and the same instance answers once the database is back.
pub fn full_object_outage(t: &mut Target) {
    let (users, groups) = ("foo_users", "foo_groups");
    let [ann, ..] = four_users(t, users, groups);
    let plugin = load();
    let config = super::tables::users_config(t, users, groups, &[("Command timeout", "10")]);
    let mut inst = instance(&plugin, &config);
    assert_eq!(
        full_objects(inst.as_mut(), vec![request(Some(&ann), "")])
            .unwrap()
            .len(),
        1
    );
    t.server.stop();
    let err = full_objects(inst.as_mut(), vec![request(Some(&ann), "")]).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection, "{err:?}");
    t.server.start_again();
    let got = full_objects(inst.as_mut(), vec![request(Some(&ann), "")]).unwrap();
    assert_eq!(got[0].modification, ObjectModification::Add);
    assert_eq!(values_of(&got[0], "grp"), ["a", "b"]);
}
