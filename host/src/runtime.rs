//! Wiring a configuration into a running host: plugins, applications, autosync, HTTPS.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::app::{AppError, Application};
use crate::config::Config;
use crate::plugins::PluginRegistry;
use crate::server::HostState;

/// Errors starting the host.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Server(std::io::Error),
}

/// How the listener runs.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Plain HTTP (local testing only; Entra requires HTTPS).
    pub insecure_http: bool,
}

/// The process-wide Prometheus recorder (installed once; later calls reuse it).
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
        .clone()
}

/// The base URL an application's resources are located at.
pub fn base_url(config: &Config, scheme: &str, app: &str) -> String {
    let host = config
        .host
        .hostname
        .clone()
        .unwrap_or_else(crate::tls::hostname);
    format!(
        "{scheme}://{host}:{}/ecma2host_{app}/scim",
        config.host.port
    )
}

/// Builds every application that can be built; the others are logged and skipped, so one
/// broken application never stops the rest.
pub fn build_apps(
    config: &Config,
    registry: &PluginRegistry,
    scheme: &str,
) -> (BTreeMap<String, Arc<Application>>, Vec<AppError>) {
    let mut apps = BTreeMap::new();
    let mut failures = Vec::new();
    for app in &config.apps {
        match Application::new(
            app,
            &config.host,
            registry,
            &base_url(config, scheme, &app.name),
        ) {
            Ok(a) => {
                apps.insert(app.name.clone(), Arc::new(a));
            }
            Err(e) => {
                tracing::error!("application not started: {e}");
                failures.push(e);
            }
        }
    }
    (apps, failures)
}

/// A started host: the HTTP server runs until SIGTERM/SIGINT or [`RunningHost::stop`].
pub struct RunningHost {
    pub addr: SocketAddr,
    pub state: Arc<HostState>,
    server: actix_web::dev::ServerHandle,
    shutdown: tokio::sync::watch::Sender<bool>,
    join: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningHost {
    /// Stops accepting, lets in-flight requests (and their exports) finish, stops autosync
    /// and closes connector instances.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        self.server.stop(true).await;
        let _ = self.join.await;
        for app in self.state.apps.values() {
            app.close();
        }
    }

    /// Waits until the server ends by itself (signals), then cleans up like `stop`.
    pub async fn wait(self) -> Result<(), HostError> {
        let result = match self.join.await {
            Ok(r) => r.map_err(HostError::Server),
            Err(e) => Err(HostError::Server(std::io::Error::other(e))),
        };
        let _ = self.shutdown.send(true);
        for app in self.state.apps.values() {
            app.close();
        }
        result
    }
}

/// Starts autosync for every application and the HTTP(S) listener. Must run inside a tokio
/// runtime.
pub async fn start(
    config: &Config,
    apps: BTreeMap<String, Arc<Application>>,
    options: &ServeOptions,
) -> Result<RunningHost, HostError> {
    let state = Arc::new(HostState {
        apps,
        max_body_bytes: config.host.max_body_bytes,
        request_timeout: Duration::from_secs(config.host.request_timeout_secs.max(1)),
        cache_dump: config.host.cache_dump,
        metrics: metrics_handle(),
    });
    let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
    for app in state.apps.values() {
        tokio::spawn(app.clone().autosync(shutdown_rx.clone()));
    }
    let addr = format!("{}:{}", config.host.listen, config.host.port);
    let app_state = state.clone();
    let max_body = config.host.max_body_bytes;
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(actix_web::web::PayloadConfig::new(max_body))
            .configure(crate::server::configure(app_state.clone()))
    })
    .shutdown_timeout(30)
    .workers(
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .max(2),
    );
    let server = if options.insecure_http {
        tracing::warn!("serving plain HTTP (--insecure-http): for local testing only");
        server.bind(&addr)
    } else {
        let host = config
            .host
            .hostname
            .clone()
            .unwrap_or_else(crate::tls::hostname);
        let (tls, cert) = crate::tls::server_config(
            config.host.tls_cert.as_deref(),
            config.host.tls_key.as_deref(),
            &config.host.state_dir,
            &host,
        )?;
        tracing::info!(cert = %cert.display(), "TLS enabled");
        server.bind_rustls_0_23(&addr, rustls::ServerConfig::clone(&tls))
    }
    .map_err(|source| HostError::Bind {
        addr: addr.clone(),
        source,
    })?;
    let bound = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| HostError::Bind {
            addr: addr.clone(),
            source: std::io::Error::other("no address bound"),
        })?;
    let server = server.run();
    let handle = server.handle();
    let join = tokio::spawn(server);
    tracing::info!(%bound, "listening");
    Ok(RunningHost {
        addr: bound,
        state,
        server: handle,
        shutdown,
        join,
    })
}
