//! SCIM reads: every read is answered from the cache snapshot, never from the target; index
//! plans on the anchor and the query attributes narrow a list to candidates.

use std::collections::BTreeMap;
use std::sync::Arc;

use ecma_scim::{Candidates, IndexPlan, ResolvedAttr, ResourceTypeDef, ScimError, StoredResource};

use super::Application;
use crate::cache::{CacheEntry, Snapshot};
use crate::mapping::TypeMapping;

impl Application {
    /// Cached resources for a list request: those an index plan selects, else all, each
    /// rendered when the engine reaches it (a page of a listing renders only the page).
    pub(super) fn candidates<'a>(
        &'a self,
        rt: &ResourceTypeDef,
        plan: Option<&IndexPlan>,
    ) -> Result<Candidates<'a>, ScimError> {
        let idx = self.type_index(rt)?;
        let t = &self.types[idx];
        // Before any snapshot is loaded (see `HotResources::put`).
        let changes = self.cache_changes();
        let snap = self.caches[idx].snapshot();
        let names = snap.names().table();
        let dn_to_id = self.dn_to_id();
        let render = move |e: Arc<CacheEntry>| self.resource_of(t, &names, &e, &dn_to_id);
        Ok(match plan.and_then(|p| plan_entries(p, t, &snap)) {
            // A few objects, likely read again soon: through the hot renderings.
            Some(found) => Candidates::new(
                found.len(),
                found.into_values().map(move |e| {
                    self.hot.get(idx, &e, changes).unwrap_or_else(|| {
                        let r = render(e.clone());
                        self.hot.put(idx, &e, changes, &r);
                        r
                    })
                }),
            ),
            None => Candidates::new(
                snap.len(),
                Rendering {
                    entries: Snapshot::clone(&snap).into_entries(),
                    render,
                },
            ),
        })
    }

    /// One cached resource by id.
    pub(super) fn get(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
    ) -> Result<Option<Arc<StoredResource>>, ScimError> {
        let idx = self.type_index(rt)?;
        let changes = self.cache_changes();
        let snap = self.caches[idx].snapshot();
        Ok(snap.get(id).map(|e| {
            self.hot.get(idx, e, changes).unwrap_or_else(|| {
                let r = self.resource_now(idx, e);
                self.hot.put(idx, e, changes, &r);
                r
            })
        }))
    }

    /// How many times the application's caches have changed, all types together.
    fn cache_changes(&self) -> u64 {
        self.caches.iter().map(|c| c.changes()).sum()
    }

    /// Whether lookups on `attr` are answered from an index (the anchor or a query attribute).
    pub(super) fn is_indexed(&self, rt: &ResourceTypeDef, attr: &ResolvedAttr) -> bool {
        let Ok(idx) = self.type_index(rt) else {
            return false;
        };
        let t = &self.types[idx];
        t.connector_attr_for(attr)
            .is_some_and(|c| self.caches[idx].snapshot().is_indexed(c) || c == t.anchor)
    }
}

/// Entries in id order, each rendered only when reached: `nth` skips without rendering.
struct Rendering<I, F> {
    entries: I,
    render: F,
}

impl<I, F> Iterator for Rendering<I, F>
where
    I: Iterator<Item = Arc<CacheEntry>>,
    F: Fn(Arc<CacheEntry>) -> Arc<StoredResource>,
{
    type Item = Arc<StoredResource>;

    fn next(&mut self) -> Option<Self::Item> {
        self.entries.next().map(&self.render)
    }

    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        self.entries.nth(n).map(&self.render)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

/// Candidate entries for an index plan (a superset of the matches), by id, or None to scan.
fn plan_entries(
    plan: &IndexPlan,
    t: &TypeMapping,
    snap: &Snapshot,
) -> Option<BTreeMap<String, Arc<CacheEntry>>> {
    let by_id = |found: Vec<Arc<CacheEntry>>| {
        found
            .into_iter()
            .map(|e| (e.id().to_owned(), e))
            .collect::<BTreeMap<_, _>>()
    };
    match plan {
        IndexPlan::Eq { attr, value } => {
            if attr.attr.eq_ignore_ascii_case("id") && attr.sub_attr.is_none() {
                return Some(by_id(snap.get(value).cloned().into_iter().collect()));
            }
            let connector = t.connector_attr_for(attr)?;
            snap.lookup(connector, value).map(by_id)
        }
        IndexPlan::And(parts) => {
            let mut sets = parts.iter().filter_map(|p| plan_entries(p, t, snap));
            let first = sets.next()?;
            Some(sets.fold(first, |mut acc, s| {
                acc.retain(|id, _| s.contains_key(id));
                acc
            }))
        }
        IndexPlan::Or(parts) => {
            let mut out = BTreeMap::new();
            for p in parts {
                out.extend(plan_entries(p, t, snap)?);
            }
            Some(out)
        }
    }
}
