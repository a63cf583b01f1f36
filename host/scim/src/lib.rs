//! # ecma-scim — the SCIM 2.0 protocol engine of ecma-host
//!
//! Everything between an HTTP request from Microsoft Entra's provisioning service and the host's cache and
//! connector exports, as a library that tests drive without a server. RFC 7643 (schema) and RFC 7644
//! (protocol), plus the quirks of Entra's provisioning requests (capitalised PATCH ops, string
//! booleans, path-less replaces, member removals by filter; see the tests in `tests/engine.rs`).
//!
//! ## Modules and the public API
//!
//! * [`error`] — [`ScimError`] `{ status, scim_type, detail, retry_after_secs }` and [`ScimType`]; constructors
//!   (`invalid_filter`, `invalid_syntax`, `invalid_path`, `no_target`, `invalid_value`, `mutability`,
//!   `too_many`, `uniqueness`, `not_found`, `unauthorized`, `forbidden`, `method_not_allowed`,
//!   `precondition_failed`, `payload_too_large`, `unsupported_media_type`, `too_many_requests`, `internal`,
//!   `unavailable(detail, retry_after_secs)`); [`ScimError::to_json`] gives the RFC 7644 §3.12 body (`status`
//!   as a string). With feature `actix`, `impl actix_web::ResponseError for ScimError` (content type
//!   `application/scim+json`, `Retry-After`, `WWW-Authenticate: Bearer` on 401).
//! * [`schema`] — [`AttributeDef`], [`SchemaDef`], [`ResourceTypeDef`] (with [`SchemaExtension`]s),
//!   [`core_user_schema`], [`enterprise_user_schema`], [`core_group_schema`], [`ecma2host_extension`] (for
//!   [`ECMA2HOST_USER_URN`]/[`ECMA2HOST_GROUP_URN`]), [`user_resource_type`], [`group_resource_type`],
//!   [`SchemaDef::select`] (publish only selected attributes). [`ResourceTypeDef::resolve`] maps a short or
//!   URN-qualified, any-case [`AttrPath`] to a canonical [`ResolvedAttr`] (`urn`, `attr`, `sub_attr`, `def`,
//!   `parent_multi_valued`, `in_extension`); `id`, `externalId` and `meta` resolve as common attributes.
//! * [`filter`] — [`parse_filter`] / [`parse_filter_with`] ([`FilterLimits`]: length and nesting), the
//!   [`Filter`] AST whose `Display` parses back to an equal AST, [`matches`] (typed, caseExact-aware),
//!   [`index_plan`] → [`IndexPlan`] and [`index_key`], the key normalisation both the planner and the
//!   backend's indexes must use (lower-case unless caseExact).
//! * [`patch`] — [`parse_patch`], [`apply_patch`] → [`PatchOutcome`] `{ resource, changes }`, [`diff`] (the
//!   SCIM-level diff; the engine uses it only to answer a PATCH that changes nothing without a write),
//!   [`AttributeChange`] / [`ChangeKind`] (`Set`, `Clear`, `AddValues`, `RemoveValues`).
//! * [`json`] — case-insensitive member lookup ([`json::get_ci`]), shared with the host.
//! * [`query`] — [`ListQuery`] (`from_query_string`, `from_search_body`), [`project`], [`SortOrder`].
//! * [`resource`] — [`StoredResource`] `{ resource, meta }`, [`Meta`], [`weak_etag`], [`etag_matches`],
//!   [`normalize_resource`] (POST/PUT body validation).
//! * [`engine`] — [`ScimEngine::handle`]`(&backend, ScimRequest) -> ScimResponse` with a [`Backend`]
//!   (reads, `create`, `update` for PUT and PATCH alike, `delete`, and `write_guard`, the one lock held
//!   around a whole write) and an [`EngineConfig`]; routes `/Users`, `/Groups` (any configured resource type), `/{type}/{id}`,
//!   `/{type}/.search`, `POST /.search` and `GET /` (across every resource type), `/Bulk`, `/Schemas[/{id}]`, `/ResourceTypes[/{id}]`, `/ServiceProviderConfig`.
//! * [`testing`] — [`testing::MemoryBackend`] and [`testing::block_on`], for our tests and the host's.
//!
//! ## Engine behaviour (RFC 7644 §3)
//!
//! POST → 201 + `Location` + `ETag`; GET → 200 + `ETag`, 304 when `If-None-Match` matches; PUT/PATCH → 200
//! with the resource (PATCH never 204); DELETE → 204; `If-Match` mismatch → 412; lists use [`index_plan`] +
//! [`matches`], then sort, then page (1-based, `startIndex < 1` is 1, `count=0` gives only `totalResults`,
//! `count` is capped at `max_results`); `attributes`/`excludedAttributes` apply to every resource response.
//! Unknown endpoints and ids → 404 SCIM error; writes to discovery endpoints → 405; malformed JSON → 400
//! `invalidSyntax`; a body `Content-Type` other than `application/scim+json` / `application/json` → 415.
//! A PATCH that changes nothing (adding an existing member) answers 200 without calling the backend.
//!
//! ```
//! use ecma_scim::{testing::{MemoryBackend, block_on}, *};
//! let users = user_resource_type(core_user_schema(), vec![enterprise_user_schema()]);
//! let engine = ScimEngine::new(EngineConfig::new("https://host:8585/ecma2host_app1/scim", vec![users]));
//! let backend = MemoryBackend::new();
//! let r = block_on(engine.handle(&backend, ScimRequest::new(Method::Get, "/Users?filter=userName+eq+%22x%22")));
//! assert_eq!(r.status, 200);
//! assert_eq!(r.json_body().unwrap()["totalResults"], 0);
//! ```
#![forbid(unsafe_code)]

mod coerce;
mod diff;
mod elements;
pub mod engine;
pub mod error;
pub mod filter;
pub mod json;
pub mod member_patch;
pub mod patch;
pub mod query;
pub mod resource;
pub mod schema;
pub mod testing;
mod unknown;

pub use engine::*;
pub use error::{ERROR_URN, ScimError, ScimType};
pub use filter::*;
pub use member_patch::{MemberChanges, PatchedGroup};
pub use patch::*;
pub use query::*;
pub use resource::*;
pub use schema::*;
pub use unknown::UnknownAttributes;

/// Media type of every SCIM response (RFC 7644 §8.1).
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";
