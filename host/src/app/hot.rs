//! The rendered resources of recently read objects. The cache keeps records, not resources
//! (`cache/`), so each read renders; the same few objects read over and over (a client
//! polling a user, Entra's lookups in a provisioning cycle) reuse one rendering and its
//! encoded text instead.
//!
//! A rendering holds while nothing in the application's caches has changed since it was
//! made (a group's members are shown as ids of other objects, so any change may change it):
//! every entry carries the change count it was made at. Only renderings made at the latest
//! count can be served, so a newer count drops all the others at once: under steady writes
//! the map holds what was read since the last change, not 4,096 stale renderings. Bounded
//! in entries and in the size of the objects it keeps; when full it starts over.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use ecma_scim::StoredResource;

use crate::cache::CacheEntry;

const CAPACITY: usize = 4096;
/// Objects larger than this (packed) are rendered each time: large groups are rarely read
/// whole, and would hold megabytes here.
const MAX_PACKED_BYTES: usize = 4096;

struct Hot {
    type_idx: usize,
    id: Box<str>,
    version: u64,
    changes: u64,
    resource: Arc<StoredResource>,
}

#[derive(Default)]
pub(super) struct HotResources {
    map: Mutex<HotMap>,
}

#[derive(Default)]
struct HotMap {
    /// The change count of every rendering kept.
    changes: u64,
    renderings: HashMap<u64, Hot>,
}

fn key(type_idx: usize, id: &str) -> u64 {
    foldhash::fast::FixedState::default().hash_one((type_idx, id))
}

impl HotResources {
    /// The rendering of `e` made when the caches had changed `changes` times, if kept.
    pub(super) fn get(
        &self,
        type_idx: usize,
        e: &CacheEntry,
        changes: u64,
    ) -> Option<Arc<StoredResource>> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.changes != changes {
            return None;
        }
        let hot = map.renderings.get(&key(type_idx, e.id()))?;
        (hot.type_idx == type_idx
            && &*hot.id == e.id()
            && hot.version == e.meta.version
            && hot.changes == changes)
            .then(|| hot.resource.clone())
    }

    /// Keeps a rendering of `e`; `changes` must have been read before the snapshots it was
    /// rendered from (so a rendering of an older cache never carries a newer count).
    pub(super) fn put(
        &self,
        type_idx: usize,
        e: &CacheEntry,
        changes: u64,
        resource: &Arc<StoredResource>,
    ) {
        if e.heap_bytes() > MAX_PACKED_BYTES {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if changes < map.changes {
            // Made from a cache that has changed since: it could never be served.
            return;
        }
        if changes > map.changes || map.renderings.len() >= CAPACITY {
            map.renderings.clear();
            map.changes = changes;
        }
        map.renderings.insert(
            key(type_idx, e.id()),
            Hot {
                type_idx,
                id: e.id().into(),
                version: e.meta.version,
                changes,
                resource: resource.clone(),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Names;
    use crate::mapping::Record;

    fn rendering(id: &str) -> (CacheEntry, Arc<StoredResource>) {
        let entry = CacheEntry::new(&Names::default(), id, "", &Record::new(), None);
        let resource = StoredResource::new(serde_json::json!({"id": id}), Default::default());
        (entry, Arc::new(resource))
    }

    #[test]
    fn only_renderings_of_the_latest_change_count_are_kept_and_served() {
        let hot = HotResources::default();
        let (a, ra) = rendering("a");
        let (b, rb) = rendering("b");
        hot.put(0, &a, 1, &ra);
        assert!(hot.get(0, &a, 1).is_some());
        assert!(hot.get(0, &a, 2).is_none(), "the cache changed since");
        // A rendering at a newer count drops the older ones: they can never be served.
        hot.put(0, &b, 2, &rb);
        assert_eq!(hot.map.lock().unwrap().renderings.len(), 1);
        assert!(hot.get(0, &b, 2).is_some());
        // One made before the latest change is not kept.
        hot.put(0, &a, 1, &ra);
        assert!(hot.get(0, &a, 1).is_none());
        assert_eq!(
            Arc::strong_count(&ra),
            1,
            "nothing holds the stale rendering"
        );
    }
}
