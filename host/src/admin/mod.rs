//! Operating a running host: the admin channel and the status page.
//!
//! * The admin channel is HTTP/1.1 over a Unix socket in the state directory
//!   ([`settings::socket_path`]), owner-only: the file system's permissions are the
//!   authentication, so there is no token to leak or rotate. `ecma-host status` and
//!   `ecma-host import` ([`client`]) read reports from it and run imports on the host's
//!   own applications ([`api`]).
//! * The status page ([`page`], [`chart`]) is one read-only HTML page on a loopback TCP
//!   port (a browser cannot open a Unix socket), with the last hour of SCIM traffic from
//!   [`traffic`].
//!
//! Both listeners are started by [`listen`]; [`report`] is what both show, [`text`] its
//! terminal form.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::server::HostState;

pub mod api;
pub mod chart;
pub mod client;
pub mod listen;
pub mod page;
pub mod report;
pub mod settings;
pub mod text;
pub mod traffic;

pub use listen::{AdminError, AdminListeners};
pub use settings::{AdminConfig, StatusPage};
pub use traffic::Traffic;

/// What the configuration says about an application that its slot does not carry (the slot
/// exists before the application is set up).
#[derive(Debug, Clone)]
pub struct AppInfo {
    pub connector: String,
    /// Fractions allowed; 0: autosync is off.
    pub autosync_minutes: f64,
}

/// What the admin listeners read.
pub struct AdminContext {
    pub state: Arc<HostState>,
    pub apps: BTreeMap<String, AppInfo>,
    /// RFC 3339 and monotonic.
    pub started: String,
    pub started_at: Instant,
    /// The SCIM listener's base URL.
    pub scim_url: String,
    /// Where the status page listens, when it is on.
    pub status_page: Option<SocketAddr>,
    pub state_dir: PathBuf,
}
