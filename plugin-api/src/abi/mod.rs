//! The FFI-safe twins of [`crate::model`] and the root module every plugin exports.
//!
//! **Layout rules** (see `VERSIONING.md`): every type here is checked structurally by abi_stable
//! when a plugin loads. Never rename, reorder or retype a field; append only, and bump the
//! crate's minor version when you do. Enumerations travel as plain integers (`u8`/`u16`) so
//! that a newer side can add values without a layout change; unknown values map to a safe
//! default on the receiving side (each model type's `Wire` conversion, next to the type).
//!
//! Nothing outside this crate names these types: connector authors use [`crate::sdk`], the
//! host uses [`crate::loader`].

#![allow(non_local_definitions)] // #[sabi_trait] expansion on rustc 1.95

use abi_stable::{
    StableAbi, declare_root_module_statics,
    library::RootModule,
    package_version_strings, sabi_trait,
    sabi_types::VersionStrings,
    std_types::{RBox, ROption, RResult, RStr, RString, RVec},
};

use crate::model::{self as m, Wire};

// ---------------------------------------------------------------------------------------------
// Plain data
// ---------------------------------------------------------------------------------------------

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiError {
    /// `ErrorKind` as a number.
    pub kind: u8,
    pub message: RString,
}

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
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiParamDef {
    pub name: RString,
    pub kind: u8,
    pub description: RString,
    pub validation: RString,
    pub default_value: RString,
    pub dropdown_values: RVec<RString>,
    pub dropdown_extensible: bool,
    pub checkbox_default: bool,
    pub required: bool,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiParam {
    pub name: RString,
    pub value: RString,
    pub encrypted: bool,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiValidation {
    pub ok: bool,
    pub parameter: RString,
    pub message: RString,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiSchemaAttribute {
    pub name: RString,
    pub data_type: u8,
    pub multi_valued: bool,
    pub operation: u8,
    pub is_anchor: bool,
    pub hidden_by_default: bool,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiSchemaType {
    pub name: RString,
    pub locked: bool,
    pub attributes: RVec<AbiSchemaAttribute>,
    pub anchor_attributes: RVec<RString>,
    pub possible_dn_components: RVec<RString>,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiSchema {
    pub types: RVec<AbiSchemaType>,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiPartition {
    pub id: RString,
    pub dn: RString,
    pub name: RString,
    pub hidden: bool,
}

/// The five ECMA2 attribute types. An exhaustive enum on purpose: ECMA2's type set is fixed.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone)]
pub enum AbiValue {
    String(RString),
    Integer(i64),
    Boolean(bool),
    Binary(RVec<u8>),
    Reference(RString),
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiValueChange {
    pub modification: u8,
    pub value: AbiValue,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiAttributeChange {
    pub name: RString,
    pub modification: u8,
    pub values: RVec<AbiValueChange>,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiAnchor {
    pub name: RString,
    pub value: AbiValue,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiEntryError {
    pub code: u8,
    pub name: RString,
    pub detail: RString,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiEntryChange {
    pub identifier: RString,
    pub object_type: RString,
    pub modification: u8,
    pub dn: RString,
    pub anchor: RVec<AbiAnchor>,
    pub changes: RVec<AbiAttributeChange>,
    pub error: ROption<AbiEntryError>,
}

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

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiPasswordTarget {
    pub object_type: RString,
    pub dn: RString,
    pub anchor: RVec<AbiAnchor>,
}

// ---------------------------------------------------------------------------------------------
// Trait objects
// ---------------------------------------------------------------------------------------------

/// Services the host hands to every instance.
#[sabi_trait]
pub trait AbiHostServices: Send + Sync {
    fn log(&self, level: u8, target: RStr<'_>, message: RStr<'_>);
    /// Last method of plugin-api 0.1; methods added later go below it with default bodies,
    /// and this attribute never moves.
    #[sabi(last_prefix_field)]
    fn is_cancelled(&self) -> bool;
}

pub type AbiHostServicesBox = AbiHostServices_TO<'static, RBox<()>>;

/// A connector instance: the import triple, the export triple, passwords, test connection.
#[sabi_trait]
pub trait AbiInstance: Send {
    fn test_connection(&mut self) -> RResult<(), AbiError>;
    fn open_import(&mut self, request: AbiOpenImport) -> RResult<RString, AbiError>;
    /// `GetImportEntries`: the next page, packed into one buffer ([`crate::page`]).
    fn get_import_page(&mut self) -> RResult<AbiPackedPage, AbiError>;
    fn close_import(&mut self, reason: u8) -> RResult<RString, AbiError>;
    fn open_export(&mut self, request: AbiOpenExport) -> RResult<(), AbiError>;
    fn put_export_entries(
        &mut self,
        entries: RVec<AbiEntryChange>,
    ) -> RResult<RVec<AbiExportResult>, AbiError>;
    fn close_export(&mut self, reason: u8) -> RResult<(), AbiError>;
    fn set_password(
        &mut self,
        target: AbiPasswordTarget,
        password: RString,
        options: u32,
    ) -> RResult<(), AbiError>;
    /// Last method of plugin-api 0.1 (0.5 put `get_import_page` in the place of the tree-shaped
    /// `get_import_entries`); methods added later go below it with default bodies, and this
    /// attribute never moves.
    #[sabi(last_prefix_field)]
    fn change_password(
        &mut self,
        target: AbiPasswordTarget,
        old: RString,
        new: RString,
    ) -> RResult<(), AbiError>;
}

pub type AbiInstanceBox = AbiInstance_TO<'static, RBox<()>>;

/// The root module: module-level ECMA2 calls, each taking the configuration.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = ConnectorModRef)))]
#[sabi(missing_field(panic))]
pub struct ConnectorMod {
    pub info: extern "C" fn() -> AbiInfo,
    pub capabilities: extern "C" fn(config: RVec<AbiParam>) -> RResult<AbiCapabilities, AbiError>,
    pub config_parameters: extern "C" fn(
        config: RVec<AbiParam>,
        page: u8,
        page_number: u32,
    ) -> RResult<RVec<AbiParamDef>, AbiError>,
    pub validate_config: extern "C" fn(
        config: RVec<AbiParam>,
        page: u8,
        page_number: u32,
    ) -> RResult<AbiValidation, AbiError>,
    pub schema: extern "C" fn(config: RVec<AbiParam>) -> RResult<AbiSchema, AbiError>,
    pub partitions: extern "C" fn(config: RVec<AbiParam>) -> RResult<RVec<AbiPartition>, AbiError>,
    /// Last field of plugin-api 0.1: fields added later go below it, and this attribute never
    /// moves (abi_stable uses it to know which fields every version has).
    #[sabi(last_prefix_field)]
    pub create_instance: extern "C" fn(
        config: RVec<AbiParam>,
        host: AbiHostServicesBox,
    ) -> RResult<AbiInstanceBox, AbiError>,
}

impl RootModule for ConnectorModRef {
    declare_root_module_statics! {ConnectorModRef}
    const BASE_NAME: &'static str = "ecma_connector";
    const NAME: &'static str = "ecma-host connector";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

// ---------------------------------------------------------------------------------------------
// Conversions model <-> abi
// ---------------------------------------------------------------------------------------------

fn rs(s: &str) -> RString {
    RString::from(s)
}

impl From<m::ConnectorError> for AbiError {
    fn from(e: m::ConnectorError) -> Self {
        Self {
            kind: e.kind.to_wire(),
            message: e.message.into(),
        }
    }
}
impl From<AbiError> for m::ConnectorError {
    fn from(e: AbiError) -> Self {
        Self {
            kind: m::ErrorKind::from_wire(e.kind),
            message: e.message.into(),
        }
    }
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
        }
    }
}

impl From<m::ConfigParameterDefinition> for AbiParamDef {
    fn from(d: m::ConfigParameterDefinition) -> Self {
        Self {
            name: d.name.into(),
            kind: d.kind.to_wire(),
            description: d.description.into(),
            validation: d.validation.into(),
            default_value: d.default_value.into(),
            dropdown_values: d.dropdown_values.into_iter().map(RString::from).collect(),
            dropdown_extensible: d.dropdown_extensible,
            checkbox_default: d.checkbox_default,
            required: d.required,
        }
    }
}
impl From<AbiParamDef> for m::ConfigParameterDefinition {
    fn from(d: AbiParamDef) -> Self {
        Self {
            name: d.name.into(),
            kind: m::ParameterKind::from_wire(d.kind),
            description: d.description.into(),
            validation: d.validation.into(),
            default_value: d.default_value.into(),
            dropdown_values: d.dropdown_values.into_iter().map(String::from).collect(),
            dropdown_extensible: d.dropdown_extensible,
            checkbox_default: d.checkbox_default,
            required: d.required,
        }
    }
}

pub(crate) fn params_to_abi(c: &m::ConfigParameters) -> RVec<AbiParam> {
    c.iter()
        .map(|p| AbiParam {
            name: rs(&p.name),
            value: rs(&p.value),
            encrypted: p.encrypted,
        })
        .collect()
}
pub(crate) fn params_from_abi(v: RVec<AbiParam>) -> m::ConfigParameters {
    v.into_iter()
        .map(|p| m::ConfigParameter {
            name: p.name.into(),
            value: p.value.into(),
            encrypted: p.encrypted,
        })
        .collect()
}

impl From<m::ParameterValidation> for AbiValidation {
    fn from(v: m::ParameterValidation) -> Self {
        match v {
            m::ParameterValidation::Success => Self {
                ok: true,
                parameter: RString::new(),
                message: RString::new(),
            },
            m::ParameterValidation::Failure { parameter, message } => Self {
                ok: false,
                parameter: parameter.into(),
                message: message.into(),
            },
        }
    }
}
impl From<AbiValidation> for m::ParameterValidation {
    fn from(v: AbiValidation) -> Self {
        if v.ok {
            m::ParameterValidation::Success
        } else {
            m::ParameterValidation::Failure {
                parameter: v.parameter.into(),
                message: v.message.into(),
            }
        }
    }
}

impl From<m::Schema> for AbiSchema {
    fn from(s: m::Schema) -> Self {
        Self {
            types: s
                .types
                .into_iter()
                .map(|t| AbiSchemaType {
                    name: t.name.into(),
                    locked: t.locked,
                    attributes: t
                        .attributes
                        .into_iter()
                        .map(|a| AbiSchemaAttribute {
                            name: a.name.into(),
                            data_type: a.data_type.to_wire(),
                            multi_valued: a.multi_valued,
                            operation: a.operation.to_wire(),
                            is_anchor: a.is_anchor,
                            hidden_by_default: a.hidden_by_default,
                        })
                        .collect(),
                    anchor_attributes: t.anchor_attributes.into_iter().map(Into::into).collect(),
                    possible_dn_components: t
                        .possible_dn_components
                        .into_iter()
                        .map(Into::into)
                        .collect(),
                })
                .collect(),
        }
    }
}
impl From<AbiSchema> for m::Schema {
    fn from(s: AbiSchema) -> Self {
        Self {
            types: s
                .types
                .into_iter()
                .map(|t| m::SchemaType {
                    name: t.name.into(),
                    locked: t.locked,
                    attributes: t
                        .attributes
                        .into_iter()
                        .map(|a| m::SchemaAttribute {
                            name: a.name.into(),
                            data_type: m::DataType::from_wire(a.data_type),
                            multi_valued: a.multi_valued,
                            operation: m::AttributeOperation::from_wire(a.operation),
                            is_anchor: a.is_anchor,
                            hidden_by_default: a.hidden_by_default,
                        })
                        .collect(),
                    anchor_attributes: t.anchor_attributes.into_iter().map(Into::into).collect(),
                    possible_dn_components: t
                        .possible_dn_components
                        .into_iter()
                        .map(Into::into)
                        .collect(),
                })
                .collect(),
        }
    }
}

impl From<m::Partition> for AbiPartition {
    fn from(p: m::Partition) -> Self {
        Self {
            id: p.id.into(),
            dn: p.dn.into(),
            name: p.name.into(),
            hidden: p.hidden,
        }
    }
}
impl From<AbiPartition> for m::Partition {
    fn from(p: AbiPartition) -> Self {
        Self {
            id: p.id.into(),
            dn: p.dn.into(),
            name: p.name.into(),
            hidden: p.hidden,
        }
    }
}

impl From<m::Value> for AbiValue {
    fn from(v: m::Value) -> Self {
        match v {
            m::Value::String(s) => AbiValue::String(s.into()),
            m::Value::Integer(i) => AbiValue::Integer(i),
            m::Value::Boolean(b) => AbiValue::Boolean(b),
            m::Value::Binary(b) => AbiValue::Binary(b.into()),
            m::Value::Reference(s) => AbiValue::Reference(s.into()),
        }
    }
}
impl From<AbiValue> for m::Value {
    fn from(v: AbiValue) -> Self {
        match v {
            AbiValue::String(s) => m::Value::String(s.into()),
            AbiValue::Integer(i) => m::Value::Integer(i),
            AbiValue::Boolean(b) => m::Value::Boolean(b),
            AbiValue::Binary(b) => m::Value::Binary(b.into()),
            AbiValue::Reference(s) => m::Value::Reference(s.into()),
        }
    }
}

impl From<m::AnchorAttribute> for AbiAnchor {
    fn from(a: m::AnchorAttribute) -> Self {
        Self {
            name: a.name.into(),
            value: a.value.into(),
        }
    }
}
impl From<AbiAnchor> for m::AnchorAttribute {
    fn from(a: AbiAnchor) -> Self {
        Self {
            name: a.name.into(),
            value: a.value.into(),
        }
    }
}

impl From<m::CsEntryChange> for AbiEntryChange {
    fn from(e: m::CsEntryChange) -> Self {
        Self {
            identifier: e.identifier.into(),
            object_type: e.object_type.into(),
            modification: e.modification.to_wire(),
            dn: e.dn.into(),
            anchor: e.anchor.into_iter().map(Into::into).collect(),
            changes: e
                .changes
                .into_iter()
                .map(|c| AbiAttributeChange {
                    name: c.name.into(),
                    modification: c.modification.to_wire(),
                    values: c
                        .values
                        .into_iter()
                        .map(|v| AbiValueChange {
                            modification: v.modification.to_wire(),
                            value: v.value.into(),
                        })
                        .collect(),
                })
                .collect(),
            error: e
                .error
                .map(|err| AbiEntryError {
                    code: err.code.to_wire(),
                    name: err.name.into(),
                    detail: err.detail.into(),
                })
                .into(),
        }
    }
}
impl From<AbiEntryChange> for m::CsEntryChange {
    fn from(e: AbiEntryChange) -> Self {
        Self {
            identifier: e.identifier.into(),
            object_type: e.object_type.into(),
            modification: m::ObjectModification::from_wire(e.modification),
            dn: e.dn.into(),
            anchor: e.anchor.into_iter().map(Into::into).collect(),
            changes: e
                .changes
                .into_iter()
                .map(|c| m::AttributeChange {
                    name: c.name.into(),
                    modification: m::AttributeModification::from_wire(c.modification),
                    values: c
                        .values
                        .into_iter()
                        .map(|v| m::ValueChange {
                            modification: m::ValueModification::from_wire(v.modification),
                            value: v.value.into(),
                        })
                        .collect(),
                })
                .collect(),
            error: e.error.into_option().map(|err| m::EntryError {
                code: m::ImportErrorCode::from_wire(err.code),
                name: err.name.into(),
                detail: err.detail.into(),
            }),
        }
    }
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

impl From<(crate::page::PageWriter, crate::page::PageStatus)> for AbiPackedPage {
    fn from((page, status): (crate::page::PageWriter, crate::page::PageStatus)) -> Self {
        let (bytes, entries) = page.into_parts();
        Self {
            bytes: bytes.into(),
            entries,
            more_to_import: status.more_to_import,
            custom_data: status.custom_data.into(),
        }
    }
}
impl From<AbiPackedPage> for crate::page::PackedImportPage {
    fn from(p: AbiPackedPage) -> Self {
        Self {
            // The plugin's buffer is kept as it is and read in place.
            entries: crate::page::PackedPage::from_abi(p.bytes, p.entries),
            more_to_import: p.more_to_import,
            custom_data: p.custom_data.into(),
        }
    }
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

impl From<m::PasswordTarget> for AbiPasswordTarget {
    fn from(t: m::PasswordTarget) -> Self {
        Self {
            object_type: t.object_type.into(),
            dn: t.dn.into(),
            anchor: t.anchor.into_iter().map(Into::into).collect(),
        }
    }
}
impl From<AbiPasswordTarget> for m::PasswordTarget {
    fn from(t: AbiPasswordTarget) -> Self {
        Self {
            object_type: t.object_type.into(),
            dn: t.dn.into(),
            anchor: t.anchor.into_iter().map(Into::into).collect(),
        }
    }
}

pub(crate) fn result_to_abi<T, U: From<T>>(r: m::ConnectorResult<T>) -> RResult<U, AbiError> {
    match r {
        Ok(v) => RResult::ROk(U::from(v)),
        Err(e) => RResult::RErr(e.into()),
    }
}

pub(crate) fn result_from_abi<T, U: From<T>>(r: RResult<T, AbiError>) -> m::ConnectorResult<U> {
    match r {
        RResult::ROk(v) => Ok(U::from(v)),
        RResult::RErr(e) => Err(e.into()),
    }
}
