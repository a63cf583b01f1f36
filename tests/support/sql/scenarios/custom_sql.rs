//! The administrator's own SQL: import and export through statements (query mode) and
//! stored procedures, and the set-password statement.

use plugin_api::host::ConnectorPlugin;
use plugin_api::model::*;

use super::tables::{groups_of, simple_users};
use crate::sql::connector::{
    anchor_text, entry, export, import_all, instance, load, value_of, values_of,
};
use crate::sql::target::{Kind, Target};

/// Import through a paged SQL query, export through SQL statements with @attribute parameters.
pub fn query_mode(t: &Target) {
    let (users, groups) = ("qm_users", "qm_groups");
    simple_users(t, users, 23);
    t.exec(&[&format!(
        "CREATE TABLE {groups} (user_id BIGINT NOT NULL, grp VARCHAR(100) NOT NULL)"
    )]);
    let plugin = load();
    let import_query = format!(
        "SELECT id, name, email FROM (SELECT id, name, email, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM {users}) x \
         WHERE rn BETWEEN @StartIndex AND @EndIndex ORDER BY rn"
    );
    let returning = if t.kind == Kind::Postgres {
        " RETURNING id"
    } else {
        ""
    };
    let insert = format!("INSERT INTO {users} (name, email) VALUES (@name, @email){returning}");
    let update = format!("UPDATE {users} SET name = @name, email = @email WHERE id = @id");
    let delete = format!("DELETE FROM {users} WHERE id = @id");
    let config = t.config(&[
        ("Table", users),
        ("Anchor columns", "id"),
        // The multi-valued table is written by the connector around the statements.
        ("Multi-valued table", groups),
        ("Multi-valued join column", "user_id"),
        ("Import method", "SQL query"),
        ("Import query", &import_query),
        ("Export method", "SQL query"),
        ("Insert query", &insert),
        ("Update query", &update),
        ("Delete query", &delete),
    ]);
    let mut inst = instance(&plugin, &config);
    let (entries, pages, _) =
        import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 5).unwrap();
    assert_eq!(entries.len(), 23);
    assert!(pages >= 5);
    let mut names: Vec<String> = entries
        .iter()
        .map(|e| value_of(e, "name").unwrap())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 23);

    let add = entry("qa", ObjectModification::Add)
        .with_change(AttributeChange::add("name", [Value::from("q-new")]))
        .with_change(AttributeChange::add(
            "email",
            [Value::from("it's@example.com")],
        ))
        .with_change(AttributeChange::add(
            "grp",
            [Value::from("g-1"), Value::from("g-2")],
        ));
    let r = export(&plugin, inst.as_mut(), &config, vec![add]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    let id = match r[0].anchor_changes.first().map(|a| &a.value) {
        Some(Value::Integer(i)) => *i,
        other => panic!("no generated anchor: {other:?}"),
    };
    assert_eq!(
        t.rows(&format!("SELECT name, email FROM {users} WHERE id = {id}"))[0],
        vec![
            Some("q-new".to_owned()),
            Some("it's@example.com".to_owned())
        ]
    );
    assert_eq!(
        groups_of(t, groups, id),
        ["g-1", "g-2"],
        "multi-values of the generated anchor"
    );
    // An update that names only one attribute keeps the others (they are read first).
    let upd = entry("qu", ObjectModification::Update)
        .with_anchor("id", id)
        .with_change(AttributeChange::replace(
            "email",
            [Value::from("new@example.com")],
        ))
        .with_change(AttributeChange::update(
            "grp",
            vec![
                ValueChange::add(Value::from("g-3")),
                ValueChange::delete(Value::from("g-1")),
            ],
        ));
    let missing = entry("qm", ObjectModification::Update)
        .with_anchor("id", id + 10_000)
        .with_change(AttributeChange::replace("email", [Value::from("x")]));
    let r = export(&plugin, inst.as_mut(), &config, vec![upd, missing]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    assert_eq!(r[1].code, ExportErrorCode::ConnectedDirectoryMissingObject);
    assert_eq!(
        t.rows(&format!("SELECT name, email FROM {users} WHERE id = {id}"))[0],
        vec![Some("q-new".to_owned()), Some("new@example.com".to_owned())]
    );
    assert_eq!(groups_of(t, groups, id), ["g-2", "g-3"]);
    // Imported with the multi-values from the child table.
    let (entries, _, _) =
        import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 50).unwrap();
    let e = entries
        .iter()
        .find(|e| anchor_text(e) == id.to_string())
        .expect("the added row");
    assert_eq!(values_of(e, "grp"), ["g-2", "g-3"]);
    let r = export(
        &plugin,
        inst.as_mut(),
        &config,
        vec![entry("qd", ObjectModification::Delete).with_anchor("id", id)],
    )
    .unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    assert_eq!(
        t.count(&format!("SELECT COUNT(*) FROM {users} WHERE id = {id}")),
        0
    );
    assert!(
        groups_of(t, groups, id).is_empty(),
        "children deleted with the row"
    );
    assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {users}")), 23);
}

/// Import, delta import and export through stored procedures (PostgreSQL functions and
/// procedures, MySQL procedures); an add procedure reports the generated anchor.
pub fn stored_procedure_mode(t: &Target) {
    let users = "sp_users";
    simple_users(t, users, 17);
    let modified = match t.kind {
        Kind::MariaDb => "DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP",
        _ => t.modified_column(),
    };
    t.exec(&[
        &format!("ALTER TABLE {users} ADD COLUMN modified {modified}"),
        // Long before the full import's watermark.
        &format!("UPDATE {users} SET modified = '2000-01-01 00:00:00'"),
    ]);
    let ddl: Vec<String> = match t.kind {
        Kind::Postgres => vec![
            format!(
                "CREATE FUNCTION sp_delta(w text, s bigint, e bigint) RETURNS TABLE (id bigint, name varchar, email varchar) LANGUAGE sql AS $$ SELECT id, name, email FROM {users} WHERE modified >= CAST(w AS timestamptz) ORDER BY id OFFSET s - 1 LIMIT e - s + 1 $$"
            ),
            format!(
                "CREATE FUNCTION sp_page(s bigint, e bigint) RETURNS TABLE (id bigint, name varchar, email varchar) LANGUAGE sql AS $$ SELECT id, name, email FROM {users} ORDER BY id OFFSET s - 1 LIMIT e - s + 1 $$"
            ),
            // The generated id comes back through the INOUT parameter.
            format!(
                "CREATE PROCEDURE sp_add(INOUT p_id bigint, p_name text, p_email text) LANGUAGE plpgsql AS $$ BEGIN INSERT INTO {users} (name, email) VALUES (p_name, p_email) RETURNING {users}.id INTO p_id; END $$"
            ),
            format!(
                "CREATE PROCEDURE sp_update(p_id bigint, p_name text, p_email text) LANGUAGE sql AS $$ UPDATE {users} SET name = p_name, email = p_email WHERE id = p_id $$"
            ),
            format!(
                "CREATE PROCEDURE sp_delete(p_id bigint, p_name text, p_email text) LANGUAGE sql AS $$ DELETE FROM {users} WHERE id = p_id $$"
            ),
        ],
        Kind::MariaDb => vec![
            format!(
                "CREATE PROCEDURE sp_page(IN s BIGINT, IN e BIGINT) BEGIN DECLARE o BIGINT DEFAULT s - 1; DECLARE n BIGINT DEFAULT e - s + 1; SELECT id, name, email FROM {users} ORDER BY id LIMIT o, n; END"
            ),
            format!(
                "CREATE PROCEDURE sp_delta(IN w VARCHAR(40), IN s BIGINT, IN e BIGINT) BEGIN DECLARE o BIGINT DEFAULT s - 1; DECLARE n BIGINT DEFAULT e - s + 1; SELECT id, name, email FROM {users} WHERE modified >= w ORDER BY id LIMIT o, n; END"
            ),
            // The generated id comes back as a result row.
            format!(
                "CREATE PROCEDURE sp_add(IN p_id BIGINT, IN p_name VARCHAR(200), IN p_email VARCHAR(200)) BEGIN INSERT INTO {users} (name, email) VALUES (p_name, p_email); SELECT LAST_INSERT_ID() AS id; END"
            ),
            format!(
                "CREATE PROCEDURE sp_update(IN p_id BIGINT, IN p_name VARCHAR(200), IN p_email VARCHAR(200)) UPDATE {users} SET name = p_name, email = p_email WHERE id = p_id"
            ),
            format!(
                "CREATE PROCEDURE sp_delete(IN p_id BIGINT, IN p_name VARCHAR(200), IN p_email VARCHAR(200)) DELETE FROM {users} WHERE id = p_id"
            ),
        ],
        Kind::Sqlite => panic!("SQLite has no stored procedures"),
    };
    t.exec(&ddl.iter().map(String::as_str).collect::<Vec<_>>());
    let plugin = load();
    let config = t.config(&[
        ("Table", users),
        ("Anchor columns", "id"),
        ("Import method", "Stored procedure"),
        ("Import procedure", "sp_page"),
        ("Delta import procedure", "sp_delta"),
        ("Delta strategy", "Watermark"),
        ("Watermark column", "modified"),
        ("Export method", "Stored procedure"),
        ("Add procedure", "sp_add"),
        ("Update procedure", "sp_update"),
        ("Delete procedure", "sp_delete"),
        ("Procedure parameters", "id, name, email"),
    ]);
    let mut inst = instance(&plugin, &config);
    let (entries, pages, watermark) =
        import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 4).unwrap();
    assert_eq!(entries.len(), 17);
    assert!(pages >= 4);
    // Attributes detected from the procedure's result: its columns, not the table's.
    let detected = t.config(&[
        ("Attribute detection", "Stored procedure"),
        ("Anchor columns", "id"),
        ("Import method", "Stored procedure"),
        ("Import procedure", "sp_page"),
        ("Export method", "Stored procedure"),
        ("Add procedure", "sp_add"),
        ("Update procedure", "sp_update"),
        ("Delete procedure", "sp_delete"),
        ("Procedure parameters", "id, name, email"),
    ]);
    let schema = plugin.schema(&detected).expect("schema from the procedure");
    let mut attrs: Vec<(String, DataType)> = schema.types[0]
        .attributes
        .iter()
        .map(|a| (a.name.to_ascii_lowercase(), a.data_type))
        .collect();
    attrs.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        attrs,
        vec![
            ("email".to_owned(), DataType::String),
            ("id".to_owned(), DataType::Integer),
            ("name".to_owned(), DataType::String)
        ]
    );
    let mut by_proc = instance(&plugin, &detected);
    let (again, _, _) = import_all(
        &plugin,
        by_proc.as_mut(),
        &detected,
        ImportType::Full,
        "",
        5,
    )
    .unwrap();
    assert_eq!(again.len(), 17);
    assert_eq!(
        t.count(&format!("SELECT COUNT(*) FROM {users}")),
        17,
        "detection changed nothing"
    );
    let mut names: Vec<String> = entries
        .iter()
        .map(|e| value_of(e, "name").unwrap())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 17);

    let add = entry("pa", ObjectModification::Add)
        .with_change(AttributeChange::add("name", [Value::from("p-new")]))
        .with_change(AttributeChange::add(
            "email",
            [Value::from("p@example.com")],
        ));
    let r = export(&plugin, inst.as_mut(), &config, vec![add]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    let id = t.count(&format!("SELECT id FROM {users} WHERE name = 'p-new'"));
    assert_eq!(
        r[0].anchor_changes
            .iter()
            .find(|a| a.name == "id")
            .map(|a| a.value.as_text()),
        Some(id.to_string()),
        "the add procedure's generated anchor: {:?}",
        r[0]
    );
    let upd = entry("pu", ObjectModification::Update)
        .with_anchor("id", id)
        .with_change(AttributeChange::replace(
            "email",
            [Value::from("p2@example.com")],
        ));
    let r = export(&plugin, inst.as_mut(), &config, vec![upd]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    assert_eq!(
        t.rows(&format!("SELECT name, email FROM {users} WHERE id = {id}"))[0],
        vec![Some("p-new".to_owned()), Some("p2@example.com".to_owned())]
    );
    let r = export(
        &plugin,
        inst.as_mut(),
        &config,
        vec![entry("pd", ObjectModification::Delete).with_anchor("id", id)],
    )
    .unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {users}")), 17);

    // Delta through the delta procedure: only the row changed since the watermark.
    t.exec(&[&format!(
        "UPDATE {users} SET name = 'changed', modified = {} WHERE name = 'q3'",
        t.now()
    )]);
    let (delta, _, _) = import_all(
        &plugin,
        inst.as_mut(),
        &config,
        ImportType::Delta,
        &watermark,
        4,
    )
    .unwrap();
    let names: Vec<Option<String>> = delta.iter().map(|e| value_of(e, "name")).collect();
    assert_eq!(names, vec![Some("changed".to_owned())], "{delta:#?}");
    assert_eq!(delta[0].modification, ObjectModification::Replace);
}

/// Password through a SQL statement with @Password and the anchor.
pub fn set_password(t: &Target) {
    let users = "pw_users";
    simple_users(t, users, 3);
    let plugin = load();
    let config = t.config(&[
        ("Table", users),
        ("Anchor columns", "id"),
        ("Password method", "SQL"),
        (
            "Set password SQL",
            &format!("UPDATE {users} SET pw = @Password WHERE id = @id"),
        ),
    ]);
    assert!(plugin.capabilities(&config).unwrap().support_password);
    let mut inst = instance(&plugin, &config);
    let id = t.count(&format!("SELECT id FROM {users} WHERE name = 'q1'"));
    let target = |id: i64| PasswordTarget {
        object_type: "User".into(),
        dn: id.to_string(),
        anchor: vec![AnchorAttribute {
            name: "id".into(),
            value: Value::Integer(id),
        }],
    };
    let secret = "s3cr3t'; DROP TABLE pw_users; --";
    inst.set_password(target(id), Secret::new(secret), PasswordOptions::default())
        .unwrap();
    assert_eq!(
        t.rows(&format!("SELECT pw FROM {users} WHERE id = {id}"))[0][0].as_deref(),
        Some(secret)
    );
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM {users} WHERE pw IS NOT NULL"
        )),
        1
    );
    let err = inst
        .set_password(
            target(id + 1000),
            Secret::new("x"),
            PasswordOptions::default(),
        )
        .unwrap_err();
    assert_ne!(err.kind, ErrorKind::Connection);
}
