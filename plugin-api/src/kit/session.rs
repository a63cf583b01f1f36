//! Calling the connector the way the host does, for the checks: instances, whole imports,
//! export batches, and finding the kit's objects again in what an import read.

use crate::host::{ConnectorInstance, ConnectorPlugin};
use crate::model::*;
use crate::sdk::HostServices;

/// Refuses an import that never ends (a connector that always says `more_to_import`).
const MAX_PAGES: usize = 100_000;

/// One connector and configuration, with the schema read once.
pub(crate) struct Session<'p> {
    pub plugin: &'p dyn ConnectorPlugin,
    pub config: &'p ConfigParameters,
    pub schema: Schema,
}

/// What a whole import read.
pub(crate) struct Imported {
    pub entries: Vec<CsEntryChange>,
    pub pages: usize,
    /// The watermark the run ended with.
    pub watermark: String,
}

/// How the kit finds an object it created: the anchors and DN the export reported.
#[derive(Debug, Clone)]
pub(crate) struct Known {
    pub object_type: String,
    pub anchors: Vec<AnchorAttribute>,
    pub dn: String,
}

/// A call's error as the report shows it.
pub(crate) fn said(e: &ConnectorError) -> String {
    format!("{:?} error \"{}\"", e.kind, e.message)
}

impl Session<'_> {
    pub fn instance(&self) -> Result<Box<dyn ConnectorInstance>, String> {
        self.plugin
            .create_instance(self.config, HostServices::detached())
            .map_err(|e| format!("create_instance returned {}", said(&e)))
    }

    /// A whole import on a new instance, page by page through the packed path the host uses.
    pub fn import(
        &self,
        import_type: ImportType,
        page_size: u32,
        watermark: &str,
    ) -> Result<Imported, ConnectorError> {
        let mut instance = self.instance().map_err(ConnectorError::internal)?;
        let opened = instance.open_import(OpenImportRequest {
            import_type,
            page_size,
            custom_data: watermark.to_owned(),
            partition: None,
            schema: self.schema.clone(),
        })?;
        let mut entries = Vec::new();
        let mut pages = 0;
        let mut last = opened;
        loop {
            let page = instance.get_import_page()?;
            pages += 1;
            entries.extend(page.entries.to_entries().map_err(|e| {
                ConnectorError::internal(format!("page {pages} cannot be read: {e}"))
            })?);
            if !page.custom_data.is_empty() {
                last = page.custom_data;
            }
            if !page.more_to_import {
                break;
            }
            if pages == MAX_PAGES {
                return Err(ConnectorError::internal(format!(
                    "still more_to_import after {MAX_PAGES} pages"
                )));
            }
        }
        let closed = instance.close_import(CloseReason::Normal)?;
        Ok(Imported {
            entries,
            pages,
            watermark: if closed.is_empty() { last } else { closed },
        })
    }

    /// One export batch on a new instance; checks that every entry got exactly one result.
    pub fn export(&self, entries: Vec<CsEntryChange>) -> Result<Vec<ExportResult>, String> {
        let mut instance = self.instance()?;
        instance
            .open_export(OpenExportRequest {
                batch_size: entries.len().max(1) as u32,
                partition: None,
                schema: self.schema.clone(),
            })
            .map_err(|e| format!("open_export returned {}", said(&e)))?;
        let ids: Vec<String> = entries.iter().map(|e| e.identifier.clone()).collect();
        let results = instance
            .put_export_entries(entries)
            .map_err(|e| format!("put_export_entries returned {}", said(&e)))?;
        instance
            .close_export(CloseReason::Normal)
            .map_err(|e| format!("close_export returned {}", said(&e)))?;
        let mut ordered = Vec::with_capacity(ids.len());
        for id in &ids {
            let mine: Vec<&ExportResult> = results.iter().filter(|r| &r.identifier == id).collect();
            match mine.as_slice() {
                [one] => ordered.push((*one).clone()),
                other => {
                    return Err(format!(
                        "put_export_entries returned {} results for the entry '{id}' (exactly \
                         one per entry, matched by identifier): {results:?}",
                        other.len()
                    ));
                }
            }
        }
        Ok(ordered)
    }
}

impl Known {
    /// The object an `Add` created: the anchors and DN the result reports, else the Add's.
    pub fn from_add(add: &CsEntryChange, result: &ExportResult) -> Self {
        let is_dn = |name: &str| name.eq_ignore_ascii_case("dn") || name == "-dn-";
        let dn = result
            .anchor_changes
            .iter()
            .find(|a| is_dn(&a.name))
            .map(|a| a.value.as_text())
            .unwrap_or_else(|| add.dn.clone());
        let reported: Vec<AnchorAttribute> = result
            .anchor_changes
            .iter()
            .filter(|a| !is_dn(&a.name))
            .cloned()
            .collect();
        Self {
            object_type: add.object_type.clone(),
            anchors: if reported.is_empty() {
                add.anchor.clone()
            } else {
                reported
            },
            dn,
        }
    }

    /// Whether an imported entry is this object: an anchor of the same name and value, or
    /// the same DN.
    pub fn is(&self, e: &CsEntryChange) -> bool {
        let by_anchor = self.anchors.iter().any(|k| {
            e.anchor
                .iter()
                .any(|a| a.name.eq_ignore_ascii_case(&k.name) && a.value == k.value)
        });
        by_anchor || (!self.dn.is_empty() && e.dn.eq_ignore_ascii_case(&self.dn))
    }

    /// An entry of this object for an export: its anchors and DN, nothing else yet.
    pub fn entry(&self, modification: ObjectModification, identifier: &str) -> CsEntryChange {
        let mut e = CsEntryChange::new(&self.object_type, modification);
        e.identifier = identifier.to_owned();
        e.dn = self.dn.clone();
        e.anchor = self.anchors.clone();
        e
    }

    pub fn describe(&self) -> String {
        let anchors: Vec<String> = self
            .anchors
            .iter()
            .map(|a| format!("{}={}", a.name, a.value.as_text()))
            .collect();
        format!("[{}] dn {:?}", anchors.join(", "), self.dn)
    }
}

/// The first value of an attribute of an imported entry, as text.
pub(crate) fn text_of(e: &CsEntryChange, attribute: &str) -> Option<String> {
    e.change(attribute)
        .and_then(|c| c.added_values().next())
        .map(Value::as_text)
}

/// How an imported entry names itself in the report and when counting duplicates: its
/// anchors, else its DN.
pub(crate) fn key_of(e: &CsEntryChange) -> String {
    if e.anchor.is_empty() {
        format!("{}: dn {:?}", e.object_type, e.dn)
    } else {
        let anchors: Vec<String> = e
            .anchor
            .iter()
            .map(|a| format!("{}={}", a.name, a.value.as_text()))
            .collect();
        format!("{}: {}", e.object_type, anchors.join(", "))
    }
}
