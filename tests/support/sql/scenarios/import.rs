//! Full import: paging, value types and multi-values.

use plugin_api::host::ConnectorPlugin;
use plugin_api::model::*;

use super::tables::{users_config, users_with_groups};
use crate::sql::connector::{anchor_text, import_all, instance, load, value_of, values_of};
use crate::sql::target::Target;

fn expected_groups(i: usize) -> Vec<String> {
    match i % 3 {
        0 => vec!["g-a".to_owned(), "g-b".to_owned()],
        1 => vec!["g-c".to_owned()],
        _ => Vec::new(),
    }
}

/// Full import in many pages: every row once, values and multi-values as stored.
pub fn full_import_paged(t: &Target) {
    let (users, groups) = ("fi_users", "fi_groups");
    users_with_groups(t, users, groups);
    let n = 203;
    let mut stmts = Vec::new();
    for i in 0..n {
        stmts.push(format!(
            "INSERT INTO {users} (name, email, active, age) VALUES ('user-{i}', 'u{i}@example.com', {}, {i})",
            if i % 2 == 0 { "TRUE" } else { "FALSE" }
        ));
        for g in expected_groups(i) {
            stmts.push(format!(
                "INSERT INTO {groups} (user_id, grp) SELECT id, '{g}' FROM {users} WHERE name = 'user-{i}'"
            ));
        }
    }
    t.exec(&stmts.iter().map(String::as_str).collect::<Vec<_>>());
    let plugin = load();
    let config = users_config(t, users, groups, &[]);
    let schema = plugin.schema(&config).expect("schema");
    let ty = &schema.types[0];
    assert_eq!(ty.anchor_attributes, vec!["id".to_owned()]);
    assert_eq!(ty.attribute("id").unwrap().data_type, DataType::Integer);
    assert_eq!(ty.attribute("active").unwrap().data_type, DataType::Boolean);
    assert_eq!(ty.attribute("age").unwrap().data_type, DataType::Integer);
    assert!(ty.attribute("grp").unwrap().multi_valued);
    assert!(!ty.attribute("name").unwrap().multi_valued);
    assert_eq!(ty.attribute("name").unwrap().data_type, DataType::String);
    assert_eq!(ty.attribute("grp").unwrap().data_type, DataType::String);

    let mut inst = instance(&plugin, &config);
    let page_size = 10;
    let (entries, pages, _) = import_all(
        &plugin,
        inst.as_mut(),
        &config,
        ImportType::Full,
        "",
        page_size,
    )
    .expect("import");
    assert_eq!(entries.len(), n);
    assert!(pages >= n / page_size as usize, "{pages} pages");
    let mut anchors: Vec<String> = entries.iter().map(anchor_text).collect();
    anchors.sort();
    anchors.dedup();
    assert_eq!(anchors.len(), n, "every row exactly once");
    for e in &entries {
        assert_eq!(e.modification, ObjectModification::Add);
        let age: usize = value_of(e, "age").unwrap().parse().unwrap();
        assert_eq!(value_of(e, "name").unwrap(), format!("user-{age}"));
        assert_eq!(value_of(e, "email").unwrap(), format!("u{age}@example.com"));
        assert_eq!(
            e.change("active").unwrap().values[0].value,
            Value::Boolean(age.is_multiple_of(2))
        );
        assert_eq!(values_of(e, "grp"), expected_groups(age));
        assert!(matches!(e.anchor_value(), Some(Value::Integer(_))));
    }
}
