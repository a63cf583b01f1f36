//! The connections: one pool and connection type per database ([`Pool`], [`Conn`]), the sqlx
//! drivers for SQLite, PostgreSQL and MySQL/MariaDB and the ODBC driver (`odbc`) behind them,
//! and row streams ([`RowStream`]) that hand out rows as [`CellRef`]s.
//!
//! sqlx's `Any` driver is deliberately not used. It hands the SQL to the database untranslated,
//! so the placeholders still differ (`$1` on PostgreSQL, `?` elsewhere), and it maps a result
//! column to null, boolean, integer, float, text or blob only and refuses every other type
//! ("Any driver does not support ..."): PostgreSQL's timestamps, dates, numerics and uuids, and
//! MySQL's `TINYINT`, in which MySQL stores booleans. So each database keeps its own pool, and
//! the `bound_query!`, `typed!` and `cols!` macros below expand the same body once per
//! concrete driver, each expansion type-checked against its own database.

use std::time::Duration;

use futures_util::TryStreamExt;
use sqlx::mysql::{MySql, MySqlConnectOptions, MySqlPoolOptions, MySqlRow};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow, Postgres};
use sqlx::sqlite::{Sqlite, SqliteConnectOptions, SqlitePoolOptions, SqliteRow};
use sqlx::{AssertSqlSafe, Column, ConnectOptions, Executor, Statement, TypeInfo};

use crate::cells::{Bind, Cell, CellRef, ColumnInfo, Header, NativeKind, Rows, Written};
use crate::decode::{decode_mysql, decode_pg, decode_sqlite, header_of};
use crate::dialect::{Dialect, GeneratedKeys};
use crate::error::SqlError;

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

    /// (schema, name) of the tables and views in `schema` (every schema without one), for
    /// dialects whose catalog is read through the driver (ODBC's `SQLTables`); the others
    /// query theirs with SQL (`catalog`).
    pub fn table_names(&mut self, schema: Option<&str>) -> Result<Vec<(String, String)>, SqlError> {
        match self {
            #[cfg(feature = "odbc")]
            Conn::Odbc(c) => c.table_names(schema),
            _ => {
                let _ = schema;
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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

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
}
