//! Loads connector plugins from dynamic libraries (host side).
//!
//! Each file is first opened with libloading and checked for abi_stable's root module symbol,
//! so that a file that is no library, or a library that is no plugin, gets a one-line reason
//! naming what is missing. Then it is loaded with `lib_header_from_path` + `init_root_module`,
//! never with `RootModule::load_from_file`, which caches one module per interface type in a
//! static and would hand back the first plugin for every later path. Plugins are never
//! unloaded.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use abi_stable::{
    StableAbi,
    abi_stability::abi_checking::{
        AbiInstability, AbiInstabilityErrors, ExpectedFound, check_layout_compatibility,
    },
    library::{
        LibraryError, ROOT_MODULE_LOADER_NAME, ROOT_MODULE_LOADER_NAME_WITH_NUL, RootModuleError,
        lib_header_from_path,
    },
    sabi_trait::TD_Opaque,
    std_types::{RStr, RString},
    type_layout::TLFieldOrFunction,
};

use crate::abi::*;
use crate::host::{ConnectorInstance, ConnectorPlugin};
use crate::model::*;
use crate::page::PackedImportPage;
use crate::sdk::{HostCallbacks, HostServices};

/// Why a file could not be loaded as a plugin. `Display` is the one-line operator message.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not a loadable library: {0}")]
    NotALibrary(String),
    #[error("not an ecma-host plugin: no {ROOT_MODULE_LOADER_NAME} symbol")]
    NotAPlugin,
    #[error(
        "incompatible plugin-api version: the plugin was built against {found}, this host needs {expected} (rebuild the plugin against plugin-api {expected})"
    )]
    IncompatibleVersion { expected: String, found: String },
    #[error(
        "plugin-api layout mismatch: {summary} (rebuild the plugin against this host's plugin-api)"
    )]
    LayoutMismatch {
        summary: String,
        /// The full abi_stable report (hundreds of lines); log it at debug level.
        full: String,
    },
    #[error("built with an incompatible abi_stable version")]
    IncompatibleAbiStable,
    #[error("plugin initialisation failed: {0}")]
    InitFailed(String),
    #[error("plugin initialisation panicked")]
    InitPanicked,
    #[error("{0}")]
    Other(String),
}

impl From<LibraryError> for LoadError {
    fn from(e: LibraryError) -> Self {
        match e {
            LibraryError::OpenError { err, .. } => LoadError::NotALibrary(err.to_string()),
            LibraryError::GetSymbolError { .. } => LoadError::NotAPlugin,
            LibraryError::IncompatibleVersionNumber {
                expected_version,
                actual_version,
                ..
            } => LoadError::IncompatibleVersion {
                expected: expected_version.to_string(),
                found: actual_version.to_string(),
            },
            LibraryError::AbiInstability(err) => {
                let full = format!("{err:#}");
                let summary = first_error_line(&full);
                LoadError::LayoutMismatch { summary, full }
            }
            LibraryError::InvalidAbiHeader(_) | LibraryError::InvalidCAbi { .. } => {
                LoadError::IncompatibleAbiStable
            }
            LibraryError::RootModule { err, .. } => match err {
                RootModuleError::Returned(e) => LoadError::InitFailed(e.to_string()),
                RootModuleError::Unwound => LoadError::InitPanicked,
            },
            other => LoadError::Other(other.to_string()),
        }
    }
}

/// The first difference abi_stable found, in one line: where (the type and field, or
/// function, holding it, as `Type.field`) and what (`mismatched type: expected u32, found
/// u64`). The full report is hundreds of lines of both layouts.
fn layout_summary(errors: &AbiInstabilityErrors) -> Option<String> {
    // Entries without a difference of their own only mark the path to one.
    let first = errors.errors.iter().find(|e| !e.errs.is_empty())?;
    let what = describe_instability(&first.errs[0]);
    // The stack trace is the path of fields from the root module down to the difference;
    // its last element is the field whose type differs, the one before it the type
    // holding that field (the root module when the path has one element).
    let place = match first.stack_trace.as_slice() {
        [] => errors.interface.full_type().to_string(),
        [.., field] => {
            let holder = match first.stack_trace.as_slice() {
                [.., parent, _] => field_type(&parent.expected),
                _ => errors.interface.full_type().to_string(),
            };
            format!("{holder}.{}", field_name(&field.expected))
        }
    };
    Some(format!("{place}: {what}"))
}

fn field_name(f: &TLFieldOrFunction) -> String {
    match f {
        TLFieldOrFunction::Field(f) => f.name().to_owned(),
        TLFieldOrFunction::Function(f) => format!("{}()", f.name),
    }
}

fn field_type(f: &TLFieldOrFunction) -> String {
    match f {
        TLFieldOrFunction::Field(f) => f.layout().full_type().to_string(),
        TLFieldOrFunction::Function(f) => format!("fn {}", f.name),
    }
}

/// One difference, as abi_stable's report words it, on one line.
fn describe_instability(e: &AbiInstability) -> String {
    use AbiInstability as A;
    fn pair<T: std::fmt::Display>(what: &str, v: &ExpectedFound<T>) -> String {
        format!("{what}: expected {}, found {}", v.expected, v.found)
    }
    fn debug<T: std::fmt::Debug>(what: &str, v: &ExpectedFound<T>) -> String {
        format!("{what}: expected {:?}, found {:?}", v.expected, v.found)
    }
    match e {
        A::Name(v) => pair("mismatched type", v),
        A::Package(v) => pair("mismatched package", v),
        A::PackageVersion(v) => pair("incompatible package versions", v),
        A::MismatchedPrefixSize(v) => pair("prefix types have a different prefix", v),
        A::Size(v) => pair("incompatible type size", v),
        A::Alignment(v) => pair("incompatible type alignment", v),
        A::FieldCountMismatch(v) => pair("too many fields", v),
        A::TooManyVariants(v) => pair("too many variants", v),
        A::UnexpectedField(v) => format!(
            "unexpected field: expected {}, found {}",
            v.expected.name(),
            v.found.name()
        ),
        A::MismatchedPrimitive(v) => debug("incompatible primitive", v),
        A::UnexpectedVariant(v) => debug("unexpected variant", v),
        // The rest are rare and wordy in abi_stable's own words: its Debug, flattened.
        other => format!("{other:?}")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Without abi_stable's structured errors: the report's first line naming a mismatch
/// ("Error:too many fields"), which is not its first line.
fn first_error_line(full: &str) -> String {
    full.lines()
        .map(str::trim)
        .find(|l| l.starts_with("Error"))
        .or_else(|| full.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("layout differs")
        .to_owned()
}

/// A connector loaded from a dynamic library.
pub struct LoadedPlugin {
    path: PathBuf,
    info: ConnectorInfo,
    module: ConnectorModRef,
}

impl LoadedPlugin {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens `path` as a dynamic library and checks that it exports abi_stable's root module
/// symbol (what [`export_connector!`](crate::export_connector) defines), without reading it.
fn open_plugin_library(path: &Path) -> Result<libloading::Library, LoadError> {
    // SAFETY: opening a library runs its initialisers; abi_stable's load right after does the
    // same (with the same libloading and flags), and loading plugins is this module's purpose:
    // the host loads only files an operator put in its plugin folders.
    let library = unsafe { libloading::Library::new(path) }
        .map_err(|e| LoadError::NotALibrary(e.to_string()))?;
    // SAFETY: the symbol's address is only looked up, never read through `*const u8`.
    match unsafe { library.get::<*const u8>(ROOT_MODULE_LOADER_NAME_WITH_NUL.as_bytes()) } {
        Ok(_) => Ok(library),
        Err(_) => Err(LoadError::NotAPlugin),
    }
}

/// Loads one plugin file.
pub fn load_plugin(path: &Path) -> Result<LoadedPlugin, LoadError> {
    // Kept open until abi_stable holds the library too, so that it is not unloaded and its
    // initialisers run once.
    let _checked = open_plugin_library(path)?;
    let header = lib_header_from_path(path)?;
    let module = match header.init_root_module::<ConnectorModRef>() {
        Ok(module) => module,
        Err(LibraryError::AbiInstability(report)) => {
            // abi_stable hands its report back as text only (formatted, so that it outlives
            // the library); the layouts are checked again for the structured errors, which
            // say where the difference is.
            let full = format!("{report:#}");
            let summary = header
                .layout()
                .and_then(|found| {
                    check_layout_compatibility(<ConnectorModRef as StableAbi>::LAYOUT, found).err()
                })
                .and_then(|errors| layout_summary(&errors))
                .unwrap_or_else(|| first_error_line(&full));
            return Err(LoadError::LayoutMismatch { summary, full });
        }
        Err(e) => return Err(e.into()),
    };
    let info: ConnectorInfo = (module.info())().into();
    if info.name.trim().is_empty() {
        return Err(LoadError::InitFailed(format!(
            "the connector reports no name ({})",
            info.description
        )));
    }
    Ok(LoadedPlugin {
        path: path.to_owned(),
        info,
        module,
    })
}

impl ConnectorPlugin for LoadedPlugin {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }
    fn capabilities(&self, config: &ConfigParameters) -> ConnectorResult<Capabilities> {
        result_from_abi((self.module.capabilities())(params_to_abi(config)))
    }
    fn config_parameters(
        &self,
        config: &ConfigParameters,
        page: ConfigPage,
        page_number: u32,
    ) -> ConnectorResult<Vec<ConfigParameterDefinition>> {
        let defs =
            (self.module.config_parameters())(params_to_abi(config), page.to_wire(), page_number)
                .into_result()
                .map_err(ConnectorError::from)?;
        Ok(defs.into_iter().map(Into::into).collect())
    }
    fn validate_config(
        &self,
        config: &ConfigParameters,
        page: ConfigPage,
        page_number: u32,
    ) -> ConnectorResult<ParameterValidation> {
        result_from_abi((self.module.validate_config())(
            params_to_abi(config),
            page.to_wire(),
            page_number,
        ))
    }
    fn schema(&self, config: &ConfigParameters) -> ConnectorResult<Schema> {
        result_from_abi((self.module.schema())(params_to_abi(config)))
    }
    fn partitions(&self, config: &ConfigParameters) -> ConnectorResult<Vec<Partition>> {
        let parts = (self.module.partitions())(params_to_abi(config))
            .into_result()
            .map_err(ConnectorError::from)?;
        Ok(parts.into_iter().map(Into::into).collect())
    }
    fn create_instance(
        &self,
        config: &ConfigParameters,
        host: HostServices,
    ) -> ConnectorResult<Box<dyn ConnectorInstance>> {
        let bridge = AbiHostServicesBox::from_value(HostBridge(host.callbacks()), TD_Opaque);
        let instance = (self.module.create_instance())(params_to_abi(config), bridge)
            .into_result()
            .map_err(ConnectorError::from)?;
        Ok(Box::new(LoadedInstance(instance)))
    }
}

/// The host's callbacks behind the ABI trait object handed to plugins.
struct HostBridge(Arc<dyn HostCallbacks>);

impl AbiHostServices for HostBridge {
    fn log(&self, level: u8, target: RStr<'_>, message: RStr<'_>) {
        self.0.log(
            LogLevel::from_wire(level),
            target.as_str(),
            message.as_str(),
        )
    }
    fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

struct LoadedInstance(AbiInstanceBox);

impl ConnectorInstance for LoadedInstance {
    fn test_connection(&mut self) -> ConnectorResult<()> {
        result_from_abi(self.0.test_connection())
    }
    fn open_import(&mut self, request: OpenImportRequest) -> ConnectorResult<String> {
        result_from_abi::<RString, String>(self.0.open_import(request.into()))
    }
    fn get_import_entries(&mut self) -> ConnectorResult<ImportPage> {
        ImportPage::try_from(self.get_import_page()?)
    }
    fn get_import_page(&mut self) -> ConnectorResult<PackedImportPage> {
        let packed = self
            .0
            .get_import_page()
            .into_result()
            .map_err(ConnectorError::from)?;
        Ok(packed.into())
    }
    fn close_import(&mut self, reason: CloseReason) -> ConnectorResult<String> {
        result_from_abi::<RString, String>(self.0.close_import(reason.to_wire()))
    }
    fn open_export(&mut self, request: OpenExportRequest) -> ConnectorResult<()> {
        result_from_abi(self.0.open_export(request.into()))
    }
    fn put_export_entries(
        &mut self,
        entries: Vec<CsEntryChange>,
    ) -> ConnectorResult<Vec<ExportResult>> {
        let results = self
            .0
            .put_export_entries(entries.into_iter().map(Into::into).collect())
            .into_result()
            .map_err(ConnectorError::from)?;
        Ok(results.into_iter().map(Into::into).collect())
    }
    fn close_export(&mut self, reason: CloseReason) -> ConnectorResult<()> {
        result_from_abi(self.0.close_export(reason.to_wire()))
    }
    fn set_password(
        &mut self,
        target: PasswordTarget,
        password: Secret,
        options: PasswordOptions,
    ) -> ConnectorResult<()> {
        result_from_abi(self.0.set_password(
            target.into(),
            RString::from(password.expose()),
            options.to_wire(),
        ))
    }
    fn change_password(
        &mut self,
        target: PasswordTarget,
        old: Secret,
        new: Secret,
    ) -> ConnectorResult<()> {
        result_from_abi(self.0.change_password(
            target.into(),
            RString::from(old.expose()),
            RString::from(new.expose()),
        ))
    }
    fn get_full_objects(
        &mut self,
        requests: Vec<CsEntryChange>,
    ) -> ConnectorResult<PackedImportPage> {
        let packed = self
            .0
            .get_full_objects(requests.into_iter().map(Into::into).collect())
            .into_result()
            .map_err(ConnectorError::from)?;
        Ok(packed.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_no_library_is_refused_in_one_line() {
        let path =
            std::env::temp_dir().join(format!("plugin-api-garbage-{}.so", std::process::id()));
        std::fs::write(&path, b"\x7fELF but not really").unwrap();
        let err = load_plugin(&path).err().expect("garbage loaded");
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(err, LoadError::NotALibrary(_)), "{err:?}");
        let message = err.to_string();
        assert!(message.starts_with("not a loadable library: "), "{message}");
        assert!(!message.contains('\n'), "{message}");
    }

    #[test]
    fn a_library_without_the_root_module_is_named_for_the_symbol_it_lacks() {
        assert_eq!(
            LoadError::NotAPlugin.to_string(),
            "not an ecma-host plugin: no _1as_0lib_1header_0root_bmodule_bloader symbol"
        );
    }

    fn test_info() -> ConnectorInfo {
        ConnectorInfo {
            name: "test".into(),
            version: "0".into(),
            vendor: String::new(),
            description: String::new(),
            api_version: String::new(),
        }
    }

    /// A connector that holds the objects named "present" and answers FullObject requests.
    struct Holder;

    impl crate::sdk::Connector for Holder {
        fn info() -> ConnectorInfo {
            test_info()
        }
        fn schema(_: &ConfigParameters) -> ConnectorResult<Schema> {
            Ok(Schema::default())
        }
        fn create(_: &ConfigParameters, _: HostServices) -> ConnectorResult<Self> {
            Ok(Self)
        }
        fn test_connection(&mut self) -> ConnectorResult<()> {
            Ok(())
        }
        fn get_full_objects(
            &mut self,
            requests: &[CsEntryChange],
            page: &mut crate::page::PageWriter,
        ) -> ConnectorResult<()> {
            for r in requests {
                let anchor = r.anchor[0].value.as_text();
                let found = anchor == "present";
                let mut e = CsEntryChange::new(
                    &r.object_type,
                    if found {
                        ObjectModification::Add
                    } else {
                        ObjectModification::Delete
                    },
                )
                .with_anchor("id", anchor);
                if found {
                    e = e.with_change(AttributeChange::add(
                        "mail",
                        [Value::String("p@example.org".into())],
                    ));
                }
                page.push(&e);
            }
            Ok(())
        }
    }

    /// A connector without FullObject import.
    struct Plain;

    impl crate::sdk::Connector for Plain {
        fn info() -> ConnectorInfo {
            test_info()
        }
        fn schema(_: &ConfigParameters) -> ConnectorResult<Schema> {
            Ok(Schema::default())
        }
        fn create(_: &ConfigParameters, _: HostServices) -> ConnectorResult<Self> {
            Ok(Self)
        }
        fn test_connection(&mut self) -> ConnectorResult<()> {
            Ok(())
        }
    }

    fn across_the_abi<T: crate::sdk::Connector>(c: T) -> LoadedInstance {
        LoadedInstance(AbiInstanceBox::from_value(
            crate::export::Instance(c, 0),
            TD_Opaque,
        ))
    }

    #[test]
    fn full_object_requests_and_their_answers_cross_the_abi() {
        let requests = vec![
            CsEntryChange::new("user", ObjectModification::None).with_anchor("id", "present"),
            CsEntryChange::new("user", ObjectModification::None).with_anchor("id", "gone"),
        ];
        let page = across_the_abi(Holder).get_full_objects(requests).unwrap();
        let got = page.entries.to_entries().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].modification, got[0].anchor[0].value.as_text()),
            (ObjectModification::Add, "present".to_owned())
        );
        assert_eq!(got[0].changes[0].name, "mail");
        assert_eq!(
            (got[1].modification, got[1].anchor[0].value.as_text()),
            (ObjectModification::Delete, "gone".to_owned())
        );
        assert!(!page.more_to_import);
    }

    /// A connector that caches its `NameId`s across pages (the mistake small tests miss).
    struct Caching(Option<crate::page::NameId>, u32);

    impl crate::sdk::Connector for Caching {
        fn info() -> ConnectorInfo {
            test_info()
        }
        fn schema(_: &ConfigParameters) -> ConnectorResult<Schema> {
            Ok(Schema::default())
        }
        fn create(_: &ConfigParameters, _: HostServices) -> ConnectorResult<Self> {
            Ok(Self(None, 0))
        }
        fn test_connection(&mut self) -> ConnectorResult<()> {
            Ok(())
        }
        fn get_import_page(
            &mut self,
            page: &mut crate::page::PageWriter,
        ) -> ConnectorResult<crate::page::PageStatus> {
            let mail = *self.0.get_or_insert_with(|| page.name("mail"));
            self.1 += 1;
            page.entry("user", ObjectModification::Add, "", "x")
                .add(mail, crate::page::ValueRef::Integer(self.1.into()));
            Ok(crate::page::PageStatus {
                more_to_import: true,
                custom_data: String::new(),
            })
        }
    }

    #[test]
    fn a_name_id_kept_from_another_page_is_an_error_across_the_abi() {
        let mut instance = across_the_abi(Caching(None, 0));
        let first = instance.get_import_page().unwrap();
        assert_eq!(
            first.entries.to_entries().unwrap()[0].changes[0].name,
            "mail"
        );
        let err = instance.get_import_page().unwrap_err();
        assert_eq!(err.kind, ErrorKind::Internal);
        assert!(
            err.message.contains("NameId from another page"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_connector_without_full_object_import_says_unsupported() {
        let err = across_the_abi(Plain)
            .get_full_objects(vec![CsEntryChange::new("user", ObjectModification::None)])
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported);
    }
}
