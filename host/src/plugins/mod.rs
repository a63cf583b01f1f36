//! Plugin discovery, loading and the managed instances the rest of the host calls.
//!
//! Discovery never stops at a bad file: each one gets one clear log line naming the file and
//! the reason, and the host goes on with the rest. Connector calls run on tokio's blocking
//! pool behind a per-instance limit; an instance that panicked is dropped and created anew on
//! the next call.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use plugin_api::host::{ConnectorInstance, ConnectorPlugin};
use plugin_api::loader::{LoadError, load_plugin};
use plugin_api::model::{ConfigParameters, ConnectorError, ConnectorResult, ErrorKind, LogLevel};
use plugin_api::sdk::{HostCallbacks, HostServices};
use tokio::sync::Semaphore;

/// A plugin file that could not be used.
#[derive(Debug, Clone)]
pub struct PluginFailure {
    pub file: PathBuf,
    /// One line for operators.
    pub reason: String,
    /// Extra detail for debug logs (e.g. the full abi_stable layout report).
    pub detail: Option<String>,
}

/// A loaded connector.
#[derive(Clone)]
pub struct RegisteredPlugin {
    pub file: PathBuf,
    pub plugin: Arc<dyn ConnectorPlugin>,
}

/// All connectors the host knows, by name, and the files that failed.
#[derive(Default, Clone)]
pub struct PluginRegistry {
    plugins: BTreeMap<String, RegisteredPlugin>,
    failures: Vec<PluginFailure>,
}

impl PluginRegistry {
    /// Loads every dynamic library directly inside each of `dirs` (sorted by name, not
    /// recursive), then each of `files`. Logs one line per failure.
    pub fn discover(dirs: &[PathBuf], files: &[PathBuf]) -> Self {
        let mut registry = Self::default();
        let mut candidates = Vec::new();
        for dir in dirs {
            match list_libraries(dir) {
                Ok(found) => candidates.extend(found),
                Err(reason) => registry.fail(dir, reason, None),
            }
        }
        candidates.extend(files.iter().cloned());
        for file in candidates {
            registry.load_file(&file);
        }
        registry
    }

    /// Registers a connector that is linked into the process (tests, tools).
    pub fn register(&mut self, file: PathBuf, plugin: Arc<dyn ConnectorPlugin>) {
        let name = plugin.info().name.clone();
        if let Some(existing) = self.plugins.get(&name) {
            let reason = format!(
                "duplicate connector name '{name}' (already loaded from {})",
                existing.file.display()
            );
            self.fail(&file, reason, None);
            return;
        }
        self.plugins.insert(name, RegisteredPlugin { file, plugin });
    }

    fn load_file(&mut self, file: &Path) {
        if let Err(reason) = check_not_writable_by_others(file) {
            self.fail(file, reason, None);
            return;
        }
        match load_plugin(file) {
            Ok(loaded) => {
                let info = loaded.info().clone();
                tracing::info!(
                    file = %file.display(),
                    connector = %info.name,
                    version = %info.version,
                    "loaded connector plugin"
                );
                self.register(file.to_owned(), Arc::new(loaded));
            }
            Err(e) => {
                let detail = match &e {
                    LoadError::LayoutMismatch { full, .. } => Some(full.clone()),
                    _ => None,
                };
                self.fail(file, e.to_string(), detail);
            }
        }
    }

    fn fail(&mut self, file: &Path, reason: String, detail: Option<String>) {
        tracing::error!(file = %file.display(), "skipping plugin: {reason}");
        if let Some(detail) = &detail {
            tracing::debug!(file = %file.display(), "full report: {detail}");
        }
        self.failures.push(PluginFailure {
            file: file.to_owned(),
            reason,
            detail,
        });
    }

    pub fn get(&self, name: &str) -> Option<&RegisteredPlugin> {
        self.plugins.get(name)
    }
    pub fn plugins(&self) -> impl Iterator<Item = (&String, &RegisteredPlugin)> {
        self.plugins.iter()
    }
    pub fn failures(&self) -> &[PluginFailure] {
        &self.failures
    }
}

/// The dynamic libraries directly inside `dir`, sorted.
fn list_libraries(dir: &Path) -> Result<Vec<PathBuf>, String> {
    check_not_writable_by_others(dir)?;
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read plugins folder: {e}"))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|ext| ext == std::env::consts::DLL_EXTENSION)
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Loading code from a file (or folder) that another user can write would let that user run
/// code as the host, so such paths are refused.
#[cfg(unix)]
fn check_not_writable_by_others(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    let mode = meta.permissions().mode();
    if mode & 0o022 != 0 {
        return Err(format!(
            "refusing to load: {} is writable by other users (mode {:o}); run `chmod go-w {}`",
            if meta.is_dir() { "folder" } else { "file" },
            mode & 0o777,
            path.display()
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_not_writable_by_others(_path: &Path) -> Result<(), String> {
    Ok(())
}

/// Forwards a plugin's log lines to the host's `tracing`, tagged with the connector name.
struct TracingHost {
    connector: String,
    application: String,
    cancelled: Arc<AtomicBool>,
}

impl HostCallbacks for TracingHost {
    fn log(&self, level: LogLevel, target: &str, message: &str) {
        let (c, a) = (&self.connector, &self.application);
        match level {
            LogLevel::Error => {
                tracing::error!(target: "plugin", connector = %c, app = %a, plugin_target = target, "{message}")
            }
            LogLevel::Warn => {
                tracing::warn!(target: "plugin", connector = %c, app = %a, plugin_target = target, "{message}")
            }
            LogLevel::Info => {
                tracing::info!(target: "plugin", connector = %c, app = %a, plugin_target = target, "{message}")
            }
            LogLevel::Debug => {
                tracing::debug!(target: "plugin", connector = %c, app = %a, plugin_target = target, "{message}")
            }
            LogLevel::Trace => {
                tracing::trace!(target: "plugin", connector = %c, app = %a, plugin_target = target, "{message}")
            }
        }
    }
    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

/// One connector instance, created lazily from a configuration, called on blocking threads.
///
/// Calls are serialised (an ECMA2 instance is single-threaded); the semaphore keeps waiting
/// callers off the blocking pool. A panic drops the instance; the next call creates a new one.
#[derive(Clone)]
pub struct ManagedInstance {
    plugin: Arc<dyn ConnectorPlugin>,
    config: Arc<ConfigParameters>,
    services: HostServices,
    cancelled: Arc<AtomicBool>,
    slot: Arc<Mutex<Option<Box<dyn ConnectorInstance>>>>,
    limit: Arc<Semaphore>,
    label: Arc<str>,
}

impl ManagedInstance {
    pub fn new(
        plugin: Arc<dyn ConnectorPlugin>,
        config: ConfigParameters,
        application: &str,
    ) -> Self {
        let cancelled = Arc::new(AtomicBool::new(false));
        let connector = plugin.info().name.clone();
        let services = HostServices::new(Arc::new(TracingHost {
            connector: connector.clone(),
            application: application.to_owned(),
            cancelled: cancelled.clone(),
        }));
        Self {
            plugin,
            config: Arc::new(config),
            services,
            cancelled,
            slot: Arc::new(Mutex::new(None)),
            limit: Arc::new(Semaphore::new(1)),
            label: format!("{application}/{connector}").into(),
        }
    }

    /// Asks running and future calls to stop (they see `HostServices::is_cancelled`).
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Runs `f` on the instance on a blocking thread.
    pub async fn call<R, F>(&self, f: F) -> ConnectorResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn ConnectorInstance) -> ConnectorResult<R> + Send + 'static,
    {
        let _permit = self
            .limit
            .acquire()
            .await
            .map_err(|_| ConnectorError::internal("connector instance closed"))?;
        let this = self.clone();
        let joined = tokio::task::spawn_blocking(move || this.call_blocking(f)).await;
        match joined {
            Ok(r) => r,
            // The plugin's own panics are caught inside the plugin; this is a host-side bug.
            Err(e) => Err(ConnectorError::new(
                ErrorKind::Panicked,
                format!("connector call failed: {e}"),
            )),
        }
    }

    /// Runs `f` on the calling thread (which must be allowed to block).
    pub fn call_blocking<R>(
        &self,
        f: impl FnOnce(&mut dyn ConnectorInstance) -> ConnectorResult<R>,
    ) -> ConnectorResult<R> {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(
                self.plugin
                    .create_instance(&self.config, self.services.clone())?,
            );
        }
        let instance = slot.as_mut().expect("instance was just created");
        let result = f(instance.as_mut());
        if let Err(e) = &result
            && e.kind == ErrorKind::Panicked
        {
            tracing::error!(instance = %self.label, "connector panicked, recreating the instance: {}", e.message);
            *slot = None;
        }
        result
    }

    /// Drops the instance (closing its connections); a later call creates a new one.
    pub fn close(&self) {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        *slot = None;
    }

    pub fn plugin(&self) -> &Arc<dyn ConnectorPlugin> {
        &self.plugin
    }
    pub fn config(&self) -> &ConfigParameters {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use plugin_api::host::InProcessPlugin;
    use plugin_api::prelude::*;

    use super::ManagedInstance;

    /// A connector that logs through the host and panics on demand.
    struct Chatty;

    impl Connector for Chatty {
        fn info() -> ConnectorInfo {
            ConnectorInfo {
                name: "chatty".into(),
                version: "1".into(),
                vendor: "tests".into(),
                description: String::new(),
                api_version: String::new(),
            }
        }
        fn schema(_: &ConfigParameters) -> ConnectorResult<Schema> {
            Ok(Schema::default())
        }
        fn create(_: &ConfigParameters, host: HostServices) -> ConnectorResult<Self> {
            host.warn("hello from inside the connector");
            Ok(Chatty)
        }
        fn test_connection(&mut self) -> ConnectorResult<()> {
            panic!("boom")
        }
    }

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn plugin_log_lines_reach_tracing_with_the_connector_name_and_panics_recreate() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let plugin = Arc::new(InProcessPlugin::<Chatty>::new().unwrap());
            let managed = ManagedInstance::new(plugin, ConfigParameters::new(), "hr");
            let err = managed.call_blocking(|i| i.test_connection()).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Panicked);
            // The panicked instance was dropped: the next call creates (and logs) a new one.
            let _ = managed.call_blocking(|i| i.test_connection());
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let hellos: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("hello from inside the connector"))
            .collect();
        assert_eq!(hellos.len(), 2, "{text}");
        assert!(
            hellos[0].contains("WARN")
                && hellos[0].contains("connector=chatty")
                && hellos[0].contains("app=hr"),
            "{text}"
        );
        assert!(text.contains("recreating the instance"), "{text}");
    }
}
