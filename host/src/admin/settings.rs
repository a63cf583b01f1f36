//! Where the admin listeners are: the owner-only Unix socket in the state directory (always)
//! and the read-only status page on a loopback TCP port (on by default, switchable off).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The status page's port when nothing else is configured (the SCIM default is 8585).
pub const DEFAULT_STATUS_PAGE: &str = "127.0.0.1:8586";

/// `[admin]` of the configuration file; `serve --status-page` overrides it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// `"127.0.0.1:8586"` (the default), another loopback address and port, or `"off"`.
    pub status_page: Option<String>,
}

/// Where the status page listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusPage {
    /// The default address: when another process holds its port the host logs a warning
    /// and runs without the page (several hosts on one machine are common).
    Default(SocketAddr),
    /// An address the admin chose: not being able to listen there stops the host.
    At(SocketAddr),
    Off,
}

/// Why a status page setting cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingError {
    #[error(
        "status page address '{0}' is not an IP address and port (e.g. 127.0.0.1:8586) nor \"off\""
    )]
    NotAnAddress(String),
    #[error(
        "status page address {0} is not a loopback address: the page has no login, so it listens on 127.0.0.1 or ::1 only (reach it from elsewhere through an SSH tunnel: ssh -L 8586:127.0.0.1:8586 HOST)"
    )]
    NotLoopback(SocketAddr),
}

impl AdminConfig {
    /// The status page setting: `override_` (the command line) wins over the file.
    pub fn status_page(&self, override_: Option<&str>) -> Result<StatusPage, SettingError> {
        match override_.or(self.status_page.as_deref()) {
            None => Ok(StatusPage::Default(
                DEFAULT_STATUS_PAGE.parse().expect("a valid address"),
            )),
            Some(text) => parse_status_page(text),
        }
    }
}

/// `"off"` (also `"none"`, `"false"`, empty) or a loopback `IP:PORT` (port 0: any free port).
pub fn parse_status_page(text: &str) -> Result<StatusPage, SettingError> {
    let t = text.trim();
    if t.is_empty()
        || ["off", "none", "false"]
            .iter()
            .any(|w| t.eq_ignore_ascii_case(w))
    {
        return Ok(StatusPage::Off);
    }
    let addr: SocketAddr = t
        .parse()
        .map_err(|_| SettingError::NotAnAddress(t.to_owned()))?;
    if !addr.ip().is_loopback() {
        return Err(SettingError::NotLoopback(addr));
    }
    Ok(StatusPage::At(addr))
}

/// The admin socket of the host that owns `state_dir`. It sits in a directory of its own,
/// created owner-only before the socket exists, so no other user can reach the socket even
/// in the instant between its creation and its `chmod 600`.
pub fn socket_path(state_dir: &Path) -> PathBuf {
    state_dir.join("admin").join("host.sock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses_and_off_are_accepted_others_refused() {
        assert_eq!(parse_status_page("off").unwrap(), StatusPage::Off);
        assert_eq!(parse_status_page(" OFF ").unwrap(), StatusPage::Off);
        assert_eq!(
            parse_status_page("[::1]:9000").unwrap(),
            StatusPage::At("[::1]:9000".parse().unwrap())
        );
        let err = parse_status_page("0.0.0.0:8586").unwrap_err().to_string();
        assert!(err.contains("not a loopback address"), "{err}");
        let err = parse_status_page("localhost").unwrap_err().to_string();
        assert!(err.contains("not an IP address and port"), "{err}");
        let cfg = AdminConfig::default();
        assert_eq!(
            cfg.status_page(None).unwrap(),
            StatusPage::Default("127.0.0.1:8586".parse().unwrap())
        );
        assert_eq!(cfg.status_page(Some("off")).unwrap(), StatusPage::Off);
    }
}
