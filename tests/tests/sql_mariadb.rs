//! generic-sql against a throwaway mariadb server, through the real built plugin library.
//! Each test starts its own server (stopped by PID when the test ends).

use ecma_host_tests::sql::{Target, scenarios};

fn target() -> Option<Target> {
    Target::mariadb()
}

#[test]
fn mariadb_full_import_paged_with_multivalued() {
    let Some(t) = target() else { return };
    scenarios::full_import_paged(&t);
}

#[test]
fn mariadb_export_all_kinds() {
    let Some(t) = target() else { return };
    scenarios::export_all_kinds(&t);
}

#[test]
fn mariadb_hostile_values_and_names() {
    let Some(t) = target() else { return };
    scenarios::hostile_values_and_names(&t);
}

#[test]
fn mariadb_delta_watermark() {
    let Some(t) = target() else { return };
    scenarios::delta_watermark(&t);
}

#[test]
fn mariadb_delta_change_table() {
    let Some(t) = target() else { return };
    scenarios::delta_change_table(&t);
}

#[test]
fn mariadb_query_mode() {
    let Some(t) = target() else { return };
    scenarios::query_mode(&t);
}

#[test]
fn mariadb_stored_procedure_mode() {
    let Some(t) = target() else { return };
    scenarios::stored_procedure_mode(&t);
}

#[test]
fn mariadb_set_password() {
    let Some(t) = target() else { return };
    scenarios::set_password(&t);
}

#[test]
fn mariadb_config_validation() {
    let Some(t) = target() else { return };
    scenarios::config_validation(&t);
}

#[test]
fn mariadb_outage_mid_import_then_reconnect() {
    let Some(mut t) = target() else { return };
    scenarios::outage_mid_import(&mut t);
}

#[test]
fn mariadb_outage_mid_export_nothing_half_written() {
    let Some(mut t) = target() else { return };
    scenarios::outage_mid_export(&mut t);
}

#[test]
fn mariadb_schema_options() {
    let Some(t) = target() else { return };
    scenarios::schema_options(&t);
}

#[test]
fn mariadb_full_object_import() {
    let Some(t) = target() else { return };
    scenarios::full_object_import(&t);
}

#[test]
fn mariadb_full_object_query_mode() {
    let Some(t) = target() else { return };
    scenarios::full_object_query_mode(&t);
}

#[test]
fn mariadb_full_object_procedure_mode() {
    let Some(t) = target() else { return };
    scenarios::full_object_procedure_mode(&t);
}

#[test]
fn mariadb_full_object_outage() {
    let Some(mut t) = target() else { return };
    scenarios::full_object_outage(&mut t);
}

#[test]
fn mariadb_names_as_typed() {
    let Some(t) = target() else { return };
    scenarios::names_as_typed(&t);
}

#[test]
fn mariadb_names_misspelt() {
    let Some(t) = target() else { return };
    scenarios::names_misspelt(&t);
}

#[test]
fn mariadb_names_ambiguous() {
    let Some(t) = target() else { return };
    scenarios::names_ambiguous(&t);
}
