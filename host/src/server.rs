//! The HTTPS front: `https://HOST:PORT/ecma2host_{name}/scim/...` per application, plus
//! `/healthz`, `/readyz` and `/metrics`.
//!
//! This layer only authenticates, enforces limits and adapts HTTP to the SCIM engine. Which
//! failure gets which status is decided in `errors.rs`; every SCIM error then goes through
//! `ScimError`'s `ResponseError` mapping.
//!
//! Authentication failures are throttled per client address ([`AuthGuard`]): after
//! `auth_failures_per_minute` 401s within a minute, the address gets 429 with `Retry-After`
//! for a minute, on every authenticated door, whatever token it sends (a right guess during
//! the block would otherwise tell itself apart). `/metrics` asks for `metrics_token` when one
//! is configured.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use ecma_scim::{Method, SCIM_CONTENT_TYPE, ScimError, ScimRequest, ScimResponse};
use futures_util::StreamExt;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::{ConfigError, HostConfig, Secret};
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

/// Registers every route on an actix `App`, with the guard set for this state by
/// [`set_auth_guard`] (else the default: throttling at the default rate, `/metrics` open).
pub fn configure(state: Arc<HostState>) -> impl FnOnce(&mut web::ServiceConfig) {
    let guard = auth_guard(&state);
    configure_with(state, guard)
}

/// Registers every route on an actix `App` with `guard` (one guard shared by every worker).
pub fn configure_with(
    state: Arc<HostState>,
    guard: Arc<AuthGuard>,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::from(state))
            .app_data(web::Data::from(guard))
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

async fn metrics_endpoint(
    req: HttpRequest,
    state: web::Data<HostState>,
    guard: web::Data<AuthGuard>,
) -> Result<HttpResponse, ScimError> {
    if let Some(token) = &guard.metrics_token {
        let ip = client_ip(&req);
        guard.refuse_throttled(ip)?;
        match bearer(&req) {
            Some(presented) if tokens_match(presented, token) => {}
            presented => {
                guard.failed(ip);
                return Err(errors::bad_metrics_token(presented.is_some()));
            }
        }
    }
    Ok(match &state.metrics {
        Some(h) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4")
            .body(h.render()),
        None => HttpResponse::NotFound().finish(),
    })
}

/// Length is not secret (tokens have at least 12 characters); content is compared in
/// constant time.
fn tokens_match(presented: &str, token: &Secret) -> bool {
    use subtle::ConstantTimeEq;
    let (a, b) = (presented.as_bytes(), token.expose().as_bytes());
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The address the connection comes from. Forwarding headers are not trusted: anyone can
/// send one, and throttling by it would let a guesser pick a fresh address per request.
fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|a| a.ip())
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
    guard: web::Data<AuthGuard>,
) -> Result<HttpResponse, ScimError> {
    let started = Instant::now();
    let request_id = next_request_id();
    let Some((app_name, tail)) = split_scim_path(req.path()) else {
        return Err(errors::no_such_endpoint(req.path()));
    };
    let tail = tail.to_owned();
    let app = state.apps.get(app_name).cloned();
    let ip = client_ip(&req);
    let result: Result<HttpResponse, ScimError> = async {
        guard.refuse_throttled(ip)?;
        let slot = app.ok_or_else(|| errors::no_such_application(app_name))?;
        match bearer(&req) {
            Some(token) if slot.token_matches(token) => {}
            presented => {
                guard.failed(ip);
                return Err(errors::bad_token(presented.is_some()));
            }
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

/// How long an address stays throttled, and the window its failures are counted in.
const THROTTLE_WINDOW: Duration = Duration::from_secs(60);

/// Addresses whose failures are remembered at once: a bound on memory when failures come from
/// many addresses (beyond it, new addresses are not tracked until old windows expire).
const MAX_TRACKED_ADDRESSES: usize = 16_384;

/// Per-host protection of the authenticated doors: the throttle of failed authentications
/// and the `/metrics` token.
pub struct AuthGuard {
    /// Failures per window before an address is throttled; 0: never.
    limit: u32,
    metrics_token: Option<Secret>,
    by_address: Mutex<HashMap<IpAddr, Failures>>,
    /// When the last block ends, in milliseconds since `epoch`: while no address is blocked,
    /// requests pass without taking the lock.
    blocked_until_ms: AtomicU64,
    epoch: Instant,
}

/// One address's failures in its current window, and its block.
#[derive(Debug, Clone, Copy)]
struct Failures {
    window_start: Instant,
    count: u32,
    blocked_until: Option<Instant>,
}

impl AuthGuard {
    /// A guard allowing `failures_per_minute` failed authentications per address and minute
    /// (0: no throttling), `/metrics` behind `metrics_token` when there is one.
    pub fn new(failures_per_minute: u32, metrics_token: Option<Secret>) -> Self {
        Self {
            limit: failures_per_minute,
            metrics_token,
            by_address: Mutex::new(HashMap::new()),
            blocked_until_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// The guard `[host]` asks for (`auth_failures_per_minute`, `metrics_token`).
    pub fn from_config(host: &HostConfig) -> Result<Self, ConfigError> {
        let metrics_token = host
            .metrics_token
            .as_ref()
            .map(|t| t.resolve("metrics_token"))
            .transpose()?;
        if metrics_token
            .as_ref()
            .is_some_and(|t| t.expose().chars().count() < crate::config::MIN_TOKEN_LEN)
        {
            return Err(ConfigError::Invalid(format!(
                "metrics_token must have at least {} characters",
                crate::config::MIN_TOKEN_LEN
            )));
        }
        Ok(Self::new(host.auth_failures_per_minute, metrics_token))
    }

    fn millis(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    /// Seconds until `ip` may try again, when it is throttled now.
    fn retry_after(&self, ip: IpAddr) -> Option<u64> {
        let now = Instant::now();
        if self.millis(now) >= self.blocked_until_ms.load(Ordering::Relaxed) {
            return None;
        }
        let map = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        let until = map.get(&ip)?.blocked_until.filter(|u| *u > now)?;
        Some(until.duration_since(now).as_secs().max(1))
    }

    /// 429 with `Retry-After` when `ip` is throttled (counted in
    /// `ecma_auth_throttled_total`).
    fn refuse_throttled(&self, ip: Option<IpAddr>) -> Result<(), ScimError> {
        match ip.and_then(|ip| self.retry_after(ip)) {
            None => Ok(()),
            Some(secs) => {
                metrics::counter!("ecma_auth_throttled_total").increment(1);
                Err(errors::too_many_auth_failures(secs))
            }
        }
    }

    /// Records a failed authentication from `ip` (counted in `ecma_auth_failures_total`);
    /// the failure that reaches the limit starts the address's block.
    fn failed(&self, ip: Option<IpAddr>) {
        metrics::counter!("ecma_auth_failures_total").increment(1);
        let (Some(ip), true) = (ip, self.limit > 0) else {
            return;
        };
        let now = Instant::now();
        let mut map = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_TRACKED_ADDRESSES && !map.contains_key(&ip) {
            map.retain(|_, f| {
                now.duration_since(f.window_start) < THROTTLE_WINDOW
                    || f.blocked_until.is_some_and(|u| u > now)
            });
            if map.len() >= MAX_TRACKED_ADDRESSES {
                return;
            }
        }
        let f = map.entry(ip).or_insert(Failures {
            window_start: now,
            count: 0,
            blocked_until: None,
        });
        if now.duration_since(f.window_start) >= THROTTLE_WINDOW {
            *f = Failures {
                window_start: now,
                count: 0,
                blocked_until: f.blocked_until.filter(|u| *u > now),
            };
        }
        f.count += 1;
        if f.count >= self.limit {
            let until = now + THROTTLE_WINDOW;
            f.blocked_until = Some(until);
            f.window_start = now;
            f.count = 0;
            self.blocked_until_ms
                .fetch_max(self.millis(until), Ordering::Relaxed);
            tracing::warn!(
                client = %ip,
                limit = self.limit,
                "too many failed authentications from one address: answering 429 for {} s",
                THROTTLE_WINDOW.as_secs()
            );
        }
    }
}

/// The guard of each host state, until the code that builds the state hands one to
/// [`configure_with`]; a state without one gets the default guard, shared by its workers.
fn guards() -> &'static Mutex<Vec<StateGuard>> {
    static GUARDS: std::sync::OnceLock<Mutex<Vec<StateGuard>>> = std::sync::OnceLock::new();
    GUARDS.get_or_init(Default::default)
}

/// A host state (held weakly: a stopped host's entry goes) and its guard.
type StateGuard = (Weak<HostState>, Arc<AuthGuard>);

/// Sets the guard of `state`'s workers (before the server starts them).
pub fn set_auth_guard(state: &Arc<HostState>, guard: AuthGuard) {
    let mut guards = guards().lock().unwrap_or_else(|e| e.into_inner());
    guards.retain(|(s, _)| s.strong_count() > 0 && !std::ptr::eq(s.as_ptr(), Arc::as_ptr(state)));
    guards.push((Arc::downgrade(state), Arc::new(guard)));
}

/// The guard of `state`: the one set, else a default one (remembered, so every worker of the
/// state shares it).
fn auth_guard(state: &Arc<HostState>) -> Arc<AuthGuard> {
    let mut guards = guards().lock().unwrap_or_else(|e| e.into_inner());
    guards.retain(|(s, _)| s.strong_count() > 0);
    if let Some((_, g)) = guards
        .iter()
        .find(|(s, _)| std::ptr::eq(s.as_ptr(), Arc::as_ptr(state)))
    {
        return g.clone();
    }
    let guard = Arc::new(AuthGuard::new(
        crate::config::DEFAULT_AUTH_FAILURES_PER_MINUTE,
        None,
    ));
    guards.push((Arc::downgrade(state), guard.clone()));
    guard
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

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test as aw;

    const TOKEN: &str = "the-right-token-0123";

    fn state() -> Arc<HostState> {
        let mut apps = BTreeMap::new();
        apps.insert(
            "hr".to_owned(),
            Arc::new(AppSlot::new("hr".into(), Secret::new(TOKEN))),
        );
        Arc::new(HostState {
            apps,
            max_body_bytes: 1024,
            request_timeout: Duration::from_secs(5),
            cache_dump: false,
            metrics: crate::runtime::metrics_handle(),
            compute: tokio::runtime::Handle::current(),
            traffic: Arc::new(crate::admin::Traffic::new()),
        })
    }

    fn get(path: &str, from: &str, token: Option<&str>) -> aw::TestRequest {
        let mut r = aw::TestRequest::get()
            .uri(path)
            .peer_addr(format!("{from}:40000").parse().unwrap());
        if let Some(t) = token {
            r = r.insert_header(("authorization", format!("Bearer {t}")));
        }
        r
    }

    #[actix_web::test]
    async fn repeated_failures_from_one_address_are_answered_429_whatever_it_sends() {
        let guard = Arc::new(AuthGuard::new(3, None));
        let app = aw::init_service(
            actix_web::App::new().configure(configure_with(state(), guard.clone())),
        )
        .await;
        let users = "/ecma2host_hr/scim/Users";
        for _ in 0..3 {
            let r =
                aw::call_service(&app, get(users, "10.0.0.1", Some("wrong")).to_request()).await;
            assert_eq!(r.status(), 401);
        }
        // The limit is reached: this address is refused, the right token included.
        for token in [Some("wrong"), Some(TOKEN), None] {
            let r = aw::call_service(&app, get(users, "10.0.0.1", token).to_request()).await;
            assert_eq!(r.status(), 429);
            let retry: u64 = r
                .headers()
                .get("retry-after")
                .unwrap()
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry), "{retry}");
        }
        // Another address is not affected: authenticated, then told the application starts.
        let r = aw::call_service(&app, get(users, "10.0.0.2", Some(TOKEN)).to_request()).await;
        assert_eq!(r.status(), 503);
        // Unknown applications are no authentication failure.
        for _ in 0..5 {
            let r = aw::call_service(
                &app,
                get("/ecma2host_nope/scim/Users", "10.0.0.3", Some("x")).to_request(),
            )
            .await;
            assert_eq!(r.status(), 404);
        }
        let metrics = crate::runtime::metrics_handle().unwrap().render();
        assert!(metrics.contains("ecma_auth_failures_total"), "{metrics}");
        assert!(metrics.contains("ecma_auth_throttled_total"), "{metrics}");
    }

    #[actix_web::test]
    async fn no_limit_means_no_throttling() {
        let guard = Arc::new(AuthGuard::new(0, None));
        let app =
            aw::init_service(actix_web::App::new().configure(configure_with(state(), guard))).await;
        for _ in 0..30 {
            let r = aw::call_service(
                &app,
                get("/ecma2host_hr/scim/Users", "10.0.0.9", Some("wrong")).to_request(),
            )
            .await;
            assert_eq!(r.status(), 401);
        }
    }

    #[actix_web::test]
    async fn metrics_behind_a_token() {
        let metrics_token = "metrics-token-0123456";
        let guard = Arc::new(AuthGuard::new(3, Some(Secret::new(metrics_token))));
        let app = aw::init_service(
            actix_web::App::new().configure(configure_with(state(), guard.clone())),
        )
        .await;
        let r = aw::call_service(&app, get("/metrics", "10.1.0.1", None).to_request()).await;
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers().get("www-authenticate").unwrap(), "Bearer");
        // An application's token does not open /metrics.
        let r = aw::call_service(&app, get("/metrics", "10.1.0.1", Some(TOKEN)).to_request()).await;
        assert_eq!(r.status(), 401);
        let r = aw::call_service(
            &app,
            get("/metrics", "10.1.0.2", Some(metrics_token)).to_request(),
        )
        .await;
        assert_eq!(r.status(), 200);
        // Failures on /metrics count toward the same throttle.
        let r = aw::call_service(&app, get("/metrics", "10.1.0.1", Some("x")).to_request()).await;
        assert_eq!(r.status(), 401);
        let r = aw::call_service(
            &app,
            get("/metrics", "10.1.0.1", Some(metrics_token)).to_request(),
        )
        .await;
        assert_eq!(r.status(), 429);
        // Without a token configured, /metrics stays open.
        let open = aw::init_service(
            actix_web::App::new()
                .configure(configure_with(state(), Arc::new(AuthGuard::new(3, None)))),
        )
        .await;
        let r = aw::call_service(&open, get("/metrics", "10.1.0.1", None).to_request()).await;
        assert_eq!(r.status(), 200);
    }

    #[test]
    fn a_short_metrics_token_is_a_configuration_error() {
        let host = HostConfig {
            metrics_token: Some(crate::config::SecretSource::Literal("short".into())),
            ..HostConfig::default()
        };
        let err = AuthGuard::from_config(&host).err().unwrap().to_string();
        assert!(
            err.contains("metrics_token") && !err.contains("short"),
            "{err}"
        );
    }

    #[actix_web::test]
    async fn the_default_guard_is_shared_by_every_worker_of_a_state() {
        let s = state();
        let a = auth_guard(&s);
        let b = auth_guard(&s);
        assert!(Arc::ptr_eq(&a, &b));
        let other = state();
        assert!(!Arc::ptr_eq(&a, &auth_guard(&other)));
        set_auth_guard(&s, AuthGuard::new(1, None));
        assert_eq!(auth_guard(&s).limit, 1);
    }
}
