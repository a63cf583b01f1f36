//! Autosync: the first import, retried with backoff until it succeeds, then one import every
//! `autosync_minutes` until shutdown.

use std::sync::Arc;
use std::time::Duration;

use super::{Application, ImportMode};

impl Application {
    /// Runs autosync forever: the first import (retried with backoff until it succeeds),
    /// then one import every `autosync_minutes`.
    pub async fn autosync(self: Arc<Self>, shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut shutdown = shutdown;
        let interval = Duration::from_secs(self.config.autosync_minutes * 60);
        let mut backoff = Duration::from_secs(2);
        let mut first = true;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let mode = if first {
                ImportMode::Full
            } else {
                ImportMode::Auto
            };
            let ok = if first
                || self.config.run_profiles.full_import
                || self.config.run_profiles.delta_import
            {
                self.import(mode, false).await.is_ok()
            } else {
                true
            };
            let wait = if ok {
                first = false;
                backoff = Duration::from_secs(2);
                if interval.is_zero() {
                    // Autosync off: nothing more to do after the first import.
                    let _ = shutdown.changed().await;
                    return;
                }
                interval
            } else {
                metrics::counter!("ecma_autosync_failures_total", "app" => self.name.clone())
                    .increment(1);
                let w = if interval.is_zero() {
                    backoff
                } else {
                    backoff.min(interval)
                };
                backoff = (backoff * 2).min(Duration::from_secs(300));
                w
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
