//! Wiring a configuration into a running host: plugins, applications, autosync, HTTPS.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, ConfigError};
use crate::plugins::PluginRegistry;
use crate::server::HostState;
use crate::slot::{AppSlot, SetupContext, supervise};
use crate::state::StateLock;

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
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error(transparent)]
    Admin(#[from] crate::admin::AdminError),
    #[error(transparent)]
    AdminSetting(#[from] crate::admin::settings::SettingError),
    #[error(
        "--insecure-http would serve plain HTTP, bearer tokens included, on {addr}, which is not a loopback address: listen on 127.0.0.1 (or ::1), or add --insecure-http-on-network if this network really is private"
    )]
    InsecureHttpOffLoopback { addr: String },
    #[error("cannot handle SIGHUP (certificate reload): {0}")]
    Signal(std::io::Error),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Seconds in-flight requests get to finish after a stop signal.
const SHUTDOWN_REQUESTS_SECS: u64 = 8;

/// How the listener runs.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Plain HTTP (local testing only; Entra requires HTTPS).
    pub insecure_http: bool,
    /// Plain HTTP even on an address other machines reach (`--insecure-http-on-network`).
    pub insecure_http_on_network: bool,
    /// The status page's address or `off` (`serve --status-page`); None: the configured
    /// one, by default 127.0.0.1:8586.
    pub status_page: Option<String>,
}

pub use crate::recorder::metrics_handle;

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

/// Registers every configured application: a slot with its token, set up in the background
/// once the host runs. A token that cannot be resolved is a configuration error, reported for
/// every application at once.
pub fn build_slots(config: &Config) -> Result<BTreeMap<String, Arc<AppSlot>>, Vec<ConfigError>> {
    // Every token resolves, and no two applications share one (a token would open both).
    Ok(crate::config::resolve_tokens(config)?
        .into_iter()
        .map(|(name, token)| (name.clone(), Arc::new(AppSlot::new(name, token))))
        .collect())
}

/// A started host: the HTTP server runs until SIGTERM/SIGINT or [`RunningHost::stop`].
pub struct RunningHost {
    pub addr: SocketAddr,
    pub state: Arc<HostState>,
    server: actix_web::dev::ServerHandle,
    shutdown: tokio::sync::watch::Sender<bool>,
    join: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The admin socket and the status page (see `admin/`).
    admin: crate::admin::AdminListeners,
    /// The state directory is this host's until it stops.
    _state_lock: StateLock,
}

impl RunningHost {
    /// The admin socket (`ecma-host status`, `ecma-host import`).
    pub fn admin_socket(&self) -> &std::path::Path {
        &self.admin.socket
    }

    /// Where the status page listens, when it is on.
    pub fn status_page(&self) -> Option<SocketAddr> {
        self.admin.status_page
    }

    /// Stops accepting, lets in-flight requests (and their exports) finish, stops autosync
    /// and closes connector instances.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        self.admin.stop().await;
        self.server.stop(true).await;
        let _ = self.join.await;
        for app in self.state.apps.values().filter_map(|s| s.app()) {
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
        self.admin.stop().await;
        for app in self.state.apps.values().filter_map(|s| s.app()) {
            app.close();
        }
        result
    }
}

/// Starts autosync for every application and the HTTP(S) listener. Must run inside a tokio
/// runtime.
/// Applications are set up in the background: the listener opens before any target is
/// contacted.
pub async fn start(
    config: &Config,
    slots: BTreeMap<String, Arc<AppSlot>>,
    registry: Arc<PluginRegistry>,
    options: &ServeOptions,
) -> Result<RunningHost, HostError> {
    let scheme = if options.insecure_http {
        "http"
    } else {
        "https"
    };
    if options.insecure_http
        && !options.insecure_http_on_network
        && !is_loopback(&config.host.listen, config.host.port)
    {
        return Err(HostError::InsecureHttpOffLoopback {
            addr: format!("{}:{}", config.host.listen, config.host.port),
        });
    }
    let state_lock = StateLock::acquire(&config.host.state_dir)?;
    // Checked before anything listens: a wrong address is a configuration error.
    let status_page = config.admin.status_page(options.status_page.as_deref())?;
    let state = Arc::new(HostState {
        apps: slots,
        max_body_bytes: config.host.max_body_bytes,
        request_timeout: Duration::from_secs(config.host.request_timeout_secs.max(1)),
        cache_dump: config.host.cache_dump,
        metrics: metrics_handle(),
        compute: tokio::runtime::Handle::current(),
        traffic: Arc::new(crate::admin::Traffic::new()),
    });
    // Failed-authentication throttling and the /metrics token, for every worker.
    crate::server::set_auth_guard(&state, crate::server::AuthGuard::from_config(&config.host)?);
    let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
    for app in &config.apps {
        let Some(slot) = state.apps.get(&app.name) else {
            continue;
        };
        let ctx = SetupContext {
            config: app.clone(),
            host: config.host.clone(),
            registry: registry.clone(),
            base_url: base_url(config, scheme, &app.name),
        };
        tokio::spawn(supervise(slot.clone(), ctx, shutdown_rx.clone()));
    }
    let addr = format!("{}:{}", config.host.listen, config.host.port);
    let app_state = state.clone();
    let max_body = config.host.max_body_bytes;
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(actix_web::web::PayloadConfig::new(max_body))
            .configure(crate::server::configure(app_state.clone()))
            .wrap(actix_web::middleware::from_fn(move |req, next| {
                crate::logging::bodies::log_bodies(req, next, max_body)
            }))
    })
    // In-flight requests get this long after SIGTERM; a write stuck in a hung connector is
    // not waited for (the watchdog answers it, and shutdown stays within ~10 s).
    .shutdown_timeout(SHUTDOWN_REQUESTS_SECS)
    .workers(
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .max(2),
    );
    let mut cert_store = None;
    let server = if options.insecure_http {
        tracing::warn!(
            on_network = options.insecure_http_on_network,
            "serving plain HTTP (--insecure-http): bearer tokens cross the network unencrypted; for testing only"
        );
        server.bind(&addr)
    } else {
        let host = config
            .host
            .hostname
            .clone()
            .unwrap_or_else(crate::tls::hostname);
        let (tls, store) = crate::tls::server_config(
            config.host.tls_cert.as_deref(),
            config.host.tls_key.as_deref(),
            &config.host.state_dir,
            &host,
        )?;
        tracing::info!(cert = %store.cert_path().display(), "TLS enabled");
        cert_store = Some(store);
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
    let admin = crate::admin::listen::bind(&config.host.state_dir, status_page)?;
    let admin_ctx = Arc::new(crate::admin::AdminContext {
        state: state.clone(),
        apps: config
            .apps
            .iter()
            .map(|a| {
                (
                    a.name.clone(),
                    crate::admin::AppInfo {
                        connector: a.connector.clone(),
                        autosync_minutes: a.autosync_minutes,
                    },
                )
            })
            .collect(),
        started: crate::app::now_rfc3339(),
        started_at: std::time::Instant::now(),
        scim_url: format!("{scheme}://{bound}"),
        status_page: admin.status_page(),
        state_dir: config.host.state_dir.clone(),
    });
    let admin = crate::admin::listen::serve(admin, admin_ctx)?;
    reload_on_sighup(cert_store, shutdown.subscribe())?;
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
        admin,
        _state_lock: state_lock,
    })
}

/// Whether `listen` only reaches this machine: a loopback address, `localhost`, or a name
/// that resolves to loopback addresses only.
fn is_loopback(listen: &str, port: u16) -> bool {
    use std::net::ToSocketAddrs;
    let host = listen.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match (host, port).to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
        }
        Err(_) => false,
    }
}

/// SIGHUP (`systemctl reload`) reads the TLS certificate and key again: new handshakes get the
/// new pair, open connections keep theirs. A pair that cannot serve leaves the old one, with
/// one error line saying why.
fn reload_on_sighup(
    store: Option<Arc<crate::tls::CertStore>>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), HostError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = signal(SignalKind::hangup()).map_err(HostError::Signal)?;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    received = hangups.recv() => {
                        if received.is_none() {
                            break;
                        }
                        match &store {
                            Some(store) => match store.reload() {
                                Ok(()) => tracing::info!(
                                    cert = %store.cert_path().display(),
                                    "SIGHUP: TLS certificate reloaded; new connections use it"
                                ),
                                Err(e) => tracing::error!(
                                    "SIGHUP: the TLS certificate was not reloaded, the current one stays: {e}"
                                ),
                            },
                            None => tracing::info!("SIGHUP: plain HTTP, no certificate to reload"),
                        }
                    }
                    _ = shutdown.changed() => break,
                }
            }
        });
    }
    #[cfg(not(unix))]
    let _ = (store, &mut shutdown);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_listen_addresses() {
        for listen in ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"] {
            assert!(is_loopback(listen, 8585), "{listen}");
        }
        for listen in ["0.0.0.0", "::", "192.0.2.10"] {
            assert!(!is_loopback(listen, 8585), "{listen}");
        }
    }
}
