//! The migration's errors.

/// Why a file could not be migrated.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The file is not a Microsoft ECMA2Host configuration export; the message names what
    /// is missing.
    #[error("not an ECMA2Host configuration export: {0}")]
    NotAnExport(String),
    /// The generated configuration does not load (a bug of the migration, reported rather
    /// than written).
    #[error("the generated configuration does not load: {0}")]
    Generated(String),
}
