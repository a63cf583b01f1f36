//! Driving the generic-sql connector through the real ABI (the built library, loaded the way
//! the host loads it), and reading what it imported.

use plugin_api::host::{ConnectorInstance, ConnectorPlugin};
use plugin_api::model::*;
use plugin_api::sdk::HostServices;

use crate::drive::{export_batch, import_to_end};
use crate::plugins::plugin_path;

pub use crate::drive::values_of;

/// Loads the real built connector library.
pub fn load() -> impl ConnectorPlugin {
    plugin_api::loader::load_plugin(&plugin_path("generic_sql")).expect("load generic_sql plugin")
}

pub fn instance(
    plugin: &impl ConnectorPlugin,
    config: &ConfigParameters,
) -> Box<dyn ConnectorInstance> {
    plugin
        .create_instance(config, HostServices::detached())
        .expect("create instance")
}

/// Runs a whole import and returns every entry, with the number of pages and the final watermark.
pub fn import_all(
    plugin: &impl ConnectorPlugin,
    inst: &mut dyn ConnectorInstance,
    config: &ConfigParameters,
    import_type: ImportType,
    custom_data: &str,
    page_size: u32,
) -> ConnectorResult<(Vec<CsEntryChange>, usize, String)> {
    let schema = plugin.schema(config)?;
    import_to_end(
        inst,
        OpenImportRequest {
            import_type,
            page_size,
            custom_data: custom_data.to_owned(),
            partition: None,
            schema,
        },
    )
}

pub fn export(
    plugin: &impl ConnectorPlugin,
    inst: &mut dyn ConnectorInstance,
    config: &ConfigParameters,
    entries: Vec<CsEntryChange>,
) -> ConnectorResult<Vec<ExportResult>> {
    let schema = plugin.schema(config)?;
    export_batch(
        inst,
        OpenExportRequest {
            batch_size: entries.len().max(1) as u32,
            partition: None,
            schema,
        },
        entries,
    )
}

/// An entry with an identifier.
pub fn entry(id: &str, modification: ObjectModification) -> CsEntryChange {
    let mut e = CsEntryChange::new("User", modification);
    e.identifier = id.to_owned();
    e
}

/// The single value of an attribute of an imported entry, as text.
pub fn value_of(e: &CsEntryChange, name: &str) -> Option<String> {
    e.change(name)
        .and_then(|c| c.added_values().next())
        .map(Value::as_text)
}

pub fn anchor_text(e: &CsEntryChange) -> String {
    e.anchor_value().map(Value::as_text).unwrap_or_default()
}
