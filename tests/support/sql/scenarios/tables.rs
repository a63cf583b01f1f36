//! Fixture tables and export entries several scenarios share.

use plugin_api::model::*;

use crate::sql::connector::entry;
use crate::sql::target::Target;

/// users(id generated, name unique, email, active, age) + groups(user_id, grp).
pub(super) fn users_with_groups(t: &Target, users: &str, groups: &str) {
    t.exec(&[
        &format!(
            "CREATE TABLE {users} (id {}, name VARCHAR(200) NOT NULL UNIQUE, email VARCHAR(200), active {}, age INTEGER)",
            t.serial_pk(),
            t.bool_type()
        ),
        &format!("CREATE TABLE {groups} (user_id BIGINT NOT NULL, grp VARCHAR(100) NOT NULL)"),
    ]);
}

/// The connector on [`users_with_groups`], with `extra` parameters.
pub(super) fn users_config(
    t: &Target,
    users: &str,
    groups: &str,
    extra: &[(&str, &str)],
) -> ConfigParameters {
    let mut c = t.config(&[
        ("Table", users),
        ("Anchor columns", "id"),
        ("Multi-valued table", groups),
        ("Multi-valued join column", "user_id"),
    ]);
    for (k, v) in extra {
        c.set(k, *v);
    }
    c
}

/// An Add of an active user for [`users_with_groups`]'s tables.
pub(super) fn add_user(
    id: &str,
    name: &str,
    email: Option<&str>,
    groups: &[&str],
) -> CsEntryChange {
    let mut e = entry(id, ObjectModification::Add)
        .with_change(AttributeChange::add("name", [Value::from(name)]))
        .with_change(AttributeChange::add("active", [Value::Boolean(true)]));
    if let Some(m) = email {
        e = e.with_change(AttributeChange::add("email", [Value::from(m)]));
    }
    if !groups.is_empty() {
        e = e.with_change(AttributeChange::add(
            "grp",
            groups.iter().map(|g| Value::from(*g)),
        ));
    }
    e
}

/// The `grp` values stored for user `id`, sorted.
pub(super) fn groups_of(t: &Target, groups: &str, id: i64) -> Vec<String> {
    let mut v: Vec<String> = t
        .rows(&format!("SELECT grp FROM {groups} WHERE user_id = {id}"))
        .into_iter()
        .filter_map(|r| r[0].clone())
        .collect();
    v.sort();
    v
}

/// users(id generated, name, email, pw) with `n` rows named `q0`, `q1`...
pub(super) fn simple_users(t: &Target, users: &str, n: usize) {
    let mut stmts = vec![format!(
        "CREATE TABLE {users} (id {}, name VARCHAR(200) NOT NULL, email VARCHAR(200), pw VARCHAR(200))",
        t.serial_pk()
    )];
    for i in 0..n {
        stmts.push(format!(
            "INSERT INTO {users} (name, email) VALUES ('q{i}', 'q{i}@example.com')"
        ));
    }
    t.exec(&stmts.iter().map(String::as_str).collect::<Vec<_>>());
}
