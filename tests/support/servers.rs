//! Shared helpers for starting real servers.

use std::net::TcpListener;
use std::path::PathBuf;

/// True when running under CI (`CI=true`), where a missing server binary is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Finds `name` on PATH or in `extra_dirs`. When it is missing: panics under CI, otherwise
/// prints a loud skip message and returns None (the caller returns early).
pub fn require_binary(name: &str, extra_dirs: &[&str]) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let found = path_dirs
        .into_iter()
        .chain(extra_dirs.iter().map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        let msg =
            format!("server binary '{name}' not found; install it (see .ci/run) to run this test");
        if in_ci() {
            panic!("{msg} (CI=true: a missing server is a failure)");
        }
        eprintln!("SKIPPED: {msg}");
    }
    found
}

/// A free TCP port on 127.0.0.1 (bind to 0, read the port, release it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}
