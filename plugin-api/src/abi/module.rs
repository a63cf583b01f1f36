//! The root module every plugin exports, and the two trait objects that cross the boundary:
//! the host's services (handed to every instance) and a connector instance.

#![allow(non_local_definitions)] // #[sabi_trait] expansion on rustc 1.95

use abi_stable::{
    StableAbi, declare_root_module_statics,
    library::RootModule,
    package_version_strings, sabi_trait,
    sabi_types::VersionStrings,
    std_types::{RBox, RResult, RStr, RString, RVec},
};

use super::capabilities::{AbiCapabilities, AbiInfo};
use super::entries::AbiEntryChange;
use super::error::AbiError;
use super::export::{AbiExportResult, AbiOpenExport};
use super::import::{AbiOpenImport, AbiPackedPage};
use super::parameters::{AbiParam, AbiParamDef, AbiValidation};
use super::password::AbiPasswordTarget;
use super::schema::{AbiPartition, AbiSchema};

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
    /// ECMA2's FullObject import (plugin-api 0.6): the objects named by `requests` (object
    /// type, anchors, DN), read whole, packed like an import page.
    fn get_full_objects(
        &mut self,
        requests: RVec<AbiEntryChange>,
    ) -> RResult<AbiPackedPage, AbiError> {
        drop(requests);
        RResult::RErr(AbiError::from(crate::model::ConnectorError::unsupported(
            "FullObject import is not supported",
        )))
    }
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
