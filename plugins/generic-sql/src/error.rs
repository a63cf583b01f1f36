//! Errors inside the connector, and how they map onto ECMA's export codes and the SDK's
//! error kinds.

use std::time::Duration;

use plugin_api::prelude::{ConnectorError, ExportErrorCode};
use sqlx::error::ErrorKind as DbErrorKind;

/// Runs one database operation under the command timeout.
pub async fn within<T>(
    limit: Duration,
    operation: impl Future<Output = Result<T, SqlError>>,
) -> Result<T, SqlError> {
    tokio::time::timeout(limit, operation)
        .await
        .unwrap_or(Err(SqlError::Timeout(limit)))
}

#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("{0}")]
    Db(#[from] sqlx::Error),
    #[error("the database did not answer within {0:?} (Command timeout)")]
    Timeout(Duration),
    #[error("{0}")]
    Config(String),
    /// A configured parameter is wrong (a name the catalog does not have, or has twice).
    #[error("'{parameter}': {message}")]
    Parameter {
        parameter: &'static str,
        message: String,
    },
    /// A value that does not fit its column (wrong type, unparsable date).
    #[error("{0}")]
    Value(String),
    /// The object to change is not in the database.
    #[error("{0}")]
    Missing(String),
    /// An attribute that is not in the discovered schema, or not writable.
    #[error("{0}")]
    Schema(String),
    /// What this configuration cannot do (a FullObject read through a statement that cannot
    /// be filtered by anchor): the host does it another way.
    #[error("{0}")]
    Unsupported(String),
    /// An ODBC call failed (feature `odbc`): the SQLSTATE decides the export code.
    #[error("{message}")]
    Odbc {
        state: String,
        message: String,
        /// The driver reports the connection dead after the failure.
        connection_lost: bool,
    },
}

impl SqlError {
    /// The error blamed on a configured parameter (`message` says which and why), unless the
    /// database could not be reached: that is no fault of the configuration.
    pub fn blame_config(self, message: impl FnOnce(&SqlError) -> String) -> SqlError {
        if self.is_connection() {
            self
        } else {
            SqlError::Config(message(&self))
        }
    }

    /// True when the database could not be reached or dropped the connection: the same call
    /// may succeed later, without any change.
    pub fn is_connection(&self) -> bool {
        match self {
            SqlError::Timeout(_) => true,
            // 08: connection exceptions; HYT00/HYT01: timeouts.
            SqlError::Odbc {
                state,
                connection_lost,
                ..
            } => *connection_lost || state.starts_with("08") || state.starts_with("HYT"),
            SqlError::Db(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Protocol(_) => true,
                sqlx::Error::Database(db) => {
                    let code = db.code().unwrap_or_default();
                    // PostgreSQL classes 08 (connection), 53 (resources), 57 (operator
                    // intervention, e.g. shutdown), 58 (system); MySQL "server gone away",
                    // "lost connection", shutdown in progress; SQLite BUSY/LOCKED/IOERR/FULL/CANTOPEN.
                    ["08", "53", "57", "58"].iter().any(|c| code.starts_with(c))
                        || matches!(
                            code.as_ref(),
                            "2006" | "2013" | "1053" | "1927" | "5" | "6" | "10" | "13" | "14"
                        )
                }
                _ => false,
            },
            _ => false,
        }
    }

    pub fn export_code(&self) -> ExportErrorCode {
        if self.is_connection() {
            return ExportErrorCode::ConnectedDirectoryError;
        }
        match self {
            SqlError::Missing(_) => ExportErrorCode::ConnectedDirectoryMissingObject,
            SqlError::Value(_) | SqlError::Schema(_) => ExportErrorCode::SyntaxViolation,
            SqlError::Config(_) | SqlError::Parameter { .. } | SqlError::Unsupported(_) => {
                ExportErrorCode::CustomStopRun
            }
            // SQLSTATE 23505 is PostgreSQL's and DB2's unique violation; SQL Server and
            // Oracle report 23000 for every integrity violation, so the message decides.
            SqlError::Odbc { state, message, .. } => {
                let m = message.to_ascii_lowercase();
                if state == "23505"
                    || (state == "23000" && (m.contains("duplicate") || m.contains("unique")))
                {
                    ExportErrorCode::ConnectedDirectoryExistingObject
                } else if state == "42501" || state == "42000" && m.contains("permission") {
                    ExportErrorCode::PermissionIssue
                } else {
                    ExportErrorCode::SyntaxViolation
                }
            }
            SqlError::Db(sqlx::Error::Database(db)) => match db.kind() {
                DbErrorKind::UniqueViolation => ExportErrorCode::ConnectedDirectoryExistingObject,
                DbErrorKind::ForeignKeyViolation
                | DbErrorKind::NotNullViolation
                | DbErrorKind::CheckViolation => ExportErrorCode::SyntaxViolation,
                _ => {
                    let code = db.code().unwrap_or_default();
                    // MySQL duplicate key (1062) and duplicate entry for unique key (1586).
                    if code == "1062" || code == "1586" || code == "23505" {
                        ExportErrorCode::ConnectedDirectoryExistingObject
                    } else if code == "42501" || code == "1142" || code == "1044" {
                        ExportErrorCode::PermissionIssue
                    } else {
                        // Data errors, constraint errors and statement errors: the target
                        // refused this object's values.
                        ExportErrorCode::SyntaxViolation
                    }
                }
            },
            SqlError::Db(_) | SqlError::Timeout(_) => ExportErrorCode::ConnectedDirectoryError,
        }
    }
}

impl From<SqlError> for ConnectorError {
    fn from(e: SqlError) -> Self {
        if e.is_connection() {
            return ConnectorError::connection(format!("database unavailable: {e}"));
        }
        match e {
            SqlError::Config(m) => ConnectorError::config(m),
            SqlError::Unsupported(m) => ConnectorError::unsupported(m),
            e @ SqlError::Parameter { .. } => ConnectorError::config(e.to_string()),
            SqlError::Value(m) | SqlError::Schema(m) => ConnectorError::invalid_input(m),
            SqlError::Missing(m) => ConnectorError::invalid_input(m),
            other => ConnectorError::internal(format!("database error: {other}")),
        }
    }
}
