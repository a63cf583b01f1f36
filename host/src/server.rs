//! The HTTPS front: `https://HOST:PORT/ecma2host_{name}/scim/...` per application, plus
//! `/healthz`, `/readyz` and `/metrics`.
//!
//! This layer only authenticates, enforces limits and adapts HTTP to the SCIM engine. Which
//! failure gets which status is decided in `errors.rs`; every SCIM error then goes through
//! `ScimError`'s `ResponseError` mapping.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use ecma_scim::{Method, SCIM_CONTENT_TYPE, ScimError, ScimRequest, ScimResponse};
use futures_util::StreamExt;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::errors;
use crate::slot::{AppSlot, AppStatus};

/// Shared state of the HTTP workers.
pub struct HostState {
    pub apps: BTreeMap<String, Arc<AppSlot>>,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub cache_dump: bool,
    pub metrics: Option<PrometheusHandle>,
    /// The multi-threaded runtime that runs writes and heavy reads, off the HTTP workers
    /// (each actix worker is a single-threaded reactor).
    pub compute: tokio::runtime::Handle,
    /// The last hour of requests, for the status page's chart.
    pub traffic: Arc<crate::admin::Traffic>,
}

/// Registers every route on an actix `App`.
pub fn configure(state: Arc<HostState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::from(state))
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(metrics_endpoint))
            // SCIM paths are split by hand: a `{tail:.*}` route pattern costs a regex match
            // on every request (measured: ~5% of a cached filter lookup).
            .default_service(web::to(scim));
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Readiness per application: its state (`starting`, `retrying`, `failed`, `importing`,
/// `ready`) and, when it is not ready, why. 200 once every application is ready.
async fn readyz(state: web::Data<HostState>) -> HttpResponse {
    let statuses: BTreeMap<&str, AppStatus> = state
        .apps
        .iter()
        .map(|(n, slot)| (n.as_str(), slot.status()))
        .collect();
    let apps: BTreeMap<&str, serde_json::Value> = statuses
        .iter()
        .map(|(n, status)| {
            let mut v = serde_json::json!({
                "state": status.label(),
                "ready": *status == AppStatus::Ready,
                "importing": *status == AppStatus::Importing,
                "lastImportFailed": matches!(status, AppStatus::ImportRetrying { .. }),
            });
            if let Some(reason) = status.reason() {
                v["reason"] = reason.into();
            }
            if let AppStatus::Retrying { retry_in_secs, .. } = status {
                v["retryInSecs"] = (*retry_in_secs).into();
            }
            (*n, v)
        })
        .collect();
    let all = statuses.values().all(|s| *s == AppStatus::Ready);
    let body = serde_json::json!({ "ready": all, "applications": apps });
    if all {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn metrics_endpoint(state: web::Data<HostState>) -> HttpResponse {
    match &state.metrics {
        Some(h) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4")
            .body(h.render()),
        None => HttpResponse::NotFound().finish(),
    }
}

/// `/ecma2host_{name}/scim{tail}` → (name, tail).
fn split_scim_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/ecma2host_")?;
    let (name, tail) = rest.split_once('/')?;
    let tail = tail.strip_prefix("scim")?;
    (tail.is_empty() || tail.starts_with('/')).then_some((name, tail))
}

/// A process-unique request id: a per-process random prefix and a counter (no syscall per
/// request, unlike a random UUID).
fn next_request_id() -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..12].to_owned());
    format!("{prefix}-{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn scim(
    req: HttpRequest,
    mut payload: web::Payload,
    state: web::Data<HostState>,
) -> Result<HttpResponse, ScimError> {
    let started = Instant::now();
    let request_id = next_request_id();
    let Some((app_name, tail)) = split_scim_path(req.path()) else {
        return Err(errors::no_such_endpoint(req.path()));
    };
    let tail = tail.to_owned();
    let app = state.apps.get(app_name).cloned();
    let result: Result<HttpResponse, ScimError> = async {
        let slot = app.ok_or_else(|| errors::no_such_application(app_name))?;
        match bearer(&req) {
            Some(token) if slot.token_matches(token) => {}
            presented => return Err(errors::bad_token(presented.is_some())),
        }
        let app = match slot.app() {
            Some(app) if app.is_ready() => app,
            _ => {
                return Err(match slot.status() {
                    AppStatus::Starting => errors::starting(),
                    AppStatus::Retrying {
                        reason,
                        retry_in_secs,
                    } => errors::not_set_up(&reason, Some(retry_in_secs)),
                    AppStatus::Failed { reason } => errors::not_set_up(&reason, None),
                    AppStatus::ImportRetrying { reason } => errors::not_ready(Some(&reason)),
                    AppStatus::Importing | AppStatus::Ready => errors::not_ready(None),
                });
            }
        };
        let mut body = Vec::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(errors::unreadable_body)?;
            if body.len() + chunk.len() > state.max_body_bytes {
                return Err(errors::body_too_large(state.max_body_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        let tail = if tail.is_empty() {
            "/".to_owned()
        } else {
            tail
        };
        if tail.trim_end_matches('/').eq_ignore_ascii_case("/cache")
            && req.method() == actix_web::http::Method::GET
        {
            if !state.cache_dump {
                return Err(errors::cache_dump_disabled());
            }
            return Ok(HttpResponse::Ok()
                .content_type(SCIM_CONTENT_TYPE)
                .json(app.cache_dump()));
        }
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let scim_req = ScimRequest {
            method: Method::parse(req.method().as_str()),
            path: tail,
            query: req.query_string().to_owned(),
            if_match: header("if-match"),
            if_none_match: header("if-none-match"),
            content_type: header("content-type"),
            body,
        };
        // A write runs as its own task: when it outlives the time limit the client gets a 503
        // (Entra retries) while the export runs on and still updates the cache, so the cache
        // never falls behind the target.
        let response = if scim_req.method == Method::Get && !is_heavy_read(&scim_req) {
            // Lookups only touch the in-memory cache: inline, no timer (a timeout costs a
            // timer-wheel insert and removal per request, measurable on the cached lookup path).
            app.engine.handle(app.as_ref(), scim_req).await
        } else if scim_req.method == Method::Get {
            // A listing or sort over the whole cache is CPU work: on the compute pool, so
            // this worker's other connections (`/healthz` among them) do not wait for it.
            let worker = app.clone();
            state
                .compute
                .spawn(async move { worker.engine.handle(worker.as_ref(), scim_req).await })
                .await
                .map_err(errors::write_task_failed)?
        } else {
            // Writes to one resource are serialised by the engine (`Backend::write_guard`),
            // for single requests and inside /Bulk alike. They run on the compute pool, not
            // this HTTP worker: a PATCH of a large group diffs member lists, /Bulk runs many
            // operations.
            let worker = app.clone();
            let task = state
                .compute
                .spawn(async move { worker.engine.handle(worker.as_ref(), scim_req).await });
            match tokio::time::timeout(state.request_timeout, task).await {
                Ok(Ok(response)) => response,
                Ok(Err(e)) => return Err(errors::write_task_failed(e)),
                Err(_) => return Err(errors::request_timeout(state.request_timeout.as_secs())),
            }
        };
        Ok(to_http(response))
    }
    .await;
    let status = match &result {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.status,
    };
    let latency = started.elapsed();
    // Path without the query: filter values are personal data.
    tracing::info!(
        request_id = %request_id,
        app = %app_name,
        method = %req.method(),
        path = %req.path(),
        status,
        latency_ms = latency.as_secs_f64() * 1000.0,
        "request"
    );
    // Only configured applications get their own series: a label from an unauthenticated
    // URL would let anyone grow the metrics without bound.
    let app_label = if state.apps.contains_key(app_name) {
        app_name.to_owned()
    } else {
        "unknown".to_owned()
    };
    let labels = [("app", app_label), ("status", status.to_string())];
    metrics::counter!("ecma_http_requests_total", &labels).increment(1);
    metrics::histogram!("ecma_http_request_duration_seconds", &labels)
        .record(latency.as_secs_f64());
    state.traffic.record(latency, status);
    result.map(|mut r| {
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&request_id) {
            r.headers_mut().insert(
                actix_web::http::header::HeaderName::from_static("x-request-id"),
                v,
            );
        }
        r
    })
}

/// A GET that may touch every cached object: a sort, or a collection listed without a filter.
fn is_heavy_read(req: &ScimRequest) -> bool {
    let query = req.query.to_ascii_lowercase();
    let collection = req.path.trim_matches('/').split('/').count() <= 1;
    query.contains("sortby") || (collection && !query.contains("filter="))
}

fn to_http(r: ScimResponse) -> HttpResponse {
    let mut out = HttpResponse::build(
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    );
    let mut has_type = false;
    for (k, v) in &r.headers {
        has_type |= k.eq_ignore_ascii_case("content-type");
        out.insert_header((k.as_str(), v.as_str()));
    }
    match r.body {
        Some(body) => {
            if !has_type {
                out.insert_header(("content-type", SCIM_CONTENT_TYPE));
            }
            out.body(body.into_bytes())
        }
        None => out.finish(),
    }
}
