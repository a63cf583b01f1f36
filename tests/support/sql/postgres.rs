//! A throwaway PostgreSQL cluster for the generic-sql tests: initdb into a temp dir, started
//! with `pg_ctl` on a free loopback port (trust auth), stopped by the postmaster's PID.

use std::path::PathBuf;
use std::process::Command;

use tempfile::TempDir;

use crate::servers::{Signal, free_port, is_root, kill_and_wait, require_binary, run};

/// A PostgreSQL cluster in a temp dir, trust auth on 127.0.0.1.
pub struct PgServer {
    dir: TempDir,
    bin: PathBuf,
    root: bool,
    pub port: u16,
    pid: Option<u32>,
}

impl PgServer {
    /// Starts a cluster, or returns None (after a loud skip message) when PostgreSQL is not
    /// installed outside CI.
    pub fn start() -> Option<Self> {
        let mut dirs: Vec<String> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|r| {
                r.filter_map(|e| e.ok())
                    .map(|e| e.path().join("bin").display().to_string())
                    .collect()
            })
            .unwrap_or_default();
        dirs.sort();
        let extra: Vec<&str> = dirs.iter().rev().map(String::as_str).collect();
        let initdb = require_binary("initdb", &extra)?;
        let bin = initdb.parent().expect("bin dir").to_owned();
        let dir = tempfile::Builder::new()
            .prefix("pgtest.")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let root = is_root();
        if root {
            run(
                Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(dir.path()),
                "chown",
            );
        }
        let mut server = PgServer {
            dir,
            bin,
            root,
            port: free_port(),
            pid: None,
        };
        run(
            server.cmd("initdb").arg("-D").arg(server.data()).args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ]),
            "initdb",
        );
        server.start_again();
        Some(server)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A PostgreSQL program, run as `postgres` when the tests run as root (the server
    /// refuses root).
    fn cmd(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts (or restarts, on the same port and data) the server and waits until it accepts
    /// connections.
    pub fn start_again(&mut self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        run(
            self.cmd("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(self.dir.path().join("log"))
                .args(["-w", "-o", &opts, "start"]),
            "pg_ctl start",
        );
        let pid_file =
            std::fs::read_to_string(self.data().join("postmaster.pid")).expect("pid file");
        self.pid = pid_file.lines().next().and_then(|l| l.trim().parse().ok());
    }

    /// Fast shutdown by PID (open transactions are rolled back).
    pub fn stop(&mut self) {
        if let Some(pid) = self.pid.take() {
            kill_and_wait(pid, Signal::Int);
        }
    }

    /// Immediate shutdown by PID, like a crash: the next start runs recovery.
    pub fn crash(&mut self) {
        if let Some(pid) = self.pid.take() {
            kill_and_wait(pid, Signal::Quit);
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}
