//! The rendered resources of recently read objects. The cache keeps records, not resources
//! (`cache/`), so each read renders; the same few objects read over and over (a client
//! polling a user, Entra's lookups in a provisioning cycle) reuse one rendering and its
//! encoded text instead.
//!
//! A rendering holds while nothing in the application's caches has changed since it was
//! made (a group's members are shown as ids of other objects, so any change may change it):
//! every entry carries the change count it was made at. Bounded in entries and in the size
//! of the objects it keeps; when full it starts over.

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
    map: Mutex<HashMap<u64, Hot>>,
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
        let hot = map.get(&key(type_idx, e.id()))?;
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
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(
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
