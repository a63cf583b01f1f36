//! The result of exporting one entry (`MAExportError`, `CSEntryChangeResult`).

use serde::{Deserialize, Serialize};

use super::entries::AnchorAttribute;
use super::values::Value;

/// `MAExportError`: the result of exporting one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExportErrorCode {
    Success,
    ConvertUpdateToAdd,
    ProvisioningParent,
    RetryReferenceAttribute,
    AmbiguousUpdate,
    AnchorTooLong,
    ChangeNamingAttribute,
    /// The target failed or could not be reached (retryable).
    ConnectedDirectoryError,
    ConnectedDirectoryMissingObject,
    /// The object already exists in the target (`cd-existing-object`).
    ConnectedDirectoryExistingObject,
    CustomContinueRun,
    CustomStopRun,
    InvalidDn,
    MissingAnchorComponent,
    MissingProvisioningAttribute,
    PermissionIssue,
    SyntaxViolation,
}

impl ExportErrorCode {
    const ALL: [ExportErrorCode; 17] = [
        ExportErrorCode::Success,
        ExportErrorCode::ConvertUpdateToAdd,
        ExportErrorCode::ProvisioningParent,
        ExportErrorCode::RetryReferenceAttribute,
        ExportErrorCode::AmbiguousUpdate,
        ExportErrorCode::AnchorTooLong,
        ExportErrorCode::ChangeNamingAttribute,
        ExportErrorCode::ConnectedDirectoryError,
        ExportErrorCode::ConnectedDirectoryMissingObject,
        ExportErrorCode::ConnectedDirectoryExistingObject,
        ExportErrorCode::CustomContinueRun,
        ExportErrorCode::CustomStopRun,
        ExportErrorCode::InvalidDn,
        ExportErrorCode::MissingAnchorComponent,
        ExportErrorCode::MissingProvisioningAttribute,
        ExportErrorCode::PermissionIssue,
        ExportErrorCode::SyntaxViolation,
    ];
    pub(crate) fn to_u16(self) -> u16 {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0) as u16
    }
    pub(crate) fn from_u16(v: u16) -> Self {
        // A code unknown to this host (added by a newer plugin) is a generic target failure.
        Self::ALL
            .get(v as usize)
            .copied()
            .unwrap_or(ExportErrorCode::ConnectedDirectoryError)
    }
    /// ECMA's error name, e.g. `ExportErrorConnectedDirectoryMissingObject`.
    pub fn ecma_name(self) -> &'static str {
        match self {
            ExportErrorCode::Success => "Success",
            ExportErrorCode::ConvertUpdateToAdd => "ExportActionConvertUpdateToAdd",
            ExportErrorCode::ProvisioningParent => "ExportActionProvisioningParent",
            ExportErrorCode::RetryReferenceAttribute => "ExportActionRetryReferenceAttribute",
            ExportErrorCode::AmbiguousUpdate => "ExportErrorAmbiguousUpdate",
            ExportErrorCode::AnchorTooLong => "ExportErrorAnchorTooLong",
            ExportErrorCode::ChangeNamingAttribute => "ExportErrorChangeNamingAttribute",
            ExportErrorCode::ConnectedDirectoryError => "ExportErrorConnectedDirectoryError",
            ExportErrorCode::ConnectedDirectoryMissingObject => {
                "ExportErrorConnectedDirectoryMissingObject"
            }
            ExportErrorCode::ConnectedDirectoryExistingObject => {
                "ExportErrorConnectedDirectoryExistingObject"
            }
            ExportErrorCode::CustomContinueRun => "ExportErrorCustomContinueRun",
            ExportErrorCode::CustomStopRun => "ExportErrorCustomStopRun",
            ExportErrorCode::InvalidDn => "ExportErrorInvalidDN",
            ExportErrorCode::MissingAnchorComponent => "ExportErrorMissingAnchorComponent",
            ExportErrorCode::MissingProvisioningAttribute => {
                "ExportErrorMissingProvisioningAttribute"
            }
            ExportErrorCode::PermissionIssue => "ExportErrorPermissionIssue",
            ExportErrorCode::SyntaxViolation => "ExportErrorSyntaxViolation",
        }
    }
}

/// `CSEntryChangeResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportResult {
    pub identifier: String,
    pub code: ExportErrorCode,
    pub error_name: String,
    pub error_detail: String,
    /// Anchors the target assigned (e.g. a database-generated key) for new objects. A
    /// connector whose target names objects by DN also reports the DN it created under the
    /// name `dn` (or `-dn-`), so the host can use it for references and renames.
    pub anchor_changes: Vec<AnchorAttribute>,
}

impl ExportResult {
    pub fn success(identifier: &str) -> Self {
        Self {
            identifier: identifier.to_owned(),
            code: ExportErrorCode::Success,
            error_name: String::new(),
            error_detail: String::new(),
            anchor_changes: Vec::new(),
        }
    }
    pub fn failure(identifier: &str, code: ExportErrorCode, detail: impl Into<String>) -> Self {
        Self {
            identifier: identifier.to_owned(),
            code,
            error_name: code.ecma_name().to_owned(),
            error_detail: detail.into(),
            anchor_changes: Vec::new(),
        }
    }
    pub fn with_anchor(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.anchor_changes.push(AnchorAttribute {
            name: name.to_owned(),
            value: value.into(),
        });
        self
    }
}
