//! Opening the admin listeners: the owner-only Unix socket and the loopback status page.
//! Both are small actix servers of one worker each, apart from the SCIM server: a slow
//! status page or a waiting import request never takes a SCIM worker.

use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::web;

use super::settings::{StatusPage, socket_path};
use super::{AdminContext, api, page};

/// Why an admin listener cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot open the admin socket {path}: {source}")]
    Socket {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the admin socket path {path} is too long for a Unix socket (at most 107 bytes): use a shorter state_dir"
    )]
    SocketPathTooLong { path: PathBuf },
    #[error("cannot open the status page on {addr}: {source} (set another address, or \"off\")")]
    StatusPage {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// The running admin listeners.
pub struct AdminListeners {
    pub socket: PathBuf,
    pub status_page: Option<SocketAddr>,
    servers: Vec<(ServerHandle, tokio::task::JoinHandle<std::io::Result<()>>)>,
}

/// Listeners bound but not serving yet (the context needs the status page's address).
pub struct BoundListeners {
    socket_path: PathBuf,
    socket: UnixListener,
    page: Option<TcpListener>,
}

impl BoundListeners {
    pub fn status_page(&self) -> Option<SocketAddr> {
        self.page.as_ref().and_then(|l| l.local_addr().ok())
    }
}

/// Binds the socket (removing one a crashed host left: the caller holds the state
/// directory's lock, so no running host owns it) and the status page.
pub fn bind(state_dir: &Path, status_page: StatusPage) -> Result<BoundListeners, AdminError> {
    let socket_path = socket_path(state_dir);
    let socket = bind_socket(&socket_path)?;
    let page = match status_page {
        StatusPage::Off => None,
        StatusPage::At(addr) => Some(
            TcpListener::bind(addr).map_err(|source| AdminError::StatusPage { addr, source })?,
        ),
        StatusPage::Default(addr) => match TcpListener::bind(addr) {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!(
                    %addr,
                    "the status page is off: cannot listen on its default address ({e}); another host may have it (serve --status-page ADDR chooses another)"
                );
                None
            }
        },
    };
    Ok(BoundListeners {
        socket_path,
        socket,
        page,
    })
}

fn bind_socket(path: &Path) -> Result<UnixListener, AdminError> {
    let io = |source| AdminError::Socket {
        path: path.to_owned(),
        source,
    };
    if path.as_os_str().len() > 107 {
        return Err(AdminError::SocketPathTooLong {
            path: path.to_owned(),
        });
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io)?;
    // A directory left with wider permissions (made by hand) is narrowed before the socket
    // appears in it.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    match std::fs::remove_file(path) {
        Ok(()) => {
            tracing::info!(path = %path.display(), "removed the admin socket a stopped host left")
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    Ok(listener)
}

/// Starts serving both listeners. Must run inside a tokio runtime.
pub fn serve(bound: BoundListeners, ctx: Arc<AdminContext>) -> Result<AdminListeners, AdminError> {
    let status_page = bound.status_page();
    let socket_path = bound.socket_path.clone();
    let mut servers = Vec::new();
    let data = web::Data::from(ctx.clone());
    let api_data = data.clone();
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(api_data.clone())
            .configure(api::configure)
    })
    .workers(1)
    .disable_signals()
    // An import request waits for its import: no time limit on the answer.
    .shutdown_timeout(1)
    .listen_uds(bound.socket)
    .map_err(|source| AdminError::Socket {
        path: socket_path.clone(),
        source,
    })?
    .run();
    servers.push((server.handle(), tokio::spawn(server)));
    tracing::info!(socket = %socket_path.display(), "admin socket (ecma-host status, ecma-host import)");
    if let (Some(listener), Some(addr)) = (bound.page, status_page) {
        let page_data = data.clone();
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(page_data.clone())
                .configure(page::configure)
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .map_err(|source| AdminError::StatusPage { addr, source })?
        .run();
        servers.push((server.handle(), tokio::spawn(server)));
        tracing::info!(url = %format!("http://{addr}/"), "status page");
    }
    Ok(AdminListeners {
        socket: socket_path,
        status_page,
        servers,
    })
}

impl AdminListeners {
    /// Stops both listeners and removes the socket, so a client finds no host instead of a
    /// socket nobody answers.
    pub async fn stop(self) {
        for (handle, join) in self.servers {
            handle.stop(false).await;
            let _ = join.await;
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}
