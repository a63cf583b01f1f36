//! Process handling shared by the harness's servers (slapd, 389 DS, PostgreSQL, MariaDB):
//! finding what they need (or skipping / failing), free ports, setup commands, waiting until
//! a server answers, and stopping it by PID.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// True when running under CI (`CI=true`), where a missing server binary is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Reports a missing prerequisite (a server binary, a driver, a plugin feature): panics under
/// CI, so a missing install step can never turn into "ran no test"; otherwise prints a loud
/// skip message and the caller returns early.
pub fn skip_or_fail(msg: &str) {
    if in_ci() {
        panic!("{msg} (CI=true: a missing prerequisite is a failure)");
    }
    eprintln!("SKIPPED: {msg}");
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
        skip_or_fail(&format!(
            "server binary '{name}' not found; install it (see .ci/run) to run this test"
        ));
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

/// True when the tests run as root (CI containers): servers that refuse to run as root are
/// then run as their system user or told to accept it.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a setup command (`what` names it in messages) to completion; panics with its output
/// when it cannot run or fails.
pub fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({cmd:?}): {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The signals the harness stops servers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// PostgreSQL's fast shutdown (open transactions rolled back).
    Int,
    /// PostgreSQL's immediate shutdown, like a crash.
    Quit,
    /// A clean shutdown for most servers.
    Term,
    /// Freezes the process: a server that stops answering mid-operation, sockets open.
    Stop,
    /// Lets a frozen process run again.
    Cont,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Signal::Int => "INT",
            Signal::Quit => "QUIT",
            Signal::Term => "TERM",
            Signal::Stop => "STOP",
            Signal::Cont => "CONT",
        }
    }
}

/// Sends `signal` to `pid` (through kill(1): the harness has no libc binding).
pub fn send_signal(pid: u32, signal: Signal) {
    let _ = Command::new("kill")
        .arg(format!("-{}", signal.name()))
        .arg(pid.to_string())
        .status();
}

/// True while `pid` runs (a zombie waiting to be reaped counts as gone).
pub fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
}

/// Stops a server that is not our child (a daemon, e.g. started by `pg_ctl`): sends `signal`
/// and waits (up to a minute) for the process to go away.
pub fn kill_and_wait(pid: u32, signal: Signal) {
    send_signal(pid, signal);
    let deadline = Instant::now() + Duration::from_secs(60);
    while pid_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stops a server child: SIGTERM (a clean shutdown), then SIGKILL when it has not exited
/// within `grace`.
pub fn terminate(mut child: Child, grace: Duration) {
    send_signal(child.id(), Signal::Term);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(&mut child);
}

/// Kills a child at once (SIGKILL, like a crash) and reaps it.
pub fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits until `ready` says the server child answers, probing every `poll`; panics with
/// `log`'s contents when the child exits first, or when it does not answer within `timeout`.
/// `server` names it in those messages.
pub fn wait_for_server(
    child: &mut Child,
    server: &str,
    log: &Path,
    timeout: Duration,
    poll: Duration,
    mut ready: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("child status") {
            panic!(
                "{server} exited during start ({status}); {}:\n{}",
                log.display(),
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if ready() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{server} did not become ready within {timeout:?}"
        );
        std::thread::sleep(poll);
    }
}

/// Waits until an LDAP server child answers an anonymous Root DSE read on `url`; panics with
/// `log`'s contents when it exits first or does not answer within `timeout`.
pub fn wait_for_ldap(child: &mut Child, url: &str, log: &Path, timeout: Duration) {
    wait_for_server(
        child,
        &format!("the LDAP server on {url}"),
        log,
        timeout,
        Duration::from_millis(20),
        || {
            if let Ok(mut c) = ldap3::LdapConn::with_settings(
                ldap3::LdapConnSettings::new().set_conn_timeout(Duration::from_secs(1)),
                url,
            ) && c
                .with_timeout(Duration::from_secs(2))
                .search("", ldap3::Scope::Base, "(objectClass=*)", vec!["1.1"])
                .is_ok()
            {
                let _ = c.unbind();
                return true;
            }
            false
        },
    )
}
