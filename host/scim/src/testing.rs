//! An in-memory [`Backend`] for tests (ours and the host's), and a minimal executor for its futures.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::json::get_ci;
use crate::resource::{Meta, StoredResource, weak_etag};
use crate::schema::{ResolvedAttr, ResourceTypeDef};
use crate::{AttributeChange, Backend, Candidates, IndexPlan, ScimError, diff, index_key};

/// Poll a future to completion on the current thread. Meant for futures that never wait on I/O (like
/// [`MemoryBackend`]'s); it spins politely otherwise.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

#[derive(Default)]
struct State {
    next_id: u64,
    next_version: u64,
    /// endpoint → id → resource
    data: BTreeMap<String, BTreeMap<String, Arc<StoredResource>>>,
    /// Every plan the engine passed to `candidates`, for assertions.
    plans: Vec<Option<IndexPlan>>,
    /// The diff of every `update` from the stored resource.
    changes: Vec<Vec<AttributeChange>>,
}

/// A thread-safe in-memory store. `userName` (Users) and `displayName` (Groups) are unique
/// (case-insensitively, 409 `uniqueness`); `id`, `externalId`, `userName`, `displayName`, `members.value` and
/// every attribute of an extension schema are "indexed" (answered from the plan).
#[derive(Default)]
pub struct MemoryBackend {
    state: Mutex<State>,
}

impl MemoryBackend {
    pub fn new() -> Self {
        Self::default()
    }
    /// Plans received by `candidates`, in order.
    pub fn plans(&self) -> Vec<Option<IndexPlan>> {
        self.state.lock().expect("lock").plans.clone()
    }
    /// The diff of each `update` from the resource it replaced, in order.
    pub fn change_sets(&self) -> Vec<Vec<AttributeChange>> {
        self.state.lock().expect("lock").changes.clone()
    }
    pub fn len(&self, rt: &ResourceTypeDef) -> usize {
        self.state
            .lock()
            .expect("lock")
            .data
            .get(&rt.endpoint)
            .map_or(0, BTreeMap::len)
    }
    pub fn is_empty(&self, rt: &ResourceTypeDef) -> bool {
        self.len(rt) == 0
    }

    fn stamp(st: &mut State, rt: &ResourceTypeDef, created: Option<&str>) -> Meta {
        st.next_version += 1;
        let now = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        Meta {
            resource_type: rt.name.clone(),
            created: created.map(str::to_owned).unwrap_or_else(|| now.clone()),
            last_modified: now,
            location: String::new(),
            version: weak_etag(&st.next_version.to_string()),
        }
    }

    fn unique_attr(rt: &ResourceTypeDef) -> Option<&'static str> {
        match rt.name.as_str() {
            "User" => Some("userName"),
            "Group" => Some("displayName"),
            _ => None,
        }
    }

    fn check_unique(
        st: &State,
        rt: &ResourceTypeDef,
        doc: &Value,
        except: Option<&str>,
    ) -> Result<(), ScimError> {
        let Some(a) = Self::unique_attr(rt) else {
            return Ok(());
        };
        let Some(v) = get_ci(doc, a).and_then(Value::as_str) else {
            return Ok(());
        };
        let clash = st.data.get(&rt.endpoint).is_some_and(|m| {
            m.iter().any(|(id, r)| {
                Some(id.as_str()) != except
                    && get_ci(&r.resource, a)
                        .and_then(Value::as_str)
                        .is_some_and(|x| x.eq_ignore_ascii_case(v))
            })
        });
        if clash {
            Err(ScimError::uniqueness(format!("{a} '{v}' already exists")))
        } else {
            Ok(())
        }
    }

    fn plan_matches(plan: &IndexPlan, r: &Value) -> bool {
        match plan {
            IndexPlan::And(v) => v.iter().all(|p| Self::plan_matches(p, r)),
            IndexPlan::Or(v) => v.iter().any(|p| Self::plan_matches(p, r)),
            IndexPlan::Eq { attr, value } => {
                let c = if attr.in_extension {
                    get_ci(r, &attr.urn)
                } else {
                    Some(r)
                };
                let Some(v) = c.and_then(|c| get_ci(c, &attr.attr)) else {
                    return false;
                };
                let vals: Vec<&Value> = match v {
                    Value::Array(a) => a.iter().collect(),
                    v => vec![v],
                };
                vals.into_iter()
                    .filter_map(|x| match &attr.sub_attr {
                        Some(s) => get_ci(x, s),
                        None => Some(x),
                    })
                    .any(|x| index_key(&attr.def, x).as_deref() == Some(value.as_str()))
            }
        }
    }
}

impl Backend for MemoryBackend {
    async fn candidates<'a>(
        &'a self,
        rt: &ResourceTypeDef,
        plan: Option<&IndexPlan>,
    ) -> Result<Candidates<'a>, ScimError> {
        let mut st = self.state.lock().expect("lock");
        st.plans.push(plan.cloned());
        let all = st
            .data
            .get(&rt.endpoint)
            .map(|m| m.values().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        Ok(match plan {
            None => all,
            Some(p) => all
                .into_iter()
                .filter(|r| Self::plan_matches(p, &r.resource))
                .collect(),
        }
        .into())
    }

    async fn get(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
    ) -> Result<Option<Arc<StoredResource>>, ScimError> {
        Ok(self
            .state
            .lock()
            .expect("lock")
            .data
            .get(&rt.endpoint)
            .and_then(|m| m.get(id))
            .cloned())
    }

    async fn create(
        &self,
        rt: &ResourceTypeDef,
        mut resource: Value,
    ) -> Result<Arc<StoredResource>, ScimError> {
        let mut st = self.state.lock().expect("lock");
        Self::check_unique(&st, rt, &resource, None)?;
        st.next_id += 1;
        let id = format!("{}-{}", rt.name.to_lowercase(), st.next_id);
        if let Some(m) = resource.as_object_mut() {
            m.insert("id".into(), Value::String(id.clone()));
            m.remove("password");
        }
        let meta = Self::stamp(&mut st, rt, None);
        let sr = Arc::new(StoredResource::new(resource, meta));
        st.data
            .entry(rt.endpoint.clone())
            .or_default()
            .insert(id, sr.clone());
        Ok(sr)
    }

    async fn update(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
        mut new: Value,
    ) -> Result<Arc<StoredResource>, ScimError> {
        let mut st = self.state.lock().expect("lock");
        let old = st
            .data
            .get(&rt.endpoint)
            .and_then(|m| m.get(id))
            .cloned()
            .ok_or_else(|| ScimError::not_found(format!("{} '{id}' not found", rt.name)))?;
        Self::check_unique(&st, rt, &new, Some(id))?;
        if let Some(m) = new.as_object_mut() {
            m.remove("password");
        }
        // A backend diffs in its own terms; this one stores SCIM resources, so the SCIM diff.
        st.changes.push(diff(&old.resource, &new, rt));
        let meta = Self::stamp(&mut st, rt, Some(&old.meta.created));
        let sr = Arc::new(StoredResource::new(new, meta));
        st.data
            .entry(rt.endpoint.clone())
            .or_default()
            .insert(id.to_owned(), sr.clone());
        Ok(sr)
    }

    async fn delete(&self, rt: &ResourceTypeDef, id: &str) -> Result<(), ScimError> {
        let mut st = self.state.lock().expect("lock");
        st.data
            .get_mut(&rt.endpoint)
            .and_then(|m| m.remove(id))
            .map(|_| ())
            .ok_or_else(|| ScimError::not_found(format!("{} '{id}' not found", rt.name)))
    }

    fn is_indexed(&self, _rt: &ResourceTypeDef, attr: &ResolvedAttr) -> bool {
        attr.in_extension
            || matches!(
                (attr.attr.as_str(), attr.sub_attr.as_deref()),
                ("id" | "externalId" | "userName" | "displayName", None)
                    | ("members", Some("value"))
            )
    }
}
