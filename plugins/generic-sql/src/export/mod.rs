//! Export: each entry in its own transaction, so an entry is either fully written (parent
//! row and child rows) or not at all.
//!
//! Table mode (`table`) generates INSERT/UPDATE/DELETE from the discovered schema: identifiers
//! come from discovery and are quoted, values are always bound. Query and stored-procedure
//! modes (`query`) run the configured statements with `@attribute` parameters. Either way the
//! connector keeps the multi-valued table in step (`children`).

mod children;
mod entry;
mod password;
mod query;
mod table;

use plugin_api::prelude::*;

use crate::config::{RunMode, Settings};
use crate::conn::Conn;
use crate::error::SqlError;
use crate::schema::Detected;

pub use entry::anchor_binds;
pub use password::set_password;

/// Runs one entry in a transaction. On error the transaction is rolled back; a connection
/// whose rollback failed is reported back so the caller discards it.
pub async fn export_entry(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    e: &CsEntryChange,
) -> Result<ExportResult, SqlError> {
    conn.raw(d.dialect.begin_statement()).await?;
    let result = match settings.export_mode {
        RunMode::Table => table::apply(conn, d, settings, e).await,
        RunMode::Query | RunMode::StoredProcedure => query::apply(conn, d, settings, e).await,
    };
    match result {
        Ok(r) if r.code == ExportErrorCode::Success => {
            if let Err(e) = conn.raw("COMMIT").await {
                // Leave no transaction open on a connection that goes back to the pool.
                let _ = conn.raw("ROLLBACK").await;
                return Err(e);
            }
            Ok(r)
        }
        Ok(r) => {
            conn.raw("ROLLBACK").await?;
            Ok(r)
        }
        Err(err) => {
            // A failed rollback means the connection is gone; the caller sees the original error.
            let _ = conn.raw("ROLLBACK").await;
            Err(err)
        }
    }
}
