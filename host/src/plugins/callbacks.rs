//! What a plugin calls back into the host: its log lines, and whether it should stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use plugin_api::model::LogLevel;
use plugin_api::sdk::HostCallbacks;

/// Forwards a plugin's log lines to the host's `tracing`, tagged with the connector name.
pub struct TracingHost {
    pub(super) connector: String,
    pub(super) application: String,
    pub(super) cancelled: Arc<AtomicBool>,
}

impl TracingHost {
    /// Callbacks for `connector` of `application` whose calls stop when `cancelled` is set.
    pub fn new(connector: &str, application: &str, cancelled: Arc<AtomicBool>) -> Self {
        Self {
            connector: connector.to_owned(),
            application: application.to_owned(),
            cancelled,
        }
    }
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

/// Keeps a plugin's warnings and errors, for a command that reports them to the admin
/// (`check-config`: the columns Generic SQL hid, a clear-text LDAP bind) instead of a log.
#[derive(Default)]
pub struct WarningCollector(std::sync::Mutex<Vec<String>>);

impl WarningCollector {
    /// What was collected so far, in order, leaving the collector empty.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl HostCallbacks for WarningCollector {
    fn log(&self, level: LogLevel, _target: &str, message: &str) {
        if matches!(level, LogLevel::Warn | LogLevel::Error) {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(message.to_owned());
        }
    }
    fn is_cancelled(&self) -> bool {
        false
    }
}
