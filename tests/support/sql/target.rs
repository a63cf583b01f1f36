//! A database to run the generic-sql scenarios against: its server (or SQLite file), a
//! fixture client (plain sqlx, used to create tables and to check what the connector wrote),
//! the dialect's fixture SQL, and the connector's configuration for it.

use plugin_api::host::ConnectorPlugin;
use plugin_api::model::ConfigParameters;
use plugin_api::sdk::HostServices;
use sqlx::{AssertSqlSafe, Row};
use tempfile::TempDir;

use crate::servers::skip_or_fail;
use crate::sql::connector::load;
use crate::sql::mariadb::MariaDbServer;
use crate::sql::odbc::{postgres_connection_string, psqlodbc_driver};
use crate::sql::postgres::PgServer;

/// The SQL dialect of a [`Target`] (ODBC targets have the dialect of the database behind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    MariaDb,
}

/// What holds the database: a temp dir for SQLite's file, or a server process.
pub enum Server {
    Sqlite(TempDir),
    Postgres(PgServer),
    MariaDb(MariaDbServer),
}

impl Server {
    /// A clean shutdown of the server (open transactions rolled back).
    pub fn stop(&mut self) {
        match self {
            Server::Postgres(s) => s.stop(),
            Server::MariaDb(s) => s.stop(),
            Server::Sqlite(_) => panic!("SQLite has no server to stop"),
        }
    }

    /// Starts the server again after [`Server::stop`], on the same port and data.
    pub fn start_again(&mut self) {
        match self {
            Server::Postgres(s) => s.start_again(),
            Server::MariaDb(s) => s.start_again(),
            Server::Sqlite(_) => {}
        }
    }
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

// A macro rather than a function: each backend's row is its own type, and a generic
// `try_get` over all three needs a bound per decoded type.
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
        let driver = psqlodbc_driver()?;
        let pg = PgServer::start()?;
        let connector_url = postgres_connection_string(&driver, pg.port);
        let mut t = Self::new(Kind::Postgres, pg.url(), Server::Postgres(pg));
        t.connector_url = connector_url;
        // A plugin built without the feature says so when an instance is created.
        let plugin = load();
        if let Err(e) =
            plugin.create_instance(&t.config(&[("Table", "none")]), HostServices::detached())
            && e.message.contains("no ODBC support")
        {
            skip_or_fail(
                "the generic-sql plugin was built without the `odbc` feature (cargo build --workspace --features generic-sql/odbc)",
            );
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
