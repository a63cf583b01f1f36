//! What an application has done, for the people who run it: the last full and delta
//! imports with what they changed, when autosync runs next, and export results since start.
//! `ecma-host status`, the status page and `/readyz` read it; nothing decides on it.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use super::{Application, ImportSummary};

/// One finished (or failed) import run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportRecord {
    /// RFC 3339, UTC.
    pub started: String,
    pub duration_ms: u64,
    pub full: bool,
    /// Objects read.
    pub objects: u64,
    pub added: u64,
    pub changed: u64,
    pub deleted: u64,
    pub unchanged: u64,
    /// Entries that failed.
    pub errors: u64,
    /// Why the run failed (then the cache kept what it had), or the first entry error.
    pub first_error: Option<String>,
}

impl ImportRecord {
    pub fn of(started: String, summary: &ImportSummary, error: Option<String>) -> Self {
        Self {
            started,
            duration_ms: summary.millis as u64,
            full: summary.full,
            objects: summary.objects,
            added: summary.added,
            changed: summary.changed,
            deleted: summary.deleted,
            unchanged: summary.unchanged,
            errors: summary.errors,
            first_error: error.or_else(|| summary.first_error.clone()),
        }
    }
}

/// An application's record of its imports and exports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct History {
    pub last_full: Option<ImportRecord>,
    pub last_delta: Option<ImportRecord>,
    /// The last run that failed, if it came after the last success of its kind.
    pub last_failure: Option<ImportRecord>,
    /// When autosync runs next (RFC 3339), if it is scheduled.
    pub next_run: Option<String>,
    /// What the next scheduled run is: "full" (the first import, or a reconciling full
    /// import), "delta", or "re-read" (objects SCIM writes asked to read again).
    pub next_run_kind: Option<String>,
    /// Export results since start, by result code (`Success`, `ExportErrorInvalidDN`, ...).
    pub exports: BTreeMap<String, u64>,
}

/// The application's history, updated as it works.
#[derive(Debug, Default)]
pub(super) struct HistoryLog {
    history: Mutex<History>,
    /// When the last successful full import finished: the reconciliation schedule counts
    /// from it, whoever ran the import (autosync, an admin, a re-read).
    last_full_at: Mutex<Option<Instant>>,
}

impl HistoryLog {
    pub fn import_finished(&self, record: ImportRecord, ok: bool) {
        let mut h = self.lock();
        if !ok {
            h.last_failure = Some(record);
        } else if record.full {
            h.last_full = Some(record);
            h.last_failure = None;
            *self.last_full_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        } else {
            h.last_delta = Some(record);
            h.last_failure = None;
        }
    }

    pub fn scheduled(&self, next_run: Option<String>, kind: Option<&str>) {
        let mut h = self.lock();
        h.next_run = next_run;
        h.next_run_kind = kind.map(str::to_owned);
    }

    pub fn exported(&self, code: &str) {
        *self.lock().exports.entry(code.to_owned()).or_default() += 1;
    }

    /// When the last successful full import finished (None before the first).
    pub fn last_full_at(&self) -> Option<Instant> {
        *self.last_full_at.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, History> {
        self.history.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Application {
    /// What the application has done so far (see [`History`]).
    pub fn history(&self) -> History {
        self.history.lock().clone()
    }

    /// The stored watermark of each object type (empty before the first import that made
    /// one, and for connectors without delta import).
    pub fn watermarks(&self) -> BTreeMap<String, String> {
        self.watermarks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
