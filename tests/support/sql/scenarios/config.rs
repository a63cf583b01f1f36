//! Configuration: parameter pages and validation, and the schema options (composite anchor,
//! DN and object type columns, type overrides, time zone, attribute directions).

use plugin_api::host::ConnectorPlugin;
use plugin_api::model::*;

use super::tables::simple_users;
use crate::sql::connector::{export, import_all, instance, load, value_of};
use crate::sql::target::Target;

/// Configuration pages and validation messages name the parameter at fault.
pub fn config_validation(t: &Target) {
    let users = "cv_users";
    simple_users(t, users, 1);
    let plugin = load();
    let ok = t.config(&[("Table", users), ("Anchor columns", "id")]);
    for page in [
        ConfigPage::Connectivity,
        ConfigPage::Global,
        ConfigPage::RunStep,
    ] {
        assert!(!plugin.config_parameters(&ok, page, 1).unwrap().is_empty());
    }
    for n in 1..=4 {
        assert!(
            !plugin
                .config_parameters(&ok, ConfigPage::Schema, n)
                .unwrap()
                .is_empty()
        );
    }
    assert_eq!(
        plugin
            .validate_config(&ok, ConfigPage::Connectivity, 1)
            .unwrap(),
        ParameterValidation::Success
    );
    assert_eq!(
        plugin.validate_config(&ok, ConfigPage::Schema, 3).unwrap(),
        ParameterValidation::Success
    );
    let bad_anchor = t.config(&[("Table", users), ("Anchor columns", "nope")]);
    match plugin
        .validate_config(&bad_anchor, ConfigPage::Schema, 3)
        .unwrap()
    {
        ParameterValidation::Failure { parameter, message } => {
            assert_eq!(parameter, "Anchor columns");
            assert!(message.contains("nope"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let bad_table = t.config(&[("Table", "no_such_table"), ("Anchor columns", "id")]);
    match plugin
        .validate_config(&bad_table, ConfigPage::Schema, 2)
        .unwrap()
    {
        ParameterValidation::Failure { parameter, .. } => assert_eq!(parameter, "Table"),
        other => panic!("{other:?}"),
    }
    let bad_timeout = t.config(&[("Table", users), ("Command timeout", "soon")]);
    match plugin
        .validate_config(&bad_timeout, ConfigPage::Connectivity, 1)
        .unwrap()
    {
        ParameterValidation::Failure { parameter, .. } => {
            assert_eq!(parameter, "Command timeout")
        }
        other => panic!("{other:?}"),
    }
    let global = plugin
        .config_parameters(&ok, ConfigPage::Global, 1)
        .unwrap();
    let wm = global.iter().find(|p| p.name == "Watermark query").unwrap();
    assert!(
        wm.default_value.to_ascii_uppercase().starts_with("SELECT"),
        "pre-filled per dialect"
    );
}

/// Composite anchor, DN column, object types read from a column, DateTime and Integer
/// overrides with a database time zone, an import-only attribute, ObjectReplace.
pub fn schema_options(t: &Target) {
    let table = "so_accounts";
    t.exec(&[
        &format!(
            "CREATE TABLE {table} (tenant VARCHAR(50) NOT NULL, login VARCHAR(100) NOT NULL, kind VARCHAR(20) NOT NULL, \
             dn VARCHAR(200), hired VARCHAR(40), level VARCHAR(20), note VARCHAR(200), PRIMARY KEY (tenant, login))"
        ),
        &format!("INSERT INTO {table} VALUES ('t1', 'ann', 'User', 'CN=ann,O=t1', '2024-03-01 08:30:00', '3', 'x')"),
        &format!("INSERT INTO {table} VALUES ('t1', 'grp1', 'Group', 'CN=grp1,O=t1', NULL, '1', NULL)"),
        &format!("INSERT INTO {table} VALUES ('t2', 'ann', 'User', 'CN=ann,O=t2', '2024-03-01 23:15:00', '7', 'y')"),
    ]);
    let plugin = load();
    let config = t.config(&[
        ("Table", table),
        ("Anchor columns", "tenant, login"),
        ("DN column", "dn"),
        ("Object type detection", "Column"),
        ("Object type column", "kind"),
        ("Attribute types", "hired:DateTime\nlevel:Integer"),
        ("Attribute directions", "note:Import"),
        ("Database time zone", "+02:00"),
        ("Export type", "ObjectReplace"),
    ]);
    assert_eq!(
        plugin.capabilities(&config).unwrap().export_type,
        ExportType::ObjectReplace
    );
    let schema = plugin.schema(&config).unwrap();
    let mut types: Vec<&str> = schema.types.iter().map(|t| t.name.as_str()).collect();
    types.sort();
    assert_eq!(types, vec!["Group", "User"]);
    let user = schema.object_type("User").unwrap();
    assert_eq!(
        user.anchor_attributes,
        vec!["tenant".to_owned(), "login".to_owned()]
    );
    assert_eq!(
        user.attribute("level").unwrap().data_type,
        DataType::Integer
    );
    assert_eq!(
        user.attribute("note").unwrap().operation,
        AttributeOperation::ImportOnly
    );
    assert!(
        user.attribute("kind").is_none(),
        "the type column is not an attribute"
    );

    let mut inst = instance(&plugin, &config);
    let (entries, _, _) =
        import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 2).unwrap();
    assert_eq!(entries.len(), 3);
    let t2 = entries
        .iter()
        .find(|e| e.dn == "CN=ann,O=t2")
        .expect("DN from the DN column");
    assert_eq!(t2.object_type, "User");
    assert_eq!(
        t2.anchor
            .iter()
            .map(|a| a.value.as_text())
            .collect::<Vec<_>>(),
        vec!["t2".to_owned(), "ann".to_owned()]
    );
    // 23:15 at +02:00 is 21:15 UTC.
    assert_eq!(
        value_of(t2, "hired").as_deref(),
        Some("2024-03-01T21:15:00Z")
    );
    assert_eq!(
        t2.change("level").unwrap().values[0].value,
        Value::Integer(7)
    );
    let group = entries.iter().find(|e| e.object_type == "Group").unwrap();
    assert!(group.change("hired").is_none());

    let mut add = CsEntryChange::new("Group", ObjectModification::Add)
        .with_anchor("tenant", "t3")
        .with_anchor("login", "g")
        .with_change(AttributeChange::add(
            "hired",
            [Value::from("2025-01-02T10:00:00Z")],
        ))
        .with_change(AttributeChange::add("level", [Value::Integer(5)]));
    add.identifier = "a".into();
    add.dn = "CN=g,O=t3".into();
    let mut write_note = CsEntryChange::new("User", ObjectModification::Replace)
        .with_anchor("tenant", "t1")
        .with_anchor("login", "ann")
        .with_change(AttributeChange::replace("note", [Value::from("nope")]));
    write_note.identifier = "n".into();
    let mut replace = CsEntryChange::new("User", ObjectModification::Replace)
        .with_anchor("tenant", "t2")
        .with_anchor("login", "ann")
        .with_change(AttributeChange::replace("level", [Value::Integer(8)]));
    replace.identifier = "r".into();
    let results = export(
        &plugin,
        inst.as_mut(),
        &config,
        vec![add, write_note, replace],
    )
    .unwrap();
    assert_eq!(
        results[0].code,
        ExportErrorCode::Success,
        "{:?}",
        results[0]
    );
    assert_eq!(
        results[1].code,
        ExportErrorCode::SyntaxViolation,
        "import-only attribute"
    );
    assert_eq!(
        results[2].code,
        ExportErrorCode::Success,
        "{:?}",
        results[2]
    );
    assert_eq!(
        t.rows(&format!(
            "SELECT kind, dn, hired, level FROM {table} WHERE tenant = 't3' AND login = 'g'"
        ))[0],
        vec![
            Some("Group".to_owned()),
            Some("CN=g,O=t3".to_owned()),
            Some("2025-01-02 12:00:00".to_owned()),
            Some("5".to_owned())
        ]
    );
    // ObjectReplace cleared what the entry did not carry (hired), kept the import-only note
    // and the DN and type columns.
    assert_eq!(
        t.rows(&format!(
            "SELECT kind, dn, hired, level, note FROM {table} WHERE tenant = 't2' AND login = 'ann'"
        ))[0],
        vec![
            Some("User".to_owned()),
            Some("CN=ann,O=t2".to_owned()),
            None,
            Some("8".to_owned()),
            Some("y".to_owned())
        ]
    );
}
