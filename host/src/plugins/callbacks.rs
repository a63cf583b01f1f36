//! What a plugin calls back into the host: its log lines, and whether it should stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use plugin_api::model::LogLevel;
use plugin_api::sdk::HostCallbacks;

/// Forwards a plugin's log lines to the host's `tracing`, tagged with the connector name.
pub(super) struct TracingHost {
    pub(super) connector: String,
    pub(super) application: String,
    pub(super) cancelled: Arc<AtomicBool>,
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
