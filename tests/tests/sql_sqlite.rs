//! generic-sql against a SQLite file, through the real built plugin library.

use ecma_host_tests::sql::{Target, scenarios};

#[test]
fn sqlite_full_import_paged_with_multivalued() {
    scenarios::full_import_paged(&Target::sqlite());
}

#[test]
fn sqlite_export_all_kinds() {
    scenarios::export_all_kinds(&Target::sqlite());
}

#[test]
fn sqlite_hostile_values_and_names() {
    scenarios::hostile_values_and_names(&Target::sqlite());
}

#[test]
fn sqlite_delta_watermark() {
    scenarios::delta_watermark(&Target::sqlite());
}

#[test]
fn sqlite_delta_change_table() {
    scenarios::delta_change_table(&Target::sqlite());
}

#[test]
fn sqlite_query_mode() {
    scenarios::query_mode(&Target::sqlite());
}

#[test]
fn sqlite_set_password() {
    scenarios::set_password(&Target::sqlite());
}

#[test]
fn sqlite_config_validation() {
    scenarios::config_validation(&Target::sqlite());
}

#[test]
fn sqlite_schema_options() {
    scenarios::schema_options(&Target::sqlite());
}

#[test]
fn sqlite_full_object_import() {
    scenarios::full_object_import(&Target::sqlite());
}

#[test]
fn sqlite_full_object_query_mode() {
    scenarios::full_object_query_mode(&Target::sqlite());
}

#[test]
fn sqlite_names_as_typed() {
    scenarios::names_as_typed(&Target::sqlite());
}

#[test]
fn sqlite_names_misspelt() {
    scenarios::names_misspelt(&Target::sqlite());
}
