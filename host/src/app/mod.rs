//! One Entra application: a connector instance, its caches, imports and autosync, and the
//! SCIM [`Backend`](ecma_scim::Backend) that turns writes into ECMA2 exports.
//!
//! Invariants: reads come from the cache only; the cache changes only after the connector
//! reports success; writes to one object are serialised (one lock per object, held by the
//! engine around a whole write and by a delta import around each entry); a failed import keeps
//! the old cache.
//!
//! This file holds the application's state and its setup; each job has its own file:
//! [`parameters`] (the connector's configuration from TOML), [`import`] and [`autosync`],
//! [`render`] (cache record → SCIM resource), [`locks`], [`export`] (one entry to the
//! connector), the SCIM operations [`read`], [`create`], [`update`] and [`delete`], and
//! [`backend`] (the engine's `Backend` trait over them).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ecma_scim::{
    EngineConfig, IgnoredAttributeHook, PatchAnswer, ResourceTypeDef, ScimEngine, ScimError,
    UnknownAttributes,
};
use plugin_api::model::*;
use serde_json::Value as Json;

use crate::cache::{CacheEntry, TypeCache};
use crate::config::{AppConfig, GroupPatchAnswer, HostConfig, ScimKind, UnknownAttributePolicy};
use crate::mapping::{TargetTraits, TypeMapping};
use crate::plugins::{CallKind, ManagedInstance, PluginRegistry};

mod autosync;
mod backend;
mod create;
mod delete;
mod export;
mod history;
mod hot;
mod import;
mod locks;
mod member_memo;
mod members;
mod parameters;
mod persist;
mod read;
mod render;
mod reread;
mod reread_queue;
mod update;

pub use crate::errors::IMPORTING_MESSAGE;
pub use history::{History, ImportRecord};
pub use import::{ImportMode, ImportSummary};
pub use parameters::{Validation, connector_parameters, parameter_pages, validate_with_connector};
pub use render::now_rfc3339;

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

pub struct Application {
    pub name: String,
    pub config: AppConfig,
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
    object_locks: locks::ObjectLocks,
    state_dir: PathBuf,
    watermarks: Mutex<BTreeMap<String, String>>,
    /// Objects read by the running import (for progress displays).
    progress: AtomicU64,
    /// Set when the target must be re-read soon (see `autosync.rs`).
    /// Shared: an abandoned export's thread may ask for a re-read when it returns.
    reconcile: Arc<tokio::sync::Notify>,
    /// What is to be re-read ([`reread`], [`reread_queue`]); shared like `reconcile`.
    pending_rereads: Arc<Mutex<reread_queue::PendingReReads>>,
    /// Whether the connector reads single objects (FullObject import); cleared the first
    /// time it answers `Unsupported`.
    full_object_import: AtomicBool,
    /// What it has done ([`history`]).
    history: history::HistoryLog,
    /// Renderings of objects read recently ([`hot`]).
    hot: hot::HotResources,
    /// The members of the groups patched last, resolved ([`member_memo`]).
    member_memos: member_memo::MemberMemos,
    /// The watermarks the cache file was last written with ([`persist`]).
    persisted_marks: Mutex<Option<BTreeMap<String, String>>>,
}

/// Logs each attribute an `ignore` policy drops, once per resource type and attribute (a
/// client sends the same ones with every request).
fn log_ignored_once(app: &str) -> IgnoredAttributeHook {
    let app = app.to_owned();
    let seen = Mutex::new(std::collections::HashSet::<(String, String)>::new());
    IgnoredAttributeHook(Arc::new(move |resource_type: &str, attribute: &str| {
        let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: a client inventing names cannot grow it without end.
        let first =
            seen.len() < 1024 && seen.insert((resource_type.to_owned(), attribute.to_lowercase()));
        drop(seen);
        if first {
            tracing::info!(
                app = %app,
                resource_type,
                attribute,
                "the application does not map this attribute; writes drop it (unknown_attributes = \"ignore\"; logged once)"
            );
        }
    }))
}

fn setup_err(app: &str, message: impl Into<String>) -> AppError {
    AppError::Setup {
        app: app.to_owned(),
        message: message.into(),
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
        let plugin = registry
            .for_app(&cfg.launch(host))
            .map_err(|reason| setup_err(&name, reason))?;
        // The first problem is enough to stop: every later page would wait out the same
        // unreachable target (`check-config` lists them all).
        let params = validate_with_connector(cfg, plugin.as_ref(), Validation::FirstProblem)
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
            .map(|ot| TypeMapping::build(ot, &schema, TargetTraits::of(&capabilities)))
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
        let mut engine_config = EngineConfig::new(
            base_url,
            types.iter().map(|t| t.resource_type.clone()).collect(),
        );
        engine_config.application = name.clone();
        engine_config.unknown_attributes = match cfg.unknown_attributes {
            UnknownAttributePolicy::Reject => UnknownAttributes::Reject,
            UnknownAttributePolicy::Ignore => UnknownAttributes::Ignore,
        };
        engine_config.on_ignored_attribute = Some(log_ignored_once(&name));
        engine_config.group_patch_answer = match cfg.group_patch_answer {
            GroupPatchAnswer::Resource => PatchAnswer::Resource,
            GroupPatchAnswer::NoContent => PatchAnswer::NoContent,
        };
        let engine = ScimEngine::new(engine_config);
        let state_dir = host.state_dir.join("apps").join(&name);
        let watermarks = import::load_watermarks(&name, &state_dir);
        Ok(Self {
            import_instance: ManagedInstance::new(
                plugin.clone(),
                params.clone(),
                &name,
                cfg.timeouts.limits(),
            ),
            export_instance: ManagedInstance::new(plugin, params, &name, cfg.timeouts.limits()),
            name,
            config: cfg.clone(),
            capabilities,
            types,
            caches,
            engine,
            ready: AtomicBool::new(false),
            importing: AtomicBool::new(false),
            last_error: Mutex::new(None),
            import_lock: tokio::sync::Mutex::new(()),
            object_locks: locks::ObjectLocks::default(),
            state_dir,
            watermarks: Mutex::new(watermarks),
            progress: AtomicU64::new(0),
            reconcile: Arc::default(),
            pending_rereads: Arc::default(),
            full_object_import: AtomicBool::new(true),
            history: history::HistoryLog::default(),
            hot: hot::HotResources::default(),
            member_memos: member_memo::MemberMemos::default(),
            persisted_marks: Mutex::new(None),
        })
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
                        "id": e.id(),
                        "dn": e.dn(),
                        "attributes": snap.record(e).iter().map(|(k, v)| (k.clone(), v.iter().map(Value::as_text).collect::<Vec<_>>())).collect::<BTreeMap<_, _>>(),
                    })
                })
                .collect();
            out.insert(t.object_type.clone(), Json::Array(items));
        }
        Json::Object(out)
    }

    /// Entra's test connection, run through the connector.
    pub async fn test_connection(&self) -> ConnectorResult<()> {
        self.export_instance
            .call(CallKind::Check, |i| i.test_connection())
            .await
    }

    fn type_index(&self, rt: &ResourceTypeDef) -> Result<usize, ScimError> {
        self.types
            .iter()
            .position(|t| t.resource_type.name == rt.name)
            .ok_or_else(|| ScimError::not_found(format!("no resource type {}", rt.name)))
    }

    /// The cached object a write to `id` starts from, with its type's index; 404 when the
    /// cache does not hold it.
    fn cached_object(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
    ) -> Result<(usize, Arc<CacheEntry>), ScimError> {
        let idx = self.type_index(rt)?;
        let entry = self.caches[idx]
            .snapshot()
            .get(id)
            .cloned()
            .ok_or_else(|| crate::errors::no_such_object(&rt.name, id))?;
        Ok((idx, entry))
    }

    /// Cancels connector calls and drops the instances (closing their connections).
    pub fn close(&self) {
        self.import_instance.cancel();
        self.import_instance.close();
        self.export_instance.close();
    }
}
