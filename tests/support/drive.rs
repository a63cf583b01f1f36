//! Driving any connector instance through the ABI the way the host does: an import run to
//! its end, one export batch, and reading imported values. Shared by the Generic LDAP and
//! Generic SQL fixtures.

use plugin_api::host::ConnectorInstance;
use plugin_api::model::*;

/// Runs an import to its end: (every entry, the number of pages, the final watermark). Every
/// page must hold at most the requested page size.
pub fn import_to_end(
    inst: &mut dyn ConnectorInstance,
    request: OpenImportRequest,
) -> ConnectorResult<(Vec<CsEntryChange>, usize, String)> {
    let page_size = request.page_size as usize;
    inst.open_import(request)?;
    let mut entries = Vec::new();
    let mut pages = 0;
    loop {
        let page = inst.get_import_entries()?;
        pages += 1;
        assert!(
            page.entries.len() <= page_size,
            "page larger than requested ({} > {page_size})",
            page.entries.len()
        );
        entries.extend(page.entries);
        if !page.more_to_import {
            break;
        }
    }
    let watermark = inst.close_import(CloseReason::Normal)?;
    Ok((entries, pages, watermark))
}

/// Exports `entries` in one batch opened with `request`.
pub fn export_batch(
    inst: &mut dyn ConnectorInstance,
    request: OpenExportRequest,
    entries: Vec<CsEntryChange>,
) -> ConnectorResult<Vec<ExportResult>> {
    inst.open_export(request)?;
    let results = inst.put_export_entries(entries)?;
    inst.close_export(CloseReason::Normal)?;
    Ok(results)
}

/// All values of an attribute of an imported entry, as text, sorted.
pub fn values_of(e: &CsEntryChange, name: &str) -> Vec<String> {
    let mut v: Vec<String> = e
        .change(name)
        .map(|c| c.added_values().map(Value::as_text).collect())
        .unwrap_or_default();
    v.sort();
    v
}
