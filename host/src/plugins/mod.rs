//! Plugin discovery and loading; the managed instances the rest of the host calls are in
//! `instance.rs`, the callbacks a plugin calls back into the host in `callbacks.rs`, and how
//! an application's connector runs (in this process or in workers) in `launch.rs`.
//!
//! Discovery never stops at a bad file: each one gets one clear log line naming the file and
//! the reason, and the host goes on with the rest. A file (or folder) other users could
//! change is refused before it is opened (`trust.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use plugin_api::host::ConnectorPlugin;
use plugin_api::loader::{LoadError, load_plugin};

mod callbacks;
mod instance;
mod launch;
mod trust;

pub use callbacks::{TracingHost, WarningCollector};
pub use instance::{CallKind, CallLimits, LateReturn, ManagedInstance};
pub use launch::{ConnectorLaunch, Isolation};
pub use trust::PathPolicy;

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
    policy: PathPolicy,
}

impl PluginRegistry {
    /// Loads every dynamic library directly inside each of `dirs` (sorted by name, not
    /// recursive), then each of `files`, with the strict path rules. Logs one line per failure.
    pub fn discover(dirs: &[PathBuf], files: &[PathBuf]) -> Self {
        Self::discover_with(dirs, files, PathPolicy::Strict)
    }

    /// [`Self::discover`] under `policy` (`[host] allow_insecure_plugin_paths`).
    pub fn discover_with(dirs: &[PathBuf], files: &[PathBuf], policy: PathPolicy) -> Self {
        let mut registry = Self {
            policy,
            ..Self::default()
        };
        let mut candidates = Vec::new();
        for dir in dirs {
            if let Err(reason) = registry.trusted(dir) {
                registry.fail(dir, reason, None);
                continue;
            }
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

    /// Whether `path` may be loaded from: the strict rules, or a warning under
    /// `allow_insecure_plugin_paths`.
    fn trusted(&self, path: &Path) -> Result<(), String> {
        match (trust::check(path), self.policy) {
            (Ok(()), _) => Ok(()),
            (Err(reason), PathPolicy::Strict) => Err(reason),
            (Err(reason), PathPolicy::AllowInsecure) => {
                tracing::warn!(
                    path = %path.display(),
                    "loading anyway (allow_insecure_plugin_paths): {reason}"
                );
                Ok(())
            }
        }
    }

    fn load_file(&mut self, file: &Path) {
        if let Err(reason) = self.trusted(file) {
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

    /// The connector an application runs, as the application calls it. Every caller that
    /// sets up or checks an application goes through here, so how a connector is run (in
    /// this process or another) is decided in one place. A worker is started (and its
    /// handshake checked) here: a worker that cannot run is a setup error, with the reason.
    pub fn for_app(&self, launch: &ConnectorLaunch) -> Result<Arc<dyn ConnectorPlugin>, String> {
        self.can_launch(launch)?;
        let (program, args) = match (&launch.command, launch.isolation) {
            (None, Isolation::InProcess) => {
                return Ok(self.plugins[&launch.connector].plugin.clone());
            }
            (Some(argv), _) => {
                let (program, args) = argv.split_first().expect("can_launch: not empty");
                (
                    PathBuf::from(program),
                    args.iter().map(Into::into).collect(),
                )
            }
            (None, Isolation::Process) => {
                let program = match &launch.worker_executable {
                    Some(exe) => exe.clone(),
                    None => std::env::current_exe().map_err(|e| {
                        format!(
                            "cannot find the ecma-host executable to start a connector worker: {e}"
                        )
                    })?,
                };
                let file = &self.plugins[&launch.connector].file;
                let allow_insecure = self.policy == PathPolicy::AllowInsecure;
                (program, launch::worker_args(file, allow_insecure))
            }
        };
        let spec = crate::worker::WorkerSpec {
            program,
            args,
            app: launch.app.clone(),
            connector: launch.connector.clone(),
        };
        let plugin = crate::worker::ProcessPlugin::start(spec)?;
        Ok(Arc::new(plugin))
    }

    /// Whether [`Self::for_app`] has what it needs without starting anything: a loaded plugin
    /// of that name, unless the connector is an executable of its own.
    pub fn can_launch(&self, launch: &ConnectorLaunch) -> Result<(), String> {
        match &launch.command {
            Some(argv) if argv.is_empty() => Err("connector_command is empty".to_owned()),
            Some(_) => Ok(()),
            None if self.plugins.contains_key(&launch.connector) => Ok(()),
            None => Err(self.not_loaded(&launch.connector)),
        }
    }

    /// Why `connector` cannot be used: it is not among the loaded plugins.
    pub fn not_loaded(&self, connector: &str) -> String {
        let known: Vec<&str> = self.plugins.keys().map(String::as_str).collect();
        format!(
            "connector '{connector}' is not loaded (loaded: {})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )
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
