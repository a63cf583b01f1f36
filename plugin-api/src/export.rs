//! Plugin-side glue behind [`export_connector!`](crate::export_connector): turns a
//! [`Connector`] into the ABI root module, with every entry point guarded by `catch_unwind`.

use std::sync::{Arc, Once};

use abi_stable::{
    prefix_type::PrefixTypeTrait,
    sabi_trait::TD_Opaque,
    std_types::{RBoxError, RResult, RStr, RString, RVec},
};

use crate::abi::*;
use crate::model::{self as m, ConnectorResult, Wire};
use crate::sdk::{Connector, HostCallbacks, HostServices, guarded, info_of};

/// The host's services, seen from inside the plugin.
struct AbiHost(AbiHostServicesBox);

impl HostCallbacks for AbiHost {
    fn log(&self, level: m::LogLevel, target: &str, message: &str) {
        self.0
            .log(level.to_wire(), RStr::from(target), RStr::from(message))
    }
    fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// A connector instance behind the ABI trait object.
/// The connector, and the byte size of its last import page.
pub(crate) struct Instance<T: Connector>(pub(crate) T, pub(crate) usize);

fn run<T, U: From<T>>(f: impl FnOnce() -> ConnectorResult<T>) -> RResult<U, AbiError> {
    result_to_abi(guarded(f))
}

impl<T: Connector> AbiInstance for Instance<T> {
    fn test_connection(&mut self) -> RResult<(), AbiError> {
        run(|| self.0.test_connection())
    }
    fn open_import(&mut self, request: AbiOpenImport) -> RResult<RString, AbiError> {
        run(|| self.0.open_import(request.into()))
    }
    fn get_import_page(&mut self) -> RResult<AbiPackedPage, AbiError> {
        // The previous page's size is a good guess for this one's.
        let mut page = crate::page::PageWriter::with_capacity(self.1);
        match guarded(|| {
            let status = self.0.get_import_page(&mut page)?;
            page.check().map(|()| status)
        }) {
            Ok(status) => {
                self.1 = page.byte_len();
                RResult::ROk((page, status).into())
            }
            Err(e) => RResult::RErr(e.into()),
        }
    }
    fn close_import(&mut self, reason: u8) -> RResult<RString, AbiError> {
        run(|| self.0.close_import(m::CloseReason::from_wire(reason)))
    }
    fn open_export(&mut self, request: AbiOpenExport) -> RResult<(), AbiError> {
        run(|| self.0.open_export(request.into()))
    }
    fn put_export_entries(
        &mut self,
        entries: RVec<AbiEntryChange>,
    ) -> RResult<RVec<AbiExportResult>, AbiError> {
        match guarded(|| {
            self.0
                .put_export_entries(entries.into_iter().map(Into::into).collect())
        }) {
            Ok(results) => RResult::ROk(results.into_iter().map(Into::into).collect()),
            Err(e) => RResult::RErr(e.into()),
        }
    }
    fn close_export(&mut self, reason: u8) -> RResult<(), AbiError> {
        run(|| self.0.close_export(m::CloseReason::from_wire(reason)))
    }
    fn set_password(
        &mut self,
        target: AbiPasswordTarget,
        password: RString,
        options: u32,
    ) -> RResult<(), AbiError> {
        run(|| {
            self.0.set_password(
                target.into(),
                m::Secret::new(String::from(password)),
                m::PasswordOptions::from_wire(options),
            )
        })
    }
    fn change_password(
        &mut self,
        target: AbiPasswordTarget,
        old: RString,
        new: RString,
    ) -> RResult<(), AbiError> {
        run(|| {
            self.0.change_password(
                target.into(),
                m::Secret::new(String::from(old)),
                m::Secret::new(String::from(new)),
            )
        })
    }
    fn get_full_objects(
        &mut self,
        requests: RVec<AbiEntryChange>,
    ) -> RResult<AbiPackedPage, AbiError> {
        let mut page = crate::page::PageWriter::new();
        let requests: Vec<m::CsEntryChange> = requests.into_iter().map(Into::into).collect();
        match guarded(|| {
            self.0.get_full_objects(&requests, &mut page)?;
            page.check()
        }) {
            Ok(()) => RResult::ROk(
                (
                    page,
                    crate::page::PageStatus {
                        more_to_import: false,
                        custom_data: String::new(),
                    },
                )
                    .into(),
            ),
            Err(e) => RResult::RErr(e.into()),
        }
    }
}

extern "C" fn info<T: Connector>() -> AbiInfo {
    // `info` cannot report an error through the ABI, so a panic becomes a recognisable name.
    match guarded(|| Ok(info_of::<T>())) {
        Ok(i) => i.into(),
        Err(e) => m::ConnectorInfo {
            name: String::new(),
            version: String::new(),
            vendor: String::new(),
            description: e.message,
            api_version: m::PLUGIN_API_VERSION.to_owned(),
        }
        .into(),
    }
}

extern "C" fn capabilities<T: Connector>(
    config: RVec<AbiParam>,
) -> RResult<AbiCapabilities, AbiError> {
    run(|| Ok(T::capabilities(&params_from_abi(config))))
}

fn page_arg(page: u8) -> ConnectorResult<m::ConfigPage> {
    m::ConfigPage::try_from_wire(page)
        .ok_or_else(|| m::ConnectorError::invalid_input(format!("unknown config page {page}")))
}

extern "C" fn config_parameters<T: Connector>(
    config: RVec<AbiParam>,
    page: u8,
    page_number: u32,
) -> RResult<RVec<AbiParamDef>, AbiError> {
    match guarded(|| T::config_parameters(&params_from_abi(config), page_arg(page)?, page_number)) {
        Ok(defs) => RResult::ROk(defs.into_iter().map(Into::into).collect()),
        Err(e) => RResult::RErr(e.into()),
    }
}

extern "C" fn validate_config<T: Connector>(
    config: RVec<AbiParam>,
    page: u8,
    page_number: u32,
) -> RResult<AbiValidation, AbiError> {
    run(|| T::validate_config(&params_from_abi(config), page_arg(page)?, page_number))
}

extern "C" fn schema<T: Connector>(config: RVec<AbiParam>) -> RResult<AbiSchema, AbiError> {
    run(|| T::schema(&params_from_abi(config)))
}

extern "C" fn partitions<T: Connector>(
    config: RVec<AbiParam>,
) -> RResult<RVec<AbiPartition>, AbiError> {
    match guarded(|| T::partitions(&params_from_abi(config))) {
        Ok(p) => RResult::ROk(p.into_iter().map(Into::into).collect()),
        Err(e) => RResult::RErr(e.into()),
    }
}

extern "C" fn create_instance<T: Connector>(
    config: RVec<AbiParam>,
    host: AbiHostServicesBox,
) -> RResult<AbiInstanceBox, AbiError> {
    let services = HostServices::new(Arc::new(AbiHost(host)));
    match guarded(|| T::create(&params_from_abi(config), services)) {
        Ok(instance) => RResult::ROk(AbiInstanceBox::from_value(Instance(instance, 0), TD_Opaque)),
        Err(e) => RResult::RErr(e.into()),
    }
}

/// Builds the root module for `T`. Called once by the code [`export_connector!`] generates,
/// when the host loads the library.
#[doc(hidden)]
pub fn root_module<T: Connector>() -> Result<ConnectorModRef, RBoxError> {
    static QUIET_PANICS: Once = Once::new();
    QUIET_PANICS.call_once(|| {
        // The plugin has its own std and panic hook. Panics are caught and returned to the
        // host as errors (which the host logs), so the default hook's stderr print would only
        // duplicate them outside the host's log.
        std::panic::set_hook(Box::new(|_| {}));
    });
    match guarded(T::initialize) {
        Ok(()) => {}
        Err(e) => {
            return Err(RBoxError::from_fmt(&e.message));
        }
    }
    Ok(ConnectorMod {
        info: info::<T>,
        capabilities: capabilities::<T>,
        config_parameters: config_parameters::<T>,
        validate_config: validate_config::<T>,
        schema: schema::<T>,
        partitions: partitions::<T>,
        create_instance: create_instance::<T>,
    }
    .leak_into_prefix())
}

/// Exports a [`Connector`](crate::sdk::Connector) implementation as an ecma-host plugin.
///
/// Use once per `cdylib` crate: `plugin_api::export_connector!(MyConnector);`
#[macro_export]
macro_rules! export_connector {
    ($connector:ty) => {
        // The symbol abi_stable's loader looks for (what `#[export_root_module]` generates),
        // written out here so that connector crates need no direct abi_stable dependency.
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::__private::LibHeader = {
            extern "C" fn __ecma_host_root_module() -> $crate::__private::RootModuleResult {
                $crate::__private::__call_root_module_loader(|| {
                    $crate::__private::root_module::<$connector>()
                })
            }
            // SAFETY: the constructor returns the `ConnectorModRef` root module that the
            // header is declared for, as abi_stable's own `#[export_root_module]` requires.
            unsafe {
                $crate::__private::LibHeader::from_constructor::<$crate::__private::ConnectorModRef>(
                    __ecma_host_root_module,
                    $crate::__private::CheckTypeLayout::Yes,
                )
            }
        };
    };
}

#[cfg(test)]
mod tests {
    /// `export_connector!` writes the symbol's name out; abi_stable looks it up by this
    /// constant. An abi_stable that renamed it would load no plugin.
    #[test]
    fn the_exported_symbol_is_the_one_abi_stable_looks_up() {
        assert_eq!(
            abi_stable::library::ROOT_MODULE_LOADER_NAME,
            "_1as_0lib_1header_0root_bmodule_bloader"
        );
    }
}
