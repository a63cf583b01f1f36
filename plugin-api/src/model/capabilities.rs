//! Who a connector is and what it can do (ECMA2's `MACapabilities`).

use super::wire::Wire;
use serde::{Deserialize, Serialize};

/// Who a connector is. `name` is what applications select in the host configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorInfo {
    pub name: String,
    pub version: String,
    pub vendor: String,
    pub description: String,
    /// The plugin-api version the connector was built against (filled in by the SDK).
    pub api_version: String,
}

/// `MADistinguishedNameStyle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DnStyle {
    None,
    Generic,
    Ldap,
}

impl Wire for DnStyle {
    type Repr = u8;
    #[inline]
    fn to_wire(self) -> u8 {
        match self {
            DnStyle::None => 0,
            DnStyle::Generic => 1,
            DnStyle::Ldap => 2,
        }
    }
    #[inline]
    fn from_wire(v: u8) -> Self {
        match v {
            0 => DnStyle::None,
            2 => DnStyle::Ldap,
            // A style this side does not know: generic DNs, ECMA2's default.
            _ => DnStyle::Generic,
        }
    }
}

/// `MAObjectConfirmation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectConfirmation {
    Normal,
    NoDeleteConfirmation,
    NoAddAndDeleteConfirmation,
}

impl Wire for ObjectConfirmation {
    type Repr = u8;
    #[inline]
    fn to_wire(self) -> u8 {
        match self {
            ObjectConfirmation::Normal => 0,
            ObjectConfirmation::NoDeleteConfirmation => 1,
            ObjectConfirmation::NoAddAndDeleteConfirmation => 2,
        }
    }
    #[inline]
    fn from_wire(v: u8) -> Self {
        match v {
            1 => ObjectConfirmation::NoDeleteConfirmation,
            2 => ObjectConfirmation::NoAddAndDeleteConfirmation,
            // An unknown confirmation mode: normal confirmation, ECMA2's default.
            _ => ObjectConfirmation::Normal,
        }
    }
}

/// `MAExportType`: how the connector wants changes to existing objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportType {
    AttributeReplace,
    AttributeUpdate,
    ObjectReplace,
    MultivaluedReferenceAttributeUpdate,
}

impl Wire for ExportType {
    type Repr = u8;
    #[inline]
    fn to_wire(self) -> u8 {
        match self {
            ExportType::AttributeReplace => 0,
            ExportType::AttributeUpdate => 1,
            ExportType::ObjectReplace => 2,
            ExportType::MultivaluedReferenceAttributeUpdate => 3,
        }
    }
    #[inline]
    fn from_wire(v: u8) -> Self {
        match v {
            0 => ExportType::AttributeReplace,
            2 => ExportType::ObjectReplace,
            3 => ExportType::MultivaluedReferenceAttributeUpdate,
            // An unknown export type: attribute updates, ECMA2's default.
            _ => ExportType::AttributeUpdate,
        }
    }
}

/// `MANormalizations` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Normalizations {
    pub uppercase: bool,
    pub remove_accents: bool,
}

impl Wire for Normalizations {
    type Repr = u8;
    #[inline]
    fn to_wire(self) -> u8 {
        (self.uppercase as u8) | ((self.remove_accents as u8) << 1)
    }
    /// Bits this side does not know are ignored.
    #[inline]
    fn from_wire(bits: u8) -> Self {
        Self {
            uppercase: bits & 1 != 0,
            remove_accents: bits & 2 != 0,
        }
    }
}

/// The 17 members of ECMA2's `MACapabilities`, plus the import/export page sizes that ECMA2
/// exposes as `ImportDefaultPageSize`/`ImportMaxPageSize`/`ExportDefaultPageSize`/`ExportMaxPageSize`,
/// plus one property ECMA2 leaves to documentation: whether delta imports see deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub distinguished_name_style: DnStyle,
    pub object_rename: bool,
    pub no_reference_values_in_first_export: bool,
    pub delta_import: bool,
    pub concurrent_operation: bool,
    pub delete_add_as_replace: bool,
    pub export_password_in_first_pass: bool,
    pub full_export: bool,
    pub object_confirmation: ObjectConfirmation,
    pub export_type: ExportType,
    pub normalizations: Normalizations,
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
    /// Whether the connector's delta import reports objects deleted in the target (a change
    /// log does; a last-modified watermark cannot). When false, the host reconciles deletes
    /// with scheduled full imports and `check-config` warns when none are scheduled.
    /// Not part of ECMA2; false unless the connector says so, because a host that wrongly
    /// believes deletes are seen serves deleted objects until it restarts.
    pub delta_sees_deletes: bool,
}

impl Default for Capabilities {
    /// Nothing claimed: no import, no export, no delta import, no passwords, partitions,
    /// hierarchy, renames or concurrent calls. A connector switches on what it implements
    /// (`Capabilities { support_import: true, ..Capabilities::default() }`), so one that
    /// forgets a field advertises less than it can do, never more. ECMA2's own constructor
    /// defaults are [`Capabilities::ecma2_defaults`]. Page sizes are sizes, not claims: the
    /// same as ECMA2's.
    fn default() -> Self {
        Self {
            distinguished_name_style: DnStyle::Generic,
            object_rename: false,
            no_reference_values_in_first_export: false,
            delta_import: false,
            concurrent_operation: false,
            delete_add_as_replace: false,
            export_password_in_first_pass: false,
            full_export: false,
            object_confirmation: ObjectConfirmation::Normal,
            export_type: ExportType::AttributeUpdate,
            normalizations: Normalizations::default(),
            is_dn_as_anchor: false,
            support_import: false,
            support_export: false,
            support_partitions: false,
            support_password: false,
            support_hierarchy: false,
            import_default_page_size: 100,
            import_max_page_size: 10_000,
            export_default_batch_size: 1,
            export_max_batch_size: 1_000,
            delta_sees_deletes: false,
        }
    }
}

impl Capabilities {
    /// ECMA2's `MACapabilities` constructor defaults: ObjectRename, DeltaImport,
    /// ConcurrentOperation, DeleteAddAsReplace and every `Support*` true, the rest false,
    /// ObjectConfirmation Normal. For connectors ported from ECMA2 that rely on them;
    /// `delta_sees_deletes` (not ECMA2's) is false. Until plugin-api 0.6.0 this was
    /// `Capabilities::default()`.
    pub fn ecma2_defaults() -> Self {
        Self {
            object_rename: true,
            delta_import: true,
            concurrent_operation: true,
            delete_add_as_replace: true,
            support_import: true,
            support_export: true,
            support_partitions: true,
            support_password: true,
            support_hierarchy: true,
            ..Self::default()
        }
    }

    /// One-line summary for listings (`ecma-host plugins`).
    pub fn short(&self) -> String {
        let mut parts = Vec::new();
        if self.support_import {
            parts.push(if self.delta_import {
                "import(full+delta)"
            } else {
                "import(full)"
            });
        }
        if self.support_export {
            parts.push(match self.export_type {
                ExportType::ObjectReplace => "export(object-replace)",
                ExportType::AttributeReplace => "export(attribute-replace)",
                ExportType::AttributeUpdate => "export(attribute-update)",
                ExportType::MultivaluedReferenceAttributeUpdate => "export(mv-reference-update)",
            });
        }
        if self.support_password {
            parts.push("password");
        }
        if self.support_partitions {
            parts.push("partitions");
        }
        if self.is_dn_as_anchor {
            parts.push("dn-as-anchor");
        }
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::wire::assert_wire_forms;

    #[test]
    fn capability_enumerations_cross_the_boundary_as_their_numbers() {
        assert_wire_forms!(DnStyle {
            None => 0,
            Generic => 1,
            Ldap => 2,
        } unknown [3, 255] => Generic);
        assert_wire_forms!(ObjectConfirmation {
            Normal => 0,
            NoDeleteConfirmation => 1,
            NoAddAndDeleteConfirmation => 2,
        } unknown [3, 255] => Normal);
        assert_wire_forms!(ExportType {
            AttributeReplace => 0,
            AttributeUpdate => 1,
            ObjectReplace => 2,
            MultivaluedReferenceAttributeUpdate => 3,
        } unknown [4, 255] => AttributeUpdate);
    }

    #[test]
    fn the_default_claims_nothing_and_ecma2_defaults_claim_what_ecma2_does() {
        let d = Capabilities::default();
        let claims = |c: &Capabilities| {
            [
                c.object_rename,
                c.delta_import,
                c.concurrent_operation,
                c.delete_add_as_replace,
                c.support_import,
                c.support_export,
                c.support_partitions,
                c.support_password,
                c.support_hierarchy,
                c.delta_sees_deletes,
            ]
        };
        assert_eq!(claims(&d), [false; 10]);
        assert_eq!(d.short(), "");
        let e = Capabilities::ecma2_defaults();
        assert_eq!(
            claims(&e),
            [true, true, true, true, true, true, true, true, true, false]
        );
    }

    #[test]
    fn normalizations_cross_the_boundary_as_bits() {
        for bits in 0..4u8 {
            assert_eq!(Normalizations::from_wire(bits).to_wire(), bits);
        }
        let uppercase = Normalizations {
            uppercase: true,
            remove_accents: false,
        };
        assert_eq!(uppercase.to_wire(), 1);
        assert_eq!(
            Normalizations::from_wire(2),
            Normalizations {
                uppercase: false,
                remove_accents: true,
            }
        );
        // Bits of a newer side are ignored.
        assert_eq!(Normalizations::from_wire(!0b11), Normalizations::default());
    }
}
