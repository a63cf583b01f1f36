//! One ECMA2 export of one entry: the connector's open / put / close triple for a single
//! SCIM write (`ConnectorInstance::export`: one round trip for a connector in a worker), with
//! its result counted, logged and mapped to the SCIM answer.

use plugin_api::model::*;

use super::Application;
use crate::errors::{self, connector_error_to_scim, export_result_to_scim};
use crate::mapping::TypeMapping;
use crate::plugins::CallKind;
use ecma_scim::ScimError;

/// Whether a failed export call may still have been applied by the target: it timed out, lost
/// its connection or panicked part-way (as opposed to a refusal the target answered).
fn outcome_unknown(e: &ConnectorError) -> bool {
    matches!(
        e.kind,
        ErrorKind::Connection | ErrorKind::Cancelled | ErrorKind::Panicked
    )
}

impl Application {
    /// Writes need the export run profile and a connector that exports.
    pub(super) fn require_export(&self) -> Result<(), ScimError> {
        if self.config.run_profiles.export && self.capabilities.support_export {
            Ok(())
        } else {
            Err(errors::export_disabled(&self.name))
        }
    }

    /// Exports one entry; Ok only for an export result of Success.
    pub(super) async fn export_entry(
        &self,
        entry: CsEntryChange,
    ) -> Result<ExportResult, ScimError> {
        let identifier = entry.identifier.clone();
        let schema = Schema {
            types: self
                .types
                .iter()
                .filter(|t| t.object_type.eq_ignore_ascii_case(&entry.object_type))
                .map(|t| t.schema_type.clone())
                .collect(),
        };
        let kind = format!("{:?}", entry.modification);
        let reread_target = self.reread_target_of(&entry);
        let late = self.reread_when_late(reread_target.clone());
        let results = self
            .export_instance
            .call_noting_late_return(
                CallKind::Export,
                move |i| {
                    i.export(
                        OpenExportRequest {
                            batch_size: 1,
                            partition: None,
                            schema,
                        },
                        vec![entry],
                    )
                },
                Some(late),
            )
            .await
            .map_err(|e| {
                metrics::counter!("ecma_export_results_total", "app" => self.name.clone(), "code" => format!("{:?}", e.kind)).increment(1);
                self.history.exported(&format!("{:?}", e.kind));
                tracing::warn!(app = %self.name, op = %kind, "export call failed: {}", e);
                if outcome_unknown(&e) {
                    let why = format!("a {kind} export failed with an unknown outcome ({})", e.message);
                    match reread_target.clone() {
                        Some(target) => self.request_reread(target, &why),
                        None => self.request_reconcile(&why),
                    }
                }
                connector_error_to_scim(&e)
            })?;
        let result = results
            .into_iter()
            .find(|r| r.identifier == identifier)
            .ok_or_else(errors::no_export_result)?;
        metrics::counter!("ecma_export_results_total", "app" => self.name.clone(), "code" => format!("{:?}", result.code)).increment(1);
        self.history.exported(&format!("{:?}", result.code));
        tracing::info!(app = %self.name, op = %kind, code = ?result.code, "export");
        export_result_to_scim(&result)?;
        Ok(result)
    }

    /// An entry to export for one object, with a fresh identifier to find its result by.
    pub(super) fn new_entry(
        t: &TypeMapping,
        modification: ObjectModification,
        anchor: Option<&str>,
        dn: &str,
    ) -> CsEntryChange {
        let mut e = CsEntryChange::new(&t.object_type, modification);
        e.identifier = uuid::Uuid::new_v4().to_string();
        e.dn = dn.to_owned();
        if let Some(a) = anchor {
            e = e.with_anchor(&t.anchor, t.anchor_value(a));
        }
        e
    }
}
