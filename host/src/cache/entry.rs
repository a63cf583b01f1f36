//! One cached object in one allocation: its id, DN and connector record packed into bytes,
//! with attribute names as numbers ([`super::names`]), plus what the host keeps beside the
//! target (`active` where the target has no attribute for it, and `meta`).
//!
//! The SCIM resource is not kept: it is rendered from the record when a request needs it
//! (`app/render.rs`). A million users cost their packed bytes, not a JSON tree, a map of
//! owned names and a cached encoding each.
//!
//! Layout: `id`, `dn` (each a varint length and UTF-8), the number of attributes, then per
//! attribute its name number, its value count and the values (a tag byte; text and binary
//! as a varint length and bytes, integers zigzag varints, booleans in the tag). Attributes
//! are written in the record's (sorted) order, so equal records pack to equal bytes.

use std::hash::{BuildHasher, Hasher};

use plugin_api::model::Value;

use super::names::{NameTable, Names};
use crate::mapping::Record;

/// `meta` of a cached object: times in milliseconds since the Unix epoch, and the version
/// (the weak ETag) a hash of what the object holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EntryMeta {
    pub created_ms: i64,
    pub modified_ms: i64,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    packed: Box<[u8]>,
    pub meta: EntryMeta,
    /// `active` as the host records it, where the target stores no attribute for it.
    pub active: Option<bool>,
}

/// A value read in place ([`CacheEntry::each_value_of`]).
pub enum ValueRef<'a> {
    Text(&'a str),
    Other(Value),
}

const TAG_STRING: u8 = 0;
const TAG_INTEGER: u8 = 1;
const TAG_FALSE: u8 = 2;
const TAG_TRUE: u8 = 3;
const TAG_BINARY: u8 = 4;
const TAG_REFERENCE: u8 = 5;

impl CacheEntry {
    /// Packs an object; `meta` is set by [`Self::stamped`].
    pub fn new(names: &Names, id: &str, dn: &str, record: &Record, active: Option<bool>) -> Self {
        let mut out = Vec::with_capacity(
            id.len() + dn.len() + 8 + record.values().map(|v| 4 + 16 * v.len()).sum::<usize>(),
        );
        put_bytes(&mut out, id.as_bytes());
        put_bytes(&mut out, dn.as_bytes());
        put_varint(&mut out, record.len() as u64);
        for (name, values) in record {
            put_varint(&mut out, u64::from(names.number(name)));
            put_varint(&mut out, values.len() as u64);
            for v in values {
                match v {
                    Value::String(s) => {
                        out.push(TAG_STRING);
                        put_bytes(&mut out, s.as_bytes());
                    }
                    Value::Reference(s) => {
                        out.push(TAG_REFERENCE);
                        put_bytes(&mut out, s.as_bytes());
                    }
                    Value::Binary(b) => {
                        out.push(TAG_BINARY);
                        put_bytes(&mut out, b);
                    }
                    Value::Integer(i) => {
                        out.push(TAG_INTEGER);
                        put_varint(&mut out, ((i << 1) ^ (i >> 63)) as u64);
                    }
                    Value::Boolean(b) => out.push(if *b { TAG_TRUE } else { TAG_FALSE }),
                }
            }
        }
        Self {
            packed: out.into_boxed_slice(),
            meta: EntryMeta::default(),
            active,
        }
    }

    /// An entry as [`Self::packed`] gave it, with its `meta` and `active` (a persisted cache).
    pub fn from_parts(packed: Box<[u8]>, meta: EntryMeta, active: Option<bool>) -> Self {
        Self {
            packed,
            meta,
            active,
        }
    }

    /// The packed id, DN and record (see the layout above), for writing out.
    pub fn packed(&self) -> &[u8] {
        &self.packed
    }

    /// With its `meta`: the version of what it holds, and the times `previous` (the object as
    /// cached before, if it was) and `now_ms` give: an unchanged object keeps its times.
    pub fn stamped(mut self, previous: Option<&CacheEntry>, now_ms: i64) -> Self {
        let version = self.content_hash();
        self.meta = match previous {
            Some(p) if p.meta.version == version => p.meta,
            Some(p) => EntryMeta {
                created_ms: p.meta.created_ms,
                modified_ms: now_ms,
                version,
            },
            None => EntryMeta {
                created_ms: now_ms,
                modified_ms: now_ms,
                version,
            },
        };
        self
    }

    /// A hash of the id, DN, record and `active`, stable for one build of the host.
    pub fn content_hash(&self) -> u64 {
        let mut h = foldhash::fast::FixedState::default().build_hasher();
        h.write(&self.packed);
        h.write_u8(match self.active {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
        h.finish()
    }

    /// Whether `other` holds the same object (meta aside).
    pub fn same_content(&self, other: &CacheEntry) -> bool {
        self.packed == other.packed && self.active == other.active
    }

    /// The SCIM id (the anchor's value as SCIM shows it).
    pub fn id(&self) -> &str {
        let mut r = Reader::new(&self.packed);
        r.text().unwrap_or_default()
    }

    /// The id's bytes (UTF-8), for ordering without checking them again.
    pub fn id_bytes(&self) -> &[u8] {
        let mut r = Reader::new(&self.packed);
        r.bytes().unwrap_or_default()
    }

    pub fn dn(&self) -> &str {
        let mut r = Reader::new(&self.packed);
        r.text();
        r.text().unwrap_or_default()
    }

    /// Bytes held by this entry (its allocation and the packed record).
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.packed.len()
    }

    /// The connector record.
    pub fn record(&self, names: &NameTable) -> Record {
        let mut record = Record::new();
        self.each_attribute(|number, values| {
            record.insert(names.name(number).to_owned(), values.collect());
        });
        record
    }

    /// Calls `f` with each value of the attributes numbered in `numbers`: text values as
    /// borrowed text (no allocation: indexing a million objects at start reads them all),
    /// the others as values.
    pub fn each_value_of(&self, numbers: &[u32], mut f: impl FnMut(ValueRef<'_>)) {
        let mut r = Reader::new(&self.packed);
        r.text();
        r.text();
        let Some(count) = r.varint() else { return };
        for _ in 0..count {
            let (Some(number), Some(n)) = (r.varint(), r.varint()) else {
                return;
            };
            let wanted = numbers.contains(&(number as u32));
            for _ in 0..n {
                let Some(&tag) = r.b.first() else { return };
                if wanted && (tag == TAG_STRING || tag == TAG_REFERENCE) {
                    r.b = &r.b[1..];
                    let Some(t) = r.text() else { return };
                    f(ValueRef::Text(t));
                } else {
                    let Some(v) = r.value() else { return };
                    if wanted {
                        f(ValueRef::Other(v));
                    }
                }
            }
        }
    }

    fn each_attribute(&self, mut f: impl FnMut(u32, &mut dyn Iterator<Item = Value>)) {
        let mut r = Reader::new(&self.packed);
        r.text();
        r.text();
        let Some(count) = r.varint() else { return };
        for _ in 0..count {
            let (Some(number), Some(n)) = (r.varint(), r.varint()) else {
                return;
            };
            let mut values = (0..n).map_while(|_| r.value());
            f(number as u32, &mut values);
            // Whatever `f` did not read is skipped, so the next attribute starts in place.
            values.for_each(drop);
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Reads what [`CacheEntry::new`] wrote. Bytes it did not write read as the end.
struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self { b }
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.b.split_first()?;
            self.b = rest;
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(v);
            }
        }
        None
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.varint()?).ok()?;
        if n > self.b.len() {
            return None;
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Some(head)
    }

    fn text(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }

    fn value(&mut self) -> Option<Value> {
        let (&tag, rest) = self.b.split_first()?;
        self.b = rest;
        Some(match tag {
            TAG_STRING => Value::String(self.text()?.to_owned()),
            TAG_REFERENCE => Value::Reference(self.text()?.to_owned()),
            TAG_BINARY => Value::Binary(self.bytes()?.to_vec()),
            TAG_INTEGER => {
                let z = self.varint()?;
                Value::Integer(((z >> 1) as i64) ^ -((z & 1) as i64))
            }
            TAG_FALSE => Value::Boolean(false),
            TAG_TRUE => Value::Boolean(true),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        let mut r = Record::new();
        r.insert("userName".into(), vec![Value::from("adele@contoso.com")]);
        r.insert(
            "member".into(),
            vec![
                Value::Reference("CN=a,OU=x".into()),
                Value::Reference("CN=b,OU=x".into()),
            ],
        );
        r.insert("photo".into(), vec![Value::Binary(vec![0, 255, 7])]);
        r.insert(
            "n".into(),
            vec![
                Value::Integer(-5),
                Value::Integer(i64::MAX),
                Value::Integer(i64::MIN),
            ],
        );
        r.insert(
            "flag".into(),
            vec![Value::Boolean(true), Value::Boolean(false)],
        );
        r.insert("empty".into(), vec![]);
        r
    }

    #[test]
    fn a_record_round_trips_through_the_packed_form() {
        let names = Names::default();
        let e = CacheEntry::new(&names, "id-1", "CN=Adele,OU=x", &record(), Some(false));
        assert_eq!(e.id(), "id-1");
        assert_eq!(e.dn(), "CN=Adele,OU=x");
        assert_eq!(e.record(&names.table()), record());
        assert_eq!(e.active, Some(false));
        let user_name = names.number("userName");
        let mut seen = Vec::new();
        e.each_value_of(&[user_name, names.number("n")], |v| {
            seen.push(match v {
                ValueRef::Text(t) => t.to_owned(),
                ValueRef::Other(v) => v.as_text(),
            })
        });
        assert_eq!(
            seen,
            [
                "-5".to_owned(),
                i64::MAX.to_string(),
                i64::MIN.to_string(),
                "adele@contoso.com".to_owned()
            ]
        );
    }

    #[test]
    fn equal_objects_pack_equal_and_keep_their_times() {
        let names = Names::default();
        let first = CacheEntry::new(&names, "1", "", &record(), None).stamped(None, 1000);
        assert_eq!(
            (first.meta.created_ms, first.meta.modified_ms),
            (1000, 1000)
        );
        let same = CacheEntry::new(&names, "1", "", &record(), None).stamped(Some(&first), 2000);
        assert!(same.same_content(&first));
        assert_eq!(same.meta, first.meta);
        let mut changed_record = record();
        changed_record.insert("userName".into(), vec![Value::from("adele.v@contoso.com")]);
        let changed =
            CacheEntry::new(&names, "1", "", &changed_record, None).stamped(Some(&first), 3000);
        assert!(!changed.same_content(&first));
        assert_ne!(changed.meta.version, first.meta.version);
        assert_eq!(
            (changed.meta.created_ms, changed.meta.modified_ms),
            (1000, 3000)
        );
        let deactivated = CacheEntry::new(&names, "1", "", &record(), Some(false));
        assert_ne!(deactivated.content_hash(), first.content_hash());
    }
}
