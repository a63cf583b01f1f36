//! Autosync: the first import, retried with backoff until it succeeds, then one import every
//! `autosync_minutes` until shutdown.

use std::sync::Arc;
use std::time::Duration;

use super::{Application, ImportMode};

/// How long the host waits after a request to re-read the target, so that a burst of
/// ambiguous export outcomes gives one import, not one per request.
const RECONCILE_DELAY: Duration = Duration::from_secs(2);

impl Application {
    /// Runs autosync until shutdown: the first import (retried with backoff until it
    /// succeeds), then one import every `autosync_minutes` (none when 0), and one soon after
    /// any request to re-read the target ([`Self::request_reconcile`]).
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
            // None: wait only for a reconcile request (autosync off).
            let wait = if ok {
                first = false;
                backoff = Duration::from_secs(2);
                (!interval.is_zero()).then_some(interval)
            } else {
                metrics::counter!("ecma_autosync_failures_total", "app" => self.name.clone())
                    .increment(1);
                let w = if interval.is_zero() {
                    backoff
                } else {
                    backoff.min(interval)
                };
                backoff = (backoff * 2).min(Duration::from_secs(300));
                Some(w)
            };
            let timer = async {
                match wait {
                    Some(w) => tokio::time::sleep(w).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = timer => {}
                _ = self.reconcile.notified(), if !first => {
                    tokio::select! {
                        _ = tokio::time::sleep(RECONCILE_DELAY) => {}
                        _ = shutdown.changed() => return,
                    }
                    tracing::info!(app = %self.name, "re-reading the target after an export with an unknown outcome");
                }
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Asks autosync to re-read the target soon: an export failed in a way that leaves its
    /// outcome unknown (a timeout, a lost connection, a panic after the target may have
    /// applied it), so the cache may disagree with the target until it is read again.
    pub(super) fn request_reconcile(&self, why: &str) {
        tracing::warn!(app = %self.name, "the target will be re-read: {why}");
        metrics::counter!("ecma_reconcile_requests_total", "app" => self.name.clone()).increment(1);
        self.reconcile.notify_one();
    }
}
