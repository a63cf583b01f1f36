//! Framework-independent SCIM request handling (RFC 7644 §3): routing, validation, single-resource
//! reads and writes, versioning and discovery; lists are in `list.rs`, `/Bulk` in `bulk.rs`, the request
//! and response types in `message.rs`. The host adapts HTTP to [`ScimRequest`]/[`ScimResponse`] and
//! implements [`Backend`].

use std::sync::Arc;

use serde_json::{Value, json};

use crate::ScimError;
use crate::filter::FilterLimits;
use crate::member_patch::{MemberChanges, PatchedGroup};
use crate::patch::{parse_patch, patch_resource};
use crate::query::ListQuery;
use crate::resource::{StoredResource, etag_matches, normalize_resource};
use crate::schema::{ResolvedAttr, ResourceTypeDef, SPC_URN, SchemaDef};
use crate::unknown::UnknownAttributes;

mod bulk;
mod candidates;
mod encode;
mod list;
mod message;
mod render;

pub use bulk::{BULK_REQUEST_URN, BULK_RESPONSE_URN};
pub use candidates::Candidates;

/// Resources a `sortBy` request may sort by default (see [`EngineConfig::max_sort_candidates`]).
pub const DEFAULT_MAX_SORT_CANDIDATES: usize = 50_000;
/// Values one PATCH operation may carry by default (see [`EngineConfig::max_values_per_patch_op`]).
pub const DEFAULT_MAX_VALUES_PER_PATCH_OP: usize = 10_000;
pub use list::list_response;
pub use message::{Body, Method, ScimRequest, ScimResponse};

/// Storage the engine drives. The engine does filtering, sorting, paging and projection; the backend answers
/// index plans with a superset of candidates and performs writes (exports to the connector).
#[allow(async_fn_in_trait)]
pub trait Backend: Send + Sync {
    /// Candidates for a list request: all resources of `rt` when `plan` is `None`, else at least every
    /// resource the plan selects (see [`crate::IndexPlan`]; keys are [`crate::index_key`]).
    async fn candidates<'a>(
        &'a self,
        rt: &ResourceTypeDef,
        plan: Option<&crate::IndexPlan>,
    ) -> Result<Candidates<'a>, ScimError>;
    async fn get(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
    ) -> Result<Option<Arc<StoredResource>>, ScimError>;
    /// `resource` is validated and normalised, without `id`; it may contain the writeOnly `password`.
    async fn create(
        &self,
        rt: &ResourceTypeDef,
        resource: Value,
    ) -> Result<Arc<StoredResource>, ScimError>;
    /// PUT and PATCH: `new` is the whole new resource (with `id`), validated, normalised and with
    /// immutable attributes enforced. The engine passes no change set: a backend diffs in its own
    /// terms (the host diffs connector records), so there is one diff per write, not two. A
    /// PATCH that changes nothing never reaches the backend; a PUT always does. Called with
    /// [`Self::write_guard`] held.
    async fn update(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
        new: Value,
    ) -> Result<Arc<StoredResource>, ScimError>;
    /// A PATCH that only adds and removes members ([`MemberChanges`]), applied to the
    /// backend's own records without rendering the group: Entra changes the membership of a
    /// 100,000-member group one PATCH at a time. `precondition` checks `If-Match` against the
    /// object's current version (`meta.version`); `with_members` says whether the answer
    /// shows the members (a backend may leave them out of the returned group otherwise, and
    /// may give them apart from it: see [`PatchedGroup`]). Called with [`Self::write_guard`] held. `None`: not handled here, and the engine
    /// applies the PATCH to the rendered resource as any other (the default).
    async fn patch_members(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
        changes: &MemberChanges,
        precondition: &(dyn Fn(&str) -> Result<(), ScimError> + Sync),
        with_members: bool,
    ) -> Option<Result<PatchedGroup, ScimError>> {
        let _ = (rt, id, changes, precondition, with_members);
        None
    }
    /// Must return a 404 [`ScimError`] for an unknown id.
    async fn delete(&self, rt: &ResourceTypeDef, id: &str) -> Result<(), ScimError>;
    fn is_indexed(&self, rt: &ResourceTypeDef, attr: &ResolvedAttr) -> bool;
    /// Held by the engine around one whole PUT, PATCH or DELETE of `id` (read, apply, write), in a
    /// single request or inside `/Bulk`, so concurrent writes to one resource never build on a
    /// stale version. Default: nothing to hold (the backend serialises on its own).
    async fn write_guard(&self, rt: &ResourceTypeDef, id: &str) -> Option<Box<dyn Send>> {
        let _ = (rt, id);
        None
    }
}

/// Engine configuration: what is served and the advertised limits.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Absolute base URL, e.g. `https://host:8585/ecma2host_app1/scim` (used in `meta.location`).
    pub base_url: String,
    pub resource_types: Vec<ResourceTypeDef>,
    pub max_filter_len: usize,
    pub max_filter_depth: usize,
    /// Upper bound of `itemsPerPage` (advertised as `filter.maxResults`); also the default page size.
    pub max_results: usize,
    /// The most resources a `sortBy` request may sort (each is rendered for its key); above it,
    /// 400 `tooMany`. Entra never sorts; other clients narrow with a filter.
    pub max_sort_candidates: usize,
    pub bulk_max_operations: usize,
    pub bulk_max_payload: usize,
    /// The most values one PATCH operation may carry (members added or removed at once).
    pub max_values_per_patch_op: usize,
    pub documentation_uri: Option<String>,
    /// What writes do with attributes the resource type does not define.
    pub unknown_attributes: UnknownAttributes,
    /// Told each attribute an `Ignore` policy dropped from a write (for a log line).
    pub on_ignored_attribute: Option<IgnoredAttributeHook>,
    /// The application's name, for error messages that must say which application refused.
    pub application: String,
    /// What a successful PATCH of a group answers.
    pub group_patch_answer: PatchAnswer,
}

/// What a successful PATCH answers: RFC 7644 §3.5.2 allows the resource (200) or no content
/// (204, with the new `ETag`). Entra reads neither, and a group's answer carries all its
/// members: with 100,000 of them, megabytes per membership change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PatchAnswer {
    /// 200 and the resource, under the request's `attributes`/`excludedAttributes`.
    #[default]
    Resource,
    /// 204 No Content, except where a resource is still due: a request that names
    /// `attributes` (the RFC requires the 200 then) and a PATCH inside `/Bulk` (whose
    /// result carries the resource's location).
    NoContent,
}

/// Called with the resource type and the name of each attribute a write dropped.
#[derive(Clone)]
pub struct IgnoredAttributeHook(pub std::sync::Arc<IgnoredAttributeFn>);

/// The hook's function: resource type name, attribute name.
pub type IgnoredAttributeFn = dyn Fn(&str, &str) + Send + Sync;

impl std::fmt::Debug for IgnoredAttributeHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IgnoredAttributeHook")
    }
}

impl EngineConfig {
    pub fn new(base_url: impl Into<String>, resource_types: Vec<ResourceTypeDef>) -> Self {
        EngineConfig {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            resource_types,
            max_filter_len: crate::DEFAULT_MAX_FILTER_LEN,
            max_filter_depth: crate::DEFAULT_MAX_FILTER_DEPTH,
            max_results: 1000,
            max_sort_candidates: DEFAULT_MAX_SORT_CANDIDATES,
            bulk_max_operations: 1000,
            bulk_max_payload: 1_048_576,
            max_values_per_patch_op: DEFAULT_MAX_VALUES_PER_PATCH_OP,
            documentation_uri: None,
            unknown_attributes: UnknownAttributes::Reject,
            on_ignored_attribute: None,
            application: String::new(),
            group_patch_answer: PatchAnswer::default(),
        }
    }
}

/// The SCIM engine. Cheap to share; holds only configuration and pre-rendered discovery documents.
pub struct ScimEngine {
    cfg: EngineConfig,
    schemas: Vec<Value>,
    resource_types: Vec<Value>,
    spc: Value,
}

enum Route<'a> {
    Spc,
    Schemas(Option<&'a str>),
    ResourceTypes(Option<&'a str>),
    Bulk,
    List(&'a ResourceTypeDef),
    Search(&'a ResourceTypeDef),
    /// The base URL itself: `GET /?filter=...` and `POST /.search` query every resource type (RFC 7644 §3.4.3).
    Root,
    RootSearch,
    One(&'a ResourceTypeDef, String),
}

impl ScimEngine {
    pub fn new(cfg: EngineConfig) -> Self {
        let mut seen: Vec<&SchemaDef> = Vec::new();
        for rt in &cfg.resource_types {
            for s in std::iter::once(&rt.schema).chain(rt.extensions.iter().map(|e| &e.schema)) {
                if !seen.iter().any(|x| x.id == s.id) {
                    seen.push(s);
                }
            }
        }
        let base = cfg.base_url.clone();
        let schemas = seen.iter().map(|s| s.to_json(&base)).collect();
        let resource_types = cfg
            .resource_types
            .iter()
            .map(|r| r.to_json(&base))
            .collect();
        let mut spc = json!({
            "schemas": [SPC_URN],
            "patch": {"supported": true},
            "bulk": {"supported": true, "maxOperations": cfg.bulk_max_operations, "maxPayloadSize": cfg.bulk_max_payload},
            "filter": {"supported": true, "maxResults": cfg.max_results},
            "changePassword": {"supported": false},
            "sort": {"supported": true},
            "etag": {"supported": true},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "Authentication scheme using the OAuth Bearer Token Standard",
                "specUri": "https://www.rfc-editor.org/info/rfc6750",
                "primary": true
            }],
            "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
        });
        if let Some(d) = &cfg.documentation_uri {
            spc["documentationUri"] = Value::String(d.clone());
        }
        ScimEngine {
            cfg,
            schemas,
            resource_types,
            spc,
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// The ServiceProviderConfig document (RFC 7643 §5).
    pub fn service_provider_config(&self) -> &Value {
        &self.spc
    }

    fn limits(&self) -> FilterLimits {
        FilterLimits {
            max_len: self.cfg.max_filter_len,
            max_depth: self.cfg.max_filter_depth,
        }
    }

    fn route<'a>(&'a self, path: &'a str) -> Option<Route<'a>> {
        let segs: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        match segs.as_slice() {
            [s] if eq(s, "ServiceProviderConfig") => Some(Route::Spc),
            [s] if eq(s, "Schemas") => Some(Route::Schemas(None)),
            [s, id] if eq(s, "Schemas") => Some(Route::Schemas(Some(id))),
            [s] if eq(s, "ResourceTypes") => Some(Route::ResourceTypes(None)),
            [s, id] if eq(s, "ResourceTypes") => Some(Route::ResourceTypes(Some(id))),
            [s] if eq(s, "Bulk") => Some(Route::Bulk),
            [] => Some(Route::Root),
            [s] if *s == ".search" => Some(Route::RootSearch),
            [ep, rest @ ..] if rest.len() <= 1 => {
                let rt = self
                    .cfg
                    .resource_types
                    .iter()
                    .find(|r| eq(r.endpoint.trim_start_matches('/'), ep))?;
                match rest {
                    [] => Some(Route::List(rt)),
                    [s] if *s == ".search" => Some(Route::Search(rt)),
                    [id] => Some(Route::One(rt, percent_decode(id))),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Handle one request. Never fails: errors become SCIM error responses.
    pub async fn handle<B: Backend>(&self, backend: &B, req: ScimRequest) -> ScimResponse {
        match self.handle_inner(backend, &req, true).await {
            Ok(r) => r,
            Err(e) => ScimResponse::error(&e),
        }
    }

    async fn handle_inner<B: Backend>(
        &self,
        backend: &B,
        req: &ScimRequest,
        allow_bulk: bool,
    ) -> Result<ScimResponse, ScimError> {
        let route = self
            .route(&req.path)
            .ok_or_else(|| ScimError::not_found(format!("no such endpoint: {}", req.path)))?;
        let read_only = |m: Method| -> Result<(), ScimError> {
            if m == Method::Get {
                Ok(())
            } else {
                Err(ScimError::method_not_allowed(
                    "discovery endpoints are read-only",
                ))
            }
        };
        let q = || ListQuery::from_query_string(&req.query, self.limits());
        match route {
            Route::Spc => {
                read_only(req.method)?;
                Ok(ScimResponse::json(200, self.spc.clone()))
            }
            Route::Schemas(id) => {
                read_only(req.method)?;
                self.discovery(&self.schemas, id, "Schema")
            }
            Route::ResourceTypes(id) => {
                read_only(req.method)?;
                self.discovery(&self.resource_types, id, "ResourceType")
            }
            Route::Bulk if allow_bulk => match req.method {
                Method::Post => self.bulk(backend, req).await,
                _ => Err(ScimError::method_not_allowed("/Bulk accepts POST only")),
            },
            Route::Bulk => Err(ScimError::invalid_value(
                "bulk operations cannot target /Bulk",
            )),
            Route::List(rt) => match req.method {
                Method::Get => self.list(backend, rt, q()?).await,
                Method::Post => self.create(backend, rt, req, &q()?).await,
                _ => Err(ScimError::method_not_allowed(format!(
                    "{} accepts GET and POST",
                    rt.endpoint
                ))),
            },
            Route::Search(rt) => match req.method {
                Method::Post => {
                    let body = self.body(req)?;
                    self.list(
                        backend,
                        rt,
                        ListQuery::from_search_body(&body, self.limits())?,
                    )
                    .await
                }
                _ => Err(ScimError::method_not_allowed(".search accepts POST only")),
            },
            Route::RootSearch => match req.method {
                Method::Post => {
                    let body = self.body(req)?;
                    let q = ListQuery::from_search_body(&body, self.limits())?;
                    let all: Vec<&ResourceTypeDef> = self.cfg.resource_types.iter().collect();
                    self.list_many(backend, &all, q).await
                }
                _ => Err(ScimError::method_not_allowed(".search accepts POST only")),
            },
            Route::Root => match req.method {
                Method::Get => {
                    let all: Vec<&ResourceTypeDef> = self.cfg.resource_types.iter().collect();
                    self.list_many(backend, &all, q()?).await
                }
                _ => Err(ScimError::method_not_allowed(
                    "the service root accepts GET (a query across all resource types) only",
                )),
            },
            Route::One(rt, id) => match req.method {
                Method::Get => self.get_one(backend, rt, &id, req, &q()?).await,
                Method::Put => {
                    let _held = backend.write_guard(rt, &id).await;
                    self.put(backend, rt, &id, req, &q()?).await
                }
                Method::Patch => {
                    let _held = backend.write_guard(rt, &id).await;
                    let q = q()?;
                    let answer = self.patch_answer(rt, &q, allow_bulk);
                    self.patch(backend, rt, &id, req, &q, answer).await
                }
                Method::Delete => {
                    let _held = backend.write_guard(rt, &id).await;
                    self.delete(backend, rt, &id, req).await
                }
                Method::Post => Err(ScimError::method_not_allowed(
                    "POST to a resource is not allowed",
                )),
                Method::Other => Err(ScimError::method_not_allowed("method not allowed")),
            },
        }
    }

    fn discovery(
        &self,
        docs: &[Value],
        id: Option<&str>,
        what: &str,
    ) -> Result<ScimResponse, ScimError> {
        match id {
            None => Ok(ScimResponse::json(
                200,
                list_response(docs.to_vec(), docs.len(), 1),
            )),
            Some(id) => {
                let id = percent_decode(id);
                docs.iter()
                    .find(|d| {
                        d["id"]
                            .as_str()
                            .is_some_and(|x| x.eq_ignore_ascii_case(&id))
                    })
                    .map(|d| ScimResponse::json(200, d.clone()))
                    .ok_or_else(|| ScimError::not_found(format!("no {what} '{id}'")))
            }
        }
    }

    fn body(&self, req: &ScimRequest) -> Result<Value, ScimError> {
        if let Some(ct) = &req.content_type {
            let mt = ct
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            if !mt.is_empty()
                && mt != "application/scim+json"
                && mt != "application/json"
                && !mt.ends_with("+json")
            {
                return Err(ScimError::unsupported_media_type(format!(
                    "unsupported Content-Type '{ct}'"
                )));
            }
        }
        serde_json::from_slice(&req.body)
            .map_err(|e| ScimError::invalid_syntax(format!("malformed JSON body: {e}")))
    }

    async fn get_one<B: Backend>(
        &self,
        backend: &B,
        rt: &ResourceTypeDef,
        id: &str,
        req: &ScimRequest,
        q: &ListQuery,
    ) -> Result<ScimResponse, ScimError> {
        let sr = self.fetch(backend, rt, id).await?;
        if let Some(inm) = &req.if_none_match
            && !sr.meta.version.is_empty()
            && etag_matches(inm, &sr.meta.version)
        {
            return Ok(ScimResponse::empty(304).header("ETag", sr.meta.version.clone()));
        }
        Ok(self.one_response(200, rt, sr, q))
    }

    async fn fetch<B: Backend>(
        &self,
        backend: &B,
        rt: &ResourceTypeDef,
        id: &str,
    ) -> Result<Arc<StoredResource>, ScimError> {
        backend
            .get(rt, id)
            .await?
            .ok_or_else(|| ScimError::not_found(format!("{} '{id}' not found", rt.name)))
    }

    fn check_if_match(req: &ScimRequest, sr: &StoredResource) -> Result<(), ScimError> {
        Self::check_version(req, &sr.meta.version)
    }

    fn check_version(req: &ScimRequest, version: &str) -> Result<(), ScimError> {
        match &req.if_match {
            Some(h) if !etag_matches(h, version) => Err(ScimError::precondition_failed(format!(
                "If-Match {h} does not match the current version {version}"
            ))),
            _ => Ok(()),
        }
    }

    async fn create<B: Backend>(
        &self,
        backend: &B,
        rt: &ResourceTypeDef,
        req: &ScimRequest,
        q: &ListQuery,
    ) -> Result<ScimResponse, ScimError> {
        let body = self.known_attributes(self.body(req)?, rt);
        let mut doc = normalize_resource(&body, rt).map_err(|e| self.name_application(e))?;
        crate::resource::reject_read_only_extension_values(&mut doc, rt, None)?;
        let sr = backend.create(rt, doc).await?;
        Ok(self.one_response(201, rt, sr, q))
    }

    async fn put<B: Backend>(
        &self,
        backend: &B,
        rt: &ResourceTypeDef,
        id: &str,
        req: &ScimRequest,
        q: &ListQuery,
    ) -> Result<ScimResponse, ScimError> {
        let body = self.known_attributes(self.body(req)?, rt);
        let cur = self.fetch(backend, rt, id).await?;
        Self::check_if_match(req, &cur)?;
        let mut doc = normalize_resource(&body, rt).map_err(|e| self.name_application(e))?;
        if let Some(m) = doc.as_object_mut() {
            m.insert(
                "id".into(),
                cur.resource
                    .get("id")
                    .cloned()
                    .unwrap_or_else(|| Value::String(id.to_owned())),
            );
        }
        crate::resource::reject_read_only_extension_values(&mut doc, rt, Some(&cur.resource))?;
        crate::resource::enforce_immutable(&cur.resource, &mut doc, rt)?;
        let sr = backend.update(rt, id, doc).await?;
        Ok(self.one_response(200, rt, sr, q))
    }

    /// Refuses a PATCH operation with more values than `max_values_per_patch_op`, counting a
    /// value array and the arrays inside a path-less operation's object.
    fn check_patch_size(&self, ops: &[crate::PatchOp]) -> Result<(), ScimError> {
        let limit = self.cfg.max_values_per_patch_op;
        for (n, op) in ops.iter().enumerate() {
            let count = match &op.value {
                Some(Value::Array(a)) => a.len(),
                Some(Value::Object(o)) => o
                    .values()
                    .map(|v| v.as_array().map_or(1, Vec::len))
                    .max()
                    .unwrap_or(0),
                _ => 1,
            };
            if count > limit {
                return Err(ScimError::invalid_value(format!(
                    "PATCH operation {} carries {count} values; at most {limit} are accepted in one operation (send them in several)",
                    n + 1
                )));
            }
        }
        Ok(())
    }

    async fn patch<B: Backend>(
        &self,
        backend: &B,
        rt: &ResourceTypeDef,
        id: &str,
        req: &ScimRequest,
        q: &ListQuery,
        answer: PatchAnswer,
    ) -> Result<ScimResponse, ScimError> {
        let body = self.body(req)?;
        let mut ops = parse_patch(&body)?;
        if self.cfg.unknown_attributes == UnknownAttributes::Ignore {
            let removed = crate::unknown::strip_patch(&mut ops, rt);
            self.report_ignored(rt, removed);
        }
        self.check_patch_size(&ops)?;
        if let Some(changes) = MemberChanges::of(&ops, rt) {
            let check = |version: &str| Self::check_version(req, version);
            let with_members =
                answer == PatchAnswer::Resource && returns_attribute(q, rt, "members");
            if let Some(done) = backend
                .patch_members(rt, id, &changes, &check, with_members)
                .await
            {
                return Ok(self.patched_group_response(rt, done?, q, answer));
            }
        }
        let cur = self.fetch(backend, rt, id).await?;
        Self::check_if_match(req, &cur)?;
        let new = patch_resource(&cur.resource, &ops, rt).map_err(|e| self.name_application(e))?;
        if new == cur.resource {
            // Nothing changed (e.g. adding a member that is already there): answered without a
            // write. The backend computes the change it exports from its own records; a
            // change that is no change to it (a reordering, another letter case) costs a
            // write that exports nothing.
            return Ok(self.patch_response(rt, cur, q, answer));
        }
        let sr = backend.update(rt, id, new).await?;
        Ok(self.patch_response(rt, sr, q, answer))
    }

    /// How a PATCH of `rt` under `q` is answered; `allow_bulk` is false inside `/Bulk`.
    fn patch_answer(&self, rt: &ResourceTypeDef, q: &ListQuery, allow_bulk: bool) -> PatchAnswer {
        let group = rt
            .schema
            .id
            .eq_ignore_ascii_case(crate::schema::CORE_GROUP_URN);
        if group && allow_bulk && q.attributes.is_empty() {
            self.cfg.group_patch_answer
        } else {
            PatchAnswer::Resource
        }
    }

    fn patch_response(
        &self,
        rt: &ResourceTypeDef,
        sr: Arc<StoredResource>,
        q: &ListQuery,
        answer: PatchAnswer,
    ) -> ScimResponse {
        match answer {
            PatchAnswer::Resource => self.one_response(200, rt, sr, q),
            PatchAnswer::NoContent if sr.meta.version.is_empty() => ScimResponse::empty(204),
            PatchAnswer::NoContent => {
                ScimResponse::empty(204).header("ETag", sr.meta.version.clone())
            }
        }
    }

    /// The answer to a membership PATCH the backend applied itself: printed from the member
    /// values under the default projection, else from the group with its members put back.
    fn patched_group_response(
        &self,
        rt: &ResourceTypeDef,
        done: PatchedGroup,
        q: &ListQuery,
        answer: PatchAnswer,
    ) -> ScimResponse {
        let values = match done.member_values {
            Some(values) if answer == PatchAnswer::Resource => values,
            _ => return self.patch_response(rt, done.group, q, answer),
        };
        if q.attributes.is_empty() && q.excluded_attributes.is_empty() {
            let body = self.encode_default_with(rt, &done.group, Some(values.as_slice()));
            return self.one_response_with(200, rt, &done.group, Body::Encoded(body));
        }
        let mut group = Arc::unwrap_or_clone(done.group);
        if let Some(m) = group.resource.as_object_mut()
            && !values.is_empty()
        {
            let members = values.iter().map(|v| json!({ "value": v })).collect();
            m.insert("members".into(), Value::Array(members));
        }
        self.patch_response(rt, Arc::new(group), q, answer)
    }

    /// A write's body with what `rt` does not define removed, under an `Ignore` policy.
    fn known_attributes(&self, mut body: Value, rt: &ResourceTypeDef) -> Value {
        if self.cfg.unknown_attributes == UnknownAttributes::Ignore {
            let removed = crate::unknown::strip_resource(&mut body, rt);
            self.report_ignored(rt, removed);
        }
        body
    }

    fn report_ignored(&self, rt: &ResourceTypeDef, removed: Vec<String>) {
        if let Some(hook) = &self.cfg.on_ignored_attribute {
            for name in removed {
                (hook.0)(&rt.name, &name);
            }
        }
    }

    /// An unknown-attribute refusal names the application and the way to accept such writes.
    fn name_application(&self, mut e: ScimError) -> ScimError {
        if e.unknown_attribute && !self.cfg.application.is_empty() {
            e.detail = format!(
                "{} (application '{}' does not map it; set unknown_attributes = \"ignore\" to drop such attributes)",
                e.detail, self.cfg.application
            );
        }
        e
    }

    async fn delete<B: Backend>(
        &self,
        backend: &B,
        rt: &ResourceTypeDef,
        id: &str,
        req: &ScimRequest,
    ) -> Result<ScimResponse, ScimError> {
        if req.if_match.is_some() {
            let cur = self.fetch(backend, rt, id).await?;
            Self::check_if_match(req, &cur)?;
        }
        backend.delete(rt, id).await?;
        Ok(ScimResponse::empty(204))
    }
}

/// Whether an answer under `q`'s `attributes` / `excludedAttributes` shows the core
/// attribute `name` (in doubt, it does).
fn returns_attribute(q: &ListQuery, rt: &ResourceTypeDef, name: &str) -> bool {
    let names = |p: &crate::AttrPath| {
        p.attr.eq_ignore_ascii_case(name)
            && p.urn
                .as_deref()
                .is_none_or(|u| u.eq_ignore_ascii_case(&rt.schema.id))
    };
    if q.excluded_attributes
        .iter()
        .any(|p| names(p) && p.sub_attr.is_none())
    {
        return false;
    }
    q.attributes.is_empty() || q.attributes.iter().any(names)
}

fn percent_decode(s: &str) -> String {
    // Path segments: `+` is literal here, unlike in query strings.
    let b = s.replace('+', "%2B");
    form_urlencoded::parse(format!("x={b}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_owned())
}
