//! SQL servers for the generic-sql connector tests: a throwaway PostgreSQL cluster and a
//! throwaway MariaDB datadir in temp dirs on loopback, and SQLite temp files. Each server is
//! owned by one test and stopped by PID (and reaped) when dropped.
//!
//! [`Target`] bundles a database with a fixture client (plain sqlx, used to create tables and
//! to check what the connector wrote) and config helpers, so the same scenario runs against
//! every dialect.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use plugin_api::host::{ConnectorInstance, ConnectorPlugin};
use plugin_api::model::*;
use plugin_api::sdk::HostServices;
use sqlx::{AssertSqlSafe, Row};
use tempfile::TempDir;

use crate::plugins::plugin_path;
use crate::servers::{free_port, require_binary};

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
}

/// Sends `signal` to `pid` and waits (bounded) for the process to go away.
fn kill_and_wait(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(60);
    while pid_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ------------------------------------------------------------------------------------------
// PostgreSQL
// ------------------------------------------------------------------------------------------

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
            kill_and_wait(pid, "INT");
        }
    }

    /// Immediate shutdown by PID, like a crash: the next start runs recovery.
    pub fn crash(&mut self) {
        if let Some(pid) = self.pid.take() {
            kill_and_wait(pid, "QUIT");
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}

// ------------------------------------------------------------------------------------------
// MariaDB
// ------------------------------------------------------------------------------------------

/// A MariaDB server in a temp datadir, database `idtest`, user `test`/`test` on 127.0.0.1.
pub struct MariaDbServer {
    dir: TempDir,
    mariadbd: PathBuf,
    pub port: u16,
    child: Option<Child>,
}

impl MariaDbServer {
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
        self.child = Some(cmd.spawn().expect("spawn mariadbd"));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ok = Command::new("mariadb-admin")
                .arg("--no-defaults")
                .arg(format!("--socket={}", self.socket().display()))
                .args(["-uroot", "ping"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                break;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "mariadbd exited with {status}: {}",
                    std::fs::read_to_string(d.join("error.log")).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "mariadbd did not become ready");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Graceful shutdown by PID.
    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            crate::servers::terminate(child, Duration::from_secs(60));
        }
    }

    /// SIGKILL, like a crash: InnoDB recovery rolls back open transactions at the next start.
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for MariaDbServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// ------------------------------------------------------------------------------------------
// Targets: a database plus a fixture client
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    MariaDb,
}

pub enum Server {
    Sqlite(TempDir),
    Postgres(PgServer),
    MariaDb(MariaDbServer),
}

/// A database to test against.
pub struct Target {
    pub kind: Kind,
    /// What the fixtures connect with (sqlx).
    pub url: String,
    /// What the connector is configured with: the same as `url`, or an ODBC connection
    /// string to the same database.
    pub connector_url: String,
    pub server: Server,
    rt: tokio::runtime::Runtime,
}

enum FixturePool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
}

macro_rules! strings_of {
    ($rows:expr) => {{
        $rows
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        if let Ok(v) = r.try_get::<Option<String>, _>(i) {
                            return v;
                        }
                        if let Ok(v) = r.try_get::<Option<i64>, _>(i) {
                            return v.map(|v| v.to_string());
                        }
                        if let Ok(v) = r.try_get::<Option<i32>, _>(i) {
                            return v.map(|v| v.to_string());
                        }
                        if let Ok(v) = r.try_get::<Option<bool>, _>(i) {
                            return v.map(|v| v.to_string());
                        }
                        r.try_get_unchecked::<Option<Vec<u8>>, _>(i)
                            .ok()
                            .flatten()
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                    })
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
    }};
}

impl Target {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        Self::new(Kind::Sqlite, url, Server::Sqlite(dir))
    }

    pub fn postgres() -> Option<Self> {
        let pg = PgServer::start()?;
        Some(Self::new(Kind::Postgres, pg.url(), Server::Postgres(pg)))
    }

    /// PostgreSQL through the connector's ODBC driver (psqlODBC), fixtures still through sqlx.
    /// Needs a plugin built with `--features generic-sql/odbc` (as `.ci/run` builds it) and
    /// Debian's `odbc-postgresql`; under `CI=true` a missing piece is a failure.
    pub fn postgres_odbc() -> Option<Self> {
        let driver = std::path::Path::new(PSQLODBC_DRIVER);
        if !driver.exists() {
            let msg = format!(
                "the PostgreSQL ODBC driver {PSQLODBC_DRIVER} is missing (apt-get install odbc-postgresql)"
            );
            if crate::servers::in_ci() {
                panic!("{msg} (CI=true: a missing driver is a failure)");
            }
            eprintln!("SKIPPED: {msg}");
            return None;
        }
        let pg = PgServer::start()?;
        let connector_url = format!(
            "odbc:Driver={PSQLODBC_DRIVER};Server=127.0.0.1;Port={};Database=postgres;Uid=postgres;BoolsAsChar=0;ConnSettings={{SET TimeZone TO 'UTC'}}",
            pg.port
        );
        let mut t = Self::new(Kind::Postgres, pg.url(), Server::Postgres(pg));
        t.connector_url = connector_url;
        // A plugin built without the feature says so when an instance is created.
        let plugin = load();
        if let Err(e) =
            plugin.create_instance(&t.config(&[("Table", "none")]), HostServices::detached())
            && e.message.contains("no ODBC support")
        {
            let msg = "the generic-sql plugin was built without the `odbc` feature (cargo build --workspace --features generic-sql/odbc)";
            if crate::servers::in_ci() {
                panic!("{msg} (CI=true)");
            }
            eprintln!("SKIPPED: {msg}");
            return None;
        }
        Some(t)
    }

    pub fn mariadb() -> Option<Self> {
        let m = MariaDbServer::start()?;
        Some(Self::new(Kind::MariaDb, m.url(), Server::MariaDb(m)))
    }

    fn new(kind: Kind, url: String, server: Server) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Self {
            kind,
            connector_url: url.clone(),
            url,
            server,
            rt,
        }
    }

    /// A fresh fixture connection per call, so fixtures work across server restarts.
    fn pool(&self) -> FixturePool {
        self.rt.block_on(async {
            match self.kind {
                Kind::Sqlite => FixturePool::Sqlite(
                    sqlx::sqlite::SqlitePoolOptions::new()
                        .max_connections(1)
                        .connect(&self.url)
                        .await
                        .expect("fixture connect"),
                ),
                Kind::Postgres => FixturePool::Postgres(
                    sqlx::postgres::PgPoolOptions::new()
                        .max_connections(1)
                        .connect(&self.url)
                        .await
                        .expect("fixture connect"),
                ),
                Kind::MariaDb => FixturePool::MySql(
                    sqlx::mysql::MySqlPoolOptions::new()
                        .max_connections(1)
                        .connect(&self.url)
                        .await
                        .expect("fixture connect"),
                ),
            }
        })
    }

    /// Runs fixture statements, one at a time.
    pub fn exec(&self, statements: &[&str]) {
        let _entered = self.rt.enter();
        let pool = self.pool();
        self.rt.block_on(async {
            for s in statements {
                let q = sqlx::raw_sql(AssertSqlSafe(s.to_string()));
                let r = match &pool {
                    FixturePool::Sqlite(p) => q.execute(p).await.map(drop),
                    FixturePool::Postgres(p) => q.execute(p).await.map(drop),
                    FixturePool::MySql(p) => q.execute(p).await.map(drop),
                };
                r.unwrap_or_else(|e| panic!("fixture statement failed: {s}: {e}"));
            }
        });
    }

    /// Rows as text (NULL as None). Cast non-text columns in the SQL where the dialect needs it.
    pub fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let _entered = self.rt.enter();
        let pool = self.pool();
        self.rt.block_on(async {
            match &pool {
                FixturePool::Sqlite(p) => {
                    let rows = sqlx::query(AssertSqlSafe(sql.to_owned()))
                        .fetch_all(p)
                        .await
                        .expect(sql);
                    strings_of!(rows)
                }
                FixturePool::Postgres(p) => {
                    let rows = sqlx::query(AssertSqlSafe(sql.to_owned()))
                        .fetch_all(p)
                        .await
                        .expect(sql);
                    strings_of!(rows)
                }
                FixturePool::MySql(p) => {
                    let rows = sqlx::query(AssertSqlSafe(sql.to_owned()))
                        .fetch_all(p)
                        .await
                        .expect(sql);
                    strings_of!(rows)
                }
            }
        })
    }

    /// One number from a query (e.g. a count).
    pub fn count(&self, sql: &str) -> i64 {
        self.rows(sql)[0][0]
            .as_deref()
            .expect("a value")
            .parse()
            .expect("a number")
    }

    /// Identifier quoting for fixture SQL.
    pub fn q(&self, ident: &str) -> String {
        match self.kind {
            Kind::MariaDb => format!("`{}`", ident.replace('`', "``")),
            _ => format!("\"{}\"", ident.replace('"', "\"\"")),
        }
    }

    /// The column type of a database-generated integer key.
    pub fn serial_pk(&self) -> &'static str {
        match self.kind {
            Kind::Sqlite => "INTEGER PRIMARY KEY",
            Kind::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            Kind::MariaDb => "BIGINT AUTO_INCREMENT PRIMARY KEY",
        }
    }

    pub fn bool_type(&self) -> &'static str {
        "BOOLEAN"
    }

    /// A last-modified column defaulting to the database clock.
    pub fn modified_column(&self) -> &'static str {
        match self.kind {
            Kind::Sqlite => "DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP",
            Kind::Postgres => "TIMESTAMPTZ NOT NULL DEFAULT now()",
            Kind::MariaDb => "DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP",
        }
    }

    /// The database's clock, in fixture SQL.
    pub fn now(&self) -> &'static str {
        match self.kind {
            Kind::Postgres => "now()",
            _ => "CURRENT_TIMESTAMP",
        }
    }

    /// A configuration with the connection string set.
    pub fn config(&self, params: &[(&str, &str)]) -> ConfigParameters {
        let mut c = ConfigParameters::new();
        c.set("Connection string", self.connector_url.clone());
        for (k, v) in params {
            c.set(k, *v);
        }
        c
    }
}

/// The host configuration of one application `name` over the Generic SQL plugin: users in
/// `table` (anchor `id`, matched by `login`), with `extra` lines appended to the object type.
pub fn scim_app_toml(name: &str, connection_string: &str, table: &str, extra: &str) -> String {
    format!(
        r#"
[[app]]
name = "{name}"
connector = "generic-sql"
token = "{{TOKEN}}"
autosync_minutes = 0
[app.parameters.connectivity]
"Connection string" = {connection_string:?}
[app.parameters.schema]
"Table" = "{table}"
"Anchor columns" = "id"
[[app.object_type]]
scim = "User"
target = "User"
query_attributes = ["login"]
attributes = ["login", "first_name", "last_name", "email"]
{extra}
"#
    )
}

/// Where Debian's odbc-postgresql puts the Unicode driver.
pub const PSQLODBC_DRIVER: &str = "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so";

/// Loads the real built connector library.
pub fn load() -> impl ConnectorPlugin {
    plugin_api::loader::load_plugin(&plugin_path("generic_sql")).expect("load generic_sql plugin")
}

pub fn instance(
    plugin: &impl ConnectorPlugin,
    config: &ConfigParameters,
) -> Box<dyn ConnectorInstance> {
    plugin
        .create_instance(config, HostServices::detached())
        .expect("create instance")
}

/// Runs a whole import and returns every entry, with the number of pages and the final watermark.
pub fn import_all(
    plugin: &impl ConnectorPlugin,
    inst: &mut dyn ConnectorInstance,
    config: &ConfigParameters,
    import_type: ImportType,
    custom_data: &str,
    page_size: u32,
) -> ConnectorResult<(Vec<CsEntryChange>, usize, String)> {
    let schema = plugin.schema(config)?;
    inst.open_import(OpenImportRequest {
        import_type,
        page_size,
        custom_data: custom_data.to_owned(),
        partition: None,
        schema,
    })?;
    let mut entries = Vec::new();
    let mut pages = 0;
    loop {
        let page = inst.get_import_entries()?;
        pages += 1;
        assert!(
            page.entries.len() <= page_size as usize,
            "page larger than requested"
        );
        entries.extend(page.entries);
        if !page.more_to_import {
            break;
        }
    }
    let watermark = inst.close_import(CloseReason::Normal)?;
    Ok((entries, pages, watermark))
}

pub fn export(
    plugin: &impl ConnectorPlugin,
    inst: &mut dyn ConnectorInstance,
    config: &ConfigParameters,
    entries: Vec<CsEntryChange>,
) -> ConnectorResult<Vec<ExportResult>> {
    let schema = plugin.schema(config)?;
    inst.open_export(OpenExportRequest {
        batch_size: entries.len().max(1) as u32,
        partition: None,
        schema,
    })?;
    let results = inst.put_export_entries(entries)?;
    inst.close_export(CloseReason::Normal)?;
    Ok(results)
}

/// An entry with an identifier.
pub fn entry(id: &str, modification: ObjectModification) -> CsEntryChange {
    let mut e = CsEntryChange::new("User", modification);
    e.identifier = id.to_owned();
    e
}

/// The single value of an attribute of an imported entry, as text.
pub fn value_of(e: &CsEntryChange, name: &str) -> Option<String> {
    e.change(name)
        .and_then(|c| c.added_values().next())
        .map(Value::as_text)
}

/// All values of an attribute of an imported entry, as text, sorted.
pub fn values_of(e: &CsEntryChange, name: &str) -> Vec<String> {
    let mut v: Vec<String> = e
        .change(name)
        .map(|c| c.added_values().map(Value::as_text).collect())
        .unwrap_or_default();
    v.sort();
    v
}

pub fn anchor_text(e: &CsEntryChange) -> String {
    e.anchor_value().map(Value::as_text).unwrap_or_default()
}

// ------------------------------------------------------------------------------------------
// Scenarios, run by tests/tests/sql_{sqlite,postgres,mariadb}.rs against each dialect
// ------------------------------------------------------------------------------------------

pub mod scenarios {
    use super::*;

    fn long_text(t: &Target) -> &'static str {
        match t.kind {
            Kind::MariaDb => "MEDIUMTEXT",
            _ => "TEXT",
        }
    }

    /// users(id generated, name unique, email, active, age) + groups(user_id, grp).
    fn users_with_groups(t: &Target, users: &str, groups: &str) {
        t.exec(&[
            &format!(
                "CREATE TABLE {users} (id {}, name VARCHAR(200) NOT NULL UNIQUE, email VARCHAR(200), active {}, age INTEGER)",
                t.serial_pk(),
                t.bool_type()
            ),
            &format!("CREATE TABLE {groups} (user_id BIGINT NOT NULL, grp VARCHAR(100) NOT NULL)"),
        ]);
    }

    fn users_config(
        t: &Target,
        users: &str,
        groups: &str,
        extra: &[(&str, &str)],
    ) -> ConfigParameters {
        let mut c = t.config(&[
            ("Table", users),
            ("Anchor columns", "id"),
            ("Multi-valued table", groups),
            ("Multi-valued join column", "user_id"),
        ]);
        for (k, v) in extra {
            c.set(k, *v);
        }
        c
    }

    fn expected_groups(i: usize) -> Vec<String> {
        match i % 3 {
            0 => vec!["g-a".to_owned(), "g-b".to_owned()],
            1 => vec!["g-c".to_owned()],
            _ => Vec::new(),
        }
    }

    /// Full import in many pages: every row once, values and multi-values as stored.
    pub fn full_import_paged(t: &Target) {
        let (users, groups) = ("fi_users", "fi_groups");
        users_with_groups(t, users, groups);
        let n = 203;
        let mut stmts = Vec::new();
        for i in 0..n {
            stmts.push(format!(
                "INSERT INTO {users} (name, email, active, age) VALUES ('user-{i}', 'u{i}@example.com', {}, {i})",
                if i % 2 == 0 { "TRUE" } else { "FALSE" }
            ));
            for g in expected_groups(i) {
                stmts.push(format!(
                    "INSERT INTO {groups} (user_id, grp) SELECT id, '{g}' FROM {users} WHERE name = 'user-{i}'"
                ));
            }
        }
        t.exec(&stmts.iter().map(String::as_str).collect::<Vec<_>>());
        let plugin = load();
        let config = users_config(t, users, groups, &[]);
        let schema = plugin.schema(&config).expect("schema");
        let ty = &schema.types[0];
        assert_eq!(ty.anchor_attributes, vec!["id".to_owned()]);
        assert_eq!(ty.attribute("id").unwrap().data_type, DataType::Integer);
        assert_eq!(ty.attribute("active").unwrap().data_type, DataType::Boolean);
        assert_eq!(ty.attribute("age").unwrap().data_type, DataType::Integer);
        assert!(ty.attribute("grp").unwrap().multi_valued);
        assert!(!ty.attribute("name").unwrap().multi_valued);
        assert_eq!(ty.attribute("name").unwrap().data_type, DataType::String);
        assert_eq!(ty.attribute("grp").unwrap().data_type, DataType::String);

        let mut inst = instance(&plugin, &config);
        let page_size = 10;
        let (entries, pages, _) = import_all(
            &plugin,
            inst.as_mut(),
            &config,
            ImportType::Full,
            "",
            page_size,
        )
        .expect("import");
        assert_eq!(entries.len(), n);
        assert!(pages >= n / page_size as usize, "{pages} pages");
        let mut anchors: Vec<String> = entries.iter().map(anchor_text).collect();
        anchors.sort();
        anchors.dedup();
        assert_eq!(anchors.len(), n, "every row exactly once");
        for e in &entries {
            assert_eq!(e.modification, ObjectModification::Add);
            let age: usize = value_of(e, "age").unwrap().parse().unwrap();
            assert_eq!(value_of(e, "name").unwrap(), format!("user-{age}"));
            assert_eq!(value_of(e, "email").unwrap(), format!("u{age}@example.com"));
            assert_eq!(
                e.change("active").unwrap().values[0].value,
                Value::Boolean(age.is_multiple_of(2))
            );
            assert_eq!(values_of(e, "grp"), expected_groups(age));
            assert!(matches!(e.anchor_value(), Some(Value::Integer(_))));
        }
    }

    fn add_user(id: &str, name: &str, email: Option<&str>, groups: &[&str]) -> CsEntryChange {
        let mut e = entry(id, ObjectModification::Add)
            .with_change(AttributeChange::add("name", [Value::from(name)]))
            .with_change(AttributeChange::add("active", [Value::Boolean(true)]));
        if let Some(m) = email {
            e = e.with_change(AttributeChange::add("email", [Value::from(m)]));
        }
        if !groups.is_empty() {
            e = e.with_change(AttributeChange::add(
                "grp",
                groups.iter().map(|g| Value::from(*g)),
            ));
        }
        e
    }

    fn groups_of(t: &Target, groups: &str, id: i64) -> Vec<String> {
        let mut v: Vec<String> = t
            .rows(&format!("SELECT grp FROM {groups} WHERE user_id = {id}"))
            .into_iter()
            .filter_map(|r| r[0].clone())
            .collect();
        v.sort();
        v
    }

    /// Add / Update / Replace / Delete, generated anchors, multi-values, error codes.
    pub fn export_all_kinds(t: &Target) {
        let (users, groups) = ("ex_users", "ex_groups");
        users_with_groups(t, users, groups);
        let plugin = load();
        let config = users_config(t, users, groups, &[]);
        let mut inst = instance(&plugin, &config);

        let mut unknown = add_user("e4", "dora", None, &[]);
        unknown
            .changes
            .push(AttributeChange::add("no_such_column", [Value::from("x")]));
        let results = export(
            &plugin,
            inst.as_mut(),
            &config,
            vec![
                add_user("e1", "alice", Some("a@example.com"), &["g1", "g2"]),
                add_user("e2", "alice", Some("dup@example.com"), &["g7"]),
                entry("e3", ObjectModification::Add).with_change(AttributeChange::add(
                    "email",
                    [Value::from("noname@example.com")],
                )),
                unknown,
            ],
        )
        .expect("export");
        assert_eq!(results.len(), 4);
        let by_id = |id: &str| results.iter().find(|r| r.identifier == id).unwrap().clone();
        let r1 = by_id("e1");
        assert_eq!(r1.code, ExportErrorCode::Success, "{r1:?}");
        let id = match &r1.anchor_changes[..] {
            [a] if a.name == "id" => match a.value {
                Value::Integer(i) => i,
                ref v => panic!("generated anchor is not an integer: {v:?}"),
            },
            other => panic!("expected the generated anchor, got {other:?}"),
        };
        assert_eq!(
            by_id("e2").code,
            ExportErrorCode::ConnectedDirectoryExistingObject
        );
        assert!(
            !by_id("e2").error_detail.is_empty(),
            "the database's message is in the detail"
        );
        assert_eq!(by_id("e3").code, ExportErrorCode::SyntaxViolation);
        assert_eq!(by_id("e4").code, ExportErrorCode::SyntaxViolation);
        // Failed entries left nothing behind (each entry is its own transaction).
        assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {users}")), 1);
        assert_eq!(groups_of(t, groups, id), vec!["g1", "g2"]);
        assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {groups}")), 2);

        // AttributeUpdate: one attribute replaced, one value added and one removed.
        let update = entry("u1", ObjectModification::Update)
            .with_anchor("id", id)
            .with_change(AttributeChange::replace(
                "email",
                [Value::from("b@example.com")],
            ))
            .with_change(AttributeChange::update(
                "grp",
                vec![ValueChange::add("g3"), ValueChange::delete("g1")],
            ));
        let missing = entry("u2", ObjectModification::Update)
            .with_anchor("id", id + 100_000)
            .with_change(AttributeChange::replace(
                "email",
                [Value::from("x@example.com")],
            ));
        let r = export(&plugin, inst.as_mut(), &config, vec![update, missing]).unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
        assert_eq!(r[1].code, ExportErrorCode::ConnectedDirectoryMissingObject);
        let row = &t.rows(&format!("SELECT name, email FROM {users} WHERE id = {id}"))[0];
        assert_eq!(
            row,
            &vec![Some("alice".to_owned()), Some("b@example.com".to_owned())]
        );
        assert_eq!(groups_of(t, groups, id), vec!["g2", "g3"]);

        // ObjectReplace: what the entry does not carry is cleared.
        let replace = entry("r1", ObjectModification::Replace)
            .with_anchor("id", id)
            .with_change(AttributeChange::replace("name", [Value::from("alice2")]))
            .with_change(AttributeChange::replace("active", [Value::Boolean(false)]))
            .with_change(AttributeChange::replace("grp", [Value::from("g9")]));
        let r = export(&plugin, inst.as_mut(), &config, vec![replace]).unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
        let row = &t.rows(&format!("SELECT name, email FROM {users} WHERE id = {id}"))[0];
        assert_eq!(row, &vec![Some("alice2".to_owned()), None]);
        assert_eq!(groups_of(t, groups, id), vec!["g9"]);
        let (entries, _, _) =
            import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 50).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(
            entries[0].change("active").unwrap().values[0].value,
            Value::Boolean(false)
        );
        assert!(entries[0].change("email").is_none());

        // An add that carries its own anchor gets it back.
        let mut explicit = add_user("a5", "bob", None, &[]);
        explicit = explicit.with_anchor("id", 777_777i64);
        let r = export(&plugin, inst.as_mut(), &config, vec![explicit]).unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
        assert_eq!(r[0].anchor_changes[0].value, Value::Integer(777_777));

        // Delete removes the row and its child rows; deleting again reports the missing object.
        let del = entry("d1", ObjectModification::Delete).with_anchor("id", id);
        let r = export(&plugin, inst.as_mut(), &config, vec![del.clone()]).unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
        assert_eq!(
            t.count(&format!("SELECT COUNT(*) FROM {users} WHERE id = {id}")),
            0
        );
        assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {groups}")), 0);
        let r = export(&plugin, inst.as_mut(), &config, vec![del]).unwrap();
        assert_eq!(r[0].code, ExportErrorCode::ConnectedDirectoryMissingObject);
    }

    /// Values and names that break naive SQL are stored and read back exactly.
    pub fn hostile_values_and_names(t: &Target) {
        let table = "users'; DROP TABLE canary; --\"`";
        let name_col = "display \"name\" `x`";
        let note_col = "note'; --";
        t.exec(&[
            "CREATE TABLE canary (x INTEGER)",
            "INSERT INTO canary (x) VALUES (1)",
            &format!(
                "CREATE TABLE {} (id {}, {} {}, {} {})",
                t.q(table),
                t.serial_pk(),
                t.q(name_col),
                long_text(t),
                t.q(note_col),
                long_text(t)
            ),
        ]);
        let long: String = "Grüße, 世界! 🎉 ".repeat(4000);
        let values = [
            "O'Brien \"the\" `tick` \\ back\\slash".to_owned(),
            "'; DROP TABLE canary; --".to_owned(),
            "\"); DELETE FROM canary; --".to_owned(),
            "Ünïcödé 日本語 עברית 👩‍👩‍👧 e\u{301}".to_owned(),
            "@name ? $1 :x %_ * -- /* */".to_owned(),
            long.clone(),
            "   leading and trailing spaces   ".to_owned(),
        ];
        let plugin = load();
        let config = t.config(&[("Table", table), ("Anchor columns", "id")]);
        let mut inst = instance(&plugin, &config);
        let entries: Vec<CsEntryChange> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                entry(&format!("h{i}"), ObjectModification::Add)
                    .with_change(AttributeChange::add(name_col, [Value::from(v.as_str())]))
                    .with_change(AttributeChange::add(
                        note_col,
                        [Value::from(format!("{i}:{v}"))],
                    ))
            })
            .collect();
        let results = export(&plugin, inst.as_mut(), &config, entries).unwrap();
        for r in &results {
            assert_eq!(r.code, ExportErrorCode::Success, "{r:?}");
        }
        let (imported, _, _) =
            import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 3).unwrap();
        let mut got: Vec<(String, String)> = imported
            .iter()
            .map(|e| {
                (
                    value_of(e, name_col).unwrap(),
                    value_of(e, note_col).unwrap(),
                )
            })
            .collect();
        got.sort();
        let mut want: Vec<(String, String)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), format!("{i}:{v}")))
            .collect();
        want.sort();
        assert_eq!(got, want);
        // Update with a hostile value as well, through the anchor.
        let first = &imported[0];
        let upd = entry("hu", ObjectModification::Update)
            .with_anchor("id", first.anchor_value().unwrap().clone())
            .with_change(AttributeChange::replace(
                note_col,
                [Value::from("x'); DROP TABLE canary; --")],
            ));
        let r = export(&plugin, inst.as_mut(), &config, vec![upd]).unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
        let stored = t.rows(&format!(
            "SELECT {} FROM {} WHERE id = {}",
            t.q(note_col),
            t.q(table),
            anchor_text(first)
        ));
        assert_eq!(stored[0][0].as_deref(), Some("x'); DROP TABLE canary; --"));
        // Long strings are kept whole.
        assert_eq!(
            t.count(&format!(
                "SELECT COUNT(*) FROM {} WHERE {} = '{}'",
                t.q(table),
                t.q(name_col),
                long.replace('\'', "''")
            )),
            1
        );
        // The tables are intact.
        assert_eq!(t.count("SELECT COUNT(*) FROM canary"), 1);
        assert_eq!(
            t.count(&format!("SELECT COUNT(*) FROM {}", t.q(table))),
            values.len() as i64
        );
    }

    /// Watermark delta: only rows changed since the last import's database clock.
    pub fn delta_watermark(t: &Target) {
        let users = "wm_users";
        let old = match t.kind {
            Kind::Postgres => "'2000-01-01 00:00:00+00'",
            _ => "'2000-01-01 00:00:00'",
        };
        let mut stmts = vec![format!(
            "CREATE TABLE {users} (id {}, name VARCHAR(200) NOT NULL, modified {})",
            t.serial_pk(),
            t.modified_column()
        )];
        for i in 0..6 {
            stmts.push(format!(
                "INSERT INTO {users} (name, modified) VALUES ('w{i}', {old})"
            ));
        }
        t.exec(&stmts.iter().map(String::as_str).collect::<Vec<_>>());
        let plugin = load();
        let config = t.config(&[
            ("Table", users),
            ("Anchor columns", "id"),
            ("Delta strategy", "Watermark"),
            ("Watermark column", "modified"),
        ]);
        let caps = plugin.capabilities(&config).unwrap();
        assert!(caps.delta_import);
        let mut inst = instance(&plugin, &config);
        let (full, _, watermark) =
            import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 4).unwrap();
        assert_eq!(full.len(), 6);
        assert!(!watermark.is_empty());
        // Date-times arrive as ISO-8601 UTC.
        let modified = value_of(&full[0], "modified").unwrap();
        assert!(
            modified.starts_with("2000-01-01T00:00:00") && modified.ends_with('Z'),
            "{modified}"
        );
        // A delta before any change returns nothing.
        let (none, _, _) = import_all(
            &plugin,
            inst.as_mut(),
            &config,
            ImportType::Delta,
            &watermark,
            4,
        )
        .unwrap();
        assert!(none.is_empty(), "{none:?}");

        t.exec(&[
            &format!(
                "UPDATE {users} SET name = 'w2-changed', modified = {} WHERE name = 'w2'",
                t.now()
            ),
            &format!("INSERT INTO {users} (name) VALUES ('w-new')"),
        ]);
        let (delta, _, next) = import_all(
            &plugin,
            inst.as_mut(),
            &config,
            ImportType::Delta,
            &watermark,
            4,
        )
        .unwrap();
        let mut names: Vec<String> = delta.iter().map(|e| value_of(e, "name").unwrap()).collect();
        names.sort();
        assert_eq!(names, vec!["w-new", "w2-changed"]);
        assert!(
            delta
                .iter()
                .all(|e| e.modification == ObjectModification::Replace)
        );
        assert!(!next.is_empty());
        // Delta without a previous watermark is refused, not silently a full import.
        let err =
            import_all(&plugin, inst.as_mut(), &config, ImportType::Delta, "", 4).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Config);
    }

    fn change_triggers(t: &Target, users: &str, changes: &str) -> Vec<String> {
        match t.kind {
            Kind::Sqlite => vec![
                format!(
                    "CREATE TRIGGER {users}_i AFTER INSERT ON {users} BEGIN INSERT INTO {changes} (user_id, change_type) VALUES (NEW.id, 'Add'); END"
                ),
                format!(
                    "CREATE TRIGGER {users}_u AFTER UPDATE ON {users} BEGIN INSERT INTO {changes} (user_id, change_type) VALUES (NEW.id, 'Update'); END"
                ),
                format!(
                    "CREATE TRIGGER {users}_d AFTER DELETE ON {users} BEGIN INSERT INTO {changes} (user_id, change_type) VALUES (OLD.id, 'Delete'); END"
                ),
            ],
            Kind::Postgres => vec![
                format!(
                    "CREATE FUNCTION {users}_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                     IF TG_OP = 'DELETE' THEN INSERT INTO {changes} (user_id, change_type) VALUES (OLD.id, 'Delete'); RETURN OLD; \
                     ELSIF TG_OP = 'INSERT' THEN INSERT INTO {changes} (user_id, change_type) VALUES (NEW.id, 'Add'); RETURN NEW; \
                     ELSE INSERT INTO {changes} (user_id, change_type) VALUES (NEW.id, 'Update'); RETURN NEW; END IF; END $$"
                ),
                format!(
                    "CREATE TRIGGER {users}_t AFTER INSERT OR UPDATE OR DELETE ON {users} FOR EACH ROW EXECUTE FUNCTION {users}_log()"
                ),
            ],
            Kind::MariaDb => vec![
                format!(
                    "CREATE TRIGGER {users}_i AFTER INSERT ON {users} FOR EACH ROW INSERT INTO {changes} (user_id, change_type) VALUES (NEW.id, 'Add')"
                ),
                format!(
                    "CREATE TRIGGER {users}_u AFTER UPDATE ON {users} FOR EACH ROW INSERT INTO {changes} (user_id, change_type) VALUES (NEW.id, 'Update')"
                ),
                format!(
                    "CREATE TRIGGER {users}_d AFTER DELETE ON {users} FOR EACH ROW INSERT INTO {changes} (user_id, change_type) VALUES (OLD.id, 'Delete')"
                ),
            ],
        }
    }

    /// Change-table delta: adds, updates and deletes recorded by triggers.
    pub fn delta_change_table(t: &Target) {
        let (users, changes) = ("ct_users", "ct_changes");
        let mut stmts = vec![
            format!(
                "CREATE TABLE {users} (id {}, name VARCHAR(200) NOT NULL)",
                t.serial_pk()
            ),
            format!(
                "CREATE TABLE {changes} (change_id {}, user_id BIGINT NOT NULL, change_type VARCHAR(10) NOT NULL)",
                t.serial_pk()
            ),
        ];
        stmts.extend(change_triggers(t, users, changes));
        for i in 0..5 {
            stmts.push(format!("INSERT INTO {users} (name) VALUES ('c{i}')"));
        }
        t.exec(&stmts.iter().map(String::as_str).collect::<Vec<_>>());
        let plugin = load();
        let config = t.config(&[
            ("Table", users),
            ("Anchor columns", "id"),
            ("Delta strategy", "Change table"),
            ("Change table", changes),
            ("Change table anchor column", "user_id"),
        ]);
        let mut inst = instance(&plugin, &config);
        let (full, _, watermark) =
            import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 2).unwrap();
        assert_eq!(full.len(), 5);
        let id_of = |name: &str| {
            full.iter()
                .find(|e| value_of(e, "name").as_deref() == Some(name))
                .map(anchor_text)
                .unwrap()
        };
        let (c1, c3) = (id_of("c1"), id_of("c3"));
        t.exec(&[
            &format!("INSERT INTO {users} (name) VALUES ('c-new')"),
            &format!("UPDATE {users} SET name = 'c-new2' WHERE name = 'c-new'"),
            &format!("UPDATE {users} SET name = 'c1-changed' WHERE id = {c1}"),
            &format!("DELETE FROM {users} WHERE id = {c3}"),
        ]);
        // Page size 1 exercises paging through the change table.
        let (delta, _, next) = import_all(
            &plugin,
            inst.as_mut(),
            &config,
            ImportType::Delta,
            &watermark,
            1,
        )
        .unwrap();
        let find = |pred: &dyn Fn(&CsEntryChange) -> bool| {
            delta
                .iter()
                .filter(|e| pred(e))
                .cloned()
                .collect::<Vec<_>>()
        };
        let deleted = find(&|e| e.modification == ObjectModification::Delete);
        assert!(deleted.iter().any(|e| anchor_text(e) == c3), "{delta:?}");
        assert!(deleted.iter().all(|e| anchor_text(e) == c3));
        let changed =
            find(&|e| anchor_text(e) == c1 && e.modification != ObjectModification::Delete);
        assert!(!changed.is_empty());
        assert!(
            changed
                .iter()
                .all(|e| value_of(e, "name").as_deref() == Some("c1-changed"))
        );
        let new = find(&|e| value_of(e, "name").as_deref() == Some("c-new2"));
        assert!(!new.is_empty(), "{delta:?}");
        assert!(
            new.iter()
                .any(|e| e.modification == ObjectModification::Add)
        );
        let untouched = find(&|e| {
            let a = anchor_text(e);
            a == id_of("c0") || a == id_of("c2") || a == id_of("c4")
        });
        assert!(untouched.is_empty(), "{untouched:?}");
        // Nothing new since.
        let (again, _, _) = import_all(
            &plugin,
            inst.as_mut(),
            &config,
            ImportType::Delta,
            &next,
            10,
        )
        .unwrap();
        assert!(again.is_empty(), "{again:?}");
    }

    fn simple_users(t: &Target, users: &str, n: usize) {
        let mut stmts = vec![format!(
            "CREATE TABLE {users} (id {}, name VARCHAR(200) NOT NULL, email VARCHAR(200), pw VARCHAR(200))",
            t.serial_pk()
        )];
        for i in 0..n {
            stmts.push(format!(
                "INSERT INTO {users} (name, email) VALUES ('q{i}', 'q{i}@example.com')"
            ));
        }
        t.exec(&stmts.iter().map(String::as_str).collect::<Vec<_>>());
    }

    /// Import through a paged SQL query, export through SQL statements with @attribute parameters.
    pub fn query_mode(t: &Target) {
        let (users, groups) = ("qm_users", "qm_groups");
        simple_users(t, users, 23);
        t.exec(&[&format!(
            "CREATE TABLE {groups} (user_id BIGINT NOT NULL, grp VARCHAR(100) NOT NULL)"
        )]);
        let plugin = load();
        let import_query = format!(
            "SELECT id, name, email FROM (SELECT id, name, email, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM {users}) x \
             WHERE rn BETWEEN @StartIndex AND @EndIndex ORDER BY rn"
        );
        let returning = if t.kind == Kind::Postgres {
            " RETURNING id"
        } else {
            ""
        };
        let insert = format!("INSERT INTO {users} (name, email) VALUES (@name, @email){returning}");
        let update = format!("UPDATE {users} SET name = @name, email = @email WHERE id = @id");
        let delete = format!("DELETE FROM {users} WHERE id = @id");
        let config = t.config(&[
            ("Table", users),
            ("Anchor columns", "id"),
            // The multi-valued table is written by the connector around the statements.
            ("Multi-valued table", groups),
            ("Multi-valued join column", "user_id"),
            ("Import method", "SQL query"),
            ("Import query", &import_query),
            ("Export method", "SQL query"),
            ("Insert query", &insert),
            ("Update query", &update),
            ("Delete query", &delete),
        ]);
        let mut inst = instance(&plugin, &config);
        let (entries, pages, _) =
            import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 5).unwrap();
        assert_eq!(entries.len(), 23);
        assert!(pages >= 5);
        let mut names: Vec<String> = entries
            .iter()
            .map(|e| value_of(e, "name").unwrap())
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 23);

        let add = entry("qa", ObjectModification::Add)
            .with_change(AttributeChange::add("name", [Value::from("q-new")]))
            .with_change(AttributeChange::add(
                "email",
                [Value::from("it's@example.com")],
            ))
            .with_change(AttributeChange::add(
                "grp",
                [Value::from("g-1"), Value::from("g-2")],
            ));
        let r = export(&plugin, inst.as_mut(), &config, vec![add]).unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
        let id = match r[0].anchor_changes.first().map(|a| &a.value) {
            Some(Value::Integer(i)) => *i,
            other => panic!("no generated anchor: {other:?}"),
        };
        assert_eq!(
            t.rows(&format!("SELECT name, email FROM {users} WHERE id = {id}"))[0],
            vec![
                Some("q-new".to_owned()),
                Some("it's@example.com".to_owned())
            ]
        );
        assert_eq!(
            groups_of(t, groups, id),
            ["g-1", "g-2"],
            "multi-values of the generated anchor"
        );
        // An update that names only one attribute keeps the others (they are read first).
        let upd = entry("qu", ObjectModification::Update)
            .with_anchor("id", id)
            .with_change(AttributeChange::replace(
                "email",
                [Value::from("new@example.com")],
            ))
            .with_change(AttributeChange::update(
                "grp",
                vec![
                    ValueChange::add(Value::from("g-3")),
                    ValueChange::delete(Value::from("g-1")),
                ],
            ));
        let missing = entry("qm", ObjectModification::Update)
            .with_anchor("id", id + 10_000)
            .with_change(AttributeChange::replace("email", [Value::from("x")]));
        let r = export(&plugin, inst.as_mut(), &config, vec![upd, missing]).unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
        assert_eq!(r[1].code, ExportErrorCode::ConnectedDirectoryMissingObject);
        assert_eq!(
            t.rows(&format!("SELECT name, email FROM {users} WHERE id = {id}"))[0],
            vec![Some("q-new".to_owned()), Some("new@example.com".to_owned())]
        );
        assert_eq!(groups_of(t, groups, id), ["g-2", "g-3"]);
        // Imported with the multi-values from the child table.
        let (entries, _, _) =
            import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 50).unwrap();
        let e = entries
            .iter()
            .find(|e| anchor_text(e) == id.to_string())
            .expect("the added row");
        assert_eq!(values_of(e, "grp"), ["g-2", "g-3"]);
        let r = export(
            &plugin,
            inst.as_mut(),
            &config,
            vec![entry("qd", ObjectModification::Delete).with_anchor("id", id)],
        )
        .unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
        assert_eq!(
            t.count(&format!("SELECT COUNT(*) FROM {users} WHERE id = {id}")),
            0
        );
        assert!(
            groups_of(t, groups, id).is_empty(),
            "children deleted with the row"
        );
        assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {users}")), 23);
    }

    /// Import, delta import and export through stored procedures (PostgreSQL functions and
    /// procedures, MySQL procedures); an add procedure reports the generated anchor.
    pub fn stored_procedure_mode(t: &Target) {
        let users = "sp_users";
        simple_users(t, users, 17);
        let modified = match t.kind {
            Kind::MariaDb => {
                "DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP"
            }
            _ => t.modified_column(),
        };
        t.exec(&[
            &format!("ALTER TABLE {users} ADD COLUMN modified {modified}"),
            // Long before the full import's watermark.
            &format!("UPDATE {users} SET modified = '2000-01-01 00:00:00'"),
        ]);
        let ddl: Vec<String> = match t.kind {
            Kind::Postgres => vec![
                format!(
                    "CREATE FUNCTION sp_delta(w text, s bigint, e bigint) RETURNS TABLE (id bigint, name varchar, email varchar) LANGUAGE sql AS $$ SELECT id, name, email FROM {users} WHERE modified >= CAST(w AS timestamptz) ORDER BY id OFFSET s - 1 LIMIT e - s + 1 $$"
                ),
                format!(
                    "CREATE FUNCTION sp_page(s bigint, e bigint) RETURNS TABLE (id bigint, name varchar, email varchar) LANGUAGE sql AS $$ SELECT id, name, email FROM {users} ORDER BY id OFFSET s - 1 LIMIT e - s + 1 $$"
                ),
                // The generated id comes back through the INOUT parameter.
                format!(
                    "CREATE PROCEDURE sp_add(INOUT p_id bigint, p_name text, p_email text) LANGUAGE plpgsql AS $$ BEGIN INSERT INTO {users} (name, email) VALUES (p_name, p_email) RETURNING {users}.id INTO p_id; END $$"
                ),
                format!(
                    "CREATE PROCEDURE sp_update(p_id bigint, p_name text, p_email text) LANGUAGE sql AS $$ UPDATE {users} SET name = p_name, email = p_email WHERE id = p_id $$"
                ),
                format!(
                    "CREATE PROCEDURE sp_delete(p_id bigint, p_name text, p_email text) LANGUAGE sql AS $$ DELETE FROM {users} WHERE id = p_id $$"
                ),
            ],
            Kind::MariaDb => vec![
                format!(
                    "CREATE PROCEDURE sp_page(IN s BIGINT, IN e BIGINT) BEGIN DECLARE o BIGINT DEFAULT s - 1; DECLARE n BIGINT DEFAULT e - s + 1; SELECT id, name, email FROM {users} ORDER BY id LIMIT o, n; END"
                ),
                format!(
                    "CREATE PROCEDURE sp_delta(IN w VARCHAR(40), IN s BIGINT, IN e BIGINT) BEGIN DECLARE o BIGINT DEFAULT s - 1; DECLARE n BIGINT DEFAULT e - s + 1; SELECT id, name, email FROM {users} WHERE modified >= w ORDER BY id LIMIT o, n; END"
                ),
                // The generated id comes back as a result row.
                format!(
                    "CREATE PROCEDURE sp_add(IN p_id BIGINT, IN p_name VARCHAR(200), IN p_email VARCHAR(200)) BEGIN INSERT INTO {users} (name, email) VALUES (p_name, p_email); SELECT LAST_INSERT_ID() AS id; END"
                ),
                format!(
                    "CREATE PROCEDURE sp_update(IN p_id BIGINT, IN p_name VARCHAR(200), IN p_email VARCHAR(200)) UPDATE {users} SET name = p_name, email = p_email WHERE id = p_id"
                ),
                format!(
                    "CREATE PROCEDURE sp_delete(IN p_id BIGINT, IN p_name VARCHAR(200), IN p_email VARCHAR(200)) DELETE FROM {users} WHERE id = p_id"
                ),
            ],
            Kind::Sqlite => panic!("SQLite has no stored procedures"),
        };
        t.exec(&ddl.iter().map(String::as_str).collect::<Vec<_>>());
        let plugin = load();
        let config = t.config(&[
            ("Table", users),
            ("Anchor columns", "id"),
            ("Import method", "Stored procedure"),
            ("Import procedure", "sp_page"),
            ("Delta import procedure", "sp_delta"),
            ("Delta strategy", "Watermark"),
            ("Watermark column", "modified"),
            ("Export method", "Stored procedure"),
            ("Add procedure", "sp_add"),
            ("Update procedure", "sp_update"),
            ("Delete procedure", "sp_delete"),
            ("Procedure parameters", "id, name, email"),
        ]);
        let mut inst = instance(&plugin, &config);
        let (entries, pages, watermark) =
            import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 4).unwrap();
        assert_eq!(entries.len(), 17);
        assert!(pages >= 4);
        // Attributes detected from the procedure's result: its columns, not the table's.
        let detected = t.config(&[
            ("Attribute detection", "Stored procedure"),
            ("Anchor columns", "id"),
            ("Import method", "Stored procedure"),
            ("Import procedure", "sp_page"),
            ("Export method", "Stored procedure"),
            ("Add procedure", "sp_add"),
            ("Update procedure", "sp_update"),
            ("Delete procedure", "sp_delete"),
            ("Procedure parameters", "id, name, email"),
        ]);
        let schema = plugin.schema(&detected).expect("schema from the procedure");
        let mut attrs: Vec<(String, DataType)> = schema.types[0]
            .attributes
            .iter()
            .map(|a| (a.name.to_ascii_lowercase(), a.data_type))
            .collect();
        attrs.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            attrs,
            vec![
                ("email".to_owned(), DataType::String),
                ("id".to_owned(), DataType::Integer),
                ("name".to_owned(), DataType::String)
            ]
        );
        let mut by_proc = instance(&plugin, &detected);
        let (again, _, _) = import_all(
            &plugin,
            by_proc.as_mut(),
            &detected,
            ImportType::Full,
            "",
            5,
        )
        .unwrap();
        assert_eq!(again.len(), 17);
        assert_eq!(
            t.count(&format!("SELECT COUNT(*) FROM {users}")),
            17,
            "detection changed nothing"
        );
        let mut names: Vec<String> = entries
            .iter()
            .map(|e| value_of(e, "name").unwrap())
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 17);

        let add = entry("pa", ObjectModification::Add)
            .with_change(AttributeChange::add("name", [Value::from("p-new")]))
            .with_change(AttributeChange::add(
                "email",
                [Value::from("p@example.com")],
            ));
        let r = export(&plugin, inst.as_mut(), &config, vec![add]).unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
        let id = t.count(&format!("SELECT id FROM {users} WHERE name = 'p-new'"));
        assert_eq!(
            r[0].anchor_changes
                .iter()
                .find(|a| a.name == "id")
                .map(|a| a.value.as_text()),
            Some(id.to_string()),
            "the add procedure's generated anchor: {:?}",
            r[0]
        );
        let upd = entry("pu", ObjectModification::Update)
            .with_anchor("id", id)
            .with_change(AttributeChange::replace(
                "email",
                [Value::from("p2@example.com")],
            ));
        let r = export(&plugin, inst.as_mut(), &config, vec![upd]).unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
        assert_eq!(
            t.rows(&format!("SELECT name, email FROM {users} WHERE id = {id}"))[0],
            vec![Some("p-new".to_owned()), Some("p2@example.com".to_owned())]
        );
        let r = export(
            &plugin,
            inst.as_mut(),
            &config,
            vec![entry("pd", ObjectModification::Delete).with_anchor("id", id)],
        )
        .unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
        assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {users}")), 17);

        // Delta through the delta procedure: only the row changed since the watermark.
        t.exec(&[&format!(
            "UPDATE {users} SET name = 'changed', modified = {} WHERE name = 'q3'",
            t.now()
        )]);
        let (delta, _, _) = import_all(
            &plugin,
            inst.as_mut(),
            &config,
            ImportType::Delta,
            &watermark,
            4,
        )
        .unwrap();
        let names: Vec<Option<String>> = delta.iter().map(|e| value_of(e, "name")).collect();
        assert_eq!(names, vec![Some("changed".to_owned())], "{delta:#?}");
        assert_eq!(delta[0].modification, ObjectModification::Replace);
    }

    /// Password through a SQL statement with @Password and the anchor.
    pub fn set_password(t: &Target) {
        let users = "pw_users";
        simple_users(t, users, 3);
        let plugin = load();
        let config = t.config(&[
            ("Table", users),
            ("Anchor columns", "id"),
            ("Password method", "SQL"),
            (
                "Set password SQL",
                &format!("UPDATE {users} SET pw = @Password WHERE id = @id"),
            ),
        ]);
        assert!(plugin.capabilities(&config).unwrap().support_password);
        let mut inst = instance(&plugin, &config);
        let id = t.count(&format!("SELECT id FROM {users} WHERE name = 'q1'"));
        let target = |id: i64| PasswordTarget {
            object_type: "User".into(),
            dn: id.to_string(),
            anchor: vec![AnchorAttribute {
                name: "id".into(),
                value: Value::Integer(id),
            }],
        };
        let secret = "s3cr3t'; DROP TABLE pw_users; --";
        inst.set_password(target(id), Secret::new(secret), PasswordOptions::default())
            .unwrap();
        assert_eq!(
            t.rows(&format!("SELECT pw FROM {users} WHERE id = {id}"))[0][0].as_deref(),
            Some(secret)
        );
        assert_eq!(
            t.count(&format!(
                "SELECT COUNT(*) FROM {users} WHERE pw IS NOT NULL"
            )),
            1
        );
        let err = inst
            .set_password(
                target(id + 1000),
                Secret::new("x"),
                PasswordOptions::default(),
            )
            .unwrap_err();
        assert_ne!(err.kind, ErrorKind::Connection);
    }

    /// Configuration pages and validation messages name the parameter at fault.
    pub fn config_validation(t: &Target) {
        let users = "cv_users";
        simple_users(t, users, 1);
        let plugin = load();
        let ok = t.config(&[("Table", users), ("Anchor columns", "id")]);
        for page in [
            ConfigPage::Connectivity,
            ConfigPage::Global,
            ConfigPage::RunStep,
        ] {
            assert!(!plugin.config_parameters(&ok, page, 1).unwrap().is_empty());
        }
        for n in 1..=4 {
            assert!(
                !plugin
                    .config_parameters(&ok, ConfigPage::Schema, n)
                    .unwrap()
                    .is_empty()
            );
        }
        assert_eq!(
            plugin
                .validate_config(&ok, ConfigPage::Connectivity, 1)
                .unwrap(),
            ParameterValidation::Success
        );
        assert_eq!(
            plugin.validate_config(&ok, ConfigPage::Schema, 3).unwrap(),
            ParameterValidation::Success
        );
        let bad_anchor = t.config(&[("Table", users), ("Anchor columns", "nope")]);
        match plugin
            .validate_config(&bad_anchor, ConfigPage::Schema, 3)
            .unwrap()
        {
            ParameterValidation::Failure { parameter, message } => {
                assert_eq!(parameter, "Anchor columns");
                assert!(message.contains("nope"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let bad_table = t.config(&[("Table", "no_such_table"), ("Anchor columns", "id")]);
        match plugin
            .validate_config(&bad_table, ConfigPage::Schema, 2)
            .unwrap()
        {
            ParameterValidation::Failure { parameter, .. } => assert_eq!(parameter, "Table"),
            other => panic!("{other:?}"),
        }
        let bad_timeout = t.config(&[("Table", users), ("Command timeout", "soon")]);
        match plugin
            .validate_config(&bad_timeout, ConfigPage::Connectivity, 1)
            .unwrap()
        {
            ParameterValidation::Failure { parameter, .. } => {
                assert_eq!(parameter, "Command timeout")
            }
            other => panic!("{other:?}"),
        }
        let global = plugin
            .config_parameters(&ok, ConfigPage::Global, 1)
            .unwrap();
        let wm = global.iter().find(|p| p.name == "Watermark query").unwrap();
        assert!(
            wm.default_value.to_ascii_uppercase().starts_with("SELECT"),
            "pre-filled per dialect"
        );
    }

    fn server_stop(t: &mut Target, crash: bool) {
        match &mut t.server {
            Server::Postgres(s) if crash => s.crash(),
            Server::Postgres(s) => s.stop(),
            Server::MariaDb(s) if crash => s.crash(),
            Server::MariaDb(s) => s.stop(),
            Server::Sqlite(_) => panic!("SQLite has no server to stop"),
        }
    }

    fn server_start(t: &mut Target) {
        match &mut t.server {
            Server::Postgres(s) => s.start_again(),
            Server::MariaDb(s) => s.start_again(),
            Server::Sqlite(_) => {}
        }
    }

    /// The database stops while an import is reading: the import fails cleanly with a
    /// retryable error, and the same instance imports again once the database is back.
    ///
    /// PostgreSQL and MariaDB stream the table in one statement, read a few pages ahead of
    /// the host: the table is made larger than what the socket buffers and the read-ahead
    /// hold (80,000 rows of ~400 bytes: 32 MB against loopback socket buffers of up to ~10 MB),
    /// so the import is still reading when the server stops.
    pub fn outage_mid_import(t: &mut Target) {
        let users = "oi_users";
        let rows = 80_000;
        simple_users(t, users, 0);
        t.exec(&[&match t.kind {
            Kind::Postgres => format!(
                "INSERT INTO {users} (name, email) SELECT repeat('q', 190) || i, \
                 repeat('x', 190) || i FROM generate_series(1, {rows}) AS i"
            ),
            Kind::MariaDb => format!(
                "INSERT INTO {users} (name, email) SELECT CONCAT(REPEAT('q', 190), seq), \
                 CONCAT(REPEAT('x', 190), seq) FROM seq_1_to_{rows}"
            ),
            Kind::Sqlite => panic!("SQLite has no server to stop"),
        }]);
        let plugin = load();
        let config = t.config(&[
            ("Table", users),
            ("Anchor columns", "id"),
            ("Command timeout", "10"),
        ]);
        let mut inst = instance(&plugin, &config);
        let schema = plugin.schema(&config).unwrap();
        inst.open_import(OpenImportRequest {
            import_type: ImportType::Full,
            page_size: 100,
            custom_data: String::new(),
            partition: None,
            schema,
        })
        .unwrap();
        let first = inst.get_import_entries().unwrap();
        assert_eq!(first.entries.len(), 100);
        assert!(first.more_to_import);
        server_stop(t, false);
        // Pages read before the stop may still arrive; then the import fails, short of the
        // whole table.
        let mut seen = first.entries.len();
        let err = loop {
            match inst.get_import_entries() {
                Ok(page) => {
                    seen += page.entries.len();
                    assert!(page.more_to_import, "the import finished during the outage");
                }
                Err(e) => break e,
            }
        };
        assert!(seen < rows, "{seen} rows imported from a stopped server");
        assert_eq!(err.kind, ErrorKind::Connection, "{err:?}");
        assert!(err.kind.is_retryable());
        server_start(t);
        let (entries, _, _) =
            import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 1000).unwrap();
        assert_eq!(entries.len(), rows);
    }

    /// The database dies while an entry's transaction is open (a trigger on the child table
    /// sleeps): the export reports a retryable error, nothing of the entry is stored, and the
    /// same instance exports once the database is back.
    pub fn outage_mid_export(t: &mut Target) {
        let (users, groups) = ("oe_users", "oe_groups");
        users_with_groups(t, users, groups);
        let slow: Vec<String> = match t.kind {
            Kind::Postgres => vec![
                "CREATE FUNCTION oe_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(120); RETURN NEW; END $$".into(),
                format!("CREATE TRIGGER oe_slow BEFORE INSERT ON {groups} FOR EACH ROW EXECUTE FUNCTION oe_slow()"),
            ],
            Kind::MariaDb => vec![format!(
                "CREATE TRIGGER oe_slow BEFORE INSERT ON {groups} FOR EACH ROW SET @oe_slept = SLEEP(120)"
            )],
            Kind::Sqlite => panic!("SQLite has no server to stop"),
        };
        t.exec(&slow.iter().map(String::as_str).collect::<Vec<_>>());
        let plugin = load();
        let config = users_config(t, users, groups, &[("Command timeout", "300")]);
        let mut inst = instance(&plugin, &config);
        let schema = plugin.schema(&config).unwrap();
        inst.open_export(OpenExportRequest {
            batch_size: 2,
            partition: None,
            schema,
        })
        .unwrap();
        let worker = std::thread::spawn(move || {
            let r = inst.put_export_entries(vec![
                add_user("o1", "olga", Some("o@example.com"), &["g1"]),
                add_user("o2", "oscar", None, &[]),
            ]);
            (inst, r)
        });
        // Wait until the entry's transaction is inside the sleeping trigger.
        let probe = match t.kind {
            Kind::Postgres => "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'",
            _ => "SELECT COUNT(*) FROM information_schema.processlist WHERE state = 'User sleep'",
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while t.count(probe) == 0 {
            assert!(
                Instant::now() < deadline,
                "the export never reached the trigger"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // A fast shutdown terminates the backend inside the open transaction. (Not a crash:
        // with the harness's synchronous_commit=off / innodb-flush-log-at-trx-commit=0 a crash
        // may also lose the committed fixture tables, which would prove nothing.)
        server_stop(t, false);
        let (mut inst, result) = worker.join().expect("export thread");
        match result {
            Err(e) => assert_eq!(e.kind, ErrorKind::Connection, "{e:?}"),
            Ok(results) => {
                assert_eq!(results.len(), 2);
                for r in &results {
                    assert_eq!(r.code, ExportErrorCode::ConnectedDirectoryError, "{r:?}");
                }
            }
        }
        server_start(t);
        // Nothing half-written: the parent row inserted inside the killed transaction is gone.
        assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {users}")), 0);
        assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {groups}")), 0);
        let drop_trigger = match t.kind {
            Kind::Postgres => format!("DROP TRIGGER oe_slow ON {groups}"),
            _ => "DROP TRIGGER oe_slow".to_owned(),
        };
        t.exec(&[&drop_trigger]);
        // The same instance reconnects by itself.
        let results = export(
            &plugin,
            inst.as_mut(),
            &config,
            vec![
                add_user("o1", "olga", Some("o@example.com"), &["g1"]),
                add_user("o2", "oscar", None, &[]),
            ],
        )
        .unwrap();
        for r in &results {
            assert_eq!(r.code, ExportErrorCode::Success, "{r:?}");
        }
        assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {users}")), 2);
        assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {groups}")), 1);
    }

    /// Composite anchor, DN column, object types read from a column, DateTime and Integer
    /// overrides with a database time zone, an import-only attribute, ObjectReplace.
    pub fn schema_options(t: &Target) {
        let table = "so_accounts";
        t.exec(&[
            &format!(
                "CREATE TABLE {table} (tenant VARCHAR(50) NOT NULL, login VARCHAR(100) NOT NULL, kind VARCHAR(20) NOT NULL, \
                 dn VARCHAR(200), hired VARCHAR(40), level VARCHAR(20), note VARCHAR(200), PRIMARY KEY (tenant, login))"
            ),
            &format!("INSERT INTO {table} VALUES ('t1', 'ann', 'User', 'CN=ann,O=t1', '2024-03-01 08:30:00', '3', 'x')"),
            &format!("INSERT INTO {table} VALUES ('t1', 'grp1', 'Group', 'CN=grp1,O=t1', NULL, '1', NULL)"),
            &format!("INSERT INTO {table} VALUES ('t2', 'ann', 'User', 'CN=ann,O=t2', '2024-03-01 23:15:00', '7', 'y')"),
        ]);
        let plugin = load();
        let config = t.config(&[
            ("Table", table),
            ("Anchor columns", "tenant, login"),
            ("DN column", "dn"),
            ("Object type detection", "Column"),
            ("Object type column", "kind"),
            ("Attribute types", "hired:DateTime\nlevel:Integer"),
            ("Attribute directions", "note:Import"),
            ("Database time zone", "+02:00"),
            ("Export type", "ObjectReplace"),
        ]);
        assert_eq!(
            plugin.capabilities(&config).unwrap().export_type,
            ExportType::ObjectReplace
        );
        let schema = plugin.schema(&config).unwrap();
        let mut types: Vec<&str> = schema.types.iter().map(|t| t.name.as_str()).collect();
        types.sort();
        assert_eq!(types, vec!["Group", "User"]);
        let user = schema.object_type("User").unwrap();
        assert_eq!(
            user.anchor_attributes,
            vec!["tenant".to_owned(), "login".to_owned()]
        );
        assert_eq!(
            user.attribute("level").unwrap().data_type,
            DataType::Integer
        );
        assert_eq!(
            user.attribute("note").unwrap().operation,
            AttributeOperation::ImportOnly
        );
        assert!(
            user.attribute("kind").is_none(),
            "the type column is not an attribute"
        );

        let mut inst = instance(&plugin, &config);
        let (entries, _, _) =
            import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 2).unwrap();
        assert_eq!(entries.len(), 3);
        let t2 = entries
            .iter()
            .find(|e| e.dn == "CN=ann,O=t2")
            .expect("DN from the DN column");
        assert_eq!(t2.object_type, "User");
        assert_eq!(
            t2.anchor
                .iter()
                .map(|a| a.value.as_text())
                .collect::<Vec<_>>(),
            vec!["t2".to_owned(), "ann".to_owned()]
        );
        // 23:15 at +02:00 is 21:15 UTC.
        assert_eq!(
            value_of(t2, "hired").as_deref(),
            Some("2024-03-01T21:15:00Z")
        );
        assert_eq!(
            t2.change("level").unwrap().values[0].value,
            Value::Integer(7)
        );
        let group = entries.iter().find(|e| e.object_type == "Group").unwrap();
        assert!(group.change("hired").is_none());

        let mut add = CsEntryChange::new("Group", ObjectModification::Add)
            .with_anchor("tenant", "t3")
            .with_anchor("login", "g")
            .with_change(AttributeChange::add(
                "hired",
                [Value::from("2025-01-02T10:00:00Z")],
            ))
            .with_change(AttributeChange::add("level", [Value::Integer(5)]));
        add.identifier = "a".into();
        add.dn = "CN=g,O=t3".into();
        let mut write_note = CsEntryChange::new("User", ObjectModification::Replace)
            .with_anchor("tenant", "t1")
            .with_anchor("login", "ann")
            .with_change(AttributeChange::replace("note", [Value::from("nope")]));
        write_note.identifier = "n".into();
        let mut replace = CsEntryChange::new("User", ObjectModification::Replace)
            .with_anchor("tenant", "t2")
            .with_anchor("login", "ann")
            .with_change(AttributeChange::replace("level", [Value::Integer(8)]));
        replace.identifier = "r".into();
        let results = export(
            &plugin,
            inst.as_mut(),
            &config,
            vec![add, write_note, replace],
        )
        .unwrap();
        assert_eq!(
            results[0].code,
            ExportErrorCode::Success,
            "{:?}",
            results[0]
        );
        assert_eq!(
            results[1].code,
            ExportErrorCode::SyntaxViolation,
            "import-only attribute"
        );
        assert_eq!(
            results[2].code,
            ExportErrorCode::Success,
            "{:?}",
            results[2]
        );
        assert_eq!(
            t.rows(&format!(
                "SELECT kind, dn, hired, level FROM {table} WHERE tenant = 't3' AND login = 'g'"
            ))[0],
            vec![
                Some("Group".to_owned()),
                Some("CN=g,O=t3".to_owned()),
                Some("2025-01-02 12:00:00".to_owned()),
                Some("5".to_owned())
            ]
        );
        // ObjectReplace cleared what the entry did not carry (hired), kept the import-only note
        // and the DN and type columns.
        assert_eq!(
            t.rows(&format!("SELECT kind, dn, hired, level, note FROM {table} WHERE tenant = 't2' AND login = 'ann'"))[0],
            vec![
                Some("User".to_owned()),
                Some("CN=ann,O=t2".to_owned()),
                None,
                Some("8".to_owned()),
                Some("y".to_owned())
            ]
        );
    }
}
