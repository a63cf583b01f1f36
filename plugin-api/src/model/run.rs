//! Import and export run steps: what opens a run, an import page, how a run closes.

use serde::{Deserialize, Serialize};

use super::entries::CsEntryChange;
use super::schema::{Partition, Schema};

/// `OperationType` for import runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportType {
    Full,
    Delta,
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

/// `OpenExportConnectionRunStep` plus the schema of the types to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenExportRequest {
    pub batch_size: u32,
    pub partition: Option<Partition>,
    pub schema: Schema,
}
