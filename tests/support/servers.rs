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

/// Stops a server child: SIGTERM (a clean shutdown), then SIGKILL when it has not exited
/// within `grace`.
pub fn terminate(mut child: std::process::Child, grace: std::time::Duration) {
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = std::time::Instant::now() + grace;
    while std::time::Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits until an LDAP server child answers an anonymous Root DSE read on `url`; panics with
/// `log`'s contents when it exits first or does not answer within `timeout`.
pub fn wait_for_ldap(
    child: &mut std::process::Child,
    url: &str,
    log: &std::path::Path,
    timeout: std::time::Duration,
) {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("child status") {
            panic!(
                "the LDAP server exited during start ({status}); {}:\n{}",
                log.display(),
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if let Ok(mut c) = ldap3::LdapConn::with_settings(
            ldap3::LdapConnSettings::new().set_conn_timeout(std::time::Duration::from_secs(1)),
            url,
        ) && c
            .with_timeout(std::time::Duration::from_secs(2))
            .search("", ldap3::Scope::Base, "(objectClass=*)", vec!["1.1"])
            .is_ok()
        {
            let _ = c.unbind();
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the LDAP server did not become ready on {url}");
}
