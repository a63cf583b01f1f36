//! SCIM reads: every read is answered from the cache snapshot, never from the target; index
//! plans on the anchor and the query attributes narrow a list to candidates.

use std::collections::BTreeSet;
use std::sync::Arc;

use ecma_scim::{IndexPlan, ResolvedAttr, ResourceTypeDef, ScimError, StoredResource};

use super::Application;
use crate::cache::Snapshot;
use crate::mapping::TypeMapping;

impl Application {
    /// Cached resources for a list request: those an index plan selects, else all.
    pub(super) fn candidates(
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

    /// One cached resource by id.
    pub(super) fn get(
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
