//! The host's view of a connector: two plain Rust traits, whatever the connector is.
//!
//! A connector loaded from a dynamic library ([`crate::loader`]) and a connector linked into
//! the process ([`InProcessPlugin`], used for tests and tools) look the same to the host.

use std::marker::PhantomData;

use crate::model::*;
use crate::page::{PackedImportPage, PackedPage};
use crate::sdk::{Connector, HostServices, info_of};

/// Module-level calls of one connector (ECMA2's `IMAExtensible2Get*` interfaces).
pub trait ConnectorPlugin: Send + Sync {
    fn info(&self) -> &ConnectorInfo;
    fn capabilities(&self, config: &ConfigParameters) -> ConnectorResult<Capabilities>;
    fn config_parameters(
        &self,
        config: &ConfigParameters,
        page: ConfigPage,
        page_number: u32,
    ) -> ConnectorResult<Vec<ConfigParameterDefinition>>;
    fn validate_config(
        &self,
        config: &ConfigParameters,
        page: ConfigPage,
        page_number: u32,
    ) -> ConnectorResult<ParameterValidation>;
    fn schema(&self, config: &ConfigParameters) -> ConnectorResult<Schema>;
    fn partitions(&self, config: &ConfigParameters) -> ConnectorResult<Vec<Partition>>;
    fn create_instance(
        &self,
        config: &ConfigParameters,
        host: HostServices,
    ) -> ConnectorResult<Box<dyn ConnectorInstance>>;
}

/// Run calls of one connector instance (`IMAExtensible2CallImport`/`CallExport`/`Password`).
pub trait ConnectorInstance: Send {
    fn test_connection(&mut self) -> ConnectorResult<()>;
    fn open_import(&mut self, request: OpenImportRequest) -> ConnectorResult<String>;
    fn get_import_entries(&mut self) -> ConnectorResult<ImportPage>;
    /// The next page as the connector packed it, for reading in place ([`PackedPage`]): what
    /// the host's import uses. The default packs [`Self::get_import_entries`]'s page.
    fn get_import_page(&mut self) -> ConnectorResult<PackedImportPage> {
        self.get_import_entries().map(Into::into)
    }
    fn close_import(&mut self, reason: CloseReason) -> ConnectorResult<String>;
    fn open_export(&mut self, request: OpenExportRequest) -> ConnectorResult<()>;
    fn put_export_entries(
        &mut self,
        entries: Vec<CsEntryChange>,
    ) -> ConnectorResult<Vec<ExportResult>>;
    fn close_export(&mut self, reason: CloseReason) -> ConnectorResult<()>;
    /// One whole export: open, put `entries`, close. A host that exports a batch calls this
    /// rather than the three calls, so that an instance whose calls are expensive to make (a
    /// connector in another process) can do it in one. The default is
    /// [`export_in_three_calls`]; an override must keep its error precedence.
    fn export(
        &mut self,
        request: OpenExportRequest,
        entries: Vec<CsEntryChange>,
    ) -> ConnectorResult<Vec<ExportResult>> {
        export_in_three_calls(self, request, entries)
    }
    fn set_password(
        &mut self,
        target: PasswordTarget,
        password: Secret,
        options: PasswordOptions,
    ) -> ConnectorResult<()>;
    fn change_password(
        &mut self,
        target: PasswordTarget,
        old: Secret,
        new: Secret,
    ) -> ConnectorResult<()>;
    /// ECMA2's FullObject import: the named objects read whole (see
    /// [`Connector::get_full_objects`]). The default: [`ErrorKind::Unsupported`].
    fn get_full_objects(
        &mut self,
        requests: Vec<CsEntryChange>,
    ) -> ConnectorResult<PackedImportPage> {
        drop(requests);
        Err(ConnectorError::unsupported(
            "FullObject import is not supported",
        ))
    }
}

/// [`ConnectorInstance::export`] as `open_export`, `put_export_entries` and `close_export`.
/// `close_export` is called after every successful `open_export`, also when the put failed
/// (the connector releases what it opened either way); the put's error wins over the
/// close's, since it says why the entries were not exported.
pub fn export_in_three_calls<I: ConnectorInstance + ?Sized>(
    instance: &mut I,
    request: OpenExportRequest,
    entries: Vec<CsEntryChange>,
) -> ConnectorResult<Vec<ExportResult>> {
    instance.open_export(request)?;
    let results = instance.put_export_entries(entries);
    let closed = instance.close_export(CloseReason::Normal);
    let results = results?;
    closed?;
    Ok(results)
}

/// A connector linked into the host process, called without the ABI (but with the same
/// panic guard and page checks), for tests and tools: the test harness of a connector crate.
/// `InProcessPlugin::<MyConnector>::new()?` is a [`ConnectorPlugin`] like a loaded library,
/// so a unit test can drive it the way the host does, or hand it to the connector kit
/// (`plugin_api::kit`, feature `kit`).
pub struct InProcessPlugin<T: Connector> {
    info: ConnectorInfo,
    _connector: PhantomData<fn() -> T>,
}

impl<T: Connector> InProcessPlugin<T> {
    pub fn new() -> ConnectorResult<Self> {
        crate::sdk::guarded(T::initialize)?;
        Ok(Self {
            info: crate::sdk::guarded(|| Ok(info_of::<T>()))?,
            _connector: PhantomData,
        })
    }
}

use crate::sdk::guarded;

impl<T: Connector> ConnectorPlugin for InProcessPlugin<T> {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }
    fn capabilities(&self, config: &ConfigParameters) -> ConnectorResult<Capabilities> {
        guarded(|| Ok(T::capabilities(config)))
    }
    fn config_parameters(
        &self,
        config: &ConfigParameters,
        page: ConfigPage,
        page_number: u32,
    ) -> ConnectorResult<Vec<ConfigParameterDefinition>> {
        guarded(|| T::config_parameters(config, page, page_number))
    }
    fn validate_config(
        &self,
        config: &ConfigParameters,
        page: ConfigPage,
        page_number: u32,
    ) -> ConnectorResult<ParameterValidation> {
        guarded(|| T::validate_config(config, page, page_number))
    }
    fn schema(&self, config: &ConfigParameters) -> ConnectorResult<Schema> {
        guarded(|| T::schema(config))
    }
    fn partitions(&self, config: &ConfigParameters) -> ConnectorResult<Vec<Partition>> {
        guarded(|| T::partitions(config))
    }
    fn create_instance(
        &self,
        config: &ConfigParameters,
        host: HostServices,
    ) -> ConnectorResult<Box<dyn ConnectorInstance>> {
        let instance = guarded(|| T::create(config, host))?;
        Ok(Box::new(InProcessInstance(instance)))
    }
}

struct InProcessInstance<T: Connector>(T);

impl<T: Connector> ConnectorInstance for InProcessInstance<T> {
    fn test_connection(&mut self) -> ConnectorResult<()> {
        guarded(|| self.0.test_connection())
    }
    fn open_import(&mut self, request: OpenImportRequest) -> ConnectorResult<String> {
        guarded(|| self.0.open_import(request))
    }
    fn get_import_entries(&mut self) -> ConnectorResult<ImportPage> {
        guarded(|| import_page_of(&mut self.0))
    }
    fn get_import_page(&mut self) -> ConnectorResult<PackedImportPage> {
        guarded(|| packed_import_page_of(&mut self.0))
    }
    fn close_import(&mut self, reason: CloseReason) -> ConnectorResult<String> {
        guarded(|| self.0.close_import(reason))
    }
    fn open_export(&mut self, request: OpenExportRequest) -> ConnectorResult<()> {
        guarded(|| self.0.open_export(request))
    }
    fn put_export_entries(
        &mut self,
        entries: Vec<CsEntryChange>,
    ) -> ConnectorResult<Vec<ExportResult>> {
        guarded(|| self.0.put_export_entries(entries))
    }
    fn close_export(&mut self, reason: CloseReason) -> ConnectorResult<()> {
        guarded(|| self.0.close_export(reason))
    }
    fn set_password(
        &mut self,
        target: PasswordTarget,
        password: Secret,
        options: PasswordOptions,
    ) -> ConnectorResult<()> {
        guarded(|| self.0.set_password(target, password, options))
    }
    fn change_password(
        &mut self,
        target: PasswordTarget,
        old: Secret,
        new: Secret,
    ) -> ConnectorResult<()> {
        guarded(|| self.0.change_password(target, old, new))
    }
    fn get_full_objects(
        &mut self,
        requests: Vec<CsEntryChange>,
    ) -> ConnectorResult<PackedImportPage> {
        guarded(|| {
            let mut page = crate::page::PageWriter::new();
            self.0.get_full_objects(&requests, &mut page)?;
            page.check()?;
            let (bytes, n) = page.into_parts();
            Ok(PackedImportPage {
                entries: PackedPage::new(bytes, n),
                more_to_import: false,
                custom_data: String::new(),
            })
        })
    }
}

/// One import page of a connector through its packed path, decoded: what the host sees
/// whichever of the two import methods the connector implements.
fn import_page_of<T: Connector>(connector: &mut T) -> ConnectorResult<ImportPage> {
    ImportPage::try_from(packed_import_page_of(connector)?)
}

fn packed_import_page_of<T: Connector>(connector: &mut T) -> ConnectorResult<PackedImportPage> {
    let mut page = crate::page::PageWriter::new();
    let status = connector.get_import_page(&mut page)?;
    page.check()?;
    let (bytes, n) = page.into_parts();
    Ok(PackedImportPage {
        entries: PackedPage::new(bytes, n),
        more_to_import: status.more_to_import,
        custom_data: status.custom_data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the calls it gets and fails those it is told to.
    #[derive(Default)]
    struct Recorder {
        calls: Vec<&'static str>,
        fail: Vec<&'static str>,
    }

    impl Recorder {
        fn step(&mut self, call: &'static str) -> ConnectorResult<()> {
            self.calls.push(call);
            if self.fail.contains(&call) {
                Err(ConnectorError::connection(format!("{call} failed")))
            } else {
                Ok(())
            }
        }
    }

    impl ConnectorInstance for Recorder {
        fn test_connection(&mut self) -> ConnectorResult<()> {
            unreachable!()
        }
        fn open_import(&mut self, _: OpenImportRequest) -> ConnectorResult<String> {
            unreachable!()
        }
        fn get_import_entries(&mut self) -> ConnectorResult<ImportPage> {
            unreachable!()
        }
        fn close_import(&mut self, _: CloseReason) -> ConnectorResult<String> {
            unreachable!()
        }
        fn open_export(&mut self, _: OpenExportRequest) -> ConnectorResult<()> {
            self.step("open")
        }
        fn put_export_entries(
            &mut self,
            entries: Vec<CsEntryChange>,
        ) -> ConnectorResult<Vec<ExportResult>> {
            self.step("put")?;
            Ok(entries
                .iter()
                .map(|e| ExportResult::success(&e.identifier))
                .collect())
        }
        fn close_export(&mut self, reason: CloseReason) -> ConnectorResult<()> {
            assert_eq!(reason, CloseReason::Normal);
            self.step("close")
        }
        fn set_password(
            &mut self,
            _: PasswordTarget,
            _: Secret,
            _: PasswordOptions,
        ) -> ConnectorResult<()> {
            unreachable!()
        }
        fn change_password(
            &mut self,
            _: PasswordTarget,
            _: Secret,
            _: Secret,
        ) -> ConnectorResult<()> {
            unreachable!()
        }
    }

    fn export(fail: &[&'static str]) -> (Vec<&'static str>, ConnectorResult<Vec<ExportResult>>) {
        let mut r = Recorder {
            fail: fail.to_vec(),
            ..Recorder::default()
        };
        let request = OpenExportRequest {
            batch_size: 1,
            partition: None,
            schema: Schema::default(),
        };
        let mut entry = CsEntryChange::new("User", ObjectModification::Add);
        entry.identifier = "e1".into();
        let result = r.export(request, vec![entry]);
        (r.calls, result)
    }

    #[test]
    fn the_default_export_closes_what_it_opened_and_the_put_error_wins() {
        let (calls, result) = export(&[]);
        assert_eq!(calls, ["open", "put", "close"]);
        assert_eq!(result.unwrap()[0].identifier, "e1");
        let (calls, result) = export(&["open"]);
        assert_eq!(calls, ["open"], "no close without an open");
        assert_eq!(result.unwrap_err().message, "open failed");
        let (calls, result) = export(&["put", "close"]);
        assert_eq!(calls, ["open", "put", "close"], "closed after a failed put");
        assert_eq!(result.unwrap_err().message, "put failed");
        let (_, result) = export(&["close"]);
        assert_eq!(result.unwrap_err().message, "close failed");
    }
}
