//! What differs between the databases in SQL: identifier quoting, statement fragments, how a
//! column's type name is read and bound ([`NativeKind`]), and how an INSERT hands back a
//! generated anchor ([`GeneratedKeys`]). The connections themselves are in `conn` (sqlx) and
//! `odbc`.

use crate::cells::NativeKind;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_embedded_quotes() {
        assert_eq!(Dialect::Postgres.quote_part("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::MySql.quote_part("a`b"), "`a``b`");
        assert_eq!(Dialect::Sqlite.quote_table("main.t x"), "\"main\".\"t x\"");
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

    #[test]
    fn the_generated_key_syntax_follows_the_odbc_database() {
        for (dbms, keys) in [
            ("Microsoft SQL Server", GeneratedKeys::OutputInserted),
            ("Oracle", GeneratedKeys::Unsupported),
            ("DB2/LINUXX8664", GeneratedKeys::Unsupported),
            ("PostgreSQL", GeneratedKeys::Returning),
            ("MariaDB", GeneratedKeys::Returning),
        ] {
            assert_eq!(GeneratedKeys::for_dbms(dbms), keys, "{dbms}");
        }
    }
}
