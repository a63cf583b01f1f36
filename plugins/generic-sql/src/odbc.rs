//! The ODBC driver (cargo feature `odbc`): SQL Server, Oracle, DB2 and anything else with an
//! ODBC driver, through unixODBC and odbc-api.
//!
//! ODBC calls block; the connector's calls already run on a host worker thread, so they are
//! made in place. Everything is read as text (`SQLGetData` in a loop, so no value is ever
//! truncated) and parsed by the column's ODBC type; parameters are bound as text or binary,
//! which every driver converts to the column's type.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use odbc_api::parameter::InputParameter;
use odbc_api::{
    Connection, ConnectionOptions, Cursor, DataType, IntoParameter, ResultSetMetadata, environment,
};
use time::macros::format_description;
use time::{Date, PrimitiveDateTime};

use crate::cells::{Bind, Cell, ColumnInfo, NativeKind, Rows, Written};
use crate::dialect::Dialect;
use crate::error::SqlError;

/// Idle connections, opened on demand and re-opened after failures (a database restart).
pub struct OdbcPool {
    connection_string: String,
    timeout: Duration,
    idle: Mutex<Vec<Connection<'static>>>,
}

impl std::fmt::Debug for OdbcPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection string may hold a password.
        f.debug_struct("OdbcPool").finish_non_exhaustive()
    }
}

impl OdbcPool {
    /// `connection_string` is the part after `odbc:`; user and password, when given, are
    /// appended as `UID`/`PWD` (values with `;` or `}` are brace-quoted, `}` doubled).
    pub fn new(connection_string: &str, user: &str, password: &str, timeout: Duration) -> Self {
        let mut s = connection_string.trim().trim_end_matches(';').to_owned();
        let quote = |v: &str| {
            if v.contains([';', '{', '}']) || v.starts_with(' ') || v.ends_with(' ') {
                format!("{{{}}}", v.replace('}', "}}"))
            } else {
                v.to_owned()
            }
        };
        if !user.is_empty() {
            s.push_str(&format!(";UID={}", quote(user)));
        }
        if !password.is_empty() {
            s.push_str(&format!(";PWD={}", quote(password)));
        }
        Self {
            connection_string: s,
            timeout,
            idle: Mutex::new(Vec::new()),
        }
    }

    pub fn acquire(self: &Arc<Self>) -> Result<OdbcConn, SqlError> {
        let reused = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match reused {
            Some(c) => c,
            None => environment()
                .map_err(odbc_err)?
                .connect_with_connection_string(
                    &self.connection_string,
                    ConnectionOptions {
                        login_timeout_sec: Some(self.timeout.as_secs().clamp(1, 600) as u32),
                        ..ConnectionOptions::default()
                    },
                )
                .map_err(odbc_err)?,
        };
        Ok(OdbcConn {
            conn: Some(conn),
            pool: self.clone(),
            in_transaction: false,
        })
    }

    pub fn close(&self) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// A connection taken from the pool; back to the pool when dropped, unless it broke or a
/// transaction is still open on it.
pub struct OdbcConn {
    conn: Option<Connection<'static>>,
    pool: Arc<OdbcPool>,
    in_transaction: bool,
}

impl Drop for OdbcConn {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take()
            && !self.in_transaction
            && c.is_dead().is_ok_and(|dead| !dead)
        {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(c);
        }
    }
}

/// An odbc-api error as the connector's error, with the SQLSTATE kept for the mapping to
/// export codes.
pub fn odbc_err(e: odbc_api::Error) -> SqlError {
    match &e {
        odbc_api::Error::Diagnostics { record, .. } => SqlError::Odbc {
            state: record.state.as_str().to_owned(),
            message: e.to_string(),
            connection_lost: false,
        },
        _ => SqlError::Odbc {
            state: String::new(),
            message: e.to_string(),
            connection_lost: false,
        },
    }
}

impl OdbcConn {
    fn conn(&self) -> &Connection<'static> {
        self.conn.as_ref().expect("connection present until drop")
    }

    /// An error from a call on this connection; a connection the driver now reports dead
    /// makes it a connection failure (retryable), whatever the SQLSTATE said.
    fn fail(&self, e: odbc_api::Error) -> SqlError {
        let mut err = odbc_err(e);
        // A driver that cannot say is trusted to report 08xxx itself.
        if self.conn().is_dead().unwrap_or(false)
            && let SqlError::Odbc {
                connection_lost, ..
            } = &mut err
        {
            *connection_lost = true;
        }
        err
    }

    fn timeout_secs(&self) -> Option<usize> {
        Some(self.pool.timeout.as_secs().max(1) as usize)
    }

    pub fn fetch(&mut self, sql: &str, binds: &[Bind]) -> Result<Rows, SqlError> {
        let params = parameters(binds);
        let cursor = self
            .conn()
            .execute(sql, &params[..], self.timeout_secs())
            .map_err(|e| self.fail(e))?;
        let Some(mut cursor) = cursor else {
            return Ok(Rows::default());
        };
        let mut out = Rows::default();
        let n = cursor.num_result_cols().map_err(|e| self.fail(e))? as u16;
        let mut kinds = Vec::with_capacity(n as usize);
        for c in 1..=n {
            out.columns
                .push(cursor.col_name(c).map_err(|e| self.fail(e))?);
            let t = cursor.col_data_type(c).map_err(|e| self.fail(e))?;
            out.types.push(type_name(t).to_owned());
            kinds.push(Dialect::Odbc.native_kind(type_name(t)));
        }
        let mut buf = Vec::new();
        while let Some(mut row) = cursor.next_row().map_err(|e| self.fail(e))? {
            let mut cells = Vec::with_capacity(n as usize);
            for (i, kind) in kinds.iter().enumerate() {
                let col = i as u16 + 1;
                let present = if *kind == NativeKind::Bytes {
                    row.get_binary(col, &mut buf)
                } else {
                    row.get_text(col, &mut buf)
                }
                .map_err(|e| self.fail(e))?;
                cells.push(if present {
                    decode(*kind, &mut buf, &out.columns[i])?
                } else {
                    Cell::Null
                });
            }
            out.rows.push(cells);
        }
        Ok(out)
    }

    pub fn execute(&mut self, sql: &str, binds: &[Bind]) -> Result<Written, SqlError> {
        let params = parameters(binds);
        let conn = self.conn();
        let mut stmt = conn.preallocate().map_err(|e| self.fail(e))?;
        if let Some(t) = self.timeout_secs() {
            stmt.set_query_timeout_sec(t).map_err(|e| self.fail(e))?;
        }
        let produced_rows = stmt
            .execute(sql, &params[..])
            .map_err(|e| self.fail(e))?
            .is_some();
        let rows_affected = if produced_rows {
            0
        } else {
            stmt.row_count().map_err(|e| self.fail(e))?.unwrap_or(0) as u64
        };
        Ok(Written {
            rows_affected,
            last_insert_id: None,
        })
    }

    /// Transaction control: ODBC has calls for it (statement text differs per database).
    pub fn raw(&mut self, sql: &'static str) -> Result<(), SqlError> {
        let conn = self.conn();
        let r = match sql {
            s if s == Dialect::Odbc.begin_statement() => {
                let r = conn.set_autocommit(false);
                self.in_transaction = r.is_ok();
                r
            }
            "COMMIT" => conn.commit().and_then(|()| conn.set_autocommit(true)),
            "ROLLBACK" => conn.rollback().and_then(|()| conn.set_autocommit(true)),
            other => conn.execute(other, (), self.timeout_secs()).map(drop),
        };
        if matches!(sql, "COMMIT" | "ROLLBACK") && r.is_ok() {
            self.in_transaction = false;
        }
        r.map_err(|e| self.fail(e))
    }

    /// The database behind the driver (`SQL_DBMS_NAME`: "PostgreSQL", "Microsoft SQL
    /// Server", "Oracle", ...).
    pub fn dbms_name(&mut self) -> Result<String, SqlError> {
        let conn = self.conn();
        conn.database_management_system_name()
            .map_err(|e| self.fail(e))
    }

    pub fn describe(&mut self, sql: &str) -> Result<Vec<ColumnInfo>, SqlError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(sql).map_err(|e| self.fail(e))?;
        let n = stmt.num_result_cols().map_err(|e| self.fail(e))? as u16;
        let mut out = Vec::with_capacity(n as usize);
        for c in 1..=n {
            out.push(ColumnInfo {
                name: stmt.col_name(c).map_err(|e| self.fail(e))?,
                type_name: type_name(stmt.col_data_type(c).map_err(|e| self.fail(e))?).to_owned(),
            });
        }
        Ok(out)
    }

    /// Columns of `table` the database fills itself (identity, serial, auto-increment), from
    /// the ODBC catalog (`SQLColumns`): SQL Server reports `int identity` as the type name,
    /// PostgreSQL a `nextval(...)` default (or psqlODBC's AUTO_INCREMENT column), others
    /// IS_AUTOINCREMENT.
    pub fn generated_columns(
        &mut self,
        schema: Option<&str>,
        table: &str,
    ) -> Result<Vec<String>, SqlError> {
        let conn = self.conn();
        let mut stmt = conn.preallocate().map_err(|e| self.fail(e))?;
        let mut cursor = stmt
            // "%" for an unnamed schema: by the ODBC rules "" means "objects without a
            // schema", which some drivers apply literally.
            .columns_cursor(
                "",
                &schema.map(like_pattern).unwrap_or_else(|| "%".to_owned()),
                &like_pattern(table),
                "%",
            )
            .map_err(odbc_err)?;
        let names: Vec<String> = cursor
            .column_names()
            .map_err(odbc_err)?
            .collect::<Result<_, _>>()
            .map_err(odbc_err)?;
        let col = |n: &str| names.iter().position(|c| c.eq_ignore_ascii_case(n));
        let (Some(name_i), type_i, default_i, auto_i, is_auto_i) = (
            col("COLUMN_NAME"),
            col("TYPE_NAME"),
            col("COLUMN_DEF"),
            col("AUTO_INCREMENT"),
            col("IS_AUTOINCREMENT"),
        ) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while let Some(mut row) = cursor.next_row().map_err(odbc_err)? {
            let mut text = |i: Option<usize>| -> Result<Option<String>, SqlError> {
                let Some(i) = i else { return Ok(None) };
                Ok(row
                    .get_text(i as u16 + 1, &mut buf)
                    .map_err(odbc_err)?
                    .then(|| String::from_utf8_lossy(&buf).into_owned()))
            };
            let Some(name) = text(Some(name_i))? else {
                continue;
            };
            let lower = |v: Option<String>| v.unwrap_or_default().to_ascii_lowercase();
            let generated = lower(text(type_i)?).contains("identity")
                || lower(text(default_i)?).starts_with("nextval(")
                || matches!(lower(text(auto_i)?).as_str(), "1" | "yes" | "true")
                || matches!(lower(text(is_auto_i)?).as_str(), "1" | "yes" | "true");
            if generated {
                out.push(name);
            }
        }
        Ok(out)
    }

    /// (schema, name) of the tables and views in `schema`, or in every schema, from the ODBC
    /// catalog (`SQLTables`).
    pub fn table_names(&mut self, schema: Option<&str>) -> Result<Vec<(String, String)>, SqlError> {
        let conn = self.conn();
        let mut stmt = conn.preallocate().map_err(|e| self.fail(e))?;
        let mut cursor = stmt
            .tables_cursor(
                "",
                &schema.map(like_pattern).unwrap_or_else(|| "%".to_owned()),
                "%",
                "TABLE,VIEW",
            )
            .map_err(odbc_err)?;
        let mut out = Vec::new();
        let mut buf = Vec::new();
        // TABLE_SCHEM and TABLE_NAME: the second and third columns of every SQLTables result.
        while let Some(mut row) = cursor.next_row().map_err(odbc_err)? {
            let mut text = |i: u16| -> Result<String, SqlError> {
                Ok(match row.get_text(i, &mut buf).map_err(odbc_err)? {
                    true => String::from_utf8_lossy(&buf).into_owned(),
                    false => String::new(),
                })
            };
            let schema = text(2)?;
            out.push((schema, text(3)?));
        }
        Ok(out)
    }

    /// A connection that failed mid-transaction is closed, never reused.
    pub fn discard(mut self) {
        self.in_transaction = true;
    }
}

/// Catalog arguments are LIKE patterns: the wildcards of a real name are escaped.
fn like_pattern(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('_', "\\_")
        .replace('%', "\\%")
}

/// Every bind as an owned ODBC parameter: text, binary, or a NULL.
fn parameters(binds: &[Bind]) -> Vec<Box<dyn InputParameter>> {
    binds
        .iter()
        .map(|b| -> Box<dyn InputParameter> {
            match b {
                Bind::Int(i) => Box::new(i.to_string().into_parameter()),
                Bind::Text(s) => Box::new(s.clone().into_parameter()),
                // '1'/'0' is what SQL Server's bit, PostgreSQL's boolean and DB2's
                // BOOLEAN all accept from text.
                Bind::Bool(v) => Box::new(if *v { "1" } else { "0" }.to_owned().into_parameter()),
                Bind::Bytes(v) => Box::new(v.clone().into_parameter()),
                Bind::Null(NativeKind::Bytes) => Box::new(None::<Vec<u8>>.into_parameter()),
                Bind::Null(_) => Box::new(None::<String>.into_parameter()),
            }
        })
        .collect()
}

/// The ODBC type as the name [`Dialect::native_kind`] classifies.
pub fn type_name(t: DataType) -> &'static str {
    match t {
        DataType::Integer => "INTEGER",
        DataType::SmallInt => "SMALLINT",
        DataType::BigInt => "BIGINT",
        DataType::TinyInt => "TINYINT",
        DataType::Bit => "BIT",
        DataType::Real => "REAL",
        DataType::Float { .. } => "FLOAT",
        DataType::Double => "DOUBLE",
        DataType::Char { .. } | DataType::WChar { .. } => "CHAR",
        DataType::Varchar { .. } | DataType::WVarchar { .. } => "VARCHAR",
        DataType::LongVarchar { .. } | DataType::WLongVarchar { .. } => "LONGVARCHAR",
        DataType::Binary { .. } => "BINARY",
        DataType::Varbinary { .. } => "VARBINARY",
        DataType::LongVarbinary { .. } => "LONGVARBINARY",
        DataType::Date => "DATE",
        DataType::Timestamp { .. } => "TIMESTAMP",
        DataType::Time { .. } => "TIME",
        DataType::Numeric { .. } => "NUMERIC",
        DataType::Decimal { .. } => "DECIMAL",
        _ => "OTHER",
    }
}

/// A cell from the text a driver printed for a value of `kind`.
fn decode(kind: NativeKind, buf: &mut Vec<u8>, column: &str) -> Result<Cell, SqlError> {
    if kind == NativeKind::Bytes {
        return Ok(Cell::Bytes(std::mem::take(buf)));
    }
    let text = String::from_utf8(std::mem::take(buf)).map_err(|e| {
        SqlError::Value(format!(
            "column '{column}': the driver returned text that is not UTF-8: {e}"
        ))
    })?;
    let bad = |what: &str| SqlError::Value(format!("column '{column}': {text:?} is not {what}"));
    Ok(match kind {
        NativeKind::Int | NativeKind::UInt => {
            Cell::Int(text.trim().parse().map_err(|_| bad("an integer"))?)
        }
        NativeKind::Bool => match text.trim().to_ascii_lowercase().as_str() {
            "1" | "t" | "true" | "y" | "yes" => Cell::Bool(true),
            "0" | "f" | "false" | "n" | "no" => Cell::Bool(false),
            _ => return Err(bad("a boolean")),
        },
        NativeKind::Float => Cell::Float(text.trim().parse().map_err(|_| bad("a number"))?),
        NativeKind::Timestamp | NativeKind::TimestampTz => {
            let fmt = format_description!(
                version = 2,
                "[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]]"
            );
            Cell::Timestamp(
                PrimitiveDateTime::parse(text.trim(), &fmt).map_err(|_| bad("a timestamp"))?,
            )
        }
        NativeKind::Date => {
            let fmt = format_description!("[year]-[month]-[day]");
            Cell::Date(Date::parse(text.trim(), &fmt).map_err(|_| bad("a date"))?)
        }
        NativeKind::Text | NativeKind::Other | NativeKind::Bytes => Cell::Text(text),
    })
}
