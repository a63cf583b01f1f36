//! Import and export run steps: what opens a run, an import page, how a run closes.

use serde::{Deserialize, Serialize};

use super::entries::CsEntryChange;
use super::schema::{Partition, Schema};
use super::wire::Wire;

/// `OperationType` for import runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportType {
    Full,
    Delta,
}

impl Wire for ImportType {
    type Repr = u8;
    #[inline]
    fn to_wire(self) -> u8 {
        match self {
            ImportType::Full => 0,
            ImportType::Delta => 1,
        }
    }
    #[inline]
    fn from_wire(v: u8) -> Self {
        match v {
            1 => ImportType::Delta,
            // An unknown import type runs a full import, which is always correct.
            _ => ImportType::Full,
        }
    }
}

/// `OpenImportConnectionRunStep` plus the schema of the types to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenImportRequest {
    pub import_type: ImportType,
    pub page_size: u32,
    /// The previous run's watermark (`CustomData`); empty on a first run.
    pub custom_data: String,
    pub partition: Option<Partition>,
    pub schema: Schema,
}

/// `GetImportEntriesResults`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportPage {
    pub entries: Vec<CsEntryChange>,
    pub more_to_import: bool,
    /// The watermark so far.
    pub custom_data: String,
}

/// `CloseReason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    Normal,
    TerminatedByUser,
    TerminatedShuttingDown,
    Unknown,
}

impl Wire for CloseReason {
    type Repr = u8;
    #[inline]
    fn to_wire(self) -> u8 {
        match self {
            CloseReason::Normal => 0,
            CloseReason::TerminatedByUser => 1,
            CloseReason::TerminatedShuttingDown => 2,
            CloseReason::Unknown => 3,
        }
    }
    #[inline]
    fn from_wire(v: u8) -> Self {
        match v {
            0 => CloseReason::Normal,
            1 => CloseReason::TerminatedByUser,
            2 => CloseReason::TerminatedShuttingDown,
            // A reason this side does not know is `Unknown`.
            _ => CloseReason::Unknown,
        }
    }
}

/// `OpenExportConnectionRunStep` plus the schema of the types to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenExportRequest {
    pub batch_size: u32,
    pub partition: Option<Partition>,
    pub schema: Schema,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::wire::assert_wire_forms;

    #[test]
    fn run_step_enumerations_cross_the_boundary_as_their_numbers() {
        assert_wire_forms!(ImportType {
            Full => 0,
            Delta => 1,
        } unknown [2, 255] => Full);
        assert_wire_forms!(CloseReason {
            Normal => 0,
            TerminatedByUser => 1,
            TerminatedShuttingDown => 2,
            Unknown => 3,
        } unknown [4, 255] => Unknown);
    }
}
