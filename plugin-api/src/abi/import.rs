//! The import run across the ABI: its opening request and its packed pages.

use abi_stable::{
    StableAbi,
    std_types::{ROption, RString, RVec},
};

use crate::model::{self as m, Wire};
use crate::page::{PackedImportPage, PackedPage, PageStatus, PageWriter};

use super::schema::{AbiPartition, AbiSchema};

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiOpenImport {
    pub import_type: u8,
    pub page_size: u32,
    pub custom_data: RString,
    pub partition: ROption<AbiPartition>,
    pub schema: AbiSchema,
}

/// An import page packed into one buffer (plugin-api 0.2; see [`crate::page`]).
#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiPackedPage {
    pub bytes: RVec<u8>,
    pub entries: u32,
    pub more_to_import: bool,
    pub custom_data: RString,
}

impl From<m::OpenImportRequest> for AbiOpenImport {
    fn from(r: m::OpenImportRequest) -> Self {
        Self {
            import_type: r.import_type.to_wire(),
            page_size: r.page_size,
            custom_data: r.custom_data.into(),
            partition: r.partition.map(Into::into).into(),
            schema: r.schema.into(),
        }
    }
}

impl From<AbiOpenImport> for m::OpenImportRequest {
    fn from(r: AbiOpenImport) -> Self {
        Self {
            import_type: m::ImportType::from_wire(r.import_type),
            page_size: r.page_size,
            custom_data: r.custom_data.into(),
            partition: r.partition.into_option().map(Into::into),
            schema: r.schema.into(),
        }
    }
}

impl From<(PageWriter, PageStatus)> for AbiPackedPage {
    fn from((page, status): (PageWriter, PageStatus)) -> Self {
        let (bytes, entries) = page.into_parts();
        Self {
            bytes: bytes.into(),
            entries,
            more_to_import: status.more_to_import,
            custom_data: status.custom_data.into(),
        }
    }
}

impl From<AbiPackedPage> for PackedImportPage {
    fn from(p: AbiPackedPage) -> Self {
        Self {
            // The plugin's buffer is kept as it is and read in place.
            entries: PackedPage::from_abi(p.bytes, p.entries),
            more_to_import: p.more_to_import,
            custom_data: p.custom_data.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::{entries, partition, round_trip, schema};

    #[test]
    fn open_import_requests_round_trip() {
        for (import_type, partition) in [
            (m::ImportType::Full, None),
            (m::ImportType::Delta, Some(partition())),
        ] {
            round_trip::<AbiOpenImport, _>(m::OpenImportRequest {
                import_type,
                page_size: 500,
                custom_data: "cookie ✓".into(),
                partition,
                schema: schema(),
            });
        }
    }

    #[test]
    fn a_written_page_and_its_status_arrive_whole() {
        let entries = entries();
        let mut page = PageWriter::new();
        for e in &entries {
            page.push(e);
        }
        let status = PageStatus {
            more_to_import: true,
            custom_data: "watermark".into(),
        };
        let received = PackedImportPage::from(AbiPackedPage::from((page, status.clone())));
        assert_eq!(received.entries.to_entries().unwrap(), entries);
        assert_eq!(received.entries.len(), entries.len());
        assert_eq!(
            (received.more_to_import, received.custom_data),
            (status.more_to_import, status.custom_data)
        );
    }
}
