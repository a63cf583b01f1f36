//! The one place that knows the three databases apart: pools, placeholders, identifier
//! quoting, value binding and row decoding. Everything above this module works with
//! dialect-neutral [`Cell`]s (what came out of the database) and [`Bind`]s (what goes in).
//!
//! sqlx's `Any` driver is deliberately not used: it neither translates placeholders nor decodes
//! booleans, timestamps or numerics (see the project's sqlx research notes). Each dialect has its
//! own pool, and the `with_conn!` macro expands the same body once per concrete driver so every
//! expansion is type-checked against its own database.

use std::borrow::Cow;
use std::time::Duration;

use futures_util::TryStreamExt;
use sqlx::mysql::{MySql, MySqlConnectOptions, MySqlPoolOptions, MySqlRow};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow, Postgres};
use sqlx::sqlite::{Sqlite, SqliteConnectOptions, SqlitePoolOptions, SqliteRow};
use sqlx::{AssertSqlSafe, Column, ConnectOptions, Executor, Row, Statement, TypeInfo, ValueRef};
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use crate::error::SqlError;

/// The database family behind a connection string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
    MySql,
    /// Any database with an ODBC driver (cargo feature `odbc`): connection strings
    /// `odbc:Driver=...;Server=...` (everything after `odbc:` goes to the driver manager).
    Odbc,
}

impl Dialect {
    /// Recognises the dialect from the URL scheme of a connection string.
    pub fn from_connection_string(s: &str) -> Option<Self> {
        let scheme = s.split(':').next()?.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Dialect::Sqlite),
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::MySql),
            "odbc" => Some(Dialect::Odbc),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
            Dialect::MySql => "MySQL/MariaDB",
            Dialect::Odbc => "ODBC",
        }
    }

    /// Quotes one identifier part. Embedded quote characters are doubled, which is the only
    /// escape each dialect needs inside a quoted identifier.
    pub fn quote_part(self, part: &str) -> String {
        match self {
            Dialect::MySql => format!("`{}`", part.replace('`', "``")),
            // ANSI SQL quoting, which SQL Server (QUOTED_IDENTIFIER is on for ODBC), Oracle
            // and DB2 all accept.
            Dialect::Sqlite | Dialect::Postgres | Dialect::Odbc => {
                format!("\"{}\"", part.replace('"', "\"\""))
            }
        }
    }

    /// Quotes a possibly schema-qualified table name (`schema.table`).
    pub fn quote_table(self, name: &str) -> String {
        name.split('.')
            .map(|p| self.quote_part(p.trim()))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The query returning the database's own clock, in the format its last-modified columns
    /// compare against (the watermark). Second precision for SQLite and MySQL because their
    /// `CURRENT_TIMESTAMP` column defaults have second precision, and a finer watermark would
    /// compare greater than a row stamped in the same second.
    pub fn default_watermark_query(self) -> &'static str {
        match self {
            Dialect::Sqlite | Dialect::Odbc => "SELECT CURRENT_TIMESTAMP",
            Dialect::Postgres => "SELECT CAST(now() AS text)",
            Dialect::MySql => "SELECT CAST(CURRENT_TIMESTAMP AS CHAR)",
        }
    }

    pub fn begin_statement(self) -> &'static str {
        match self {
            // IMMEDIATE takes the write lock up front, so two writers never deadlock on a
            // read-to-write lock upgrade.
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
            Dialect::MySql => "START TRANSACTION",
            // Not sent: the ODBC connection turns autocommit off instead.
            Dialect::Odbc => "BEGIN",
        }
    }

    /// `FOR UPDATE` where the dialect has row locks (SQLite locks the whole database anyway).
    pub fn lock_clause(self) -> &'static str {
        match self {
            // SQL Server has no FOR UPDATE; ODBC targets rely on the transaction alone.
            Dialect::Sqlite | Dialect::Odbc => "",
            Dialect::Postgres | Dialect::MySql => " FOR UPDATE",
        }
    }

    /// How generated anchors are read back, for the native drivers; ODBC asks the driver
    /// which database it talks to ([`GeneratedKeys::for_dbms`]).
    pub fn generated_keys(self) -> GeneratedKeys {
        match self {
            Dialect::Sqlite | Dialect::Postgres | Dialect::Odbc => GeneratedKeys::Returning,
            Dialect::MySql => GeneratedKeys::LastInsertId,
        }
    }

    /// How a row-returning procedure is called.
    pub fn procedure_call(self, name: &str, args: &str) -> String {
        let name = self.quote_table(name);
        match self {
            // A PostgreSQL function returning a set is read with SELECT.
            Dialect::Postgres => format!("SELECT * FROM {name}({args})"),
            // The ODBC call escape: the driver turns it into its database's call syntax (a
            // set-returning function for psqlODBC).
            Dialect::Odbc => format!("{{CALL {name}({args})}}"),
            Dialect::Sqlite | Dialect::MySql => format!("CALL {name}({args})"),
        }
    }

    /// Limits a query ordered by its anchor to `n` rows.
    pub fn limit_clause(self, n: usize) -> String {
        match self {
            // SQL:2008, accepted by SQL Server 2012+, Oracle 12c+, DB2 and PostgreSQL.
            Dialect::Odbc => format!(" OFFSET 0 ROWS FETCH NEXT {n} ROWS ONLY"),
            _ => format!(" LIMIT {n}"),
        }
    }

    /// Classifies a column's SQL type name (as sqlx reports it) into how it is read and bound.
    pub fn native_kind(self, type_name: &str) -> NativeKind {
        let t = type_name.to_ascii_uppercase();
        let t = t.as_str();
        match self {
            Dialect::Sqlite => {
                // SQLite's declared types follow its affinity rules.
                if t.contains("INT") {
                    NativeKind::Int
                } else if t.contains("BOOL") {
                    NativeKind::Bool
                } else if t.contains("DATETIME") || t.contains("TIMESTAMP") {
                    NativeKind::Timestamp
                } else if t == "DATE" {
                    NativeKind::Date
                } else if t.contains("BLOB") {
                    NativeKind::Bytes
                } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
                    NativeKind::Float
                } else {
                    NativeKind::Text
                }
            }
            Dialect::Postgres => match t {
                "INT2" | "INT4" | "INT8" | "OID" => NativeKind::Int,
                "BOOL" => NativeKind::Bool,
                "BYTEA" => NativeKind::Bytes,
                "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "CITEXT" => NativeKind::Text,
                "FLOAT4" | "FLOAT8" => NativeKind::Float,
                "TIMESTAMPTZ" => NativeKind::TimestampTz,
                "TIMESTAMP" => NativeKind::Timestamp,
                "DATE" => NativeKind::Date,
                _ => NativeKind::Other,
            },
            Dialect::MySql => {
                let base = t.trim_end_matches(" UNSIGNED");
                match base {
                    "BOOLEAN" => NativeKind::Bool,
                    "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => {
                        if t.ends_with("UNSIGNED") {
                            NativeKind::UInt
                        } else {
                            NativeKind::Int
                        }
                    }
                    "FLOAT" | "DOUBLE" => NativeKind::Float,
                    "CHAR" | "VARCHAR" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT"
                    | "ENUM" | "SET" => NativeKind::Text,
                    "BINARY" | "VARBINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" => {
                        NativeKind::Bytes
                    }
                    "DATETIME" => NativeKind::Timestamp,
                    "TIMESTAMP" => NativeKind::TimestampTz,
                    "DATE" => NativeKind::Date,
                    _ => NativeKind::Other,
                }
            }
            // The ODBC SQL type names of `odbc::type_name`.
            Dialect::Odbc => match t {
                "INTEGER" | "SMALLINT" | "BIGINT" | "TINYINT" => NativeKind::Int,
                "BIT" => NativeKind::Bool,
                "REAL" | "FLOAT" | "DOUBLE" => NativeKind::Float,
                "CHAR" | "VARCHAR" | "LONGVARCHAR" => NativeKind::Text,
                "BINARY" | "VARBINARY" | "LONGVARBINARY" => NativeKind::Bytes,
                "TIMESTAMP" => NativeKind::Timestamp,
                "DATE" => NativeKind::Date,
                _ => NativeKind::Other,
            },
        }
    }

    /// How a generated SELECT reads a column: types without a native decoder are cast to text
    /// by the database, which always knows how to print its own types.
    pub fn select_expr(self, column: &str, kind: NativeKind) -> String {
        let q = self.quote_part(column);
        match (self, kind) {
            (Dialect::Postgres, NativeKind::Other) => format!("CAST({q} AS text) AS {q}"),
            (Dialect::MySql, NativeKind::Other) => format!("CAST({q} AS CHAR) AS {q}"),
            _ => q,
        }
    }
}

/// How a column is read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeKind {
    Int,
    UInt,
    Bool,
    Float,
    Text,
    Bytes,
    /// A date-time without a zone (interpreted in the configured database time zone).
    Timestamp,
    /// A date-time with a zone (PostgreSQL `timestamptz`, MySQL `TIMESTAMP`).
    TimestampTz,
    Date,
    /// Anything else (numeric, uuid, json, enums): read as text, written as text with a cast.
    Other,
}

impl NativeKind {
    pub fn is_temporal(self) -> bool {
        matches!(
            self,
            NativeKind::Timestamp | NativeKind::TimestampTz | NativeKind::Date
        )
    }
}

/// A value read from the database.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
    TimestampTz(OffsetDateTime),
    Timestamp(PrimitiveDateTime),
    Date(Date),
}

/// A [`Cell`] borrowed from the driver's row buffer: what the import reads without copying.
#[derive(Debug, Clone, PartialEq)]
pub enum CellRef<'a> {
    Null,
    Int(i64),
    Float(f64),
    /// Borrowed, or repaired (MySQL text that was not valid UTF-8).
    Text(std::borrow::Cow<'a, str>),
    Bytes(&'a [u8]),
    Bool(bool),
    TimestampTz(OffsetDateTime),
    Timestamp(PrimitiveDateTime),
    Date(Date),
}

impl Cell {
    pub fn as_ref(&self) -> CellRef<'_> {
        match self {
            Cell::Null => CellRef::Null,
            Cell::Int(i) => CellRef::Int(*i),
            Cell::Float(f) => CellRef::Float(*f),
            Cell::Text(s) => CellRef::Text(std::borrow::Cow::Borrowed(s)),
            Cell::Bytes(b) => CellRef::Bytes(b),
            Cell::Bool(b) => CellRef::Bool(*b),
            Cell::TimestampTz(t) => CellRef::TimestampTz(*t),
            Cell::Timestamp(t) => CellRef::Timestamp(*t),
            Cell::Date(d) => CellRef::Date(*d),
        }
    }
}

impl From<CellRef<'_>> for Cell {
    fn from(c: CellRef<'_>) -> Self {
        match c {
            CellRef::Null => Cell::Null,
            CellRef::Int(i) => Cell::Int(i),
            CellRef::Float(f) => Cell::Float(f),
            CellRef::Text(s) => Cell::Text(s.into_owned()),
            CellRef::Bytes(b) => Cell::Bytes(b.to_vec()),
            CellRef::Bool(b) => Cell::Bool(b),
            CellRef::TimestampTz(t) => Cell::TimestampTz(t),
            CellRef::Timestamp(t) => Cell::Timestamp(t),
            CellRef::Date(d) => Cell::Date(d),
        }
    }
}

/// A value to bind as a statement parameter. Every value the connector writes goes through
/// this: nothing from an entry is ever spliced into SQL text.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Int(i64),
    Text(String),
    Bool(bool),
    Bytes(Vec<u8>),
    /// A typed NULL: PostgreSQL rejects a text-typed NULL for an integer column.
    Null(NativeKind),
}

/// Rows with their column names.
#[derive(Debug, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    /// The database's type name of each column (as [`Dialect::native_kind`] reads it).
    pub types: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Rows {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    }
}

/// Column names and database type names of a result set.
#[derive(Debug, Default, Clone)]
pub struct Header {
    pub columns: Vec<String>,
    pub types: Vec<String>,
}

type SqlxRows<'c, R> = futures_util::stream::BoxStream<'c, Result<R, sqlx::Error>>;

enum TypedRows<'c> {
    Sqlite(SqlxRows<'c, SqliteRow>),
    Postgres(SqlxRows<'c, PgRow>),
    MySql(SqlxRows<'c, MySqlRow>),
    /// Rows read whole (ODBC).
    #[cfg_attr(not(feature = "odbc"), allow(dead_code))]
    Buffered(std::vec::IntoIter<Vec<Cell>>),
    #[cfg_attr(not(feature = "odbc"), allow(dead_code))]
    Failed(Option<SqlError>),
}

/// The rows of a running query ([`Conn::stream`]), the connection borrowed while it lasts.
pub struct RowStream<'c> {
    rows: TypedRows<'c>,
    header: Header,
    /// How each column is decoded; decided from the first row.
    kinds: Vec<(NativeKind, String)>,
    /// The cell buffer of [`RowStream::next_row`], kept empty between rows so its allocation
    /// is reused (see [`recycle`]).
    cells: Vec<CellRef<'static>>,
}

/// An empty vector's allocation, reused for elements of another lifetime. The in-place
/// `collect` specialisation of the standard library keeps the buffer when the layouts match
/// (they do: only the lifetime differs), so this allocates nothing.
fn recycle<'a, 'b>(mut cells: Vec<CellRef<'a>>) -> Vec<CellRef<'b>> {
    cells.clear();
    cells.into_iter().map(|_| unreachable!("empty")).collect()
}

/// The header and decoding kinds of a result set, from its first row.
fn header_of<R: Row>(row: &R) -> (Header, Vec<(NativeKind, String)>) {
    let columns = row.columns();
    let header = Header {
        columns: columns.iter().map(|c| c.name().to_owned()).collect(),
        types: columns
            .iter()
            .map(|c| c.type_info().name().to_owned())
            .collect(),
    };
    let kinds = header
        .types
        .iter()
        .map(|t| (kind_of::<R::Database>(t), t.clone()))
        .collect();
    (header, kinds)
}

impl RowStream<'_> {
    /// The next row, handed to `f` as cells borrowed from the driver's buffer (nothing is
    /// copied unless `f` copies it); `None` at the end of the result.
    pub async fn next_row<R>(
        &mut self,
        f: impl FnOnce(&Header, &[CellRef<'_>]) -> Result<R, SqlError>,
    ) -> Result<Option<R>, SqlError> {
        macro_rules! typed {
            ($rows:expr, $decode:expr) => {{
                let Some(row) = $rows.try_next().await? else {
                    return Ok(None);
                };
                if self.kinds.is_empty() {
                    (self.header, self.kinds) = header_of(&row);
                }
                let mut cells = recycle(std::mem::take(&mut self.cells));
                for (i, (kind, type_name)) in self.kinds.iter().enumerate() {
                    cells.push($decode(&row, i, (*kind, type_name.as_str()))?);
                }
                let written = f(&self.header, &cells).map(Some);
                self.cells = recycle(cells);
                written
            }};
        }
        match &mut self.rows {
            TypedRows::Sqlite(rows) => typed!(rows, |r, i, _| decode_sqlite(r, i)),
            TypedRows::Postgres(rows) => typed!(rows, decode_pg),
            TypedRows::MySql(rows) => typed!(rows, decode_mysql),
            TypedRows::Buffered(rows) => match rows.next() {
                None => Ok(None),
                Some(cells) => {
                    let cells: Vec<CellRef<'_>> = cells.iter().map(Cell::as_ref).collect();
                    f(&self.header, &cells).map(Some)
                }
            },
            TypedRows::Failed(e) => Err(e
                .take()
                .unwrap_or_else(|| SqlError::Value("the query failed".into()))),
        }
    }

    /// Up to `n` more rows, copied; fewer only at the end of the result.
    pub async fn next_chunk(&mut self, n: usize) -> Result<Rows, SqlError> {
        let mut rows = Vec::with_capacity(n.min(1024));
        while rows.len() < n {
            let row = self
                .next_row(|_, cells| Ok(cells.iter().cloned().map(Cell::from).collect()))
                .await?;
            match row {
                Some(row) => rows.push(row),
                None => break,
            }
        }
        Ok(Rows {
            columns: self.header.columns.clone(),
            types: self.header.types.clone(),
            rows,
        })
    }
}

/// A column of a prepared statement's result.
#[derive(Debug, Clone)]
pub struct ColumnInfo {
    pub name: String,
    pub type_name: String,
}

/// The result of a write.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    pub rows_affected: u64,
    pub last_insert_id: Option<u64>,
}

/// One pool per dialect.
#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
    #[cfg(feature = "odbc")]
    Odbc(std::sync::Arc<crate::odbc::OdbcPool>),
}

/// A connection taken from the pool.
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
    MySql(PoolConnection<MySql>),
    #[cfg(feature = "odbc")]
    Odbc(crate::odbc::OdbcConn),
}

/// Builds a query from dynamic SQL and binds every parameter.
///
/// The SQL text only ever contains validated, quoted identifiers and placeholders, which is
/// why it is safe to assert it as such.
macro_rules! bound_query {
    ($sql:expr, $binds:expr) => {{
        let mut q = sqlx::query(AssertSqlSafe($sql.to_owned()));
        for b in $binds.iter() {
            q = match b {
                Bind::Int(i) => q.bind(*i),
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Bool(v) => q.bind(*v),
                Bind::Bytes(v) => q.bind(v.clone()),
                Bind::Null(NativeKind::Int | NativeKind::UInt) => q.bind(None::<i64>),
                Bind::Null(NativeKind::Bool) => q.bind(None::<bool>),
                Bind::Null(NativeKind::Bytes) => q.bind(None::<Vec<u8>>),
                Bind::Null(_) => q.bind(None::<String>),
            };
        }
        q
    }};
}

impl Pool {
    /// Creates the pool without connecting: connections are opened on first use and
    /// re-opened after failures, which is what lets an instance survive a database restart.
    pub fn connect_lazy(
        dialect: Dialect,
        url: &str,
        user: &str,
        password: &str,
        timeout: Duration,
    ) -> Result<Self, SqlError> {
        let bad = |e: sqlx::Error| SqlError::Config(format!("invalid connection string: {e}"));
        Ok(match dialect {
            Dialect::Sqlite => {
                let opts: SqliteConnectOptions = url.parse().map_err(bad)?;
                let opts = opts.busy_timeout(timeout).disable_statement_logging();
                // An in-memory database exists once per connection, so it gets exactly one.
                let max = if url.contains(":memory:") || url.contains("mode=memory") {
                    1
                } else {
                    4
                };
                Pool::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(max)
                        .min_connections(0)
                        .acquire_timeout(timeout)
                        .connect_lazy_with(opts),
                )
            }
            Dialect::Postgres => {
                let mut opts: PgConnectOptions = url.parse().map_err(bad)?;
                if !user.is_empty() {
                    opts = opts.username(user);
                }
                if !password.is_empty() {
                    opts = opts.password(password);
                }
                Pool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(4)
                        .min_connections(0)
                        .acquire_timeout(timeout)
                        .connect_lazy_with(opts.disable_statement_logging()),
                )
            }
            Dialect::MySql => {
                let mut opts: MySqlConnectOptions = url.parse().map_err(bad)?;
                if !user.is_empty() {
                    opts = opts.username(user);
                }
                if !password.is_empty() {
                    opts = opts.password(password);
                }
                Pool::MySql(
                    MySqlPoolOptions::new()
                        .max_connections(4)
                        .min_connections(0)
                        .acquire_timeout(timeout)
                        .connect_lazy_with(opts.disable_statement_logging()),
                )
            }
            #[cfg(feature = "odbc")]
            Dialect::Odbc => {
                let odbc = url
                    .split_once(':')
                    .map(|(_, rest)| rest)
                    .unwrap_or_default();
                if odbc.trim().is_empty() {
                    return Err(SqlError::Config(
                        "invalid connection string: 'odbc:' must be followed by an ODBC connection string (Driver=...;Server=...)".into(),
                    ));
                }
                Pool::Odbc(std::sync::Arc::new(crate::odbc::OdbcPool::new(
                    odbc, user, password, timeout,
                )))
            }
            #[cfg(not(feature = "odbc"))]
            Dialect::Odbc => {
                return Err(SqlError::Config(
                    "this build of generic-sql has no ODBC support (cargo feature `odbc`)".into(),
                ));
            }
        })
    }

    pub async fn acquire(&self) -> Result<Conn, SqlError> {
        Ok(match self {
            Pool::Sqlite(p) => Conn::Sqlite(p.acquire().await?),
            Pool::Postgres(p) => Conn::Postgres(p.acquire().await?),
            Pool::MySql(p) => Conn::MySql(p.acquire().await?),
            #[cfg(feature = "odbc")]
            Pool::Odbc(p) => Conn::Odbc(p.acquire()?),
        })
    }

    pub async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
            Pool::MySql(p) => p.close().await,
            #[cfg(feature = "odbc")]
            Pool::Odbc(p) => p.close(),
        }
    }
}

impl Conn {
    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
            Conn::MySql(_) => Dialect::MySql,
            #[cfg(feature = "odbc")]
            Conn::Odbc(_) => Dialect::Odbc,
        }
    }

    /// Runs a query and decodes every row into cells as it arrives, so decoding overlaps with
    /// the database still sending (or, for SQLite, its worker thread still stepping).
    pub async fn fetch(&mut self, sql: &str, binds: &[Bind]) -> Result<Rows, SqlError> {
        self.stream(sql, binds).next_chunk(usize::MAX).await
    }

    /// Runs a query whose rows are read one at a time ([`RowStream::next_row`]) or in chunks
    /// ([`RowStream::next_chunk`]): one statement however many rows, memory bounded by what
    /// the caller keeps. ODBC results are read whole (the import pages ODBC by keyset).
    pub fn stream<'c>(&'c mut self, sql: &'c str, binds: &'c [Bind]) -> RowStream<'c> {
        let rows = match self {
            Conn::Sqlite(c) => TypedRows::Sqlite(bound_query!(sql, binds).fetch(&mut **c)),
            Conn::Postgres(c) => TypedRows::Postgres(bound_query!(sql, binds).fetch(&mut **c)),
            Conn::MySql(c) => TypedRows::MySql(bound_query!(sql, binds).fetch(&mut **c)),
            #[cfg(feature = "odbc")]
            Conn::Odbc(c) => match c.fetch(sql, binds) {
                Ok(rows) => {
                    return RowStream {
                        rows: TypedRows::Buffered(rows.rows.into_iter()),
                        header: Header {
                            columns: rows.columns,
                            types: rows.types,
                        },
                        kinds: Vec::new(),
                        cells: Vec::new(),
                    };
                }
                Err(e) => TypedRows::Failed(Some(e)),
            },
        };
        RowStream {
            rows,
            header: Header::default(),
            kinds: Vec::new(),
            cells: Vec::new(),
        }
    }

    /// Runs a statement that returns no rows.
    pub async fn execute(&mut self, sql: &str, binds: &[Bind]) -> Result<Written, SqlError> {
        Ok(match self {
            Conn::Sqlite(c) => {
                let r = bound_query!(sql, binds).execute(&mut **c).await?;
                Written {
                    rows_affected: r.rows_affected(),
                    last_insert_id: u64::try_from(r.last_insert_rowid())
                        .ok()
                        .filter(|id| *id != 0),
                }
            }
            Conn::Postgres(c) => {
                let r = bound_query!(sql, binds).execute(&mut **c).await?;
                Written {
                    rows_affected: r.rows_affected(),
                    last_insert_id: None,
                }
            }
            Conn::MySql(c) => {
                let r = bound_query!(sql, binds).execute(&mut **c).await?;
                Written {
                    rows_affected: r.rows_affected(),
                    last_insert_id: Some(r.last_insert_id()).filter(|id| *id != 0),
                }
            }
            #[cfg(feature = "odbc")]
            Conn::Odbc(c) => c.execute(sql, binds)?,
        })
    }

    /// Runs SQL without parameters through the simple protocol (transaction control).
    pub async fn raw(&mut self, sql: &'static str) -> Result<(), SqlError> {
        match self {
            Conn::Sqlite(c) => c.execute(sql).await.map(drop)?,
            Conn::Postgres(c) => c.execute(sql).await.map(drop)?,
            Conn::MySql(c) => c.execute(sql).await.map(drop)?,
            #[cfg(feature = "odbc")]
            Conn::Odbc(c) => c.raw(sql)?,
        }
        Ok(())
    }

    /// The result columns of a statement, without running it.
    pub async fn describe(&mut self, sql: &str) -> Result<Vec<ColumnInfo>, SqlError> {
        macro_rules! cols {
            ($c:expr) => {{
                let stmt = $c
                    .prepare(sqlx::SqlSafeStr::into_sql_str(AssertSqlSafe(
                        sql.to_owned(),
                    )))
                    .await?;
                stmt.columns()
                    .iter()
                    .map(|c| ColumnInfo {
                        name: c.name().to_owned(),
                        type_name: c.type_info().name().to_owned(),
                    })
                    .collect()
            }};
        }
        Ok(match self {
            Conn::Sqlite(c) => cols!(c),
            Conn::Postgres(c) => cols!(c),
            Conn::MySql(c) => cols!(c),
            #[cfg(feature = "odbc")]
            Conn::Odbc(c) => c.describe(sql)?,
        })
    }

    /// How this connection's database returns generated anchors.
    pub fn generated_keys(&mut self) -> Result<GeneratedKeys, SqlError> {
        match self {
            #[cfg(feature = "odbc")]
            Conn::Odbc(c) => Ok(GeneratedKeys::for_dbms(&c.dbms_name()?)),
            other => Ok(other.dialect().generated_keys()),
        }
    }

    /// Identity/serial columns of a table, for dialects without a catalog query of their own
    /// (ODBC reads them from `SQLColumns`).
    pub fn generated_columns(
        &mut self,
        schema: Option<&str>,
        table: &str,
    ) -> Result<Vec<String>, SqlError> {
        match self {
            #[cfg(feature = "odbc")]
            Conn::Odbc(c) => c.generated_columns(schema, table),
            _ => {
                let _ = (schema, table);
                Ok(Vec::new())
            }
        }
    }

    /// Makes sure a connection that failed mid-transaction is not handed out again.
    pub fn discard(self) {
        match self {
            Conn::Sqlite(c) => drop(c.detach()),
            Conn::Postgres(c) => drop(c.detach()),
            Conn::MySql(c) => drop(c.detach()),
            #[cfg(feature = "odbc")]
            Conn::Odbc(c) => c.discard(),
        }
    }
}

fn kind_of<DB: sqlx::Database>(type_name: &str) -> NativeKind {
    let dialect = match DB::NAME {
        "PostgreSQL" => Dialect::Postgres,
        "MySQL" => Dialect::MySql,
        _ => Dialect::Sqlite,
    };
    dialect.native_kind(type_name)
}

fn decode_sqlite(row: &SqliteRow, i: usize) -> Result<CellRef<'_>, SqlError> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(CellRef::Null);
    }
    // SQLite is dynamically typed: decode by the storage class of this value, not the
    // column's declared type.
    let class = raw.type_info();
    Ok(match class.name() {
        "INTEGER" | "BOOLEAN" => CellRef::Int(row.try_get_unchecked::<i64, _>(i)?),
        "REAL" => CellRef::Float(row.try_get_unchecked::<f64, _>(i)?),
        "BLOB" => CellRef::Bytes(row.try_get_unchecked::<&[u8], _>(i)?),
        _ => CellRef::Text(Cow::Borrowed(row.try_get_unchecked::<&str, _>(i)?)),
    })
}

/// Decodes a value the caller has already looked up (and found not NULL), without sqlx's
/// per-value type compatibility check: the caller picks `T` from the column's own type name.
/// A wrong pick still fails to decode (sqlx's decoders check lengths and formats) rather than
/// misreading.
fn decode_raw<'r, DB: sqlx::Database, T: sqlx::Decode<'r, DB>>(
    raw: <DB as sqlx::Database>::ValueRef<'r>,
    i: usize,
) -> Result<T, SqlError> {
    T::decode(raw).map_err(|source| column_decode(i, source))
}

/// sqlx's error for a value of column `i` that did not decode.
fn column_decode(i: usize, source: sqlx::error::BoxDynError) -> SqlError {
    SqlError::from(sqlx::Error::ColumnDecode {
        index: format!("{i:?}"),
        source,
    })
}

/// Text from a driver's bytes. Names and most values are short ASCII strings, for which this
/// inlined check is cheaper than a call to `from_utf8`; anything else is checked in full.
#[inline]
fn utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes)
}

fn decode_pg<'r>(
    row: &'r PgRow,
    i: usize,
    (kind, type_name): (NativeKind, &str),
) -> Result<CellRef<'r>, SqlError> {
    // One lookup per value: sqlx's `try_get*` look the value up (and clone its type) again.
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(CellRef::Null);
    }
    // Unchecked: the Rust type is chosen from the column's own type name (`kind`), which is
    // what sqlx's per-value compatibility check would compare again (a tenth of the import's
    // time).
    Ok(match kind {
        NativeKind::Int | NativeKind::UInt => match type_name {
            "INT2" => CellRef::Int(decode_raw::<Postgres, i16>(raw, i)?.into()),
            "INT4" => CellRef::Int(decode_raw::<Postgres, i32>(raw, i)?.into()),
            "OID" => CellRef::Int(decode_raw::<Postgres, sqlx::postgres::types::Oid>(raw, i)?.0.into()),
            _ => CellRef::Int(decode_raw::<Postgres, i64>(raw, i)?),
        },
        NativeKind::Bool => CellRef::Bool(decode_raw::<Postgres, _>(raw, i)?),
        NativeKind::Float => match type_name {
            "FLOAT4" => CellRef::Float(decode_raw::<Postgres, f32>(raw, i)?.into()),
            _ => CellRef::Float(decode_raw::<Postgres, f64>(raw, i)?),
        },
        NativeKind::Bytes => CellRef::Bytes(decode_raw::<Postgres, &[u8]>(raw, i)?),
        NativeKind::TimestampTz => CellRef::TimestampTz(decode_raw::<Postgres, _>(raw, i)?),
        NativeKind::Timestamp => CellRef::Timestamp(decode_raw::<Postgres, _>(raw, i)?),
        NativeKind::Date => CellRef::Date(decode_raw::<Postgres, _>(raw, i)?),
        // A text value's bytes are its text in both wire formats.
        NativeKind::Text => CellRef::Text(Cow::Borrowed(
            raw.as_bytes()
                .and_then(|b| Ok(utf8(b)?))
                .map_err(|source| column_decode(i, source))?,
        )),
        // Checked: another type's binary form must never be read as text.
        NativeKind::Other => CellRef::Text(Cow::Borrowed(row.try_get::<&str, _>(i).map_err(
            |_| {
                SqlError::Config(format!(
                    "column '{}' has PostgreSQL type {type_name}, which the connector reads only as \
                     text: CAST it to text in the query",
                    row.column(i).name()
                ))
            },
        )?)),
    })
}

fn decode_mysql<'r>(
    row: &'r MySqlRow,
    i: usize,
    (kind, _): (NativeKind, &str),
) -> Result<CellRef<'r>, SqlError> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(CellRef::Null);
    }
    // Unchecked where the kind comes from the column's type name, as for PostgreSQL; sqlx's
    // MySQL integer decoders read any width, its float decoder FLOAT and DOUBLE.
    Ok(match kind {
        NativeKind::Int => CellRef::Int(decode_raw::<MySql, _>(raw, i)?),
        NativeKind::UInt => {
            let v: u64 = decode_raw::<MySql, _>(raw, i)?;
            CellRef::Int(i64::try_from(v).map_err(|_| {
                SqlError::Value(format!("value {v} does not fit a 64-bit signed integer"))
            })?)
        }
        NativeKind::Bool => CellRef::Bool(decode_raw::<MySql, _>(raw, i)?),
        NativeKind::Float => CellRef::Float(decode_raw::<MySql, _>(raw, i)?),
        NativeKind::Bytes => {
            // MySQL flags text columns with a binary collation (utf8mb4_bin) as binary, so
            // the wire type cannot tell them from VARBINARY. Valid UTF-8 is kept as text;
            // the attribute's type decides the value, and text converts back to the same
            // bytes for binary attributes.
            let bytes: &[u8] = decode_raw::<MySql, _>(raw, i)?;
            match utf8(bytes) {
                Ok(s) => CellRef::Text(Cow::Borrowed(s)),
                Err(_) => CellRef::Bytes(bytes),
            }
        }
        // Checked: the temporal decoders accept several wire types each.
        NativeKind::TimestampTz => CellRef::TimestampTz(row.try_get(i)?),
        NativeKind::Timestamp => CellRef::Timestamp(row.try_get(i)?),
        NativeKind::Date => CellRef::Date(row.try_get(i)?),
        // Text is its bytes, checked as UTF-8 by the decoder. MySQL reports some text results
        // (e.g. of CAST or CONCAT with binary collation) as binary; they are still UTF-8 text,
        // and anything else is read as lossy text.
        NativeKind::Text => {
            let bytes: &[u8] = decode_raw::<MySql, _>(raw, i)?;
            CellRef::Text(match utf8(bytes) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(bytes),
            })
        }
        NativeKind::Other => match row.try_get::<&str, _>(i) {
            Ok(s) => CellRef::Text(Cow::Borrowed(s)),
            Err(_) => CellRef::Text(String::from_utf8_lossy(decode_raw::<MySql, &[u8]>(raw, i)?)),
        },
    })
}

/// How an INSERT reads back the anchor the database generated (identity, serial,
/// auto-increment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratedKeys {
    /// `INSERT ... RETURNING col`: PostgreSQL, SQLite, MariaDB 10.5+, Firebird.
    Returning,
    /// `INSERT INTO t (...) OUTPUT INSERTED.col VALUES (...)`: SQL Server.
    OutputInserted,
    /// The driver reports the last insert id (MySQL/MariaDB's native protocol).
    LastInsertId,
    /// Only through output parameters (Oracle's `RETURNING ... INTO`, DB2's `SELECT FROM
    /// FINAL TABLE` aside): the anchor must be provided, or the add done by a procedure that
    /// returns it as a result row.
    Unsupported,
}

impl GeneratedKeys {
    /// For an ODBC connection, from the driver's `SQL_DBMS_NAME`.
    pub fn for_dbms(dbms_name: &str) -> Self {
        let name = dbms_name.to_ascii_lowercase();
        if name.contains("sql server") {
            GeneratedKeys::OutputInserted
        } else if name.contains("oracle") || name.starts_with("db2") {
            GeneratedKeys::Unsupported
        } else {
            GeneratedKeys::Returning
        }
    }
}

/// A SQL statement under construction: text with placeholders, and the values they bind.
pub struct SqlBuilder {
    pub dialect: Dialect,
    pub text: String,
    pub binds: Vec<Bind>,
}

impl SqlBuilder {
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            text: String::new(),
            binds: Vec::new(),
        }
    }
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }
    pub fn ident(&mut self, name: &str) -> &mut Self {
        let q = self.dialect.quote_part(name);
        self.text.push_str(&q);
        self
    }
    /// Appends a placeholder binding `value`. `sql_type` is the column's type: PostgreSQL gets
    /// an explicit cast for types that have no native binding (timestamps, uuid, numeric), so
    /// that text parameters are converted by the server instead of being rejected.
    pub fn param(&mut self, value: Bind, kind: NativeKind, sql_type: &str) -> &mut Self {
        self.binds.push(value);
        match self.dialect {
            Dialect::Sqlite | Dialect::MySql | Dialect::Odbc => self.text.push('?'),
            Dialect::Postgres => {
                let n = self.binds.len();
                let needs_cast = matches!(kind, NativeKind::Other)
                    || (kind.is_temporal()
                        && matches!(self.binds.last(), Some(Bind::Text(_) | Bind::Null(_))));
                if needs_cast && is_plain_type_name(sql_type) {
                    self.text.push_str(&format!("CAST(${n} AS {sql_type})"));
                } else {
                    self.text.push_str(&format!("${n}"));
                }
            }
        }
        self
    }
}

/// PostgreSQL type names as sqlx reports them are plain identifiers (`TIMESTAMPTZ`, `UUID`,
/// `NUMERIC`); anything else is never put into SQL text.
fn is_plain_type_name(t: &str) -> bool {
    !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Translates `@name` parameters in a user-supplied statement into the dialect's placeholders.
/// Returns the translated SQL and the parameter names in placeholder order (a name used twice
/// binds twice). Quoted strings, quoted identifiers, comments and `@@system` variables are left
/// alone.
pub fn translate_named(dialect: Dialect, sql: &str) -> (String, Vec<String>) {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut names = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' | '`' => {
                // Copy a quoted run verbatim; a doubled quote is an escaped quote.
                out.push(c);
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    if chars[i] == c {
                        if i + 1 < chars.len() && chars[i + 1] == c {
                            out.push(c);
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(chars[i]);
                    i += 1;
                }
            }
            '@' if chars.get(i + 1) == Some(&'@') => {
                out.push_str("@@");
                i += 2;
            }
            '@' if chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_') =>
            {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_')
                {
                    end += 1;
                }
                names.push(chars[start..end].iter().collect());
                match dialect {
                    Dialect::Postgres => out.push_str(&format!("${}", names.len())),
                    Dialect::Sqlite | Dialect::MySql | Dialect::Odbc => out.push('?'),
                }
                i = end;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    (out, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recycled_cell_buffer_keeps_its_allocation() {
        let mut cells: Vec<CellRef<'static>> = Vec::with_capacity(16);
        cells.push(CellRef::Text(Cow::Borrowed("x")));
        let at = cells.as_ptr() as usize;
        let text = String::from("y");
        let mut reused: Vec<CellRef<'_>> = recycle(cells);
        assert!(reused.is_empty());
        assert_eq!((reused.capacity(), reused.as_ptr() as usize), (16, at));
        reused.push(CellRef::Text(Cow::Borrowed(&text)));
        assert_eq!(recycle(reused).capacity(), 16);
    }

    #[test]
    fn quoting_doubles_embedded_quotes() {
        assert_eq!(Dialect::Postgres.quote_part("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::MySql.quote_part("a`b"), "`a``b`");
        assert_eq!(Dialect::Sqlite.quote_table("main.t x"), "\"main\".\"t x\"");
    }

    #[test]
    fn named_parameters_are_translated_outside_literals() {
        let (sql, names) = translate_named(
            Dialect::Postgres,
            "INSERT INTO t (a, b) VALUES (@id, '@notme') -- @nor_me\n RETURNING @@x, @Name",
        );
        assert_eq!(
            sql,
            "INSERT INTO t (a, b) VALUES ($1, '@notme') -- @nor_me\n RETURNING @@x, $2"
        );
        assert_eq!(names, vec!["id".to_owned(), "Name".to_owned()]);
        let (sql, names) = translate_named(Dialect::MySql, "CALL p(@a, @a)");
        assert_eq!(sql, "CALL p(?, ?)");
        assert_eq!(names.len(), 2);
    }

    #[test]
    fn dialect_from_url() {
        assert_eq!(
            Dialect::from_connection_string("sqlite:///tmp/x.db"),
            Some(Dialect::Sqlite)
        );
        assert_eq!(
            Dialect::from_connection_string("postgresql://h/db"),
            Some(Dialect::Postgres)
        );
        assert_eq!(
            Dialect::from_connection_string("mariadb://h/db"),
            None.or(Some(Dialect::MySql))
        );
        assert_eq!(
            Dialect::from_connection_string("odbc:Driver=x;Server=y"),
            Some(Dialect::Odbc)
        );
        assert_eq!(Dialect::from_connection_string("oracle://x"), None);
    }
}
