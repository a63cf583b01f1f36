//! The in-memory cache of one object type: persistent (structurally shared) maps behind an
//! atomic pointer, so reads never wait for writes or imports.
//!
//! * Readers `load()` the current [`Snapshot`] without locking.
//! * A single-object write clones the snapshot (O(1) with `imbl`), changes it and stores it,
//!   under a writer mutex.
//! * A full import builds a new snapshot on the side and swaps it in atomically. Writes made
//!   while the import ran are journaled and replayed onto the new snapshot before the swap,
//!   so a SCIM write that lands during an import is never lost. Objects the import finds
//!   unchanged are shared with the snapshot it replaces, so an import holds two copies of
//!   what changed only.
//!
//! What one object costs: its [`CacheEntry`] (one allocation: the packed id, DN and record,
//! [`entry`]), a pointer in the id-ordered set, and a hash key and pointer in each index.
//! Indexes key on a hash of the normalised value, not the value; the SCIM resource is
//! rendered from the record when a request needs it.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use imbl::{OrdMap, OrdSet};

use crate::mapping::Record;

mod entry;
mod names;

pub use entry::{CacheEntry, EntryMeta, ValueRef};
pub use names::{NameTable, Names};

/// An entry in the id-ordered set: ordered, and found, by its id.
#[derive(Clone)]
struct ById(Arc<CacheEntry>);

impl PartialEq for ById {
    fn eq(&self, other: &Self) -> bool {
        self.0.id_bytes() == other.0.id_bytes()
    }
}
impl Eq for ById {}
impl PartialOrd for ById {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ById {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // As `str` orders (byte-wise), without checking the UTF-8 again.
        self.0.id_bytes().cmp(other.0.id_bytes())
    }
}
impl Borrow<str> for ById {
    fn borrow(&self) -> &str {
        self.0.id()
    }
}

/// The entries one index key names. Keys are hashes of the normalised value, so two values
/// may share a bucket: lookups are a superset the engine filters exactly (DN lookups check).
#[derive(Clone)]
enum Bucket {
    One(Arc<CacheEntry>),
    Many(Arc<Vec<Arc<CacheEntry>>>),
}

impl Bucket {
    fn entries(&self) -> &[Arc<CacheEntry>] {
        match self {
            Bucket::One(e) => std::slice::from_ref(e),
            Bucket::Many(v) => v,
        }
    }

    fn with(self, e: Arc<CacheEntry>) -> Self {
        let mut all = self.entries().to_vec();
        all.retain(|x| x.id() != e.id());
        all.push(e);
        Bucket::Many(Arc::new(all))
    }

    /// Without `id`; `None` when nothing is left.
    fn without(&self, id: &str) -> Option<Self> {
        let rest: Vec<_> = self
            .entries()
            .iter()
            .filter(|x| x.id() != id)
            .cloned()
            .collect();
        match rest.len() {
            0 => None,
            1 => rest.into_iter().next().map(Bucket::One),
            _ => Some(Bucket::Many(Arc::new(rest))),
        }
    }
}

type KeyMap = OrdMap<u64, Bucket>;

fn add_key(map: &mut KeyMap, key: u64, e: &Arc<CacheEntry>) {
    // Looked up first: a removal copies the path to the key even when it is not there.
    let bucket = match map.get(&key) {
        None => Bucket::One(e.clone()),
        Some(b) => b.clone().with(e.clone()),
    };
    map.insert(key, bucket);
}

fn remove_key(map: &mut KeyMap, key: u64, id: &str) {
    if let Some(b) = map.get(&key) {
        match b.without(id) {
            Some(rest) => {
                map.insert(key, rest);
            }
            None => {
                map.remove(&key);
            }
        }
    }
}

/// One indexed connector attribute.
#[derive(Clone)]
struct Index {
    /// Lowercase.
    attr: Arc<str>,
    keys: KeyMap,
}

/// An immutable view of the cache.
#[derive(Clone)]
pub struct Snapshot {
    objects: OrdSet<ById>,
    indexes: Vec<Index>,
    /// hash of the lowercase DN → entries
    by_dn: KeyMap,
    names: Arc<Names>,
}

/// Index keys compare case-insensitively: SCIM string attributes are caseExact=false unless
/// declared otherwise, and Entra's matching lookups are case-insensitive. The engine re-checks
/// candidates with the exact filter, so folding here can only widen the candidate set.
pub fn normalise(value: &str) -> String {
    value.to_lowercase()
}

/// Whether `a` and `b` [`normalise`] alike; without allocating when both are ASCII (a
/// group's 100,000 member DNs are resolved on every rendering).
pub fn same_normalised(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    normalise(a) == normalise(b)
}

/// The key a value is indexed (and looked up) by: a hash of its [`normalise`]d text, made
/// without allocating for values up to 256 bytes (a million objects are keyed at start).
pub fn key_of(value: &str) -> u64 {
    use std::hash::Hasher as _;
    let mut h = foldhash::fast::FixedState::default().build_hasher();
    let mut buf = [0u8; 256];
    if value.len() <= buf.len() && value.is_ascii() {
        // The common case, byte by byte: an ASCII letter's lowercase is its ASCII lowercase,
        // so the bytes are those of the loop below, made several times faster (a group's
        // 100,000 members are keyed on every membership PATCH and every rendering).
        let lower = &mut buf[..value.len()];
        lower.copy_from_slice(value.as_bytes());
        lower.make_ascii_lowercase();
        h.write(lower);
        return h.finish();
    }
    let mut len = 0;
    for c in value.chars().flat_map(char::to_lowercase) {
        if len + 4 > buf.len() {
            // Long: the same bytes as `normalise` gives, in one write as below.
            h.write(normalise(value).as_bytes());
            return h.finish();
        }
        len += c.encode_utf8(&mut buf[len..]).len();
    }
    h.write(&buf[..len]);
    h.finish()
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
    pub fn new(indexed: &[String], names: Arc<Names>) -> Self {
        let mut attrs: Vec<String> = indexed.iter().map(|a| a.to_lowercase()).collect();
        attrs.sort();
        attrs.dedup();
        Self {
            objects: OrdSet::new(),
            indexes: attrs
                .into_iter()
                .map(|attr| Index {
                    attr: attr.into(),
                    keys: OrdMap::new(),
                })
                .collect(),
            by_dn: OrdMap::new(),
            names,
        }
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Arc<CacheEntry>> {
        self.objects.get(id).map(|e| &e.0)
    }

    /// The connector record of an entry of this cache.
    pub fn record(&self, e: &CacheEntry) -> Record {
        e.record(&self.names.table())
    }

    /// The names the records of this cache are written with.
    pub fn names(&self) -> &Arc<Names> {
        &self.names
    }

    /// Whether more than one object is indexed under `dn`'s key.
    fn shares_dn(&self, dn: &str) -> bool {
        self.by_dn
            .get(&key_of(dn))
            .is_some_and(|b| b.entries().len() > 1)
    }

    pub fn id_by_dn(&self, dn: &str) -> Option<String> {
        // Normalised only once a key matches: rendering a group looks up each member, and a
        // member value that is no DN of this cache (an anchor) costs no allocation then.
        let candidates = self.by_dn.get(&key_of(dn))?.entries();
        candidates
            .iter()
            .find(|e| same_normalised(e.dn(), dn))
            .map(|e| e.id().to_owned())
    }

    /// All entries, ordered by id (stable paging).
    pub fn iter(&self) -> impl Iterator<Item = &Arc<CacheEntry>> {
        self.objects.iter().map(|e| &e.0)
    }

    /// All entries, ordered by id, owning what they walk (for an answer that outlives a
    /// borrow of the snapshot). Skipping (`nth`) touches only the entries it passes.
    pub fn into_entries(self) -> impl Iterator<Item = Arc<CacheEntry>> + Send + 'static {
        self.objects.into_iter().map(|e| e.0)
    }

    pub fn is_indexed(&self, attr: &str) -> bool {
        self.indexes
            .iter()
            .any(|i| i.attr.eq_ignore_ascii_case(attr))
    }

    /// Entries whose `attr` may have `value` (case-insensitively; a superset, see
    /// [`Bucket`]). `None` when `attr` is not indexed.
    pub fn lookup(&self, attr: &str, value: &str) -> Option<Vec<Arc<CacheEntry>>> {
        let index = self
            .indexes
            .iter()
            .find(|i| i.attr.eq_ignore_ascii_case(attr))?;
        Some(
            index
                .keys
                .get(&key_of(value))
                .map(|b| b.entries().to_vec())
                .unwrap_or_default(),
        )
    }

    fn keys_of(attr: &str, entry: &CacheEntry, names: &NameTable) -> Vec<u64> {
        if attr == "id" {
            return vec![key_of(entry.id())];
        }
        let mut keys: Vec<u64> = Vec::new();
        entry.each_value_of(&names.numbers_ignoring_case(attr), |v| {
            keys.push(match v {
                ValueRef::Text(t) => key_of(t),
                ValueRef::Other(v) => key_of(&index_text(&v)),
            })
        });
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    pub fn insert(&mut self, entry: CacheEntry) {
        self.insert_shared(Arc::new(entry));
    }

    /// Inserts an entry another snapshot may share (an object a full import found unchanged).
    pub fn insert_shared(&mut self, entry: Arc<CacheEntry>) {
        if self.objects.contains(entry.id()) {
            self.remove(entry.id());
        }
        let names = self.names.table();
        for i in 0..self.indexes.len() {
            let attr = self.indexes[i].attr.clone();
            for key in Self::keys_of(&attr, &entry, &names) {
                add_key(&mut self.indexes[i].keys, key, &entry);
            }
        }
        if !entry.dn().is_empty() {
            add_key(&mut self.by_dn, key_of(entry.dn()), &entry);
        }
        self.objects.insert(ById(entry));
    }

    /// Fills an empty snapshot with `entries` (distinct ids), each map on its own thread (a
    /// million objects loaded at start).
    pub fn fill(&mut self, entries: Vec<Arc<CacheEntry>>) {
        debug_assert!(self.is_empty());
        let names = self.names.table();
        let Self {
            objects,
            indexes,
            by_dn,
            ..
        } = self;
        let entries = &entries;
        let names = &names;
        // One thread per map: they share nothing but the entries.
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for e in entries {
                    objects.insert(ById(e.clone()));
                }
            });
            scope.spawn(|| {
                for e in entries {
                    if !e.dn().is_empty() {
                        add_key(by_dn, key_of(e.dn()), e);
                    }
                }
            });
            for index in indexes.iter_mut() {
                scope.spawn(move || {
                    for e in entries {
                        for key in Self::keys_of(&index.attr, e, names) {
                            add_key(&mut index.keys, key, e);
                        }
                    }
                });
            }
        });
    }

    pub fn remove(&mut self, id: &str) -> Option<Arc<CacheEntry>> {
        let old = self.objects.remove(id)?.0;
        let names = self.names.table();
        for i in 0..self.indexes.len() {
            let attr = self.indexes[i].attr.clone();
            for key in Self::keys_of(&attr, &old, &names) {
                remove_key(&mut self.indexes[i].keys, key, id);
            }
        }
        if !old.dn().is_empty() {
            remove_key(&mut self.by_dn, key_of(old.dn()), id);
        }
        Some(old)
    }
}

/// A write made while a full import was running, replayed onto the import's snapshot.
enum Journaled {
    Put(Arc<CacheEntry>),
    Remove(String),
}

/// The cache of one object type.
pub struct TypeCache {
    current: ArcSwap<Snapshot>,
    writer: Mutex<Option<Vec<Journaled>>>,
    indexed: Vec<String>,
    names: Arc<Names>,
    /// Counts SCIM writes; a delta import remembers the count from when it opened.
    write_seq: AtomicU64,
    /// Counts every change of the current snapshot (writes, imports).
    changes: AtomicU64,
    /// Counts the changes of which ids and DNs the snapshot holds: an object added or
    /// removed, a DN changed, a full import swapped in. What a reference value resolves to
    /// holds while this count (of every type) stays.
    references: AtomicU64,
    /// While a delta import runs: the sequence number of each object's latest SCIM write, so
    /// an entry read before that write does not overwrite what the write left (see
    /// [`TypeCache::written_after`]).
    delta_writes: Mutex<Option<HashMap<String, u64>>>,
}

impl TypeCache {
    pub fn new(indexed: Vec<String>) -> Self {
        let names = Arc::new(Names::default());
        Self {
            current: ArcSwap::from_pointee(Snapshot::new(&indexed, names.clone())),
            writer: Mutex::new(None),
            indexed,
            names,
            write_seq: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            references: AtomicU64::new(0),
            delta_writes: Mutex::new(None),
        }
    }

    /// The current snapshot (lock-free).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// The names this cache's records are written with.
    pub fn names(&self) -> &Arc<Names> {
        &self.names
    }

    pub fn empty_snapshot(&self) -> Snapshot {
        Snapshot::new(&self.indexed, self.names.clone())
    }

    /// An object packed for this cache; `previous` (the object as cached before) and the
    /// time give its `meta`.
    pub fn entry(
        &self,
        id: &str,
        dn: &str,
        record: &Record,
        active: Option<bool>,
        previous: Option<&CacheEntry>,
    ) -> CacheEntry {
        CacheEntry::new(&self.names, id, dn, record, active).stamped(previous, now_ms())
    }

    fn write(&self, op: Journaled) {
        let mut journal = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = Snapshot::clone(&self.current.load());
        let references_change = match &op {
            Journaled::Put(e) => {
                let same_dn = next.get(e.id()).is_some_and(|old| old.dn() == e.dn());
                next.insert_shared(e.clone());
                // Objects sharing a DN: a rewrite moves this one last among them, which may
                // change which of them the DN resolves to.
                !same_dn || next.shares_dn(e.dn())
            }
            Journaled::Remove(id) => next.remove(id).is_some(),
        };
        self.current.store(Arc::new(next));
        if references_change {
            self.references.fetch_add(1, Ordering::AcqRel);
        }
        self.changes.fetch_add(1, Ordering::AcqRel);
        if let Some(j) = journal.as_mut() {
            j.push(op);
        }
    }

    /// How many times the current snapshot has changed: a rendering made at one count holds
    /// for as long as the count (of every type it refers to) stays.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// How many times the ids and DNs of the current snapshot have changed (an object added
    /// or removed, a DN changed, a full import swapped in). Read before the snapshots a
    /// reference is resolved with: the resolution holds while the count stays.
    pub fn references(&self) -> u64 {
        self.references.load(Ordering::Acquire)
    }

    /// A SCIM write's result (the target has accepted it).
    pub fn put(&self, entry: CacheEntry) {
        self.note_write(entry.id());
        self.write(Journaled::Put(Arc::new(entry)));
    }

    /// A SCIM delete's result (the target no longer has the object).
    pub fn remove(&self, id: &str) {
        self.note_write(id);
        self.write(Journaled::Remove(id.to_owned()));
    }

    /// A delta import's entry: not a SCIM write, so not noted.
    pub fn put_imported(&self, entry: CacheEntry) {
        self.write(Journaled::Put(Arc::new(entry)));
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
                Journaled::Put(e) => next.insert_shared(e),
                Journaled::Remove(id) => {
                    next.remove(&id);
                }
            }
        }
        self.current.store(Arc::new(next));
        self.references.fetch_add(1, Ordering::AcqRel);
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    /// Stops journaling without swapping (the import failed: the old cache stays).
    pub fn abort_full_import(&self) {
        let mut journal = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        *journal = None;
    }
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_api::model::Value;

    fn entry(cache: &TypeCache, id: &str, login: &str) -> CacheEntry {
        let mut record = Record::new();
        record.insert("login".into(), vec![Value::from(login)]);
        cache.entry(id, &format!("CN={id},OBJECT=USER"), &record, None, None)
    }

    fn ids(found: Option<Vec<Arc<CacheEntry>>>) -> Vec<String> {
        found
            .expect("indexed")
            .iter()
            .map(|e| e.id().to_owned())
            .collect()
    }

    /// Whatever path `key_of` takes (ASCII, other text, long text), the key is the hash of
    /// the normalised text: an index built with one path is looked up with another.
    #[test]
    fn keys_are_the_hash_of_the_normalised_text() {
        use std::hash::{BuildHasher as _, Hasher as _};
        let hash = |text: &str| {
            let mut h = foldhash::fast::FixedState::default().build_hasher();
            h.write(normalise(text).as_bytes());
            h.finish()
        };
        let long_ascii = "CN=X,".repeat(51);
        for value in [
            "",
            "u0000001",
            "CN=Adele Vance,OU=People,DC=Contoso",
            "Ärger Öl ß",
            "İstanbul",
            &long_ascii[..252],
            &long_ascii[..253],
            &long_ascii[..255],
            &long_ascii,
            &"é".repeat(200),
        ] {
            assert_eq!(key_of(value), hash(value), "{value}");
        }
        assert_eq!(key_of("CN=A,OU=B"), key_of("cn=a,ou=b"));
    }

    /// The reference count moves when ids or DNs change, not when only attributes do.
    #[test]
    fn references_count_changes_of_ids_and_dns_only() {
        let cache = TypeCache::new(vec!["login".into()]);
        let counted =
            |expected: u64, what: &str| assert_eq!(cache.references(), expected, "{what}");
        cache.put(entry(&cache, "1", "a"));
        counted(1, "an object added");
        cache.put(entry(&cache, "1", "b"));
        counted(1, "an attribute changed");
        let mut record = Record::new();
        record.insert("login".into(), vec![Value::from("b")]);
        cache.put(cache.entry("1", "CN=1,OU=MOVED", &record, None, None));
        counted(2, "a DN changed");
        cache.put(cache.entry("2", "CN=1,OU=MOVED", &record, None, None));
        counted(3, "a second object under one DN");
        cache.put(cache.entry("2", "CN=1,OU=MOVED", &Record::new(), None, None));
        counted(4, "a rewrite among objects sharing a DN");
        cache.remove("2");
        counted(5, "an object removed");
        cache.remove("404");
        counted(5, "nothing removed");
        cache.remove("1");
        counted(6, "an object removed");
        cache.begin_full_import();
        let next = cache.empty_snapshot();
        cache.finish_full_import(next);
        counted(7, "a full import swapped in");
    }

    #[test]
    fn same_normalised_is_equality_of_the_normalised_texts() {
        let texts = [
            "CN=Adele Vance,OU=People,DC=Contoso",
            "cn=adele vance,ou=people,dc=contoso",
            "CN=Adele Vance,OU=People,DC=Contos",
            "Ärger Öl ß",
            "ärger öl ß",
            "ÄRGER ÖL SS",
            "İstanbul",
            "i̇stanbul",
            "",
        ];
        for a in texts {
            for b in texts {
                assert_eq!(
                    same_normalised(a, b),
                    normalise(a) == normalise(b),
                    "{a} / {b}"
                );
            }
        }
    }

    #[test]
    fn index_lookups_are_case_insensitive_and_follow_updates() {
        let cache = TypeCache::new(vec!["id".into(), "login".into()]);
        cache.put(entry(&cache, "1", "Adele@Contoso.com"));
        cache.put(entry(&cache, "2", "bob@contoso.com"));
        let s = cache.snapshot();
        assert_eq!(ids(s.lookup("login", "adele@contoso.com")), ["1"]);
        assert_eq!(ids(s.lookup("LOGIN", "ADELE@CONTOSO.COM")), ["1"]);
        assert!(s.lookup("mail", "x").is_none(), "not indexed");
        cache.put(entry(&cache, "1", "adele.v@contoso.com"));
        let s2 = cache.snapshot();
        assert!(ids(s2.lookup("login", "adele@contoso.com")).is_empty());
        assert_eq!(ids(s2.lookup("login", "adele.v@contoso.com")), ["1"]);
        // The index answers the new version of the object, not the one it replaced.
        let found = s2.lookup("login", "adele.v@contoso.com").expect("indexed");
        assert_eq!(
            s2.record(&found[0])["login"],
            [Value::from("adele.v@contoso.com")]
        );
        // The old snapshot a reader holds is unchanged.
        assert_eq!(ids(s.lookup("login", "adele@contoso.com")), ["1"]);
        assert_eq!(s2.id_by_dn("cn=1,object=user").as_deref(), Some("1"));
        cache.remove("1");
        assert!(cache.snapshot().get("1").is_none());
        assert!(cache.snapshot().id_by_dn("CN=1,OBJECT=USER").is_none());
    }

    #[test]
    fn writes_during_a_full_import_survive_the_swap() {
        let cache = TypeCache::new(vec!["id".into()]);
        cache.put(entry(&cache, "old", "o"));
        cache.begin_full_import();
        let mut next = cache.empty_snapshot();
        next.insert(entry(&cache, "a", "a"));
        next.insert(entry(&cache, "gone", "g"));
        // A SCIM create and a delete land while the import runs.
        cache.put(entry(&cache, "created-during-import", "c"));
        cache.remove("gone");
        cache.finish_full_import(next);
        let s = cache.snapshot();
        let ids: Vec<_> = s.iter().map(|e| e.id().to_owned()).collect();
        assert_eq!(ids, ["a", "created-during-import"]);
    }

    #[test]
    fn a_full_import_swapped_in_under_load_loses_no_write_and_frees_the_old_snapshot() {
        let cache = Arc::new(TypeCache::new(vec!["id".into(), "login".into()]));
        for i in 0..2000 {
            cache.put_imported(entry(&cache, &format!("old{i:04}"), "before"));
        }
        // Every object of the first snapshot, watched without keeping it alive.
        let old: Vec<std::sync::Weak<CacheEntry>> =
            cache.snapshot().iter().map(Arc::downgrade).collect();
        cache.begin_full_import();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let cache = cache.clone();
            std::thread::spawn(move || {
                let mut written = Vec::new();
                for i in 0..500 {
                    let id = format!("scim{i:04}");
                    cache.put(entry(&cache, &id, "written"));
                    written.push(id);
                }
                written
            })
        };
        let reader = {
            let (cache, stop) = (cache.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut reads = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let s = cache.snapshot();
                    assert!(s.len() >= 2000, "a reader never sees a half-built cache");
                    reads += 1;
                }
                reads
            })
        };
        // The import reads every object again, changed.
        let mut next = cache.empty_snapshot();
        for i in 0..2000 {
            next.insert(entry(&cache, &format!("old{i:04}"), "after"));
        }
        let written = writer.join().expect("writer");
        cache.finish_full_import(next);
        stop.store(true, Ordering::Relaxed);
        assert!(reader.join().expect("reader") > 0);
        let s = cache.snapshot();
        for id in &written {
            assert!(s.get(id).is_some(), "{id} was written during the import");
        }
        assert_eq!(s.len(), 2500);
        assert_eq!(ids(s.lookup("login", "before")).len(), 0);
        assert_eq!(ids(s.lookup("login", "after")).len(), 2000);
        // Nothing of the old snapshot is reachable any more: its memory is given back.
        assert!(old.iter().all(|w| w.upgrade().is_none()));
    }

    #[test]
    fn a_filled_snapshot_answers_as_one_built_entry_by_entry() {
        let cache = TypeCache::new(vec!["id".into(), "login".into()]);
        let entries: Vec<_> = (0..300)
            .map(|i| Arc::new(entry(&cache, &format!("{i:03}"), &format!("L{}", i % 7))))
            .collect();
        let mut filled = cache.empty_snapshot();
        filled.fill(entries.clone());
        let mut built = cache.empty_snapshot();
        for e in entries {
            built.insert_shared(e);
        }
        for s in [&filled, &built] {
            assert_eq!(s.len(), 300);
            assert_eq!(ids(s.lookup("login", "l3")).len(), 43);
            assert_eq!(ids(s.lookup("id", "042")), ["042"]);
            assert_eq!(s.id_by_dn("cn=042,object=user").as_deref(), Some("042"));
        }
        let order = |s: &Snapshot| s.iter().map(|e| e.id().to_owned()).collect::<Vec<_>>();
        assert_eq!(order(&filled), order(&built));
    }

    #[test]
    fn an_aborted_import_keeps_the_old_cache() {
        let cache = TypeCache::new(vec!["id".into()]);
        cache.put(entry(&cache, "keep", "k"));
        cache.begin_full_import();
        cache.abort_full_import();
        assert!(cache.snapshot().get("keep").is_some());
    }

    #[test]
    fn a_delta_entry_read_before_a_scim_write_is_recognised_as_older() {
        let cache = TypeCache::new(vec!["login".into()]);
        cache.begin_delta();
        let page_seq = cache.write_seq();
        cache.put(entry(&cache, "1", "new@x"));
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
        cache.put_imported(entry(&cache, "2", "imp@x"));
        assert!(!cache.written_after("2", page_seq));
        cache.end_delta();
        assert!(
            !cache.written_after("1", page_seq),
            "nothing is noted outside a delta"
        );
    }
}
