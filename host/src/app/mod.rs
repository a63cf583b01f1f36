//! One Entra application: a connector instance, its caches, imports and autosync, and the
//! SCIM [`Backend`] that turns writes into ECMA2 exports.
//!
//! Invariants: reads come from the cache only; the cache changes only after the connector
//! reports success; writes to one object are serialised; a failed import keeps the old cache.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ecma_scim::{
    Backend, EngineConfig, IndexPlan, Meta, ResolvedAttr, ResourceTypeDef, ScimEngine, ScimError,
    StoredResource,
};
use plugin_api::model::*;
use plugin_api::page::{ChangeView, EntryView};
use serde_json::Value as Json;

use crate::cache::{CacheEntry, Snapshot, TypeCache};
use crate::config::{AppConfig, Deprovision, HostConfig, ParameterValue, ScimKind, Secret};
use crate::mapping::{Record, TypeMapping};
use crate::plugins::{ManagedInstance, PluginRegistry};

/// Why an application could not be set up or run.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("app '{app}': {message}")]
    Setup { app: String, message: String },
    #[error("app '{app}': connector call failed: {source}")]
    Connector {
        app: String,
        #[source]
        source: ConnectorError,
    },
}

/// What the operator asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Delta where the connector supports it and a watermark exists, else full.
    Auto,
    Full,
    Delta,
}

/// Counts from one import run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub full: bool,
    pub objects: u64,
    pub deleted: u64,
    pub errors: u64,
    pub millis: u128,
}

/// The 503 detail Entra shows while the first import runs (Microsoft's wording).
pub const IMPORTING_MESSAGE: &str =
    "The ECMA host is currently importing data from the target application";

pub struct Application {
    pub name: String,
    pub config: AppConfig,
    token: Secret,
    pub capabilities: Capabilities,
    pub types: Vec<TypeMapping>,
    caches: Vec<TypeCache>,
    import_instance: ManagedInstance,
    export_instance: ManagedInstance,
    pub engine: ScimEngine,
    ready: AtomicBool,
    importing: AtomicBool,
    last_error: Mutex<Option<String>>,
    import_lock: tokio::sync::Mutex<()>,
    object_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    state_dir: PathBuf,
    watermarks: Mutex<BTreeMap<String, String>>,
    /// Objects read by the running import (for progress displays).
    progress: std::sync::atomic::AtomicU64,
}

fn setup_err(app: &str, message: impl Into<String>) -> AppError {
    AppError::Setup {
        app: app.to_owned(),
        message: message.into(),
    }
}

/// Builds the connector's configuration from the TOML pages; secrets become encrypted
/// parameters, as do parameters the connector declares as EncryptedString.
pub fn connector_parameters(
    app: &AppConfig,
    encrypted_names: &BTreeSet<String>,
) -> Result<ConfigParameters, AppError> {
    let mut params = ConfigParameters::new();
    for (page, values) in app.parameters.pages() {
        for (name, value) in values {
            let (text, secret) = match value {
                ParameterValue::Text(t) => (t.clone(), false),
                ParameterValue::Bool(b) => ((if *b { "1" } else { "0" }).to_owned(), false),
                ParameterValue::Integer(i) => (i.to_string(), false),
                ParameterValue::Secret(s) => (
                    s.secret
                        .resolve(&format!(
                            "parameter '{name}' ({page}) of app '{}'",
                            app.name
                        ))
                        .map_err(|e| setup_err(&app.name, e.to_string()))?
                        .expose()
                        .to_owned(),
                    true,
                ),
            };
            if secret || encrypted_names.contains(name) {
                params.set_secret(name, text);
            } else {
                params.set(name, text);
            }
        }
    }
    Ok(params)
}

/// The names of parameters a connector declares as encrypted, on any page.
fn encrypted_parameter_names(
    plugin: &dyn plugin_api::host::ConnectorPlugin,
    params: &ConfigParameters,
) -> BTreeSet<String> {
    ConfigPage::ALL
        .iter()
        .filter_map(|p| plugin.config_parameters(params, *p, 1).ok())
        .flatten()
        .filter(|d| d.kind == ParameterKind::EncryptedString)
        .map(|d| d.name)
        .collect()
}

/// Checks each page's parameters with the connector; one message per failure, naming the
/// page and the parameter.
pub fn validate_with_connector(
    app: &AppConfig,
    plugin: &dyn plugin_api::host::ConnectorPlugin,
) -> Result<ConfigParameters, Vec<String>> {
    let plain = connector_parameters(app, &BTreeSet::new()).map_err(|e| vec![e.to_string()])?;
    let encrypted = encrypted_parameter_names(plugin, &plain);
    let params = connector_parameters(app, &encrypted).map_err(|e| vec![e.to_string()])?;
    let mut problems = Vec::new();
    for page in ConfigPage::ALL {
        let defs = plugin
            .config_parameters(&params, page, 1)
            .unwrap_or_default();
        for d in defs.iter().filter(|d| d.required) {
            if params.get(&d.name).is_none_or(str::is_empty) {
                problems.push(format!(
                    "app '{}': required {page:?} parameter '{}' is missing ({})",
                    app.name, d.name, d.description
                ));
            }
        }
        match plugin.validate_config(&params, page, 1) {
            Ok(ParameterValidation::Success) => {}
            Ok(ParameterValidation::Failure { parameter, message }) => problems.push(format!(
                "app '{}': {page:?} parameter '{parameter}': {message}",
                app.name
            )),
            Err(e) => problems.push(format!(
                "app '{}': validating the {page:?} page failed: {}",
                app.name, e.message
            )),
        }
    }
    if problems.is_empty() {
        Ok(params)
    } else {
        Err(problems)
    }
}

impl Application {
    /// Loads the connector's capabilities and schema and builds the SCIM resource types.
    pub fn new(
        cfg: &AppConfig,
        host: &HostConfig,
        registry: &PluginRegistry,
        base_url: &str,
    ) -> Result<Self, AppError> {
        let name = cfg.name.clone();
        let token =
            crate::config::resolve_token(cfg).map_err(|e| setup_err(&name, e.to_string()))?;
        let plugin = registry
            .get(&cfg.connector)
            .ok_or_else(|| {
                let known: Vec<&str> = registry.plugins().map(|(n, _)| n.as_str()).collect();
                setup_err(
                    &name,
                    format!(
                        "connector '{}' is not loaded (loaded: {})",
                        cfg.connector,
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                )
            })?
            .plugin
            .clone();
        let params = validate_with_connector(cfg, plugin.as_ref())
            .map_err(|problems| setup_err(&name, problems.join("; ")))?;
        let capabilities = plugin
            .capabilities(&params)
            .map_err(|source| AppError::Connector {
                app: name.clone(),
                source,
            })?;
        let schema = plugin
            .schema(&params)
            .map_err(|source| AppError::Connector {
                app: name.clone(),
                source,
            })?;
        let mut types = cfg
            .object_types
            .iter()
            .map(|ot| TypeMapping::build(ot, &schema, capabilities.support_password))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| setup_err(&name, e.to_string()))?;
        // Users first: groups reference them.
        types.sort_by_key(|t| t.kind);
        let caches = types
            .iter()
            .map(|t| {
                let mut indexed = vec!["id".to_owned(), t.anchor.clone()];
                indexed.extend(t.query_attributes.iter().cloned());
                for m in &t.attrs {
                    if let crate::mapping::ScimTarget::Core { attr, sub: None } = &m.target
                        && ["userName", "externalId", "displayName"]
                            .iter()
                            .any(|a| a.eq_ignore_ascii_case(attr))
                    {
                        indexed.push(m.connector.clone());
                    }
                }
                indexed.sort();
                indexed.dedup();
                TypeCache::new(indexed)
            })
            .collect();
        let engine = ScimEngine::new(EngineConfig::new(
            base_url,
            types.iter().map(|t| t.resource_type.clone()).collect(),
        ));
        let state_dir = host.state_dir.join("apps").join(&name);
        let watermarks = std::fs::read_to_string(state_dir.join("watermarks.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        Ok(Self {
            import_instance: ManagedInstance::new(plugin.clone(), params.clone(), &name),
            export_instance: ManagedInstance::new(plugin, params, &name),
            name,
            config: cfg.clone(),
            token,
            capabilities,
            types,
            caches,
            engine,
            ready: AtomicBool::new(false),
            importing: AtomicBool::new(false),
            last_error: Mutex::new(None),
            import_lock: tokio::sync::Mutex::new(()),
            object_locks: Mutex::new(HashMap::new()),
            state_dir,
            watermarks: Mutex::new(watermarks),
            progress: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Constant-time comparison of a presented bearer token with this app's token.
    pub fn token_matches(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        let a = presented.as_bytes();
        let b = self.token.expose().as_bytes();
        // Length is not secret (Microsoft requires >= 12); content is compared in constant time.
        a.len() == b.len() && bool::from(a.ct_eq(b))
    }

    /// Whether the first import has completed (the endpoint serves).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
    pub fn is_importing(&self) -> bool {
        self.importing.load(Ordering::Acquire)
    }
    /// Objects read so far by the running (or last) import.
    pub fn progress(&self) -> u64 {
        self.progress.load(Ordering::Relaxed)
    }
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn cache_sizes(&self) -> Vec<(ScimKind, usize)> {
        self.types
            .iter()
            .zip(&self.caches)
            .map(|(t, c)| (t.kind, c.snapshot().len()))
            .collect()
    }

    /// The cache as JSON (the `/scim/cache` dump).
    pub fn cache_dump(&self) -> Json {
        let mut out = serde_json::Map::new();
        for (t, c) in self.types.iter().zip(&self.caches) {
            let snap = c.snapshot();
            let items: Vec<Json> = snap
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "id": e.id,
                        "dn": e.dn,
                        "attributes": e.record.iter().map(|(k, v)| (k.clone(), v.iter().map(Value::as_text).collect::<Vec<_>>())).collect::<BTreeMap<_, _>>(),
                    })
                })
                .collect();
            out.insert(t.object_type.clone(), Json::Array(items));
        }
        Json::Object(out)
    }

    /// Entra's test connection, run through the connector.
    pub async fn test_connection(&self) -> ConnectorResult<()> {
        self.export_instance.call(|i| i.test_connection()).await
    }

    fn type_index(&self, rt: &ResourceTypeDef) -> Result<usize, ScimError> {
        self.types
            .iter()
            .position(|t| t.resource_type.name == rt.name)
            .ok_or_else(|| ScimError::not_found(format!("no resource type {}", rt.name)))
    }

    /// Resolves a DN (or an anchor) to the SCIM id of any cached object of this app.
    fn dn_to_id(&self) -> impl Fn(&str) -> Option<String> + '_ {
        let snaps: Vec<Arc<Snapshot>> = self.caches.iter().map(|c| c.snapshot()).collect();
        move |dn: &str| {
            snaps.iter().find_map(|s| {
                s.id_by_dn(dn)
                    .cloned()
                    .or_else(|| s.get(dn).map(|e| e.id.clone()))
            })
        }
    }

    /// Resolves a SCIM id to the value a reference attribute stores: the DN where the
    /// connector has DNs, else the id (anchor) itself.
    fn id_to_ref(&self) -> impl Fn(&str) -> String + '_ {
        let snaps: Vec<Arc<Snapshot>> = self.caches.iter().map(|c| c.snapshot()).collect();
        let dns_are_real = self.capabilities.distinguished_name_style == DnStyle::Ldap
            || self.types.iter().any(|t| t.dn_attribute.is_some());
        move |id: &str| {
            if dns_are_real && let Some(e) = snaps.iter().find_map(|s| s.get(id)) {
                return e.dn.clone();
            }
            id.to_owned()
        }
    }

    fn autogenerated_dn(t: &TypeMapping, anchor: &str) -> String {
        format!("CN={anchor},OBJECT={}", t.object_type.to_uppercase())
    }

    fn render(
        &self,
        t: &TypeMapping,
        id: &str,
        record: &Record,
        active: Option<bool>,
        previous: Option<&CacheEntry>,
    ) -> Arc<StoredResource> {
        let resource = t.resource_from_record(id, record, active, &self.dn_to_id());
        let version = version_of(&resource);
        let now = now_rfc3339();
        let (created, last_modified) = match previous {
            Some(p) if p.stored.meta.version == version => (
                p.stored.meta.created.clone(),
                p.stored.meta.last_modified.clone(),
            ),
            Some(p) => (p.stored.meta.created.clone(), now),
            None => (now.clone(), now),
        };
        Arc::new(StoredResource::new(
            resource,
            Meta {
                resource_type: t.resource_type.name.clone(),
                created,
                last_modified,
                location: String::new(),
                version,
            },
        ))
    }

    // -----------------------------------------------------------------------------------
    // Import
    // -----------------------------------------------------------------------------------

    /// Runs one import of every object type. Returns the summary; on failure the caches are
    /// unchanged (full) or hold what was applied before the failure (delta: entries are
    /// applied in order and the watermark is not advanced).
    pub async fn import(&self, mode: ImportMode, dry_run: bool) -> Result<ImportSummary, AppError> {
        let _one_at_a_time = self.import_lock.lock().await;
        self.importing.store(true, Ordering::Release);
        let started = Instant::now();
        self.progress.store(0, Ordering::Relaxed);
        let result = self.import_all(mode, dry_run).await;
        self.importing.store(false, Ordering::Release);
        let elapsed = started.elapsed();
        metrics::histogram!("ecma_import_duration_seconds", "app" => self.name.clone())
            .record(elapsed.as_secs_f64());
        match &result {
            Ok(summary) => {
                if !dry_run {
                    self.ready.store(true, Ordering::Release);
                }
                *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
                metrics::counter!("ecma_import_objects_total", "app" => self.name.clone())
                    .increment(summary.objects);
                for (kind, size) in self.cache_sizes() {
                    metrics::gauge!("ecma_cache_objects", "app" => self.name.clone(), "type" => format!("{kind:?}"))
                        .set(size as f64);
                }
                tracing::info!(
                    app = %self.name,
                    full = summary.full,
                    objects = summary.objects,
                    deleted = summary.deleted,
                    errors = summary.errors,
                    ms = elapsed.as_millis() as u64,
                    dry_run,
                    "import finished"
                );
            }
            Err(e) => {
                *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                metrics::counter!("ecma_import_failures_total", "app" => self.name.clone())
                    .increment(1);
                tracing::warn!(app = %self.name, "import failed, keeping the old cache: {e}");
            }
        }
        result.map(|mut s| {
            s.millis = elapsed.as_millis();
            s
        })
    }

    async fn import_all(&self, mode: ImportMode, dry_run: bool) -> Result<ImportSummary, AppError> {
        let mut summary = ImportSummary::default();
        let page_size = match self.config.import_page_size {
            0 => self.capabilities.import_default_page_size.max(1),
            n => n.min(self.capabilities.import_max_page_size.max(1)),
        };
        for idx in 0..self.types.len() {
            let t = &self.types[idx];
            let watermark = self
                .watermarks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&t.object_type)
                .cloned();
            let can_delta = self.capabilities.delta_import
                && self.config.run_profiles.delta_import
                && watermark.as_deref().is_some_and(|w| !w.is_empty());
            let delta = match mode {
                ImportMode::Full => false,
                ImportMode::Auto => can_delta,
                ImportMode::Delta if can_delta => true,
                ImportMode::Delta => {
                    return Err(setup_err(
                        &self.name,
                        "delta import is not possible: the connector has no delta import, the run profile is off, or no watermark exists yet (run a full import first)",
                    ));
                }
            };
            summary.full |= !delta;
            let result = self
                .import_type(
                    idx,
                    delta,
                    page_size,
                    watermark.unwrap_or_default(),
                    dry_run,
                    &mut summary,
                )
                .await;
            let final_watermark = match result {
                // The connector cannot continue from the watermark (log purged, cookie
                // refused): a scheduled delta becomes a full import, which also yields a
                // fresh watermark. An explicit `--delta` reports the error instead.
                Err(AppError::Connector { source, .. })
                    if delta
                        && mode == ImportMode::Auto
                        && source.kind == ErrorKind::FullImportRequired =>
                {
                    tracing::warn!(
                        app = %self.name,
                        object_type = %t.object_type,
                        reason = %source.message,
                        "delta import not possible from the stored watermark; running a full import"
                    );
                    summary.full = true;
                    self.import_type(idx, false, page_size, String::new(), dry_run, &mut summary)
                        .await?
                }
                other => other?,
            };
            if !dry_run {
                self.save_watermark(&t.object_type, final_watermark);
            }
        }
        Ok(summary)
    }

    async fn import_type(
        &self,
        idx: usize,
        delta: bool,
        page_size: u32,
        watermark: String,
        dry_run: bool,
        summary: &mut ImportSummary,
    ) -> Result<String, AppError> {
        let t = &self.types[idx];
        let cache = &self.caches[idx];
        let connector_err = |source| AppError::Connector {
            app: self.name.clone(),
            source,
        };
        let request = OpenImportRequest {
            import_type: if delta {
                ImportType::Delta
            } else {
                ImportType::Full
            },
            page_size,
            custom_data: watermark,
            partition: None,
            schema: Schema {
                types: vec![t.schema_type.clone()],
            },
        };
        // Journal SCIM writes from before the connector starts reading, so that a write
        // landing between open and swap is replayed onto the new snapshot.
        if !delta && !dry_run {
            cache.begin_full_import();
        }
        let abort = || {
            if !delta && !dry_run {
                cache.abort_full_import();
            }
        };
        let mut custom_data = match self
            .import_instance
            .call(move |i| i.open_import(request))
            .await
        {
            Ok(c) => c,
            Err(e) => {
                abort();
                return Err(connector_err(e));
            }
        };
        let previous = cache.snapshot();
        let mut next = if delta {
            None
        } else {
            Some(cache.empty_snapshot())
        };
        let result: Result<(), ConnectorError> = async {
            loop {
                // Entries are read in place from the connector's buffer: cache records are
                // built straight from it, with no CsEntryChange in between.
                let page = self.import_instance.call(|i| i.get_import_page()).await?;
                if !page.custom_data.is_empty() {
                    custom_data = page.custom_data.clone();
                }
                // Checked whole before any entry is applied: a delta writes straight into the
                // cache, so a malformed page must not be half-applied.
                let entries = page
                    .entries
                    .entries()
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| ConnectorError::internal(format!("the connector sent a malformed import page: {e}")))?;
                for entry in entries {
                    if !entry.object_type.is_empty() && !entry.object_type.eq_ignore_ascii_case(&t.object_type) {
                        continue;
                    }
                    if let Some(err) = entry.error() {
                        summary.errors += 1;
                        tracing::warn!(app = %self.name, "import entry error {:?} {}: {}", err.code, err.name, err.detail);
                        continue;
                    }
                    let Some(id) = Self::import_entry_id(t, cache, next.is_some(), &entry) else {
                        summary.errors += 1;
                        tracing::warn!(app = %self.name, dn = %entry.dn, "imported entry has no anchor; skipped");
                        continue;
                    };
                    // A delta entry takes the object's write lock, so it never interleaves with
                    // a SCIM write's read → export → cache update of the same object.
                    let lock = (next.is_none() && !dry_run)
                        .then(|| self.object_lock(format!("{}:{id}", t.object_type)));
                    let _held = match &lock {
                        Some(l) => Some(l.lock().await),
                        None => None,
                    };
                    self.apply_import_entry(t, cache, &previous, next.as_mut(), id, &entry, dry_run, summary);
                }
                if !page.more_to_import {
                    break;
                }
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                let closed = match self
                    .import_instance
                    .call(|i| i.close_import(CloseReason::Normal))
                    .await
                {
                    Ok(c) => c,
                    Err(e) => {
                        abort();
                        return Err(connector_err(e));
                    }
                };
                if let Some(next) = next
                    && !dry_run
                {
                    cache.finish_full_import(next);
                }
                Ok(if closed.is_empty() {
                    custom_data
                } else {
                    closed
                })
            }
            Err(e) => {
                abort();
                let _ = self
                    .import_instance
                    .call(|i| i.close_import(CloseReason::Unknown))
                    .await;
                Err(connector_err(e))
            }
        }
    }

    /// The SCIM id of an imported entry: the configured anchor; a delta entry that names its
    /// object only by DN (a delete, say) is resolved through the cache, never by taking some
    /// other anchor as the id.
    fn import_entry_id(
        t: &TypeMapping,
        cache: &TypeCache,
        full: bool,
        entry: &EntryView<'_>,
    ) -> Option<String> {
        entry
            .anchors()
            .find(|(name, _)| name.eq_ignore_ascii_case(&t.anchor))
            .map(|(_, value)| value.as_text())
            .or_else(|| {
                entry
                    .change(&t.anchor)
                    .and_then(|c| c.added_values().next())
                    .map(|v| v.as_text())
            })
            .or_else(|| {
                (!full && !entry.dn.is_empty())
                    .then(|| cache.snapshot().id_by_dn(entry.dn).cloned())
                    .flatten()
            })
            .filter(|i| !i.is_empty())
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_import_entry(
        &self,
        t: &TypeMapping,
        cache: &TypeCache,
        previous: &Snapshot,
        next: Option<&mut Snapshot>,
        id: String,
        entry: &EntryView<'_>,
        dry_run: bool,
        summary: &mut ImportSummary,
    ) {
        let current = match &next {
            Some(_) => None,
            None => cache.snapshot().get(&id).cloned(),
        };
        if entry.modification == ObjectModification::Delete {
            summary.deleted += 1;
            if !dry_run {
                match next {
                    Some(n) => {
                        n.remove(&id);
                    }
                    None => cache.remove(&id),
                }
            }
            return;
        }
        // Delta updates apply to what the cache holds; adds and replaces are whole objects.
        // An update of an object the cache does not have would cache a fragment: skip it (the
        // next full import brings the object).
        let mut record = match (entry.modification, &current) {
            (ObjectModification::Update, Some(c)) => c.record.clone(),
            (ObjectModification::Update, None) if next.is_none() => {
                summary.errors += 1;
                tracing::warn!(app = %self.name, id = %id, "delta update for an object not in the cache; skipped until the next full import");
                return;
            }
            _ => Record::new(),
        };
        apply_changes(&mut record, entry.changes());
        record
            .entry(t.anchor.clone())
            .or_insert_with(|| vec![Value::String(id.clone())]);
        let dn = if !entry.dn.is_empty() {
            entry.dn.to_owned()
        } else if let Some(v) = t
            .dn_attribute
            .as_ref()
            .and_then(|a| record.get(a))
            .and_then(|v| v.first())
        {
            v.as_text()
        } else if let Some(c) = &current {
            c.dn.clone()
        } else {
            Self::autogenerated_dn(t, &id)
        };
        let prev = previous.get(&id).cloned();
        // Without an attribute that stores it, `active` lives in the host only; keep it.
        let active = if t.active_attribute().is_none() {
            // Imported users are active unless the host has recorded otherwise.
            match &prev {
                Some(p) => p.stored.resource.get("active").and_then(json_bool),
                None => Some(true),
            }
        } else {
            None
        };
        let stored = self.render(t, &id, &record, active, prev.as_deref());
        summary.objects += 1;
        self.progress.fetch_add(1, Ordering::Relaxed);
        if dry_run {
            return;
        }
        let e = CacheEntry {
            id,
            dn,
            record,
            stored,
        };
        match next {
            Some(n) => n.insert(e),
            None => cache.put(e),
        }
    }

    fn save_watermark(&self, object_type: &str, watermark: String) {
        let mut marks = self.watermarks.lock().unwrap_or_else(|p| p.into_inner());
        marks.insert(object_type.to_owned(), watermark);
        let text = serde_json::to_string_pretty(&*marks).unwrap_or_default();
        let path = self.state_dir.join("watermarks.json");
        let tmp = self.state_dir.join("watermarks.json.tmp");
        let write = std::fs::create_dir_all(&self.state_dir)
            .and_then(|_| std::fs::write(&tmp, text))
            .and_then(|_| std::fs::rename(&tmp, &path));
        if let Err(e) = write {
            tracing::warn!(app = %self.name, "cannot persist the watermark to {}: {e}", path.display());
        }
    }

    /// Runs autosync forever: the first import (retried with backoff until it succeeds),
    /// then one import every `autosync_minutes`.
    pub async fn autosync(self: Arc<Self>, shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut shutdown = shutdown;
        let interval = Duration::from_secs(self.config.autosync_minutes * 60);
        let mut backoff = Duration::from_secs(2);
        let mut first = true;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let mode = if first {
                ImportMode::Full
            } else {
                ImportMode::Auto
            };
            let ok = if first
                || self.config.run_profiles.full_import
                || self.config.run_profiles.delta_import
            {
                self.import(mode, false).await.is_ok()
            } else {
                true
            };
            let wait = if ok {
                first = false;
                backoff = Duration::from_secs(2);
                if interval.is_zero() {
                    // Autosync off: nothing more to do after the first import.
                    let _ = shutdown.changed().await;
                    return;
                }
                interval
            } else {
                metrics::counter!("ecma_autosync_failures_total", "app" => self.name.clone())
                    .increment(1);
                let w = if interval.is_zero() {
                    backoff
                } else {
                    backoff.min(interval)
                };
                backoff = (backoff * 2).min(Duration::from_secs(300));
                w
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Cancels connector calls and drops the instances (closing their connections).
    pub fn close(&self) {
        self.import_instance.cancel();
        self.import_instance.close();
        self.export_instance.close();
    }

    // -----------------------------------------------------------------------------------
    // Export
    // -----------------------------------------------------------------------------------

    /// The lock the engine holds around a whole write to one resource (read, PATCH apply,
    /// export, cache update), so concurrent PATCHes never build on a stale version (Entra
    /// sends parallel member changes to one group). Distinct from the backend's own
    /// per-object lock, always taken first.
    fn request_lock(&self, endpoint: &str, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.object_lock(format!("request:{}:{id}", endpoint.to_ascii_lowercase()))
    }

    fn object_lock(&self, key: String) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.object_locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.retain(|_, l| Arc::strong_count(l) > 1);
        locks.entry(key).or_default().clone()
    }

    fn require_export(&self) -> Result<(), ScimError> {
        if self.config.run_profiles.export && self.capabilities.support_export {
            Ok(())
        } else {
            Err(ScimError::forbidden(format!(
                "application '{}' does not export (the export run profile is off or the connector cannot export)",
                self.name
            )))
        }
    }

    async fn export_entry(&self, entry: CsEntryChange) -> Result<ExportResult, ScimError> {
        let identifier = entry.identifier.clone();
        let schema = Schema {
            types: self
                .types
                .iter()
                .filter(|t| t.object_type.eq_ignore_ascii_case(&entry.object_type))
                .map(|t| t.schema_type.clone())
                .collect(),
        };
        let kind = format!("{:?}", entry.modification);
        let results = self
            .export_instance
            .call(move |i| {
                i.open_export(OpenExportRequest {
                    batch_size: 1,
                    partition: None,
                    schema,
                })?;
                let results = i.put_export_entries(vec![entry]);
                let closed = i.close_export(CloseReason::Normal);
                let results = results?;
                closed?;
                Ok(results)
            })
            .await
            .map_err(|e| {
                metrics::counter!("ecma_export_results_total", "app" => self.name.clone(), "code" => format!("{:?}", e.kind)).increment(1);
                tracing::warn!(app = %self.name, op = %kind, "export call failed: {}", e);
                connector_error_to_scim(&e)
            })?;
        let result = results
            .into_iter()
            .find(|r| r.identifier == identifier)
            .ok_or_else(|| {
                ScimError::internal("the connector returned no result for the exported entry")
            })?;
        metrics::counter!("ecma_export_results_total", "app" => self.name.clone(), "code" => format!("{:?}", result.code)).increment(1);
        tracing::info!(app = %self.name, op = %kind, code = ?result.code, "export");
        export_result_to_scim(&result)?;
        Ok(result)
    }

    fn new_entry(
        t: &TypeMapping,
        modification: ObjectModification,
        anchor: Option<&str>,
        dn: &str,
    ) -> CsEntryChange {
        let mut e = CsEntryChange::new(&t.object_type, modification);
        e.identifier = uuid::Uuid::new_v4().to_string();
        e.dn = dn.to_owned();
        if let Some(a) = anchor {
            e = e.with_anchor(&t.anchor, a.to_owned());
        }
        e
    }

    async fn write_modified(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
        new: Json,
    ) -> Result<Arc<StoredResource>, ScimError> {
        self.require_export()?;
        let idx = self.type_index(rt)?;
        let t = &self.types[idx];
        let lock = self.object_lock(format!("{}:{id}", t.object_type));
        let _guard = lock.lock().await;
        let old = self.caches[idx]
            .snapshot()
            .get(id)
            .cloned()
            .ok_or_else(|| ScimError::not_found(format!("{} {id} not found", rt.name)))?;
        let mut new_record = t.record_from_resource(&new, &self.id_to_ref())?;
        // The anchor is the id: it never changes through SCIM.
        new_record.insert(
            t.anchor.clone(),
            old.record
                .get(&t.anchor)
                .cloned()
                .unwrap_or_else(|| vec![Value::String(id.to_owned())]),
        );
        // Attributes the connector keeps but SCIM does not expose (not selected, DN or query
        // attributes left out of the selection, ...) are not Entra's to delete: carry them.
        for (name, values) in &old.record {
            if !t
                .attrs
                .iter()
                .any(|m| m.connector.eq_ignore_ascii_case(name))
            {
                new_record
                    .entry(name.clone())
                    .or_insert_with(|| values.clone());
            }
        }
        // Deprovisioning flags are not exposed over SCIM, so they carry over unless `active`
        // changes (the disable policy) or is removed (the flag is cleared).
        for d in [&t.on_disable, &t.on_delete] {
            if let Deprovision::SetAttribute { set, .. } = d
                && let Some(v) = old.record.get(set)
            {
                new_record.entry(set.clone()).or_insert_with(|| v.clone());
            }
        }
        let old_active = old.stored.resource.get("active").and_then(json_bool);
        let new_active = new.get("active").and_then(json_bool);
        if t.kind == ScimKind::User {
            match (old_active, new_active) {
                (old_value, Some(now)) if old_value.unwrap_or(true) != now => match &t.on_disable {
                    Deprovision::SetAttribute { set, value } => {
                        let v = if now { !*value } else { *value };
                        new_record.insert(set.clone(), vec![t.typed_bool(set, v)]);
                    }
                    d if *d == Deprovision::Delete && !now => {
                        let entry =
                            Self::new_entry(t, ObjectModification::Delete, Some(id), &old.dn);
                        self.export_entry(entry).await?;
                        self.caches[idx].remove(id);
                        let mut gone = StoredResource::clone(&old.stored);
                        gone.resource["active"] = Json::Bool(false);
                        return Ok(Arc::new(gone));
                    }
                    _ => {}
                },
                (Some(_), None) => {
                    if let Some((attr, _)) = t.active_attribute() {
                        new_record.remove(attr);
                    }
                }
                _ => {}
            }
        }
        let new_dn = t
            .dn_attribute
            .as_ref()
            .and_then(|a| new_record.get(a))
            .and_then(|v| v.first())
            .map(Value::as_text)
            .unwrap_or_else(|| old.dn.clone());
        let changes = diff_records(&old.record, &new_record, self.capabilities.export_type);
        if !changes.is_empty() || new_dn != old.dn {
            // PUT and PATCH both export what the connector's export type asks for: a whole
            // object for ObjectReplace, attribute changes (the diff) otherwise.
            let replace = self.capabilities.export_type == ExportType::ObjectReplace;
            let mut entry = Self::new_entry(
                t,
                if replace {
                    ObjectModification::Replace
                } else {
                    ObjectModification::Update
                },
                Some(id),
                &new_dn,
            );
            entry.changes = if replace {
                new_record
                    .iter()
                    .map(|(k, v)| AttributeChange::replace(k, v.iter().cloned()))
                    .collect()
            } else {
                changes
            };
            if let Err(e) = self.export_entry(entry).await {
                if e.status == 404 {
                    // The target no longer has it: drop the ghost so the cache follows.
                    self.caches[idx].remove(id);
                }
                return Err(e);
            }
        }
        let active = if t.active_attribute().is_none() {
            new_active
        } else {
            None
        };
        let stored = self.render(t, id, &new_record, active, Some(&old));
        self.caches[idx].put(CacheEntry {
            id: id.to_owned(),
            dn: new_dn,
            record: new_record,
            stored: stored.clone(),
        });
        Ok(stored)
    }
}

/// Applies imported attribute changes to a record.
fn apply_changes<'a>(record: &mut Record, changes: impl Iterator<Item = ChangeView<'a>>) {
    for c in changes {
        match c.modification {
            AttributeModification::Add | AttributeModification::Replace => {
                let values: Vec<Value> = c.added_values().map(Value::from).collect();
                if values.is_empty() {
                    record.remove(c.name);
                } else {
                    record.insert(c.name.to_owned(), values);
                }
            }
            AttributeModification::Delete => {
                record.remove(c.name);
            }
            AttributeModification::Update => {
                let values = record.entry(c.name.to_owned()).or_default();
                for d in c.deleted_values() {
                    values.retain(|v| *v != d);
                }
                for a in c.added_values() {
                    if !values.iter().any(|v| *v == a) {
                        values.push(a.into());
                    }
                }
                if values.is_empty() {
                    record.remove(c.name);
                }
            }
        }
    }
}

/// The ECMA attribute changes that turn `old` into `new`: replaces for single values and
/// value-level updates for multi-valued attributes (or whole replaces for AttributeReplace).
pub fn diff_records(old: &Record, new: &Record, export_type: ExportType) -> Vec<AttributeChange> {
    let mut out = Vec::new();
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for name in names {
        let (o, n) = (old.get(name), new.get(name));
        match (o, n) {
            (Some(_), None) => out.push(AttributeChange::delete(name)),
            (None, Some(n)) => out.push(AttributeChange::add(name, n.iter().cloned())),
            (Some(o), Some(n)) if o != n => {
                if o.len() <= 1 && n.len() <= 1 || export_type == ExportType::AttributeReplace {
                    out.push(AttributeChange::replace(name, n.iter().cloned()));
                } else {
                    let mut changes: Vec<ValueChange> = o
                        .iter()
                        .filter(|v| !n.contains(v))
                        .cloned()
                        .map(ValueChange::delete)
                        .collect();
                    changes.extend(
                        n.iter()
                            .filter(|v| !o.contains(v))
                            .cloned()
                            .map(ValueChange::add),
                    );
                    out.push(AttributeChange::update(name, changes));
                }
            }
            _ => {}
        }
    }
    out
}

/// Entra retries 503s; 30 s is well inside its 60 s budget per cycle step.
const RETRY_AFTER_SECS: u32 = 30;

/// Maps a whole-call connector failure to the SCIM answer.
pub fn connector_error_to_scim(e: &ConnectorError) -> ScimError {
    match e.kind {
        ErrorKind::Connection | ErrorKind::Cancelled => ScimError::unavailable(
            format!("the target application is unavailable: {}", e.message),
            Some(RETRY_AFTER_SECS),
        ),
        ErrorKind::InvalidInput => ScimError::invalid_value(e.message.clone()),
        ErrorKind::Unsupported => ScimError::not_implemented(e.message.clone()),
        ErrorKind::Panicked => ScimError::internal(format!("the connector failed: {}", e.message)),
        ErrorKind::Config | ErrorKind::Internal | ErrorKind::FullImportRequired => {
            ScimError::internal(e.message.clone())
        }
    }
}

/// Maps a per-entry export result to the SCIM answer (Ok for success).
pub fn export_result_to_scim(r: &ExportResult) -> Result<(), ScimError> {
    let detail = if r.error_detail.is_empty() {
        r.code.ecma_name().to_owned()
    } else {
        format!(
            "{}: {}",
            if r.error_name.is_empty() {
                r.code.ecma_name()
            } else {
                &r.error_name
            },
            r.error_detail
        )
    };
    use ExportErrorCode as C;
    Err(match r.code {
        C::Success => return Ok(()),
        C::ConnectedDirectoryMissingObject => ScimError::not_found(detail),
        C::ConnectedDirectoryExistingObject => ScimError::uniqueness(detail),
        C::SyntaxViolation
        | C::InvalidDn
        | C::MissingAnchorComponent
        | C::MissingProvisioningAttribute
        | C::AnchorTooLong
        | C::ChangeNamingAttribute
        | C::AmbiguousUpdate => ScimError::invalid_value(detail),
        C::PermissionIssue => ScimError::forbidden(detail),
        C::ConnectedDirectoryError | C::RetryReferenceAttribute => {
            ScimError::unavailable(detail, Some(RETRY_AFTER_SECS))
        }
        C::ConvertUpdateToAdd | C::ProvisioningParent | C::CustomContinueRun | C::CustomStopRun => {
            ScimError::internal(detail)
        }
    })
}

/// A JSON boolean, also in Entra's string form ("True"/"False").
fn json_bool(v: &Json) -> Option<bool> {
    match v {
        Json::Bool(b) => Some(*b),
        Json::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Json::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn version_of(resource: &Json) -> String {
    let mut h = std::hash::DefaultHasher::new();
    resource.to_string().hash(&mut h);
    format!("W/\"{:016x}\"", h.finish())
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Backend for Application {
    async fn candidates(
        &self,
        rt: &ResourceTypeDef,
        plan: Option<&IndexPlan>,
    ) -> Result<Vec<Arc<StoredResource>>, ScimError> {
        let idx = self.type_index(rt)?;
        let t = &self.types[idx];
        let snap = self.caches[idx].snapshot();
        let ids = plan.and_then(|p| plan_ids(p, t, &snap));
        Ok(match ids {
            Some(ids) => ids
                .iter()
                .filter_map(|id| snap.get(id))
                .map(|e| e.stored.clone())
                .collect(),
            None => snap.iter().map(|e| e.stored.clone()).collect(),
        })
    }

    async fn get(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
    ) -> Result<Option<Arc<StoredResource>>, ScimError> {
        let idx = self.type_index(rt)?;
        Ok(self.caches[idx]
            .snapshot()
            .get(id)
            .map(|e| e.stored.clone()))
    }

    async fn create(
        &self,
        rt: &ResourceTypeDef,
        resource: Json,
    ) -> Result<Arc<StoredResource>, ScimError> {
        self.require_export()?;
        let idx = self.type_index(rt)?;
        let t = &self.types[idx];
        let mut record = t.record_from_resource(&resource, &self.id_to_ref())?;
        // Creates of one type are serialised, and uniqueness is checked under that lock, so
        // two racing creates (e.g. Entra retrying after a timed-out 503) cannot both pass.
        // The export instance runs one call at a time anyway, so this costs no throughput.
        let lock = self.object_lock(format!("create:{}", t.object_type));
        let _guard = lock.lock().await;
        let snap = self.caches[idx].snapshot();
        // Matching attributes (and the anchor) must be unique: Entra expects 409 uniqueness.
        for attr in std::iter::once(&t.anchor).chain(&t.query_attributes) {
            for v in record.get(attr).into_iter().flatten() {
                if snap
                    .lookup(attr, &v.as_text())
                    .is_some_and(|ids| !ids.is_empty())
                {
                    return Err(ScimError::uniqueness(format!(
                        "a {} with {attr} = {:?} already exists",
                        rt.name,
                        v.as_text()
                    )));
                }
            }
        }
        let active = resource.get("active").and_then(json_bool).unwrap_or(true);
        if let Some((attr, disabled_value)) = t.active_attribute() {
            record.entry(attr.to_owned()).or_insert_with(|| {
                vec![t.typed_bool(
                    attr,
                    if active {
                        !disabled_value
                    } else {
                        disabled_value
                    },
                )]
            });
        }
        let anchor = record
            .get(&t.anchor)
            .and_then(|v| v.first())
            .map(Value::as_text);
        let mut dn = t
            .dn_attribute
            .as_ref()
            .and_then(|a| record.get(a))
            .and_then(|v| v.first())
            .map(Value::as_text)
            // An LDAP-style target names new objects itself (a DN template); others get
            // Microsoft's autogenerated CN=<anchor>,OBJECT=<TYPE>.
            .or_else(|| {
                (self.capabilities.distinguished_name_style != DnStyle::Ldap)
                    .then(|| anchor.as_deref().map(|a| Self::autogenerated_dn(t, a)))
                    .flatten()
            })
            .unwrap_or_default();
        let mut entry = Self::new_entry(t, ObjectModification::Add, anchor.as_deref(), &dn);
        entry.changes = record
            .iter()
            .map(|(k, v)| AttributeChange::add(k, v.iter().cloned()))
            .collect();
        let result = self.export_entry(entry).await?;
        let id = result
            .anchor_changes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(&t.anchor))
            .or(result.anchor_changes.iter().find(|a| {
                !a.name.eq_ignore_ascii_case("dn") && !a.name.eq_ignore_ascii_case("-dn-")
            }))
            .map(|a| a.value.as_text())
            .or(anchor)
            .ok_or_else(|| {
                ScimError::internal("the connector created the object but reported no anchor")
            })?;
        record.insert(t.anchor.clone(), vec![Value::String(id.clone())]);
        if let Some(assigned) = result.anchor_changes.iter().find(|a| {
            !a.name.eq_ignore_ascii_case(&t.anchor)
                && (a.name.eq_ignore_ascii_case("dn") || a.name.eq_ignore_ascii_case("-dn-"))
        }) {
            dn = assigned.value.as_text();
        }
        if dn.is_empty() {
            dn = Self::autogenerated_dn(t, &id);
        }
        let active_override = t.active_attribute().is_none().then_some(active);
        let stored = self.render(t, &id, &record, active_override, None);
        self.caches[idx].put(CacheEntry {
            id: id.clone(),
            dn: dn.clone(),
            record,
            stored: stored.clone(),
        });
        // Microsoft's host hands the initial password to the connector after the Add.
        if let Some(password) = resource
            .get("password")
            .and_then(Json::as_str)
            .filter(|p| !p.is_empty())
        {
            if !self.capabilities.support_password {
                tracing::warn!(app = %self.name, "a password was sent but the connector does not support passwords; ignored");
            } else {
                let target = PasswordTarget {
                    object_type: t.object_type.clone(),
                    dn,
                    anchor: vec![AnchorAttribute {
                        name: t.anchor.clone(),
                        value: Value::String(id.clone()),
                    }],
                };
                let password = Secret::new(password.to_owned());
                let p = plugin_api::model::Secret::new(password.expose().to_owned());
                self.export_instance
                    .call(move |i| i.set_password(target, p, PasswordOptions::default()))
                    .await
                    .map_err(|e| connector_error_to_scim(&e))?;
            }
        }
        Ok(stored)
    }

    async fn replace(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
        new: Json,
        _changes: Vec<ecma_scim::AttributeChange>,
    ) -> Result<Arc<StoredResource>, ScimError> {
        self.write_modified(rt, id, new).await
    }

    async fn modify(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
        new: Json,
        _changes: Vec<ecma_scim::AttributeChange>,
    ) -> Result<Arc<StoredResource>, ScimError> {
        // The connector-level change set is computed from the records (diff_records), which
        // covers every mapping (core, enterprise, extension, members) the same way.
        self.write_modified(rt, id, new).await
    }

    async fn delete(&self, rt: &ResourceTypeDef, id: &str) -> Result<(), ScimError> {
        let idx = self.type_index(rt)?;
        let t = &self.types[idx];
        let lock = self.object_lock(format!("{}:{id}", t.object_type));
        let _guard = lock.lock().await;
        let old = self.caches[idx]
            .snapshot()
            .get(id)
            .cloned()
            .ok_or_else(|| ScimError::not_found(format!("{} {id} not found", rt.name)))?;
        let exported = match &t.on_delete {
            Deprovision::SetAttribute { set, value } => {
                self.require_export()?;
                let entry = Self::new_entry(t, ObjectModification::Update, Some(id), &old.dn)
                    .with_change(AttributeChange::replace(set, [t.typed_bool(set, *value)]));
                self.export_entry(entry).await.map(drop)
            }
            d if *d == Deprovision::Delete => {
                self.require_export()?;
                let entry = Self::new_entry(t, ObjectModification::Delete, Some(id), &old.dn);
                self.export_entry(entry).await.map(drop)
            }
            _ => Ok(()),
        };
        match exported {
            // Already gone from the target: the delete has happened; the cache follows.
            Ok(()) => {}
            Err(e) if e.status == 404 => {}
            Err(e) => return Err(e),
        }
        self.caches[idx].remove(id);
        Ok(())
    }

    fn is_indexed(&self, rt: &ResourceTypeDef, attr: &ResolvedAttr) -> bool {
        let Ok(idx) = self.type_index(rt) else {
            return false;
        };
        let t = &self.types[idx];
        t.connector_attr_for(attr)
            .is_some_and(|c| self.caches[idx].snapshot().is_indexed(c) || c == t.anchor)
    }

    async fn write_guard(&self, rt: &ResourceTypeDef, id: &str) -> Option<Box<dyn Send>> {
        let guard = self.request_lock(&rt.endpoint, id).lock_owned().await;
        Some(Box::new(guard))
    }
}

/// Candidate ids for an index plan (a superset of the matches), or None to scan.
fn plan_ids(plan: &IndexPlan, t: &TypeMapping, snap: &Snapshot) -> Option<BTreeSet<String>> {
    match plan {
        IndexPlan::Eq { attr, value } => {
            if attr.attr.eq_ignore_ascii_case("id") && attr.sub_attr.is_none() {
                return Some(snap.get(value).map(|e| e.id.clone()).into_iter().collect());
            }
            let connector = t.connector_attr_for(attr)?;
            snap.lookup(connector, value)
                .map(|ids| ids.into_iter().collect())
        }
        IndexPlan::And(parts) => {
            let mut sets = parts.iter().filter_map(|p| plan_ids(p, t, snap));
            let first = sets.next()?;
            Some(sets.fold(first, |acc, s| acc.intersection(&s).cloned().collect()))
        }
        IndexPlan::Or(parts) => {
            let mut out = BTreeSet::new();
            for p in parts {
                out.extend(plan_ids(p, t, snap)?);
            }
            Some(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_gives_replaces_deletes_and_value_updates() {
        let mut old = Record::new();
        old.insert("mail".into(), vec![Value::from("a@x")]);
        old.insert("gone".into(), vec![Value::from("g")]);
        old.insert("groups".into(), vec![Value::from("1"), Value::from("2")]);
        let mut new = Record::new();
        new.insert("mail".into(), vec![Value::from("b@x")]);
        new.insert("added".into(), vec![Value::from("n")]);
        new.insert("groups".into(), vec![Value::from("2"), Value::from("3")]);
        let d = diff_records(&old, &new, ExportType::AttributeUpdate);
        let by = |n: &str| d.iter().find(|c| c.name == n).unwrap();
        assert_eq!(by("mail").modification, AttributeModification::Replace);
        assert_eq!(by("gone").modification, AttributeModification::Delete);
        assert_eq!(by("added").modification, AttributeModification::Add);
        let g = by("groups");
        assert_eq!(g.modification, AttributeModification::Update);
        assert_eq!(g.deleted_values().collect::<Vec<_>>(), [&Value::from("1")]);
        assert_eq!(g.added_values().collect::<Vec<_>>(), [&Value::from("3")]);
        let d = diff_records(&old, &new, ExportType::AttributeReplace);
        assert_eq!(
            d.iter().find(|c| c.name == "groups").unwrap().modification,
            AttributeModification::Replace
        );
        assert!(diff_records(&old, &old, ExportType::AttributeUpdate).is_empty());
    }

    #[test]
    fn export_codes_map_to_http_statuses() {
        let r = |code| ExportResult::failure("x", code, "the target said no");
        let status = |code| export_result_to_scim(&r(code)).unwrap_err().status;
        assert!(export_result_to_scim(&ExportResult::success("x")).is_ok());
        assert_eq!(
            status(ExportErrorCode::ConnectedDirectoryMissingObject),
            404
        );
        assert_eq!(
            status(ExportErrorCode::ConnectedDirectoryExistingObject),
            409
        );
        assert_eq!(status(ExportErrorCode::SyntaxViolation), 400);
        assert_eq!(status(ExportErrorCode::PermissionIssue), 403);
        let e = export_result_to_scim(&r(ExportErrorCode::ConnectedDirectoryError)).unwrap_err();
        assert_eq!((e.status, e.retry_after_secs), (503, Some(30)));
        assert!(e.detail.contains("the target said no"));
        let e = connector_error_to_scim(&ConnectorError::connection("refused"));
        assert_eq!(e.status, 503);
    }
}
