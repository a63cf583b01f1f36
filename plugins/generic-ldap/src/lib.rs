//! Generic LDAP connector for ecma-host: OpenLDAP, 389 DS, OpenDJ, AD LDS and other LDAPv3
//! directories, in the spirit of Microsoft's Generic LDAP connector.
//!
//! * Connectivity: LDAP, StartTLS and LDAPS with certificate verification (system roots or a
//!   CA file), ldapi; anonymous, simple and SASL EXTERNAL binds; reconnect on demand.
//! * Root DSE at startup: naming contexts (partitions), controls (paging, permissive modify),
//!   extensions (Password Modify), vendor (anchor and delta strategy).
//! * Schema from the subschema entry: structural classes as object types.
//! * Full import streamed with paged results; delta import from accesslog, content sync
//!   (RFC 4533), changelog or modifyTimestamp; FullObject import (named objects read again).
//!   Export of adds, modifies, renames, deletes; passwords, also inside the add (first pass).
//!
//! See README.md for parameters and limitations.

// Everything but the connector type is internal: the host reaches the connector only
// through the plugin ABI (`export_connector!` below).
mod conn;
mod dn;
mod entry;
mod export;
mod first_pass;
mod import;
mod password;
mod password_value;
mod schema;
mod search;
mod settings;

use std::collections::HashMap;
use std::sync::Arc;

use plugin_api::prelude::*;

use crate::conn::{LResult, LdapFailure, OID_PAGED_RESULTS, RootDse, Session, Vendor};
use crate::export::{AnchorTraits, ExportContext};
use crate::import::{
    DeltaImport, DeltaStrategy, FullObjectScope, ImportPlan, PagedImport, StreamedImport, Watermark,
};
use crate::settings::{AnchorChoice, DeltaChoice, Settings};

/// The anchor attribute for these settings and server; None = DN as anchor.
fn anchor_for(settings: &Settings, root: Option<&RootDse>) -> Option<String> {
    match &settings.anchor {
        AnchorChoice::Attribute(a) => Some(a.clone()),
        AnchorChoice::Dn => None,
        AnchorChoice::Auto => root
            .and_then(|r| r.vendor.default_anchor())
            .map(str::to_owned),
    }
}

/// Containers to search: configured, else the partition, else the naming contexts (minus
/// the change logs).
fn bases_for(settings: &Settings, root: &RootDse, partition: Option<&Partition>) -> Vec<String> {
    if !settings.bases.is_empty() {
        return match partition {
            Some(p) => settings
                .bases
                .iter()
                .filter(|b| dn::is_under(b, &p.dn))
                .cloned()
                .collect(),
            None => settings.bases.clone(),
        };
    }
    if let Some(p) = partition {
        return vec![p.dn.clone()];
    }
    data_contexts(settings, root)
}

fn data_contexts(settings: &Settings, root: &RootDse) -> Vec<String> {
    root.naming_contexts
        .iter()
        .filter(|n| {
            let n = dn::normalize(n);
            n != dn::normalize(&settings.accesslog_dn)
                && n != dn::normalize(&settings.changelog_dn)
                && n != "cn=config"
                && n != "o=netscaperoot"
        })
        .cloned()
        .collect()
}

/// The connector's schema as the directory's subschema gives it.
fn read_schema(session: &mut Session) -> ConnectorResult<Schema> {
    let settings = session.settings.clone();
    let root = session.root()?.clone();
    let url = settings.url();
    let dir = schema::DirectorySchema::read(session.conn()?, &root.subschema, &url)?;
    let anchor = anchor_for(&settings, Some(&root));
    schema::build(
        &dir,
        &schema::SchemaOptions {
            object_types: &settings.object_types,
            aux_classes: &settings.aux_classes,
            anchor: anchor.as_deref(),
            operational: settings.operational,
            password_attr: &settings.password_attr,
        },
    )
}

fn connect_root(config: &ConfigParameters) -> ConnectorResult<(Arc<Settings>, Session)> {
    let settings = Arc::new(Settings::from_config(config)?);
    let mut session = Session::new(settings.clone(), HostServices::detached());
    session.conn()?;
    Ok((settings, session))
}

enum ImportRun {
    /// Paged results: same thread, one search per server page.
    Paged {
        run: PagedImport,
        watermark: Watermark,
    },
    /// No paging on the server: one streamed search on a producer thread.
    Streamed {
        run: StreamedImport,
        watermark: Watermark,
    },
    Delta {
        run: DeltaImport,
        watermark: Watermark,
    },
}

impl ImportRun {
    fn watermark(&self) -> &Watermark {
        match self {
            ImportRun::Paged { watermark, .. }
            | ImportRun::Streamed { watermark, .. }
            | ImportRun::Delta { watermark, .. } => watermark,
        }
    }
}

/// The connector instance.
pub struct GenericLdap {
    session: Session,
    import: Option<ImportRun>,
    import_page_size: usize,
    export: Option<ExportContext>,
    /// The object types as the host last described them (its choice of attributes), by
    /// lower-cased name: a FullObject answer converts with them, as the type's import does.
    host_types: HashMap<String, SchemaType>,
    /// The directory's types, read once when a FullObject request names a type the host has
    /// not described yet.
    directory_types: Option<Vec<SchemaType>>,
}

impl GenericLdap {
    fn anchor(&mut self) -> LResult<Option<String>> {
        let root = match self.session.settings.anchor {
            AnchorChoice::Auto => Some(self.session.root()?.clone()),
            _ => None,
        };
        Ok(anchor_for(&self.session.settings, root.as_ref()))
    }

    fn delta_strategy(&mut self) -> LResult<Option<DeltaStrategy>> {
        delta_strategy(&mut self.session)
    }
}

/// The delta strategy these settings choose on this server (`Auto` asks the server).
fn delta_strategy(session: &mut Session) -> LResult<Option<DeltaStrategy>> {
    let settings = session.settings.clone();
    let exists = |s: &mut Session, base: &str| -> LResult<bool> {
        match search::search_all(
            s,
            base,
            ldap3::Scope::Base,
            "(objectClass=*)",
            &["1.1".into()],
        ) {
            Ok(v) => Ok(!v.is_empty()),
            Err(LdapFailure::Result { rc: 32 | 50, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    };
    Ok(match settings.delta {
        DeltaChoice::Auto => {
            let root = session.root()?.clone();
            // Content sync reports deletes as entry UUIDs, so it needs them as the anchor.
            let uuid_anchor = anchor_for(&settings, Some(&root))
                .is_some_and(|a| a.eq_ignore_ascii_case("entryUUID"));
            let s = session;
            Some(match root.vendor {
                Vendor::OpenLdap if exists(s, &settings.accesslog_dn)? => DeltaStrategy::Accesslog,
                Vendor::Ds389 | Vendor::OpenDj if exists(s, &settings.changelog_dn)? => {
                    DeltaStrategy::Changelog
                }
                // 389 DS's sync UUIDs are nsUniqueIds, never entryUUIDs: OpenLDAP only.
                Vendor::OpenLdap
                    if uuid_anchor && root.supports_control(conn::OID_SYNC_REQUEST) =>
                {
                    DeltaStrategy::ContentSync
                }
                _ => DeltaStrategy::ModifyTimestamp,
            })
        }
        chosen => explicit_delta_strategy(chosen),
    })
}

/// The strategy a choice other than `Auto` names (`None`: no delta import).
fn explicit_delta_strategy(choice: DeltaChoice) -> Option<DeltaStrategy> {
    match choice {
        DeltaChoice::Accesslog => Some(DeltaStrategy::Accesslog),
        DeltaChoice::ContentSync => Some(DeltaStrategy::ContentSync),
        DeltaChoice::Changelog => Some(DeltaStrategy::Changelog),
        DeltaChoice::ModifyTimestamp => Some(DeltaStrategy::ModifyTimestamp),
        DeltaChoice::None | DeltaChoice::Auto => None,
    }
}

/// A page of a full import. With the modifyTimestamp strategy the watermark is the newest
/// timestamp the import saw, known once the last page is out.
fn full_import_page(
    entries: Vec<CsEntryChange>,
    finished: bool,
    max_modify_timestamp: Option<&str>,
    watermark: &mut Watermark,
) -> ImportPage {
    if finished
        && watermark.strategy == DeltaStrategy::ModifyTimestamp
        && let Some(ts) = max_modify_timestamp
    {
        watermark.value = ts.to_owned();
    }
    ImportPage {
        entries,
        more_to_import: !finished,
        custom_data: watermark.encode(),
    }
}

impl Connector for GenericLdap {
    fn info() -> ConnectorInfo {
        ConnectorInfo {
            name: "generic-ldap".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "ecma-host".into(),
            description: "Generic LDAP v3 connector (OpenLDAP, 389 DS, OpenDJ, AD LDS)".into(),
            api_version: String::new(),
        }
    }

    fn capabilities(config: &ConfigParameters) -> Capabilities {
        let settings = Settings::from_config(config).ok();
        // `Auto` choices ask the server (one connection for both).
        let mut server = settings
            .as_ref()
            .filter(|s| s.anchor == AnchorChoice::Auto || s.delta == DeltaChoice::Auto)
            .and_then(|_| connect_root(config).ok());
        let dn_anchor = match settings.as_ref().map(|s| &s.anchor) {
            Some(AnchorChoice::Dn) => true,
            // Unknown vendors use the DN.
            Some(AnchorChoice::Auto) => server.as_mut().is_some_and(|(s, session)| {
                let root = session.root().ok().cloned();
                anchor_for(s, root.as_ref()).is_none()
            }),
            _ => false,
        };
        // A server that cannot be asked: deletes unseen, so the host keeps reconciling.
        let delta_sees_deletes = match settings.as_ref().map(|s| s.delta) {
            Some(DeltaChoice::Auto) => server
                .as_mut()
                .and_then(|(_, session)| delta_strategy(session).ok().flatten())
                .is_some_and(DeltaStrategy::sees_deletes),
            Some(choice) => {
                explicit_delta_strategy(choice).is_some_and(DeltaStrategy::sees_deletes)
            }
            None => false,
        };
        Capabilities {
            distinguished_name_style: DnStyle::Ldap,
            object_rename: true,
            delta_import: true,
            concurrent_operation: false,
            export_type: ExportType::AttributeUpdate,
            is_dn_as_anchor: dn_anchor,
            // The initial password goes into the add itself when the password is an
            // attribute of the entry (not with Password Modify, an operation of its own).
            export_password_in_first_pass: settings.as_ref().is_some_and(first_pass::supported),
            // Claimed explicitly: the SDK's default claims nothing.
            support_import: true,
            support_export: true,
            support_password: true,
            support_partitions: true,
            delete_add_as_replace: true,
            support_hierarchy: false,
            import_default_page_size: 500,
            import_max_page_size: 10_000,
            export_default_batch_size: 100,
            export_max_batch_size: 1_000,
            delta_sees_deletes,
            ..Capabilities::default()
        }
    }

    fn config_parameters(
        _config: &ConfigParameters,
        page: ConfigPage,
        _page_number: u32,
    ) -> ConnectorResult<Vec<ConfigParameterDefinition>> {
        Ok(settings::definitions(page))
    }

    fn validate_config(
        config: &ConfigParameters,
        page: ConfigPage,
        _page_number: u32,
    ) -> ConnectorResult<ParameterValidation> {
        if let Err(e) = Settings::from_config(config) {
            return Ok(ParameterValidation::Failure {
                parameter: String::new(),
                message: e.message,
            });
        }
        if page == ConfigPage::Connectivity
            && let Err(e) = connect_root(config)
        {
            return Ok(ParameterValidation::Failure {
                parameter: settings::P_HOST.into(),
                message: e.message,
            });
        }
        Ok(ParameterValidation::Success)
    }

    fn schema(config: &ConfigParameters) -> ConnectorResult<Schema> {
        let (_, mut session) = connect_root(config)?;
        read_schema(&mut session)
    }

    fn partitions(config: &ConfigParameters) -> ConnectorResult<Vec<Partition>> {
        let (settings, mut session) = connect_root(config)?;
        let root = session.root()?.clone();
        Ok(data_contexts(&settings, &root)
            .into_iter()
            .map(|dn| Partition {
                id: dn.clone(),
                name: dn.clone(),
                dn,
                hidden: false,
            })
            .collect())
    }

    fn create(config: &ConfigParameters, host: HostServices) -> ConnectorResult<Self> {
        let settings = Arc::new(Settings::from_config(config)?);
        if let Some(warning) = settings.clear_text_bind_warning() {
            host.warn(&warning);
        }
        if !settings.verify && settings.security != settings::Security::None {
            host.warn(&format!(
                "'{}' is off: the server certificate of {} will not be verified",
                settings::P_VERIFY,
                settings.url()
            ));
        }
        let mut session = Session::new(settings, host.clone());
        // Read the Root DSE now; a server that is down is not fatal here (every call
        // reconnects), but it is worth a warning.
        let url = session.url();
        match session.root() {
            Ok(root) => host.info(&format!(
                "connected to {url} ({:?} {}); naming contexts {:?}",
                root.vendor, root.vendor_name, root.naming_contexts
            )),
            Err(e) => host.warn(&format!("cannot read the Root DSE yet: {e}")),
        }
        Ok(Self {
            session,
            import: None,
            import_page_size: 500,
            export: None,
            host_types: HashMap::new(),
            directory_types: None,
        })
    }

    fn test_connection(&mut self) -> ConnectorResult<()> {
        // A fresh connection proves reachability and credentials now.
        let settings = self.session.settings.clone();
        let mut c = conn::connect(&settings, &self.session.host)?;
        conn::read_root_dse(&mut c, &settings)?;
        let _ = c.unbind();
        Ok(())
    }

    fn open_import(&mut self, request: OpenImportRequest) -> ConnectorResult<String> {
        if let Some(ImportRun::Streamed { mut run, .. }) = self.import.take() {
            run.stop();
        }
        self.remember_types(&request.schema);
        let settings = self.session.settings.clone();
        let root = self.session.root()?.clone();
        let anchor = self.anchor()?;
        let bases = bases_for(&settings, &root, request.partition.as_ref());
        let plan = ImportPlan::new(&settings, &request.schema, anchor, bases)?;
        self.import_page_size = request.page_size.clamp(1, 10_000) as usize;
        let run = match request.import_type {
            ImportType::Full => self.start_full_import(plan, settings, &root)?,
            ImportType::Delta => self.run_delta_import(&plan, &request.custom_data)?,
        };
        let encoded = run.watermark().encode();
        self.import = Some(run);
        Ok(encoded)
    }

    fn get_import_entries(&mut self) -> ConnectorResult<ImportPage> {
        let page = self.import_page_size;
        let host = self.session.host.clone();
        match self.import.as_mut() {
            None => Err(ConnectorError::invalid_input("no import is open")),
            Some(ImportRun::Paged { run, watermark }) => {
                let entries = run.next_page(page)?;
                Ok(full_import_page(
                    entries,
                    run.finished(),
                    run.max_modify_timestamp.as_deref(),
                    watermark,
                ))
            }
            Some(ImportRun::Streamed { run, watermark }) => {
                let entries = run.next_page(page, &host)?;
                Ok(full_import_page(
                    entries,
                    run.finished(),
                    run.max_modify_timestamp.as_deref(),
                    watermark,
                ))
            }
            Some(ImportRun::Delta { run, watermark }) => {
                host.check_cancelled()?;
                let n = page.min(run.entries.len());
                let entries: Vec<CsEntryChange> = run.entries.drain(..n).collect();
                Ok(ImportPage {
                    entries,
                    more_to_import: !run.entries.is_empty(),
                    custom_data: watermark.encode(),
                })
            }
        }
    }

    fn close_import(&mut self, _reason: CloseReason) -> ConnectorResult<String> {
        Ok(match self.import.take() {
            Some(ImportRun::Streamed { mut run, watermark }) => {
                run.stop();
                watermark.encode()
            }
            Some(ImportRun::Delta { watermark, .. }) | Some(ImportRun::Paged { watermark, .. }) => {
                watermark.encode()
            }
            None => String::new(),
        })
    }

    fn open_export(&mut self, request: OpenExportRequest) -> ConnectorResult<()> {
        self.remember_types(&request.schema);
        self.export = Some(self.export_context(request.partition.as_ref())?);
        Ok(())
    }

    fn put_export_entries(
        &mut self,
        entries: Vec<CsEntryChange>,
    ) -> ConnectorResult<Vec<ExportResult>> {
        if self.export.is_none() {
            self.open_export(OpenExportRequest {
                batch_size: entries.len() as u32,
                partition: None,
                schema: Schema::default(),
            })?;
        }
        // Whole-call failure: the directory cannot be reached at all.
        self.session.ensure_alive()?;
        let ctx = self.export.as_ref().expect("opened above");
        let mut results = Vec::with_capacity(entries.len());
        for e in &entries {
            // A call the host abandoned (time limit) has been answered already; a write sent
            // now (the directory thawed) could land after the client's newer writes.
            if self.session.host.is_cancelled() {
                results.push(ExportResult::failure(
                    &e.identifier,
                    ExportErrorCode::ConnectedDirectoryError,
                    "not attempted: the host abandoned this call (time limit)",
                ));
                continue;
            }
            results.push(export::export_one(&mut self.session, ctx, e));
        }
        Ok(results)
    }

    fn close_export(&mut self, _reason: CloseReason) -> ConnectorResult<()> {
        self.export = None;
        Ok(())
    }

    fn set_password(
        &mut self,
        target: PasswordTarget,
        password: Secret,
        _options: PasswordOptions,
    ) -> ConnectorResult<()> {
        let ctx = self.password_context()?;
        password::set_password(&mut self.session, &ctx, &target, &password).map_err(|e| {
            self.session.note(&e);
            password_error(e)
        })
    }

    fn change_password(
        &mut self,
        target: PasswordTarget,
        old: Secret,
        new: Secret,
    ) -> ConnectorResult<()> {
        let ctx = self.password_context()?;
        password::change_password(&mut self.session, &ctx, &target, &old, &new).map_err(|e| {
            self.session.note(&e);
            password_error(e)
        })
    }

    fn get_full_objects(
        &mut self,
        requests: &[CsEntryChange],
        page: &mut PageWriter,
    ) -> ConnectorResult<()> {
        let settings = self.session.settings.clone();
        let root = self.session.root()?.clone();
        let scope = FullObjectScope {
            settings: &settings,
            anchor: self.anchor()?,
            bases: bases_for(&settings, &root, None),
        };
        let types = self.types_of(requests)?;
        import::full_objects(&mut self.session, scope, &types, requests, page)
    }
}

impl GenericLdap {
    /// A full import: the watermark of the delta strategy taken now, then paged results when
    /// the server offers them, else one streamed search.
    fn start_full_import(
        &mut self,
        plan: ImportPlan,
        settings: Arc<Settings>,
        root: &RootDse,
    ) -> ConnectorResult<ImportRun> {
        let strategy = self.delta_strategy()?;
        let watermark = match strategy {
            Some(s) => import::start_watermark(&mut self.session, s, &plan)?,
            None => Watermark {
                strategy: DeltaStrategy::ModifyTimestamp,
                value: String::new(),
            },
        };
        if strategy == Some(DeltaStrategy::ModifyTimestamp) {
            self.session.host.warn(
                "delta import uses modifyTimestamp: deleted objects are not seen until the next full import",
            );
        }
        let host = self.session.host.clone();
        Ok(
            if settings.paging && root.supports_control(OID_PAGED_RESULTS) {
                ImportRun::Paged {
                    run: PagedImport::new(settings, host, Arc::new(plan)),
                    watermark,
                }
            } else {
                host.info("no paged results (not offered or turned off): importing with one streamed search");
                ImportRun::Streamed {
                    run: StreamedImport::start(
                        settings,
                        host,
                        Arc::new(plan),
                        false,
                        self.import_page_size * 2,
                    ),
                    watermark,
                }
            },
        )
    }

    /// A delta import, run to completion now from the watermark in `custom_data`.
    fn run_delta_import(
        &mut self,
        plan: &ImportPlan,
        custom_data: &str,
    ) -> ConnectorResult<ImportRun> {
        let wm = Watermark::decode(custom_data).ok_or_else(|| {
            ConnectorError::invalid_input(
                "delta import needs the watermark of a previous full import (run a full import first)",
            )
        })?;
        let (entries, watermark) = import::run_delta(&mut self.session, plan, &wm)?;
        Ok(ImportRun::Delta {
            run: DeltaImport {
                entries: entries.into(),
            },
            watermark,
        })
    }

    fn remember_types(&mut self, schema: &Schema) {
        for t in &schema.types {
            self.host_types.insert(t.name.to_lowercase(), t.clone());
        }
    }

    /// The schema types of the object types `requests` name, where the connector has them:
    /// as the host described them, else as the directory's schema gives them.
    fn types_of(&mut self, requests: &[CsEntryChange]) -> ConnectorResult<Vec<SchemaType>> {
        let mut names: Vec<String> = requests
            .iter()
            .map(|r| r.object_type.to_lowercase())
            .collect();
        names.sort();
        names.dedup();
        if self.directory_types.is_none() && names.iter().any(|n| !self.host_types.contains_key(n))
        {
            self.directory_types = Some(read_schema(&mut self.session)?.types);
        }
        let directory = self.directory_types.as_deref().unwrap_or_default();
        Ok(names
            .iter()
            .filter_map(|n| {
                self.host_types
                    .get(n)
                    .or_else(|| directory.iter().find(|t| t.name.eq_ignore_ascii_case(n)))
                    .cloned()
            })
            .collect())
    }

    fn password_context(&mut self) -> ConnectorResult<ExportContext> {
        self.session.ensure_alive()?;
        self.export_context(None)
    }

    /// What exports of `partition` (None: every container) find and create objects with.
    fn export_context(&mut self, partition: Option<&Partition>) -> ConnectorResult<ExportContext> {
        let settings = self.session.settings.clone();
        let root = self.session.root()?.clone();
        let anchor = self.anchor()?;
        let anchor_traits = match &anchor {
            Some(a) => self.anchor_traits(a)?,
            None => AnchorTraits::default(),
        };
        Ok(ExportContext {
            anchor,
            anchor_traits,
            bases: bases_for(&settings, &root, partition),
        })
    }

    /// How the anchor attribute is handled: as the host last described it, else as the
    /// directory's schema gives it (read once).
    fn anchor_traits(&mut self, anchor: &str) -> ConnectorResult<AnchorTraits> {
        if let Some(t) = AnchorTraits::of(anchor, self.host_types.values()) {
            return Ok(t);
        }
        if self.directory_types.is_none() {
            self.directory_types = Some(read_schema(&mut self.session)?.types);
        }
        Ok(AnchorTraits::of(anchor, self.directory_types.iter().flatten()).unwrap_or_default())
    }
}

/// A rejected password (policy, wrong old password) is the caller's input, not our config.
fn password_error(e: LdapFailure) -> ConnectorError {
    match &e {
        LdapFailure::Result {
            rc: 19 | 49 | 53 | 32,
            ..
        } => ConnectorError::invalid_input(e.to_string()),
        _ => e.into(),
    }
}

plugin_api::export_connector!(GenericLdap);

// An import allocates and frees millions of small strings (ldap3's BER tree, the model, the
// ABI copies); with glibc malloc a third of the import went to the allocator (consolidation
// of freed chunks). The plugin's allocations never reach the host's allocator: every ABI value
// is freed through the vtable of the library that allocated it. The workspace builds
// mimalloc with the local-dynamic TLS model, which a dlopen()ed library needs (the default
// initial-exec model crashed on first allocation in a loaded plugin).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
