//! Errors a connector call returns, and what kind of failure each is.

use serde::{Deserialize, Serialize};

use super::wire::Wire;

/// What kind of failure a connector call reported. Decides how the host reacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorKind {
    /// The configuration is wrong; retrying will not help.
    Config,
    /// The target system could not be reached or timed out; retrying later may help.
    Connection,
    /// The connector does not implement this call.
    Unsupported,
    /// The input handed to the connector is invalid.
    InvalidInput,
    /// The host asked the call to stop.
    Cancelled,
    /// The connector panicked; the host drops the instance and creates a new one.
    Panicked,
    /// Anything else.
    Internal,
    /// A delta import cannot continue from the watermark it was given (the change log was
    /// purged past it, the server refused the sync cookie): the host runs a full import.
    /// Added in plugin-api 0.1.1; an older host reads it as `Internal`.
    FullImportRequired,
}

impl Wire for ErrorKind {
    type Repr = u8;
    #[inline]
    fn to_wire(self) -> u8 {
        match self {
            ErrorKind::Config => 1,
            ErrorKind::Connection => 2,
            ErrorKind::Unsupported => 3,
            ErrorKind::InvalidInput => 4,
            ErrorKind::Cancelled => 5,
            ErrorKind::Panicked => 6,
            ErrorKind::Internal => 7,
            ErrorKind::FullImportRequired => 8,
        }
    }
    #[inline]
    fn from_wire(v: u8) -> Self {
        match v {
            1 => ErrorKind::Config,
            2 => ErrorKind::Connection,
            3 => ErrorKind::Unsupported,
            4 => ErrorKind::InvalidInput,
            5 => ErrorKind::Cancelled,
            6 => ErrorKind::Panicked,
            8 => ErrorKind::FullImportRequired,
            // Kinds added by newer plugins are treated as internal errors.
            _ => ErrorKind::Internal,
        }
    }
}

impl ErrorKind {
    /// Whether the same call may succeed later without a configuration change.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Connection)
    }
}

/// An error returned by a connector call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct ConnectorError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ConnectorError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }
    pub fn connection(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Connection, message)
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    pub fn full_import_required(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::FullImportRequired, message)
    }
}

pub type ConnectorResult<T> = Result<T, ConnectorError>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::wire::assert_wire_forms;

    #[test]
    fn error_kinds_cross_the_boundary_as_their_numbers() {
        assert_wire_forms!(ErrorKind {
            Config => 1,
            Connection => 2,
            Unsupported => 3,
            InvalidInput => 4,
            Cancelled => 5,
            Panicked => 6,
            Internal => 7,
            FullImportRequired => 8,
        } unknown [0, 9, 255] => Internal);
    }
}
