//! A throwaway MariaDB server for the generic-sql tests: `mariadb-install-db` into a temp
//! datadir, `mariadbd` run as a child on a free loopback port, stopped by PID.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::servers::{free_port, is_root, kill, require_binary, run, terminate, wait_for_server};

/// A MariaDB server in a temp datadir, database `idtest`, user `test`/`test` on 127.0.0.1.
pub struct MariaDbServer {
    dir: TempDir,
    mariadbd: PathBuf,
    pub port: u16,
    child: Option<Child>,
}

impl MariaDbServer {
    /// Starts a server, or returns None (after a loud skip message) when MariaDB is not
    /// installed outside CI.
    pub fn start() -> Option<Self> {
        let mariadbd = require_binary("mariadbd", &["/usr/sbin"])?;
        let install = require_binary("mariadb-install-db", &["/usr/bin"])?;
        let dir = tempfile::Builder::new()
            .prefix("mdbtest.")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let mut install_cmd = Command::new(install);
        install_cmd
            .arg("--no-defaults")
            .arg(format!("--datadir={}", dir.path().join("data").display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"]);
        if is_root() {
            install_cmd.arg("--user=root");
        }
        // Retried once: on a loaded machine the bootstrap server occasionally fails to start.
        let first = install_cmd.output().expect("run mariadb-install-db");
        if !first.status.success() {
            eprintln!(
                "mariadb-install-db failed, retrying: {}",
                String::from_utf8_lossy(&first.stdout)
            );
            let _ = std::fs::remove_dir_all(dir.path().join("data"));
            run(&mut install_cmd, "mariadb-install-db");
        }
        let mut server = MariaDbServer {
            dir,
            mariadbd,
            port: free_port(),
            child: None,
        };
        server.start_again();
        run(
            Command::new("mariadb")
                .arg("--no-defaults")
                .arg(format!("--socket={}", server.socket().display()))
                .args(["-uroot", "-e"])
                .arg(
                    "CREATE DATABASE IF NOT EXISTS idtest CHARACTER SET utf8mb4 COLLATE utf8mb4_bin; \
                     CREATE USER IF NOT EXISTS 'test'@'127.0.0.1' IDENTIFIED BY 'test'; \
                     GRANT ALL ON idtest.* TO 'test'@'127.0.0.1';",
                ),
            "create database",
        );
        Some(server)
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("mysqld.sock")
    }

    pub fn url(&self) -> String {
        format!("mysql://test:test@127.0.0.1:{}/idtest", self.port)
    }

    /// Starts (or restarts) the server and waits until it answers.
    pub fn start_again(&mut self) {
        let d = self.dir.path();
        let mut cmd = Command::new(&self.mariadbd);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", d.join("data").display()))
            .arg(format!("--socket={}", self.socket().display()))
            .arg(format!("--pid-file={}", d.join("mysqld.pid").display()))
            // Its own temp directory: mysqld deletes every `#sql*` file in its tmpdir at
            // startup, which in a shared /tmp removed the temp tables of servers other tests
            // were using ("Error on delete of '/tmp/#sql-temptable-...'").
            .arg(format!("--tmpdir={}", d.display()))
            .arg(format!("--port={}", self.port))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--innodb-flush-log-at-trx-commit=0",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_bin",
            ])
            .arg(format!("--log-error={}", d.join("error.log").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if is_root() {
            cmd.arg("--user=root");
        }
        let socket = self.socket();
        let child = self.child.insert(cmd.spawn().expect("spawn mariadbd"));
        // Each probe spawns a client process: polled less often than the LDAP servers.
        wait_for_server(
            child,
            "mariadbd",
            &d.join("error.log"),
            Duration::from_secs(60),
            Duration::from_millis(50),
            || {
                Command::new("mariadb-admin")
                    .arg("--no-defaults")
                    .arg(format!("--socket={}", socket.display()))
                    .args(["-uroot", "ping"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            },
        );
    }

    /// Graceful shutdown by PID.
    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            terminate(child, Duration::from_secs(60));
        }
    }

    /// SIGKILL, like a crash: InnoDB recovery rolls back open transactions at the next start.
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill(&mut child);
        }
    }
}

impl Drop for MariaDbServer {
    fn drop(&mut self) {
        // The datadir is thrown away with the temp dir: no clean shutdown to wait for.
        self.crash();
    }
}
