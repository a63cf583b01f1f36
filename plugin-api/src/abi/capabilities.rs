//! Who a connector is and what it can do, across the ABI.

use abi_stable::{StableAbi, std_types::RString};

use crate::model::{self as m, Wire};

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiInfo {
    pub name: RString,
    pub version: RString,
    pub vendor: RString,
    pub description: RString,
    pub api_version: RString,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiCapabilities {
    pub distinguished_name_style: u8,
    pub object_rename: bool,
    pub no_reference_values_in_first_export: bool,
    pub delta_import: bool,
    pub concurrent_operation: bool,
    pub delete_add_as_replace: bool,
    pub export_password_in_first_pass: bool,
    pub full_export: bool,
    pub object_confirmation: u8,
    pub export_type: u8,
    /// bit 0: uppercase, bit 1: remove accents.
    pub normalizations: u8,
    pub is_dn_as_anchor: bool,
    pub support_import: bool,
    pub support_export: bool,
    pub support_partitions: bool,
    pub support_password: bool,
    pub support_hierarchy: bool,
    pub import_default_page_size: u32,
    pub import_max_page_size: u32,
    pub export_default_batch_size: u32,
    pub export_max_batch_size: u32,
    /// Appended in 0.6.0 (see `VERSIONING.md`).
    pub delta_sees_deletes: bool,
}

impl From<m::ConnectorInfo> for AbiInfo {
    fn from(i: m::ConnectorInfo) -> Self {
        Self {
            name: i.name.into(),
            version: i.version.into(),
            vendor: i.vendor.into(),
            description: i.description.into(),
            api_version: i.api_version.into(),
        }
    }
}

impl From<AbiInfo> for m::ConnectorInfo {
    fn from(i: AbiInfo) -> Self {
        Self {
            name: i.name.into(),
            version: i.version.into(),
            vendor: i.vendor.into(),
            description: i.description.into(),
            api_version: i.api_version.into(),
        }
    }
}

impl From<m::Capabilities> for AbiCapabilities {
    fn from(c: m::Capabilities) -> Self {
        Self {
            distinguished_name_style: c.distinguished_name_style.to_wire(),
            object_rename: c.object_rename,
            no_reference_values_in_first_export: c.no_reference_values_in_first_export,
            delta_import: c.delta_import,
            concurrent_operation: c.concurrent_operation,
            delete_add_as_replace: c.delete_add_as_replace,
            export_password_in_first_pass: c.export_password_in_first_pass,
            full_export: c.full_export,
            object_confirmation: c.object_confirmation.to_wire(),
            export_type: c.export_type.to_wire(),
            normalizations: c.normalizations.to_wire(),
            is_dn_as_anchor: c.is_dn_as_anchor,
            support_import: c.support_import,
            support_export: c.support_export,
            support_partitions: c.support_partitions,
            support_password: c.support_password,
            support_hierarchy: c.support_hierarchy,
            import_default_page_size: c.import_default_page_size,
            import_max_page_size: c.import_max_page_size,
            export_default_batch_size: c.export_default_batch_size,
            export_max_batch_size: c.export_max_batch_size,
            delta_sees_deletes: c.delta_sees_deletes,
        }
    }
}

impl From<AbiCapabilities> for m::Capabilities {
    fn from(c: AbiCapabilities) -> Self {
        Self {
            distinguished_name_style: m::DnStyle::from_wire(c.distinguished_name_style),
            object_rename: c.object_rename,
            no_reference_values_in_first_export: c.no_reference_values_in_first_export,
            delta_import: c.delta_import,
            concurrent_operation: c.concurrent_operation,
            delete_add_as_replace: c.delete_add_as_replace,
            export_password_in_first_pass: c.export_password_in_first_pass,
            full_export: c.full_export,
            object_confirmation: m::ObjectConfirmation::from_wire(c.object_confirmation),
            export_type: m::ExportType::from_wire(c.export_type),
            normalizations: m::Normalizations::from_wire(c.normalizations),
            is_dn_as_anchor: c.is_dn_as_anchor,
            support_import: c.support_import,
            support_export: c.support_export,
            support_partitions: c.support_partitions,
            support_password: c.support_password,
            support_hierarchy: c.support_hierarchy,
            import_default_page_size: c.import_default_page_size,
            import_max_page_size: c.import_max_page_size,
            export_default_batch_size: c.export_default_batch_size,
            export_max_batch_size: c.export_max_batch_size,
            delta_sees_deletes: c.delta_sees_deletes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::round_trip;

    #[test]
    fn connector_info_round_trips() {
        round_trip::<AbiInfo, _>(m::ConnectorInfo {
            name: "csv".into(),
            version: "1.2.3".into(),
            vendor: "ecma-host".into(),
            description: "files ✓".into(),
            api_version: m::PLUGIN_API_VERSION.into(),
        });
    }

    #[test]
    fn capabilities_round_trip_with_every_enumeration_value_and_flag() {
        round_trip::<AbiCapabilities, _>(m::Capabilities::default());
        round_trip::<AbiCapabilities, _>(m::Capabilities::ecma2_defaults());
        let styles = [m::DnStyle::None, m::DnStyle::Generic, m::DnStyle::Ldap];
        let confirmations = [
            m::ObjectConfirmation::Normal,
            m::ObjectConfirmation::NoDeleteConfirmation,
            m::ObjectConfirmation::NoAddAndDeleteConfirmation,
        ];
        let export_types = [
            m::ExportType::AttributeReplace,
            m::ExportType::AttributeUpdate,
            m::ExportType::ObjectReplace,
            m::ExportType::MultivaluedReferenceAttributeUpdate,
        ];
        for (i, export_type) in export_types.into_iter().enumerate() {
            // Every boolean flipped from its default, and page sizes that differ.
            let d = m::Capabilities::default();
            round_trip::<AbiCapabilities, _>(m::Capabilities {
                distinguished_name_style: styles[i % 3],
                object_rename: !d.object_rename,
                no_reference_values_in_first_export: !d.no_reference_values_in_first_export,
                delta_import: !d.delta_import,
                concurrent_operation: !d.concurrent_operation,
                delete_add_as_replace: !d.delete_add_as_replace,
                export_password_in_first_pass: !d.export_password_in_first_pass,
                full_export: !d.full_export,
                object_confirmation: confirmations[i % 3],
                export_type,
                normalizations: m::Normalizations {
                    uppercase: i & 1 != 0,
                    remove_accents: i & 2 != 0,
                },
                is_dn_as_anchor: !d.is_dn_as_anchor,
                support_import: !d.support_import,
                support_export: !d.support_export,
                support_partitions: !d.support_partitions,
                support_password: !d.support_password,
                support_hierarchy: !d.support_hierarchy,
                import_default_page_size: 1,
                import_max_page_size: 2,
                export_default_batch_size: 3,
                export_max_batch_size: u32::MAX,
                delta_sees_deletes: !d.delta_sees_deletes,
            });
        }
    }
}
