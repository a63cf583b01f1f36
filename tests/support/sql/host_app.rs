//! The Generic SQL connector as an application of a real host (end-to-end tests and the
//! SCIM create benchmark).

/// The host configuration of one application `name` over the Generic SQL plugin: users in
/// `table` (anchor `id`, matched by `login`), with `extra` lines appended to the object type.
pub fn scim_app_toml(name: &str, connection_string: &str, table: &str, extra: &str) -> String {
    format!(
        r#"
[[app]]
name = "{name}"
connector = "generic-sql"
token = "{{TOKEN}}"
autosync_minutes = 0
[app.parameters.connectivity]
"Connection string" = {connection_string:?}
[app.parameters.schema]
"Table" = "{table}"
"Anchor columns" = "id"
[[app.object_type]]
scim = "User"
target = "User"
query_attributes = ["login"]
attributes = ["login", "first_name", "last_name", "email"]
{extra}
"#
    )
}
