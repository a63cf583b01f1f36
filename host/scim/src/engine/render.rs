//! One resource as served (RFC 7643 §3.1, §4.2; RFC 7644 §3.9): the stored resource with
//! `meta` and `members[].$ref` added, under the request's projection, and the response that
//! carries it with its `Location` and `ETag`.

use std::sync::Arc;

use serde_json::Value;

use crate::json::get_ci_in;
use crate::query::{ListQuery, project};
use crate::resource::StoredResource;
use crate::schema::ResourceTypeDef;

use super::{Body, ScimEngine, ScimResponse};

impl ScimEngine {
    /// The resource as served: data + `meta` (location filled in).
    pub fn render(&self, rt: &ResourceTypeDef, sr: &StoredResource) -> Value {
        let mut v = sr.resource.clone();
        if let Some(m) = v.as_object_mut() {
            m.insert("meta".into(), self.meta_json(rt, sr));
            self.member_refs(rt, m);
        }
        v
    }

    pub(super) fn meta_json(&self, rt: &ResourceTypeDef, sr: &StoredResource) -> Value {
        let mut meta = sr.meta.clone();
        if meta.resource_type.is_empty() {
            meta.resource_type = rt.name.clone();
        }
        if meta.location.is_empty() {
            meta.location = self.location(rt, sr.id().unwrap_or_default());
        }
        meta.to_json()
    }

    /// The resource as served under a projection, copying only what the projection keeps
    /// (`excludedAttributes=members` on a 100,000-member group copies no member).
    fn render_projected(
        &self,
        rt: &ResourceTypeDef,
        sr: &StoredResource,
        attributes: &[crate::filter::AttrPath],
        excluded: &[crate::filter::AttrPath],
    ) -> Value {
        let mut out = project(&sr.resource, rt, attributes, excluded);
        let meta = project(
            &serde_json::json!({ "meta": self.meta_json(rt, sr) }),
            rt,
            attributes,
            excluded,
        );
        if let (Some(o), Some(m)) = (out.as_object_mut(), meta.get("meta")) {
            o.insert("meta".into(), m.clone());
        }
        if let Some(o) = out.as_object_mut() {
            self.member_refs(rt, o);
        }
        out
    }

    /// `members[].$ref` (RFC 7643 §4.2) for members whose `type` names a served resource type: the member's
    /// location. Only when the schema publishes `members.$ref`; members without a `type` are left alone.
    fn member_refs(&self, rt: &ResourceTypeDef, m: &mut serde_json::Map<String, Value>) {
        if !self.member_refs_apply(rt) {
            return;
        }
        let Some(Value::Array(members)) =
            crate::json::key_ci(m, "members").and_then(|k| m.get_mut(&k))
        else {
            return;
        };
        for e in members.iter_mut() {
            let Some(o) = e.as_object_mut() else { continue };
            if let Some(r) = self.member_ref(o) {
                o.insert("$ref".into(), Value::String(r));
            }
        }
    }

    /// Whether `rt`'s schema publishes `members.$ref` and `members.type` (see [`Self::member_refs`]).
    pub(super) fn member_refs_apply(&self, rt: &ResourceTypeDef) -> bool {
        rt.schema
            .attribute("members")
            .is_some_and(|def| def.sub("$ref").is_some() && def.sub("type").is_some())
    }

    /// The `$ref` one member element gets: none when it has one, or its `type` names no
    /// served resource type.
    pub(super) fn member_ref(&self, o: &serde_json::Map<String, Value>) -> Option<String> {
        // `type` first: most members have none (Entra's never do), and every member of a
        // 100,000-member group is asked.
        let Some(Value::String(ty)) = get_ci_in(o, "type") else {
            return None;
        };
        let Some(Value::String(id)) = get_ci_in(o, "value") else {
            return None;
        };
        if get_ci_in(o, "$ref").is_some_and(|r| !r.is_null()) {
            return None;
        }
        let target = self
            .cfg
            .resource_types
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(ty))?;
        Some(self.location(target, id))
    }

    /// `sr` as served under `q`'s projection; the default projection comes from the resource's
    /// stored encoding, given away when no one else holds the resource (a write's answer:
    /// a 100,000-member group's text is megabytes) and copied otherwise.
    fn projected(&self, rt: &ResourceTypeDef, sr: Arc<StoredResource>, q: &ListQuery) -> Body {
        if !q.attributes.is_empty() || !q.excluded_attributes.is_empty() {
            return Body::Json(self.render_projected(
                rt,
                &sr,
                &q.attributes,
                &q.excluded_attributes,
            ));
        }
        Body::Encoded(match Arc::try_unwrap(sr) {
            Ok(own) => own.into_encoded(|sr| self.encode_default(rt, sr)),
            Err(shared) => self.encoded(rt, &shared).to_owned(),
        })
    }

    pub(super) fn encoded<'a>(&self, rt: &ResourceTypeDef, sr: &'a StoredResource) -> &'a str {
        sr.encoded(|| self.encode_default(rt, sr))
    }

    fn location(&self, rt: &ResourceTypeDef, id: &str) -> String {
        let enc: String = form_urlencoded::byte_serialize(id.as_bytes())
            .collect::<String>()
            .replace('+', "%20");
        format!("{}{}/{}", self.cfg.base_url, rt.endpoint, enc)
    }

    pub(super) fn one_response(
        &self,
        status: u16,
        rt: &ResourceTypeDef,
        sr: Arc<StoredResource>,
        q: &ListQuery,
    ) -> ScimResponse {
        let headers = self.resource_headers(status, rt, &sr);
        let mut r = ScimResponse::with_body(status, self.projected(rt, sr, q));
        r.headers.extend(headers);
        r
    }

    /// [`Self::one_response`] with its body made already.
    pub(super) fn one_response_with(
        &self,
        status: u16,
        rt: &ResourceTypeDef,
        sr: &StoredResource,
        body: Body,
    ) -> ScimResponse {
        let mut r = ScimResponse::with_body(status, body);
        r.headers.extend(self.resource_headers(status, rt, sr));
        r
    }

    /// `Location` (on a 201) and `ETag` of an answer carrying `sr`.
    fn resource_headers(
        &self,
        status: u16,
        rt: &ResourceTypeDef,
        sr: &StoredResource,
    ) -> Vec<(String, String)> {
        let mut headers = Vec::with_capacity(2);
        if status == 201 {
            let location = if sr.meta.location.is_empty() {
                self.location(rt, sr.id().unwrap_or_default())
            } else {
                sr.meta.location.clone()
            };
            headers.push(("Location".to_owned(), location));
        }
        if !sr.meta.version.is_empty() {
            headers.push(("ETag".to_owned(), sr.meta.version.clone()));
        }
        headers
    }
}
