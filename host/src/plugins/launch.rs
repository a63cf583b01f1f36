//! How an application's connector runs: in this process, or in worker processes. Defined here
//! (not in the configuration) so that the registry decides without importing the
//! configuration, which imports the registry.

use std::ffi::OsString;
use std::path::PathBuf;

use serde::Deserialize;

/// `isolation` of an application.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// The connector's library is called in the host's process (the default): the fastest,
    /// but a crash in the connector (a segfault in a C driver, an abort) ends the host and
    /// every application on it.
    #[default]
    InProcess,
    /// Each connector instance runs in its own worker process; a crash ends that worker only.
    Process,
}

/// Everything [`super::PluginRegistry::for_app`] needs to know about one application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorLaunch {
    /// The application (for log lines and metrics of its workers).
    pub app: String,
    /// The connector's name: a loaded plugin's, or what `command` reports in its handshake.
    pub connector: String,
    pub isolation: Isolation,
    /// An executable speaking the worker protocol, and its arguments (`connector_command`);
    /// implies [`Isolation::Process`].
    pub command: Option<Vec<String>>,
    /// The `ecma-host` binary that serves a plugin library as a worker (`ecma-host worker`);
    /// `None`: this executable.
    pub worker_executable: Option<PathBuf>,
}

impl ConnectorLaunch {
    /// An application whose connector runs in this process.
    pub fn in_process(app: &str, connector: &str) -> Self {
        Self {
            app: app.to_owned(),
            connector: connector.to_owned(),
            isolation: Isolation::InProcess,
            command: None,
            worker_executable: None,
        }
    }
}

/// The argv of `ecma-host worker` for `plugin` under the registry's path rules.
pub(super) fn worker_args(plugin: &std::path::Path, allow_insecure: bool) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["worker".into(), "--plugin".into(), plugin.into()];
    if allow_insecure {
        args.push("--allow-insecure-plugin-paths".into());
    }
    args
}
