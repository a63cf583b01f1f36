//! Scenarios every SQL dialect must pass, run by tests/tests/sql_{sqlite,postgres,mariadb,odbc}.rs
//! against each [`Target`](crate::sql::target::Target); one file per job of the connector.

mod config;
mod custom_sql;
mod delta;
mod export;
mod full_object;
mod import;
mod names;
mod outage;
mod secrets;
mod tables;

pub use config::{config_validation, schema_options};
pub use custom_sql::{query_mode, set_password, stored_procedure_mode};
pub use delta::{delta_change_table, delta_watermark};
pub use export::{export_all_kinds, hostile_values_and_names};
pub use full_object::{
    full_object_import, full_object_outage, full_object_procedure_mode, full_object_query_mode,
};
pub use import::full_import_paged;
pub use names::{names_ambiguous, names_as_typed, names_misspelt, procedure_names_as_typed};
pub use outage::{outage_mid_export, outage_mid_import};
pub use secrets::secret_columns_hidden;
