//! The SDK connector authors implement: one plain Rust trait, and
//! [`export_connector!`](crate::export_connector).
//!
//! ```ignore
//! use plugin_api::prelude::*;
//! struct MyConnector { /* connection, state */ }
//! impl Connector for MyConnector { /* ... */ }
//! plugin_api::export_connector!(MyConnector);
//! ```
//!
//! Build the crate as a `cdylib` and drop the library into the host's plugins folder.
//! Every entry point is wrapped in `catch_unwind`: a panic comes back to the host as an
//! [`ErrorKind::Panicked`] error instead of ending the host.

use std::sync::Arc;

use crate::model::*;
use crate::page::{PageStatus, PageWriter};

/// What the host offers every connector instance: logging and cancellation.
///
/// A plugin's own `tracing`/`log` output goes nowhere (the plugin links its own copy of those
/// crates, with no subscriber), so connectors log through this.
#[derive(Clone)]
pub struct HostServices {
    inner: Arc<dyn HostCallbacks>,
}

/// The host side of [`HostServices`]. The host implements it; connectors only call it.
pub trait HostCallbacks: Send + Sync {
    fn log(&self, level: LogLevel, target: &str, message: &str);
    fn is_cancelled(&self) -> bool;
}

impl HostServices {
    pub fn new(callbacks: Arc<dyn HostCallbacks>) -> Self {
        Self { inner: callbacks }
    }
    #[cfg_attr(not(feature = "loader"), allow(dead_code))]
    pub(crate) fn callbacks(&self) -> Arc<dyn HostCallbacks> {
        self.inner.clone()
    }
    /// Services that log nowhere and never cancel (for tests and tools).
    pub fn detached() -> Self {
        struct Detached;
        impl HostCallbacks for Detached {
            fn log(&self, _: LogLevel, _: &str, _: &str) {}
            fn is_cancelled(&self) -> bool {
                false
            }
        }
        Self::new(Arc::new(Detached))
    }
    pub fn log(&self, level: LogLevel, target: &str, message: &str) {
        self.inner.log(level, target, message)
    }
    pub fn error(&self, message: &str) {
        self.log(LogLevel::Error, "connector", message)
    }
    pub fn warn(&self, message: &str) {
        self.log(LogLevel::Warn, "connector", message)
    }
    pub fn info(&self, message: &str) {
        self.log(LogLevel::Info, "connector", message)
    }
    pub fn debug(&self, message: &str) {
        self.log(LogLevel::Debug, "connector", message)
    }
    /// True when the host wants the current call to stop (shutdown, cancelled import).
    /// Long loops should check it and return [`ErrorKind::Cancelled`].
    pub fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
    /// `Err(Cancelled)` when cancelled, for use with `?` in loops.
    pub fn check_cancelled(&self) -> ConnectorResult<()> {
        if self.is_cancelled() {
            Err(ConnectorError::new(
                ErrorKind::Cancelled,
                "cancelled by the host",
            ))
        } else {
            Ok(())
        }
    }
}

/// A connector: the module-level calls are associated functions, the run calls are methods
/// on an instance created from a configuration.
///
/// The default bodies return [`ErrorKind::Unsupported`]. [`Capabilities::default`] claims
/// nothing: switch on the `support_*` (and `delta_import`) capabilities of the calls you
/// implement, and only those; the connector kit (feature `kit`) checks that the two agree.
pub trait Connector: Sized + Send + 'static {
    // ---- module level ----

    /// Name, version, vendor, description. `api_version` is filled in by the SDK.
    fn info() -> ConnectorInfo;

    /// Runs once when the host loads the library. An error here makes the host skip the
    /// plugin with a clear message.
    fn initialize() -> ConnectorResult<()> {
        Ok(())
    }

    /// `GetCapabilitiesEx`: capabilities may depend on the configuration. The default claims
    /// nothing (no import, no export), see [`Capabilities::default`].
    fn capabilities(_config: &ConfigParameters) -> Capabilities {
        Capabilities::default()
    }

    /// `GetConfigParametersEx`: the parameters of one page (`page_number` for multi-page
    /// Schema pages, 1-based; 1 for other pages).
    fn config_parameters(
        _config: &ConfigParameters,
        _page: ConfigPage,
        _page_number: u32,
    ) -> ConnectorResult<Vec<ConfigParameterDefinition>> {
        Ok(Vec::new())
    }

    /// `ValidateConfigParametersEx`.
    fn validate_config(
        _config: &ConfigParameters,
        _page: ConfigPage,
        _page_number: u32,
    ) -> ConnectorResult<ParameterValidation> {
        Ok(ParameterValidation::Success)
    }

    /// `GetSchema`.
    fn schema(config: &ConfigParameters) -> ConnectorResult<Schema>;

    /// `GetPartitions`.
    fn partitions(_config: &ConfigParameters) -> ConnectorResult<Vec<Partition>> {
        Ok(Vec::new())
    }

    /// Creates an instance that runs imports and exports with this configuration.
    fn create(config: &ConfigParameters, host: HostServices) -> ConnectorResult<Self>;

    // ---- instance level ----

    /// What Entra's "test connection" triggers: reach the target and authenticate.
    fn test_connection(&mut self) -> ConnectorResult<()>;

    /// `OpenImportConnection`. Returns the `CustomData` (watermark) to carry forward.
    fn open_import(&mut self, _request: OpenImportRequest) -> ConnectorResult<String> {
        Err(ConnectorError::unsupported("import is not supported"))
    }
    /// `GetImportEntries`: the next page. Implement this or [`Self::get_import_page`].
    fn get_import_entries(&mut self) -> ConnectorResult<ImportPage> {
        Err(ConnectorError::unsupported("import is not supported"))
    }
    /// `GetImportEntries`, written straight into the packed page the host receives: the fast
    /// path for connectors that read many objects (no `CsEntryChange` is built on the plugin
    /// side, and the host copies one buffer per page instead of every string). The default
    /// writes what [`Self::get_import_entries`] returns. This is what the host calls.
    fn get_import_page(&mut self, page: &mut PageWriter) -> ConnectorResult<PageStatus> {
        let p = self.get_import_entries()?;
        for e in &p.entries {
            page.push(e);
        }
        Ok(PageStatus {
            more_to_import: p.more_to_import,
            custom_data: p.custom_data,
        })
    }
    /// `CloseImportConnection`: returns the final watermark.
    fn close_import(&mut self, _reason: CloseReason) -> ConnectorResult<String> {
        Ok(String::new())
    }

    /// `OpenExportConnection`.
    fn open_export(&mut self, _request: OpenExportRequest) -> ConnectorResult<()> {
        Err(ConnectorError::unsupported("export is not supported"))
    }
    /// `PutExportEntries`: exactly one result per entry, in any order, matched by `identifier`.
    fn put_export_entries(
        &mut self,
        _entries: Vec<CsEntryChange>,
    ) -> ConnectorResult<Vec<ExportResult>> {
        Err(ConnectorError::unsupported("export is not supported"))
    }
    /// `CloseExportConnection`.
    fn close_export(&mut self, _reason: CloseReason) -> ConnectorResult<()> {
        Ok(())
    }

    /// `SetPassword`.
    fn set_password(
        &mut self,
        _target: PasswordTarget,
        _password: Secret,
        _options: PasswordOptions,
    ) -> ConnectorResult<()> {
        Err(ConnectorError::unsupported("passwords are not supported"))
    }
    /// `ChangePassword`.
    fn change_password(
        &mut self,
        _target: PasswordTarget,
        _old: Secret,
        _new: Secret,
    ) -> ConnectorResult<()> {
        Err(ConnectorError::unsupported("passwords are not supported"))
    }

    /// ECMA2's FullObject import (an import run step that names the objects to read again,
    /// `GetImportEntriesRunStep.FullObjectEntries`), in one call: the host asks for it when it
    /// cannot know what the target holds for a few objects (an export that timed out or lost
    /// its connection, a create the target refused as existing, an update of an object the
    /// target reports missing), instead of re-reading the whole target.
    ///
    /// Each request carries the object type, and the anchor and DN the host knows (a create
    /// whose anchor the target generates may carry only a DN, or nothing to find it by). Write
    /// into `page`, for each request, either the whole object as an `Add` with its anchor (as a
    /// full import would) or a `Delete` naming the anchor or DN asked for, when the target
    /// does not hold it; a request left unanswered makes the host re-read the whole object
    /// type. Return an error only when the target cannot be asked at all; the host then tries
    /// again later. The default returns [`ErrorKind::Unsupported`], and the host re-reads the
    /// whole target instead.
    fn get_full_objects(
        &mut self,
        _requests: &[CsEntryChange],
        _page: &mut PageWriter,
    ) -> ConnectorResult<()> {
        Err(ConnectorError::unsupported(
            "FullObject import is not supported",
        ))
    }
}

/// Runs `f`, turning a panic into an [`ErrorKind::Panicked`] error.
pub fn guarded<T>(f: impl FnOnce() -> ConnectorResult<T>) -> ConnectorResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(ConnectorError::new(
            ErrorKind::Panicked,
            format!("connector panicked: {}", panic_message(&*payload)),
        )),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

/// Fills in the SDK-owned fields of a connector's info.
pub(crate) fn info_of<T: Connector>() -> ConnectorInfo {
    let mut info = T::info();
    info.api_version = PLUGIN_API_VERSION.to_owned();
    info
}
