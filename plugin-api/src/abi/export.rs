//! The export run across the ABI: its opening request and the result per entry.

use abi_stable::{
    StableAbi,
    std_types::{ROption, RString, RVec},
};

use crate::model::{self as m, Wire};

use super::entries::AbiAnchor;
use super::schema::{AbiPartition, AbiSchema};

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiOpenExport {
    pub batch_size: u32,
    pub partition: ROption<AbiPartition>,
    pub schema: AbiSchema,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiExportResult {
    pub identifier: RString,
    pub code: u16,
    pub error_name: RString,
    pub error_detail: RString,
    pub anchor_changes: RVec<AbiAnchor>,
}

impl From<m::OpenExportRequest> for AbiOpenExport {
    fn from(r: m::OpenExportRequest) -> Self {
        Self {
            batch_size: r.batch_size,
            partition: r.partition.map(Into::into).into(),
            schema: r.schema.into(),
        }
    }
}

impl From<AbiOpenExport> for m::OpenExportRequest {
    fn from(r: AbiOpenExport) -> Self {
        Self {
            batch_size: r.batch_size,
            partition: r.partition.into_option().map(Into::into),
            schema: r.schema.into(),
        }
    }
}

impl From<m::ExportResult> for AbiExportResult {
    fn from(r: m::ExportResult) -> Self {
        Self {
            identifier: r.identifier.into(),
            code: r.code.to_wire(),
            error_name: r.error_name.into(),
            error_detail: r.error_detail.into(),
            anchor_changes: r.anchor_changes.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<AbiExportResult> for m::ExportResult {
    fn from(r: AbiExportResult) -> Self {
        Self {
            identifier: r.identifier.into(),
            code: m::ExportErrorCode::from_wire(r.code),
            error_name: r.error_name.into(),
            error_detail: r.error_detail.into(),
            anchor_changes: r.anchor_changes.into_iter().map(Into::into).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::{partition, round_trip, schema};

    #[test]
    fn open_export_requests_round_trip() {
        for partition in [None, Some(partition())] {
            round_trip::<AbiOpenExport, _>(m::OpenExportRequest {
                batch_size: 100,
                partition,
                schema: schema(),
            });
        }
    }

    #[test]
    fn export_results_round_trip() {
        round_trip::<AbiExportResult, _>(
            m::ExportResult::success("e-1")
                .with_anchor("id", 42i64)
                .with_anchor("dn", "cn=new"),
        );
        round_trip::<AbiExportResult, _>(m::ExportResult::failure(
            "e-2",
            m::ExportErrorCode::ConnectedDirectoryMissingObject,
            "gone",
        ));
    }
}
