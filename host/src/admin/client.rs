//! The admin channel's client: one HTTP/1.1 request per connection over the running host's
//! Unix socket, with hyper (reqwest cannot dial a Unix socket).

use std::path::{Path, PathBuf};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;

use super::api::{ErrorBody, IMPORT_PATH, ImportKind, ImportOutcome, STATUS_PATH};
use super::report::HostReport;
use super::settings::socket_path;

/// Why the running host could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "no running ecma-host owns the state directory {state_dir} (no admin socket at {socket}): start it with `ecma-host serve`{hint}"
    )]
    NoHost {
        state_dir: PathBuf,
        socket: PathBuf,
        hint: &'static str,
    },
    #[error(
        "not allowed to open the admin socket {socket}: it is owner-only; run this as the user the host runs as"
    )]
    PermissionDenied { socket: PathBuf },
    #[error("talking to the running host over {socket}: {message}")]
    Transport { socket: PathBuf, message: String },
    /// The host answered with an error.
    #[error("{0}")]
    Host(String),
}

/// A client of the host that owns one state directory.
pub struct AdminClient {
    state_dir: PathBuf,
    socket: PathBuf,
    /// Added to "no running host": what to do instead.
    hint: &'static str,
}

impl AdminClient {
    pub fn new(state_dir: &Path, hint: &'static str) -> Self {
        Self {
            state_dir: state_dir.to_owned(),
            socket: socket_path(state_dir),
            hint,
        }
    }

    pub async fn status(&self, app: Option<&str>) -> Result<HostReport, ClientError> {
        let path = match app {
            Some(a) => format!("{STATUS_PATH}?app={}", query_escape(a)),
            None => STATUS_PATH.to_owned(),
        };
        self.call("GET", &path).await
    }

    pub async fn import(
        &self,
        app: &str,
        kind: ImportKind,
        dry_run: bool,
    ) -> Result<ImportOutcome, ClientError> {
        let mode = match kind {
            ImportKind::Auto => "auto",
            ImportKind::Full => "full",
            ImportKind::Delta => "delta",
        };
        let path = format!(
            "{IMPORT_PATH}/{}?mode={mode}&dryRun={dry_run}",
            query_escape(app)
        );
        self.call("POST", &path).await
    }

    async fn call<T: DeserializeOwned>(&self, method: &str, path: &str) -> Result<T, ClientError> {
        let transport = |message: String| ClientError::Transport {
            socket: self.socket.clone(),
            message,
        };
        let stream = match tokio::net::UnixStream::connect(&self.socket).await {
            Ok(s) => s,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                ) =>
            {
                return Err(ClientError::NoHost {
                    state_dir: self.state_dir.clone(),
                    socket: self.socket.clone(),
                    hint: self.hint,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(ClientError::PermissionDenied {
                    socket: self.socket.clone(),
                });
            }
            Err(e) => return Err(transport(e.to_string())),
        };
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| transport(e.to_string()))?;
        let driver = tokio::spawn(connection);
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .body(Empty::<Bytes>::new())
            .map_err(|e| transport(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| transport(e.to_string()))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| transport(e.to_string()))?
            .to_bytes();
        driver.abort();
        if status.is_success() {
            serde_json::from_slice(&body).map_err(|e| transport(format!("unexpected answer ({e})")))
        } else {
            Err(ClientError::Host(
                serde_json::from_slice::<ErrorBody>(&body)
                    .map(|b| b.error)
                    .unwrap_or_else(|_| {
                        format!("{status}: {}", String::from_utf8_lossy(&body).trim())
                    }),
            ))
        }
    }
}

/// Percent-encodes a path segment or query value (application names are letters, digits,
/// `-` and `_`, but the client must not build a wrong request from a mistyped one).
fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
