//! Autosync: the first import, retried with backoff until it succeeds, then one import every
//! `autosync_minutes` until shutdown.

use std::sync::Arc;
use std::time::Duration;

use super::{Application, ImportMode};

/// What autosync runs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    /// The first full import (retried until it succeeds: the endpoint serves after it).
    FirstImport,
    /// The periodic import (delta where possible).
    Scheduled,
    /// What SCIM writes asked to be re-read ([`Application::run_pending_rereads`]).
    ReRead,
}

impl Due {
    fn label(self) -> &'static str {
        match self {
            Due::FirstImport => "full",
            Due::Scheduled => "scheduled (delta where possible)",
            Due::ReRead => "re-read",
        }
    }
}

/// How long the host waits after a request to re-read the target, so that a burst of
/// ambiguous export outcomes gives one import, not one per request.
const RECONCILE_DELAY: Duration = Duration::from_secs(2);

impl Application {
    /// Runs autosync until shutdown: the first import (retried with backoff until it
    /// succeeds), then one import every `autosync_minutes` (none when 0), and one soon after
    /// any request to re-read the target ([`Self::request_reread`], [`Self::request_reconcile`]).
    pub async fn autosync(self: Arc<Self>, shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut shutdown = shutdown;
        let interval = Duration::from_secs(self.config.autosync_minutes * 60);
        let mut backoff = Duration::from_secs(2);
        let mut due = Due::FirstImport;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let ok = match due {
                Due::FirstImport => self.import(ImportMode::Full, false).await.is_ok(),
                Due::Scheduled
                    if self.config.run_profiles.full_import
                        || self.config.run_profiles.delta_import =>
                {
                    self.import(ImportMode::Auto, false).await.is_ok()
                }
                Due::Scheduled => true,
                Due::ReRead => self.run_pending_rereads().await,
            };
            // None: wait only for a re-read request (autosync off).
            let wait = if ok {
                if due == Due::FirstImport {
                    due = Due::Scheduled;
                }
                backoff = Duration::from_secs(2);
                (!interval.is_zero()).then_some(interval)
            } else {
                metrics::counter!("ecma_autosync_failures_total", "app" => self.name.clone())
                    .increment(1);
                let w = if interval.is_zero() || due == Due::ReRead {
                    backoff
                } else {
                    backoff.min(interval)
                };
                backoff = (backoff * 2).min(Duration::from_secs(300));
                Some(w)
            };
            // A failed first import or re-read is retried as such; otherwise the timer
            // brings the scheduled import.
            let after_timer = if ok && due == Due::ReRead {
                Due::Scheduled
            } else {
                due
            };
            self.history.scheduled(
                wait.map(super::render::rfc3339_in),
                wait.map(|_| after_timer.label()),
            );
            let timer = async {
                match wait {
                    Some(w) => tokio::time::sleep(w).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = timer => due = after_timer,
                _ = self.reconcile.notified(), if due != Due::FirstImport => {
                    tokio::select! {
                        _ = tokio::time::sleep(RECONCILE_DELAY) => {}
                        _ = shutdown.changed() => return,
                    }
                    due = Due::ReRead;
                }
                _ = shutdown.changed() => return,
            }
        }
    }
}
