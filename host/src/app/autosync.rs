//! Autosync: the first import, retried with backoff until it succeeds, then one import every
//! `autosync_minutes` until shutdown. A cycle is a delta where the connector has one, and a
//! full import when reconciliation is due: `full_import_every_hours` after the last full
//! import, or on every cycle with `reconcile_deletes = "every_cycle"` for a connector whose
//! deltas cannot see deletes (a full import is what removes deleted objects from the cache).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Application, ImportMode};

/// What autosync runs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    /// The first full import (retried until it succeeds: the endpoint serves after it).
    FirstImport,
    /// The periodic import: a delta, or a full import when one is due.
    Scheduled,
    /// What SCIM writes asked to be re-read ([`Application::run_pending_rereads`]).
    ReRead,
}

/// What a run is, as the history shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunKind {
    Full,
    Delta,
    ReRead,
}

impl RunKind {
    fn label(self) -> &'static str {
        match self {
            RunKind::Full => "full",
            RunKind::Delta => "delta",
            RunKind::ReRead => "re-read",
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
        let profiles = self.config.run_profiles;
        // With both import run profiles off there is nothing to schedule.
        let interval = self
            .config
            .autosync_interval()
            .filter(|_| profiles.full_import || profiles.delta_import);
        let mut backoff = Duration::from_secs(2);
        let mut due = Due::FirstImport;
        // A kept cache serves at once; the first import then only catches up (a delta where
        // the connector has one and the watermarks are known).
        let first_mode = if self.load_persisted_cache() {
            ImportMode::Auto
        } else {
            ImportMode::Full
        };
        loop {
            if *shutdown.borrow() {
                return;
            }
            let ok = match due {
                Due::FirstImport => self.import(first_mode, false).await.is_ok(),
                Due::Scheduled => {
                    let mode = match self.scheduled_kind(Instant::now()) {
                        RunKind::Full => ImportMode::Full,
                        // Auto: a delta, or a full import if the connector asks for one.
                        _ => ImportMode::Auto,
                    };
                    self.import(mode, false).await.is_ok()
                }
                Due::ReRead => self.run_pending_rereads().await,
            };
            // None: wait only for a re-read request (autosync off).
            let wait = if ok {
                if due == Due::FirstImport {
                    due = Due::Scheduled;
                }
                backoff = Duration::from_secs(2);
                interval
            } else {
                metrics::counter!("ecma_autosync_failures_total", "app" => self.name.clone())
                    .increment(1);
                let w = match interval {
                    Some(i) if due != Due::ReRead => backoff.min(i),
                    _ => backoff,
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
            let next_kind = wait.map(|w| match after_timer {
                Due::FirstImport => RunKind::Full,
                Due::ReRead => RunKind::ReRead,
                Due::Scheduled => self.scheduled_kind(Instant::now() + w),
            });
            self.history.scheduled(
                wait.map(super::render::rfc3339_in),
                next_kind.map(RunKind::label),
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

    /// What a scheduled cycle starting at `at` runs: full when the connector or the run
    /// profile has no delta, when an object type has no watermark yet, or when
    /// reconciliation is due; otherwise a delta.
    fn scheduled_kind(&self, at: Instant) -> RunKind {
        let profiles = self.config.run_profiles;
        let watermarks = self.watermarks();
        let delta_possible = self.capabilities.delta_import
            && profiles.delta_import
            && self.types.iter().all(|t| {
                watermarks
                    .get(&t.object_type)
                    .is_some_and(|w| !w.is_empty())
            });
        if !delta_possible {
            return RunKind::Full;
        }
        // Reconciliation needs the full import run profile.
        if !profiles.full_import {
            return RunKind::Delta;
        }
        if self.config.full_import_every_cycle(&self.capabilities) {
            return RunKind::Full;
        }
        let Some(every) = self.config.full_import_interval() else {
            return RunKind::Delta;
        };
        match self
            .history
            .last_full_at()
            .map(|last| last.checked_add(every))
        {
            // Due: `every` has passed since the last full import, or there was none.
            Some(Some(due_at)) if at >= due_at => RunKind::Full,
            None => RunKind::Full,
            // Not yet, or so far ahead that the clock cannot say when.
            Some(_) => RunKind::Delta,
        }
    }
}
