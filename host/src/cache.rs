//! The in-memory cache of one object type: persistent (structurally shared) maps behind an
//! atomic pointer, so reads never wait for writes or imports.
//!
//! * Readers `load()` the current [`Snapshot`] without locking.
//! * A single-object write clones the snapshot (O(1) with `imbl`), changes it and stores it,
//!   under a writer mutex.
//! * A full import builds a new snapshot on the side and swaps it in atomically. Writes made
//!   while the import ran are journaled and replayed onto the new snapshot before the swap,
//!   so a SCIM write that lands during an import is never lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use ecma_scim::StoredResource;
use imbl::OrdMap;

use crate::mapping::Record;

/// One cached object.
#[derive(Debug, Clone)]
pub struct CacheEntry {
    /// SCIM id = anchor value.
    pub id: String,
    pub dn: String,
    /// The connector's view (what exports diff against).
    pub record: Record,
    /// The SCIM view, rendered once when the entry is stored.
    pub stored: Arc<StoredResource>,
}

/// An immutable view of the cache.
#[derive(Clone, Default)]
pub struct Snapshot {
    objects: OrdMap<String, Arc<CacheEntry>>,
    /// indexed connector attribute (lowercase) → normalised value → ids. Most values name
    /// one object, so the id list is a small shared vector, not a tree set (an `OrdSet`
    /// allocates a whole B-tree node even for one id: measured ~3 KB per object).
    indexes: OrdMap<String, OrdMap<String, Arc<Vec<String>>>>,
    /// lowercase DN → id
    by_dn: OrdMap<String, String>,
    indexed: Arc<Vec<String>>,
}

/// Index keys compare case-insensitively: SCIM string attributes are caseExact=false unless
/// declared otherwise, and Entra's matching lookups are case-insensitive. The engine re-checks
/// candidates with the exact filter, so folding here can only widen the candidate set.
pub fn normalise(value: &str) -> String {
    value.to_lowercase()
}

/// The text a value is indexed (and looked up) by: binary values in the base64 form SCIM
/// shows them in, never as lossy UTF-8 (which would merge distinct values).
pub fn index_text(v: &plugin_api::model::Value) -> String {
    use base64::Engine as _;
    match v {
        plugin_api::model::Value::Binary(b) => base64::engine::general_purpose::STANDARD.encode(b),
        other => other.as_text(),
    }
}

impl Snapshot {
    pub fn new(indexed: &[String]) -> Self {
        let indexed: Vec<String> = indexed.iter().map(|a| a.to_lowercase()).collect();
        let mut indexes = OrdMap::new();
        for a in &indexed {
            indexes.insert(a.clone(), OrdMap::new());
        }
        Self {
            objects: OrdMap::new(),
            indexes,
            by_dn: OrdMap::new(),
            indexed: Arc::new(indexed),
        }
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Arc<CacheEntry>> {
        self.objects.get(id)
    }

    pub fn id_by_dn(&self, dn: &str) -> Option<&String> {
        self.by_dn.get(&normalise(dn))
    }

    /// All entries, ordered by id (stable paging).
    pub fn iter(&self) -> impl Iterator<Item = &Arc<CacheEntry>> {
        self.objects.values()
    }

    pub fn is_indexed(&self, attr: &str) -> bool {
        self.indexed.iter().any(|a| a.eq_ignore_ascii_case(attr))
    }

    /// Ids whose `attr` has `value` (case-insensitively). `None` when `attr` is not indexed.
    pub fn lookup(&self, attr: &str, value: &str) -> Option<Vec<String>> {
        let index = self.indexes.get(&attr.to_lowercase())?;
        Some(
            index
                .get(&normalise(value))
                .map(|ids| ids.as_ref().clone())
                .unwrap_or_default(),
        )
    }

    fn index_values(attr: &str, entry: &CacheEntry) -> Vec<String> {
        if attr.eq_ignore_ascii_case("id") {
            return vec![entry.id.clone()];
        }
        entry
            .record
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(attr))
            .map(|(_, vs)| vs.iter().map(|v| normalise(&index_text(v))).collect())
            .unwrap_or_default()
    }

    pub fn insert(&mut self, entry: CacheEntry) {
        self.remove(&entry.id.clone());
        for attr in self.indexed.clone().iter() {
            let index = self.indexes.entry(attr.clone()).or_default();
            for v in Self::index_values(attr, &entry) {
                let ids = Arc::make_mut(index.entry(v).or_default());
                if let Err(at) = ids.binary_search(&entry.id) {
                    ids.insert(at, entry.id.clone());
                }
            }
        }
        if !entry.dn.is_empty() {
            self.by_dn.insert(normalise(&entry.dn), entry.id.clone());
        }
        self.objects.insert(entry.id.clone(), Arc::new(entry));
    }

    pub fn remove(&mut self, id: &str) -> Option<Arc<CacheEntry>> {
        let old = self.objects.remove(id)?;
        for attr in self.indexed.clone().iter() {
            let Some(index) = self.indexes.get_mut(attr) else {
                continue;
            };
            for v in Self::index_values(attr, &old) {
                if let Some(ids) = index.get_mut(&v) {
                    let ids = Arc::make_mut(ids);
                    ids.retain(|i| i != id);
                    if ids.is_empty() {
                        index.remove(&v);
                    }
                }
            }
        }
        // Only if the DN still names this object (another may have been renamed onto it).
        let key = normalise(&old.dn);
        if !old.dn.is_empty() && self.by_dn.get(&key).is_some_and(|owner| owner == id) {
            self.by_dn.remove(&key);
        }
        Some(old)
    }
}

/// A write made while a full import was running, replayed onto the import's snapshot.
enum Journaled {
    Put(CacheEntry),
    Remove(String),
}

/// The cache of one object type.
pub struct TypeCache {
    current: ArcSwap<Snapshot>,
    writer: Mutex<Option<Vec<Journaled>>>,
    indexed: Vec<String>,
    /// Counts SCIM writes; a delta import remembers the count from when it opened.
    write_seq: AtomicU64,
    /// While a delta import runs: the sequence number of each object's latest SCIM write, so
    /// an entry read before that write does not overwrite what the write left (see
    /// [`TypeCache::written_after`]).
    delta_writes: Mutex<Option<HashMap<String, u64>>>,
}

impl TypeCache {
    pub fn new(indexed: Vec<String>) -> Self {
        Self {
            current: ArcSwap::from_pointee(Snapshot::new(&indexed)),
            writer: Mutex::new(None),
            indexed,
            write_seq: AtomicU64::new(0),
            delta_writes: Mutex::new(None),
        }
    }

    /// The current snapshot (lock-free).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    pub fn empty_snapshot(&self) -> Snapshot {
        Snapshot::new(&self.indexed)
    }

    fn write(&self, op: Journaled) {
        let mut journal = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = Snapshot::clone(&self.current.load());
        match &op {
            Journaled::Put(e) => next.insert(e.clone()),
            Journaled::Remove(id) => {
                next.remove(id);
            }
        }
        self.current.store(Arc::new(next));
        if let Some(j) = journal.as_mut() {
            j.push(op);
        }
    }

    /// A SCIM write's result (the target has accepted it).
    pub fn put(&self, entry: CacheEntry) {
        self.note_write(&entry.id);
        self.write(Journaled::Put(entry));
    }

    /// A SCIM delete's result (the target no longer has the object).
    pub fn remove(&self, id: &str) {
        self.note_write(id);
        self.write(Journaled::Remove(id.to_owned()));
    }

    /// A delta import's entry: not a SCIM write, so not noted.
    pub fn put_imported(&self, entry: CacheEntry) {
        self.write(Journaled::Put(entry));
    }

    /// A delta import's delete.
    pub fn remove_imported(&self, id: &str) {
        self.write(Journaled::Remove(id.to_owned()));
    }

    fn note_write(&self, id: &str) {
        let seq = self.write_seq.fetch_add(1, Ordering::AcqRel) + 1;
        if let Some(w) = self
            .delta_writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            w.insert(id.to_owned(), seq);
        }
    }

    /// The SCIM write count now: taken when a delta import opens.
    pub fn write_seq(&self) -> u64 {
        self.write_seq.load(Ordering::Acquire)
    }

    /// Starts noting SCIM writes for a delta import.
    pub fn begin_delta(&self) {
        *self.delta_writes.lock().unwrap_or_else(|p| p.into_inner()) = Some(HashMap::new());
    }

    /// Stops noting (the delta import ended, whatever its outcome).
    pub fn end_delta(&self) {
        *self.delta_writes.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Whether a SCIM write changed `id` after the write count was `seq`: a delta entry read
    /// then is older than what the cache holds, and applying it would undo the write.
    pub fn written_after(&self, id: &str, seq: u64) -> bool {
        self.delta_writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(|w| w.get(id))
            .is_some_and(|&s| s > seq)
    }

    /// Starts journaling writes; call before a full import reads the target.
    pub fn begin_full_import(&self) {
        let mut journal = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        *journal = Some(Vec::new());
    }

    /// Replays the writes made since `begin_full_import` onto `next` and swaps it in.
    pub fn finish_full_import(&self, mut next: Snapshot) {
        let mut journal = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        for op in journal.take().unwrap_or_default() {
            match op {
                Journaled::Put(e) => next.insert(e),
                Journaled::Remove(id) => {
                    next.remove(&id);
                }
            }
        }
        self.current.store(Arc::new(next));
    }

    /// Stops journaling without swapping (the import failed: the old cache stays).
    pub fn abort_full_import(&self) {
        let mut journal = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        *journal = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecma_scim::Meta;
    use plugin_api::model::Value;

    fn entry(id: &str, login: &str) -> CacheEntry {
        let mut record = Record::new();
        record.insert("login".into(), vec![Value::from(login)]);
        CacheEntry {
            id: id.into(),
            dn: format!("CN={id},OBJECT=USER"),
            record,
            stored: Arc::new(StoredResource::new(
                serde_json::json!({"id": id}),
                Meta::default(),
            )),
        }
    }

    #[test]
    fn index_lookups_are_case_insensitive_and_follow_updates() {
        let cache = TypeCache::new(vec!["id".into(), "login".into()]);
        cache.put(entry("1", "Adele@Contoso.com"));
        cache.put(entry("2", "bob@contoso.com"));
        let s = cache.snapshot();
        assert_eq!(s.lookup("login", "adele@contoso.com").unwrap(), vec!["1"]);
        assert_eq!(s.lookup("LOGIN", "ADELE@CONTOSO.COM").unwrap(), vec!["1"]);
        assert!(s.lookup("mail", "x").is_none(), "not indexed");
        cache.put(entry("1", "adele.v@contoso.com"));
        let s2 = cache.snapshot();
        assert!(s2.lookup("login", "adele@contoso.com").unwrap().is_empty());
        assert_eq!(
            s2.lookup("login", "adele.v@contoso.com").unwrap(),
            vec!["1"]
        );
        // The old snapshot a reader holds is unchanged.
        assert_eq!(s.lookup("login", "adele@contoso.com").unwrap(), vec!["1"]);
        assert_eq!(
            s2.id_by_dn("cn=1,object=user").map(String::as_str),
            Some("1")
        );
        cache.remove("1");
        assert!(cache.snapshot().get("1").is_none());
        assert!(cache.snapshot().id_by_dn("CN=1,OBJECT=USER").is_none());
    }

    #[test]
    fn writes_during_a_full_import_survive_the_swap() {
        let cache = TypeCache::new(vec!["id".into()]);
        cache.put(entry("old", "o"));
        cache.begin_full_import();
        let mut next = cache.empty_snapshot();
        next.insert(entry("a", "a"));
        next.insert(entry("gone", "g"));
        // A SCIM create and a delete land while the import runs.
        cache.put(entry("created-during-import", "c"));
        cache.remove("gone");
        cache.finish_full_import(next);
        let s = cache.snapshot();
        let ids: Vec<_> = s.iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids, ["a", "created-during-import"]);
    }

    #[test]
    fn an_aborted_import_keeps_the_old_cache() {
        let cache = TypeCache::new(vec!["id".into()]);
        cache.put(entry("keep", "k"));
        cache.begin_full_import();
        cache.abort_full_import();
        assert!(cache.snapshot().get("keep").is_some());
    }

    #[test]
    fn a_delta_entry_read_before_a_scim_write_is_recognised_as_older() {
        let cache = TypeCache::new(vec!["login".into()]);
        cache.begin_delta();
        let page_seq = cache.write_seq();
        cache.put(entry("1", "new@x"));
        assert!(
            cache.written_after("1", page_seq),
            "written after the page was read"
        );
        assert!(!cache.written_after("2", page_seq), "never written");
        let later_page = cache.write_seq();
        assert!(
            !cache.written_after("1", later_page),
            "a page read after the write is current"
        );
        // Imported entries are not SCIM writes.
        cache.put_imported(entry("2", "imp@x"));
        assert!(!cache.written_after("2", page_seq));
        cache.end_delta();
        assert!(
            !cache.written_after("1", page_seq),
            "nothing is noted outside a delta"
        );
    }
}
