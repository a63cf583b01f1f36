//! The admin socket's routes: `GET /v1/status[?app=NAME]` and
//! `POST /v1/import/{app}?mode=auto|full|delta&dryRun=true`.
//!
//! An import asked for here runs on the host's own application, through the same
//! `Application::import` autosync uses, so it changes the cache the host serves. Imports of
//! one application run one at a time: a request made while one runs waits for it and then
//! runs (the admin asked for a fresh read; the outcome says it waited). The import runs as
//! its own task: a client that goes away does not cancel it halfway.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::AdminContext;
use super::report::{ImportReport, host_report};
use crate::app::{ImportMode, ImportRecord, ImportSummary};

/// The routes carry a version: the CLI and the host are one binary today, but a client left
/// from another release must get a clear 404, not a misread answer.
pub const STATUS_PATH: &str = "/v1/status";
pub const IMPORT_PATH: &str = "/v1/import";

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(STATUS_PATH, web::get().to(status))
        .route(&format!("{IMPORT_PATH}/{{app}}"), web::post().to(import));
}

#[derive(Debug, Deserialize)]
struct StatusQuery {
    app: Option<String>,
}

/// The import the client asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportKind {
    /// Delta where possible, else full (what autosync runs).
    #[default]
    Auto,
    Full,
    Delta,
}

impl From<ImportKind> for ImportMode {
    fn from(k: ImportKind) -> Self {
        match k {
            ImportKind::Auto => ImportMode::Auto,
            ImportKind::Full => ImportMode::Full,
            ImportKind::Delta => ImportMode::Delta,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportQuery {
    #[serde(default)]
    mode: ImportKind,
    #[serde(default)]
    dry_run: bool,
}

/// The answer to an import request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ImportOutcome {
    pub app: String,
    pub dry_run: bool,
    /// Another import of the application was running when the request came: this one ran
    /// after it.
    pub waited: bool,
    pub import: ImportReport,
}

/// An error answer: `{"error": "..."}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

fn error(status: actix_web::http::StatusCode, message: String) -> HttpResponse {
    HttpResponse::build(status).json(ErrorBody { error: message })
}

fn no_such_app(ctx: &AdminContext, name: &str) -> HttpResponse {
    let known: Vec<&str> = ctx.state.apps.keys().map(String::as_str).collect();
    error(
        actix_web::http::StatusCode::NOT_FOUND,
        format!(
            "the running host has no application named '{name}' (it has: {})",
            known.join(", ")
        ),
    )
}

async fn status(ctx: web::Data<AdminContext>, q: web::Query<StatusQuery>) -> HttpResponse {
    if let Some(name) = q.app.as_deref()
        && !ctx.state.apps.contains_key(name)
    {
        return no_such_app(&ctx, name);
    }
    HttpResponse::Ok().json(host_report(&ctx, q.app.as_deref()))
}

async fn import(
    ctx: web::Data<AdminContext>,
    name: web::Path<String>,
    q: web::Query<ImportQuery>,
) -> HttpResponse {
    let name = name.into_inner();
    let Some(slot) = ctx.state.apps.get(&name) else {
        return no_such_app(&ctx, &name);
    };
    let Some(app) = slot.app() else {
        let status = slot.status();
        return error(
            actix_web::http::StatusCode::CONFLICT,
            format!(
                "application '{name}' is not set up yet ({}{}): it imports by itself once its target answers",
                status.label(),
                status
                    .reason()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
        );
    };
    let waited = app.is_importing();
    let (mode, dry_run) = (q.mode, q.dry_run);
    tracing::info!(app = %name, ?mode, dry_run, waits = waited, "import requested on the admin socket");
    let started = crate::app::now_rfc3339();
    let task = ctx
        .state
        .compute
        .spawn(async move { app.import(mode.into(), dry_run).await });
    match task.await {
        Ok(Ok(summary)) => HttpResponse::Ok().json(ImportOutcome {
            app: name,
            dry_run,
            waited,
            import: report_of(started, &summary),
        }),
        Ok(Err(e)) => error(
            actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("the import failed, the cache keeps what it had: {e}"),
        ),
        Err(e) => error(
            actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("the import task failed: {e}"),
        ),
    }
}

fn report_of(started: String, summary: &ImportSummary) -> ImportReport {
    ImportReport::from(&ImportRecord::of(started, summary, None))
}
