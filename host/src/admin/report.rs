//! What `ecma-host status` and the status page show: the running host's applications, read
//! from their slots and histories into one report. The JSON form (`status --json`, the
//! admin socket's `/v1/status`) is a contract with scripts: its own types, camelCase, fields
//! only ever added, so a change inside the application does not change what scripts parse.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::AdminContext;
use crate::app::{Application, ImportRecord};
use crate::slot::AppStatus;

/// The whole host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HostReport {
    pub version: String,
    pub pid: u32,
    /// RFC 3339, UTC.
    pub started: String,
    pub uptime_secs: u64,
    /// Where SCIM is served (`https://127.0.0.1:8585`).
    pub scim: String,
    /// The status page's URL, when it is on.
    pub status_page: Option<String>,
    pub state_dir: String,
    pub applications: Vec<AppReport>,
}

/// Where an application is, in one word.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AppState {
    /// The first setup attempt is running.
    Starting,
    /// Its target cannot be reached yet (setup or first import failed); retried.
    Retrying,
    /// Its configuration cannot work (connector not loaded); not retried.
    Failed,
    /// The first import is running: the endpoint answers 503 until it ends.
    Importing,
    /// Serving.
    Ready,
}

impl AppState {
    pub fn word(self) -> &'static str {
        match self {
            AppState::Starting => "starting",
            AppState::Retrying => "retrying",
            AppState::Failed => "failed",
            AppState::Importing => "importing",
            AppState::Ready => "ready",
        }
    }
}

/// One application.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AppReport {
    pub name: String,
    pub connector: String,
    pub state: AppState,
    /// Why it is not ready (the target's error), when it is not.
    pub reason: Option<String>,
    /// Seconds until the next setup attempt (state `retrying` before setup succeeded).
    pub retry_in_secs: Option<u64>,
    /// An import is running now (the first one, a scheduled one, or one asked for).
    pub importing: bool,
    /// Objects the running import has read so far.
    pub objects_read: Option<u64>,
    /// Objects in the cache per object type (empty before setup).
    pub cache: Vec<CacheCount>,
    pub last_full: Option<ImportReport>,
    pub last_delta: Option<ImportReport>,
    /// The last failed run, when it came after the last success of its kind.
    pub last_failure: Option<ImportReport>,
    /// The stored watermark per object type.
    pub watermarks: BTreeMap<String, String>,
    /// 0: autosync is off (fractions of a minute allowed).
    pub autosync_minutes: f64,
    /// When autosync runs next (RFC 3339) and what it runs.
    pub next_run: Option<String>,
    pub next_run_kind: Option<String>,
    /// Export results since the host started, by ECMA2 result code.
    pub exports: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CacheCount {
    /// The connector's object type.
    pub object_type: String,
    /// The SCIM resource type it is served as.
    pub resource_type: String,
    pub objects: u64,
}

/// One import run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub started: String,
    pub duration_ms: u64,
    pub full: bool,
    pub objects: u64,
    pub added: u64,
    pub changed: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl From<&ImportRecord> for ImportReport {
    fn from(r: &ImportRecord) -> Self {
        Self {
            started: r.started.clone(),
            duration_ms: r.duration_ms,
            full: r.full,
            objects: r.objects,
            added: r.added,
            changed: r.changed,
            deleted: r.deleted,
            unchanged: r.unchanged,
            errors: r.errors,
            first_error: r.first_error.clone(),
        }
    }
}

/// The report of every application (or of `only`, when it names one).
pub fn host_report(ctx: &AdminContext, only: Option<&str>) -> HostReport {
    let applications = ctx
        .state
        .apps
        .iter()
        .filter(|(name, _)| only.is_none_or(|o| o == name.as_str()))
        .map(|(name, slot)| {
            let info = ctx.apps.get(name);
            let mut report = AppReport {
                name: name.clone(),
                connector: info.map(|i| i.connector.clone()).unwrap_or_default(),
                state: AppState::Starting,
                reason: None,
                retry_in_secs: None,
                importing: false,
                objects_read: None,
                cache: Vec::new(),
                last_full: None,
                last_delta: None,
                last_failure: None,
                watermarks: BTreeMap::new(),
                autosync_minutes: info.map(|i| i.autosync_minutes).unwrap_or_default(),
                next_run: None,
                next_run_kind: None,
                exports: BTreeMap::new(),
            };
            let status = slot.status();
            report.reason = status.reason().map(str::to_owned);
            report.state = match status {
                AppStatus::Starting => AppState::Starting,
                AppStatus::Retrying { retry_in_secs, .. } => {
                    report.retry_in_secs = Some(retry_in_secs);
                    AppState::Retrying
                }
                AppStatus::ImportRetrying { .. } => AppState::Retrying,
                AppStatus::Failed { .. } => AppState::Failed,
                AppStatus::Importing => AppState::Importing,
                AppStatus::Ready => AppState::Ready,
            };
            if let Some(app) = slot.app() {
                fill_from_application(&mut report, &app);
            }
            report
        })
        .collect();
    HostReport {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        pid: std::process::id(),
        started: ctx.started.clone(),
        uptime_secs: ctx.started_at.elapsed().as_secs(),
        scim: ctx.scim_url.clone(),
        status_page: ctx.status_page.map(|a| format!("http://{a}/")),
        state_dir: ctx.state_dir.display().to_string(),
        applications,
    }
}

fn fill_from_application(report: &mut AppReport, app: &Application) {
    report.importing = app.is_importing();
    if report.importing {
        report.objects_read = Some(app.progress());
    }
    report.cache = app
        .types
        .iter()
        .zip(app.cache_sizes())
        .map(|(t, (_, size))| CacheCount {
            object_type: t.object_type.clone(),
            resource_type: t.resource_type.name.clone(),
            objects: size as u64,
        })
        .collect();
    let history = app.history();
    report.last_full = history.last_full.as_ref().map(ImportReport::from);
    report.last_delta = history.last_delta.as_ref().map(ImportReport::from);
    report.last_failure = history.last_failure.as_ref().map(ImportReport::from);
    report.next_run = history.next_run;
    report.next_run_kind = history.next_run_kind;
    report.exports = history.exports;
    report.watermarks = app.watermarks();
}
