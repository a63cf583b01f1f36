//! The result of exporting one entry (`MAExportError`, `CSEntryChangeResult`).

use serde::{Deserialize, Serialize};

use super::entries::AnchorAttribute;
use super::values::Value;
use super::wire::Wire;

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

impl Wire for ExportErrorCode {
    type Repr = u16;
    #[inline]
    fn to_wire(self) -> u16 {
        match self {
            ExportErrorCode::Success => 0,
            ExportErrorCode::ConvertUpdateToAdd => 1,
            ExportErrorCode::ProvisioningParent => 2,
            ExportErrorCode::RetryReferenceAttribute => 3,
            ExportErrorCode::AmbiguousUpdate => 4,
            ExportErrorCode::AnchorTooLong => 5,
            ExportErrorCode::ChangeNamingAttribute => 6,
            ExportErrorCode::ConnectedDirectoryError => 7,
            ExportErrorCode::ConnectedDirectoryMissingObject => 8,
            ExportErrorCode::ConnectedDirectoryExistingObject => 9,
            ExportErrorCode::CustomContinueRun => 10,
            ExportErrorCode::CustomStopRun => 11,
            ExportErrorCode::InvalidDn => 12,
            ExportErrorCode::MissingAnchorComponent => 13,
            ExportErrorCode::MissingProvisioningAttribute => 14,
            ExportErrorCode::PermissionIssue => 15,
            ExportErrorCode::SyntaxViolation => 16,
        }
    }
    #[inline]
    fn from_wire(v: u16) -> Self {
        match v {
            0 => ExportErrorCode::Success,
            1 => ExportErrorCode::ConvertUpdateToAdd,
            2 => ExportErrorCode::ProvisioningParent,
            3 => ExportErrorCode::RetryReferenceAttribute,
            4 => ExportErrorCode::AmbiguousUpdate,
            5 => ExportErrorCode::AnchorTooLong,
            6 => ExportErrorCode::ChangeNamingAttribute,
            8 => ExportErrorCode::ConnectedDirectoryMissingObject,
            9 => ExportErrorCode::ConnectedDirectoryExistingObject,
            10 => ExportErrorCode::CustomContinueRun,
            11 => ExportErrorCode::CustomStopRun,
            12 => ExportErrorCode::InvalidDn,
            13 => ExportErrorCode::MissingAnchorComponent,
            14 => ExportErrorCode::MissingProvisioningAttribute,
            15 => ExportErrorCode::PermissionIssue,
            16 => ExportErrorCode::SyntaxViolation,
            // A code unknown to this host (added by a newer plugin) is a generic target failure.
            _ => ExportErrorCode::ConnectedDirectoryError,
        }
    }
}

impl ExportErrorCode {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::wire::assert_wire_forms;

    #[test]
    fn export_error_codes_cross_the_boundary_as_their_numbers() {
        assert_wire_forms!(ExportErrorCode {
            Success => 0,
            ConvertUpdateToAdd => 1,
            ProvisioningParent => 2,
            RetryReferenceAttribute => 3,
            AmbiguousUpdate => 4,
            AnchorTooLong => 5,
            ChangeNamingAttribute => 6,
            ConnectedDirectoryError => 7,
            ConnectedDirectoryMissingObject => 8,
            ConnectedDirectoryExistingObject => 9,
            CustomContinueRun => 10,
            CustomStopRun => 11,
            InvalidDn => 12,
            MissingAnchorComponent => 13,
            MissingProvisioningAttribute => 14,
            PermissionIssue => 15,
            SyntaxViolation => 16,
        } unknown [17, 255, 65535] => ConnectedDirectoryError);
    }
}
