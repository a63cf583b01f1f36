//! `ProcessPlugin` and `ProcessInstance`: the plugin-api host traits answered by worker
//! processes, so the rest of the host (and `ManagedInstance`'s watchdog) calls a connector in
//! another process exactly as one loaded into this one.

use std::sync::{Arc, Mutex};

use plugin_api::host::{ConnectorInstance, ConnectorPlugin, export_in_three_calls};
use plugin_api::model::*;
use plugin_api::page::{PackedImportPage, PackedPage};
use plugin_api::sdk::HostServices;
use serde::de::DeserializeOwned;

use super::messages::{CallId, Feature, HostMessage};
use super::process::{Reply, WorkerSpec};
use super::supervised::Supervised;
use crate::plugins::TracingHost;

/// A connector whose every call runs in a worker process: one worker for the module calls,
/// one more per instance.
pub struct ProcessPlugin {
    spec: Arc<WorkerSpec>,
    info: ConnectorInfo,
    module: Mutex<Supervised>,
}

impl ProcessPlugin {
    /// Starts the module worker and shakes hands: a worker that cannot start, speaks another
    /// protocol version or runs another connector is refused here, with the reason.
    pub fn start(spec: WorkerSpec) -> Result<Self, String> {
        let spec = Arc::new(spec);
        let logs = HostServices::new(Arc::new(TracingHost::new(
            &spec.connector,
            &spec.app,
            Arc::default(),
        )));
        let mut module = Supervised::new(spec.clone(), logs, None);
        let info = module.start().map_err(|e| e.message)?.clone();
        Ok(Self {
            spec,
            info,
            module: Mutex::new(module),
        })
    }

    fn module_call<T: DeserializeOwned>(
        &self,
        build: impl FnOnce(CallId) -> HostMessage,
    ) -> ConnectorResult<T> {
        let mut module = self.module.lock().unwrap_or_else(|p| p.into_inner());
        value_of(module.call(build, &|| false)?)
    }
}

impl ConnectorPlugin for ProcessPlugin {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }
    fn capabilities(&self, config: &ConfigParameters) -> ConnectorResult<Capabilities> {
        let config = config.clone();
        self.module_call(|id| HostMessage::Capabilities { id, config })
    }
    fn config_parameters(
        &self,
        config: &ConfigParameters,
        page: ConfigPage,
        page_number: u32,
    ) -> ConnectorResult<Vec<ConfigParameterDefinition>> {
        let config = config.clone();
        self.module_call(|id| HostMessage::ConfigParameters {
            id,
            config,
            page,
            page_number,
        })
    }
    fn validate_config(
        &self,
        config: &ConfigParameters,
        page: ConfigPage,
        page_number: u32,
    ) -> ConnectorResult<ParameterValidation> {
        let config = config.clone();
        self.module_call(|id| HostMessage::ValidateConfig {
            id,
            config,
            page,
            page_number,
        })
    }
    fn schema(&self, config: &ConfigParameters) -> ConnectorResult<Schema> {
        let config = config.clone();
        self.module_call(|id| HostMessage::Schema { id, config })
    }
    fn partitions(&self, config: &ConfigParameters) -> ConnectorResult<Vec<Partition>> {
        let config = config.clone();
        self.module_call(|id| HostMessage::Partitions { id, config })
    }
    fn create_instance(
        &self,
        config: &ConfigParameters,
        host: HostServices,
    ) -> ConnectorResult<Box<dyn ConnectorInstance>> {
        let mut worker = Supervised::new(self.spec.clone(), host.clone(), Some(config.clone()));
        worker.start()?;
        Ok(Box::new(ProcessInstance { worker, host }))
    }
}

/// One connector instance in its own worker. Its calls see the host's cancellation through
/// `host` (set by the watchdog when it abandons a call): the worker gets `cancel`, then is
/// killed if the call does not end.
pub struct ProcessInstance {
    worker: Supervised,
    host: HostServices,
}

impl ProcessInstance {
    fn call<T: DeserializeOwned>(
        &mut self,
        build: impl FnOnce(CallId) -> HostMessage,
    ) -> ConnectorResult<T> {
        let host = self.host.clone();
        value_of(self.worker.call(build, &|| host.is_cancelled())?)
    }

    fn page(
        &mut self,
        build: impl FnOnce(CallId) -> HostMessage,
    ) -> ConnectorResult<PackedImportPage> {
        let host = self.host.clone();
        match self.worker.call(build, &|| host.is_cancelled())? {
            Reply::Page(page) => Ok(PackedImportPage {
                entries: PackedPage::new(page.bytes, page.entries),
                more_to_import: page.more_to_import,
                custom_data: page.custom_data,
            }),
            _ => Err(ConnectorError::internal(
                "the connector worker answered a page call without an import page",
            )),
        }
    }
}

/// The value of a JSON result, as the call's result type.
fn value_of<T: DeserializeOwned>(reply: Reply) -> ConnectorResult<T> {
    match reply {
        Reply::Value(value) => serde_json::from_value(value).map_err(|e| {
            ConnectorError::internal(format!(
                "the connector worker's result does not have the expected form: {e}"
            ))
        }),
        Reply::Page(_) => Err(ConnectorError::internal(
            "the connector worker answered with an import page where a result was expected",
        )),
        Reply::Error(e) => Err(e),
    }
}

/// The result of a call that returns nothing: `null` (any value is accepted).
type Nothing = serde::de::IgnoredAny;

impl ConnectorInstance for ProcessInstance {
    fn test_connection(&mut self) -> ConnectorResult<()> {
        self.call::<Nothing>(|id| HostMessage::TestConnection { id })
            .map(drop)
    }
    fn open_import(&mut self, request: OpenImportRequest) -> ConnectorResult<String> {
        self.call(|id| HostMessage::open_import(id, request))
    }
    fn get_import_entries(&mut self) -> ConnectorResult<ImportPage> {
        ImportPage::try_from(self.get_import_page()?)
    }
    fn get_import_page(&mut self) -> ConnectorResult<PackedImportPage> {
        self.page(|id| HostMessage::GetImportPage { id })
    }
    fn close_import(&mut self, reason: CloseReason) -> ConnectorResult<String> {
        self.call(|id| HostMessage::CloseImport {
            id,
            reason: reason.into(),
        })
    }
    fn open_export(&mut self, request: OpenExportRequest) -> ConnectorResult<()> {
        self.call::<Nothing>(|id| HostMessage::open_export(id, request))
            .map(drop)
    }
    fn put_export_entries(
        &mut self,
        entries: Vec<CsEntryChange>,
    ) -> ConnectorResult<Vec<ExportResult>> {
        self.call(|id| HostMessage::PutExportEntries { id, entries })
    }
    fn close_export(&mut self, reason: CloseReason) -> ConnectorResult<()> {
        self.call::<Nothing>(|id| HostMessage::CloseExport {
            id,
            reason: reason.into(),
        })
        .map(drop)
    }
    /// One round trip to a worker that offers `export`; the three calls to one that does not
    /// (a worker written before the call existed).
    fn export(
        &mut self,
        request: OpenExportRequest,
        entries: Vec<CsEntryChange>,
    ) -> ConnectorResult<Vec<ExportResult>> {
        let host = self.host.clone();
        let cancelled = move || host.is_cancelled();
        if !self.worker.offers(Feature::Export, &cancelled)? {
            return export_in_three_calls(self, request, entries);
        }
        value_of(self.worker.export(request, entries, &cancelled)?)
    }
    fn set_password(
        &mut self,
        target: PasswordTarget,
        password: Secret,
        options: PasswordOptions,
    ) -> ConnectorResult<()> {
        self.call::<Nothing>(|id| HostMessage::SetPassword {
            id,
            target: target.into(),
            password: password.into(),
            options: options.into(),
        })
        .map(drop)
    }
    fn change_password(
        &mut self,
        target: PasswordTarget,
        old: Secret,
        new: Secret,
    ) -> ConnectorResult<()> {
        self.call::<Nothing>(|id| HostMessage::ChangePassword {
            id,
            target: target.into(),
            old_password: old.into(),
            new_password: new.into(),
        })
        .map(drop)
    }
    fn get_full_objects(
        &mut self,
        requests: Vec<CsEntryChange>,
    ) -> ConnectorResult<PackedImportPage> {
        self.page(|id| HostMessage::GetFullObjects { id, requests })
    }
}
