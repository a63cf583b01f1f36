//! Generic SQL hardening on every dialect: columns that look like secrets are not served
//! unless the configuration names them (the scenario is in tests/support/sql/scenarios).

use ecma_host_tests::sql::{Target, scenarios};

#[test]
fn sqlite_secret_columns_are_hidden_unless_named() {
    scenarios::secret_columns_hidden(&Target::sqlite());
}

#[test]
fn postgres_secret_columns_are_hidden_unless_named() {
    let Some(t) = Target::postgres() else { return };
    scenarios::secret_columns_hidden(&t);
}

#[test]
fn mariadb_secret_columns_are_hidden_unless_named() {
    let Some(t) = Target::mariadb() else { return };
    scenarios::secret_columns_hidden(&t);
}
