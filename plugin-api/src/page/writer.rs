//! Writing a page: the connector's side.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::model::*;

use super::format::{ADD_ONE, ANCHOR, CHANGE, END, ERROR, FORMAT_VERSION, IDENTIFIER_IS_DN};
use super::value::ValueRef;

/// What a connector returns with a page it wrote (the rest of `ImportPage`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageStatus {
    pub more_to_import: bool,
    /// The watermark so far.
    pub custom_data: String,
}

/// A name (attribute or object type) in one page's name table, from [`PageWriter::name`].
/// It means that name in the page that gave it out only; a connector that writes many rows
/// with the same columns looks its names up once per page instead of once per value.
///
/// An id carries the page it came from: one used in another page (cached across
/// `get_import_page` calls, say) makes that page fail with an [`ErrorKind::Internal`]
/// error naming the mistake, instead of naming the wrong attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NameId {
    page: u32,
    index: u32,
}

/// Gives each page writer its own serial number, which its `NameId`s carry. Wrapping after
/// 2^32 pages could only let a four-billion-pages-old id through, never a recent one.
static PAGE_SERIAL: AtomicU32 = AtomicU32::new(1);

/// A name as the [`EntryWriter`] methods take it: the text (looked up in the page's name
/// table) or a [`NameId`] looked up already.
#[derive(Debug, Clone, Copy)]
pub enum Name<'a> {
    Text(&'a str),
    Id(NameId),
}

impl<'a> From<&'a str> for Name<'a> {
    #[inline]
    fn from(s: &'a str) -> Self {
        Name::Text(s)
    }
}

impl<'a> From<&'a String> for Name<'a> {
    #[inline]
    fn from(s: &'a String) -> Self {
        Name::Text(s)
    }
}

impl From<NameId> for Name<'_> {
    #[inline]
    fn from(id: NameId) -> Self {
        Name::Id(id)
    }
}

/// Names looked up by scanning up to this many; a map beyond (connectors with many
/// attributes, e.g. LDAP).
const SCANNED_NAMES: usize = 24;

/// The name table of a page being written.
#[derive(Debug, Clone, Default)]
struct NameTable {
    /// This page's serial number (see [`NameId`]).
    page: u32,
    /// The first id from another page used in this one: the page is refused.
    foreign: Option<NameId>,
    /// The table as it is written after the entries: a `str` per name.
    table: Vec<u8>,
    /// Where each name's bytes are in `table`.
    spans: Vec<(u32, u32)>,
    /// Name → position, once there are more than [`SCANNED_NAMES`].
    map: HashMap<Box<str>, u32>,
}

impl NameTable {
    fn id(&mut self, name: &str) -> u32 {
        let b = name.as_bytes();
        if self.spans.len() <= SCANNED_NAMES {
            for (id, &(at, len)) in self.spans.iter().enumerate() {
                if len as usize == b.len() && &self.table[at as usize..][..b.len()] == b {
                    return id as u32;
                }
            }
        } else if let Some(&id) = self.map.get(name) {
            return id;
        }
        self.insert(name)
    }

    #[cold]
    fn insert(&mut self, name: &str) -> u32 {
        let id = u32::try_from(self.spans.len()).expect("fewer than 2^32 names in a page");
        let at = self.table.len() + 4;
        put_str(&mut self.table, name.as_bytes());
        let len = (self.table.len() - at) as u32;
        self.spans.push((at as u32, len));
        if self.spans.len() > SCANNED_NAMES {
            if self.map.is_empty() {
                for (i, &(at, len)) in self.spans.iter().enumerate() {
                    let text = &self.table[at as usize..][..len as usize];
                    // Written from `&str`s, cut (if ever) only past 4 GiB: lossless here.
                    self.map
                        .insert(String::from_utf8_lossy(text).into(), i as u32);
                }
            } else {
                self.map.insert(name.into(), id);
            }
        }
        id
    }

    // Always inlined, so a `NameId` costs one comparison (the text lookup stays a call).
    #[inline(always)]
    fn resolve(&mut self, name: Name<'_>) -> u32 {
        match name {
            Name::Text(s) => self.id(s),
            Name::Id(id) if id.page == self.page => id.index,
            Name::Id(id) => self.foreign(id),
        }
    }

    /// An id from another page would name the wrong attribute or none: remembered, so the
    /// page is refused as a whole, and replaced by an empty name so the bytes stay readable.
    #[cold]
    fn foreign(&mut self, id: NameId) -> u32 {
        self.foreign.get_or_insert(id);
        self.id("")
    }
}

/// Entries of one import page, written into one buffer.
#[derive(Debug, Clone)]
pub struct PageWriter {
    buf: Vec<u8>,
    entries: u32,
    names: NameTable,
}

impl Default for PageWriter {
    fn default() -> Self {
        Self::new()
    }
}

#[inline]
fn put_u32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_le_bytes());
}

#[inline]
fn put_str(buf: &mut Vec<u8>, s: &[u8]) {
    // A single string over 4 GiB cannot be imported; saturating makes the reader refuse the
    // page (truncated, or a broken record after the cut) instead of wrapping silently.
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    put_u32(buf, len);
    buf.extend_from_slice(&s[..len as usize]);
}

#[inline]
fn put_value(buf: &mut Vec<u8>, v: ValueRef<'_>) {
    match v {
        ValueRef::String(s) => {
            buf.push(0);
            put_str(buf, s.as_bytes());
        }
        ValueRef::Integer(i) => {
            buf.push(1);
            buf.extend_from_slice(&i.to_le_bytes());
        }
        ValueRef::Boolean(b) => {
            buf.push(2);
            buf.push(b as u8);
        }
        ValueRef::Binary(b) => {
            buf.push(3);
            put_str(buf, b);
        }
        ValueRef::Reference(s) => {
            buf.push(4);
            put_str(buf, s.as_bytes());
        }
    }
}

/// A record that is a name and one value (anchor, record 4), appended with one capacity
/// check and a fixed-size copy of its head: written field by field, each push checked the
/// capacity and stored the length again (a fifth of writing a page, perf annotate).
#[inline(always)]
fn put_named_value(buf: &mut Vec<u8>, tag: u8, name: u32, v: ValueRef<'_>) {
    let mut head = [0u8; 14];
    head[0] = tag;
    head[1..5].copy_from_slice(&name.to_le_bytes());
    let (value_tag, bytes) = match v {
        ValueRef::Integer(i) => {
            head[5] = 1;
            head[6..14].copy_from_slice(&i.to_le_bytes());
            buf.extend_from_slice(&head);
            return;
        }
        ValueRef::Boolean(b) => {
            head[5] = 2;
            head[6] = b as u8;
            buf.extend_from_slice(&head[..7]);
            return;
        }
        ValueRef::String(s) => (0, s.as_bytes()),
        ValueRef::Binary(b) => (3, b),
        ValueRef::Reference(s) => (4, s.as_bytes()),
    };
    // As in `put_str`: saturated, so the reader refuses a string over 4 GiB.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    head[5] = value_tag;
    head[6..10].copy_from_slice(&len.to_le_bytes());
    buf.reserve(10 + len as usize);
    buf.extend_from_slice(&head[..10]);
    buf.extend_from_slice(&bytes[..len as usize]);
}

impl PageWriter {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// `bytes`: the expected size of the page (e.g. the previous page's [`Self::byte_len`]).
    pub fn with_capacity(bytes: usize) -> Self {
        let mut buf = Vec::with_capacity(bytes.max(1));
        buf.push(FORMAT_VERSION);
        Self {
            buf,
            entries: 0,
            names: NameTable {
                page: PAGE_SERIAL.fetch_add(1, Ordering::Relaxed),
                ..NameTable::default()
            },
        }
    }

    /// `Err` when an entry used a [`NameId`] given out by another page: the page must not be
    /// delivered (the SDK checks this after every `get_import_page` and `get_full_objects`).
    pub fn check(&self) -> ConnectorResult<()> {
        match self.names.foreign {
            None => Ok(()),
            Some(id) => Err(ConnectorError::internal(format!(
                "the connector wrote a NameId from another page (page {}, name {}): a NameId \
                 is valid only in the page whose PageWriter::name gave it out; look names up \
                 again on every page",
                id.page, id.index
            ))),
        }
    }

    /// Entries written so far.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries as usize
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Bytes written so far.
    #[inline]
    pub fn byte_len(&self) -> usize {
        self.buf.len() + self.names.table.len() + 4
    }

    /// The id of a name in this page's name table (added if new), for the [`EntryWriter`]
    /// methods and [`PageWriter::entry`]; valid in this page only.
    #[inline]
    pub fn name(&mut self, name: &str) -> NameId {
        NameId {
            page: self.names.page,
            index: self.names.id(name),
        }
    }

    /// Starts an entry; its anchors, attributes and error follow through the returned writer,
    /// and the entry ends when that writer is dropped.
    #[inline]
    pub fn entry<'n>(
        &mut self,
        object_type: impl Into<Name<'n>>,
        modification: ObjectModification,
        dn: &str,
        identifier: &str,
    ) -> EntryWriter<'_> {
        self.entries += 1;
        let object_type = self.names.resolve(object_type.into());
        let buf = &mut self.buf;
        // One capacity check and a fixed-size head, as in `put_named_value`.
        let dn = dn.as_bytes();
        let dn_len = u32::try_from(dn.len()).unwrap_or(u32::MAX);
        let mut head = [0u8; 10];
        head[0] = modification.to_wire();
        head[2..6].copy_from_slice(&object_type.to_le_bytes());
        head[6..10].copy_from_slice(&dn_len.to_le_bytes());
        if identifier.as_bytes() == dn {
            head[1] = IDENTIFIER_IS_DN;
            buf.reserve(10 + dn_len as usize);
            buf.extend_from_slice(&head[..2]);
        } else {
            buf.extend_from_slice(&head[..2]);
            put_str(buf, identifier.as_bytes());
        }
        buf.extend_from_slice(&head[2..]);
        buf.extend_from_slice(&dn[..dn_len as usize]);
        EntryWriter { page: self }
    }

    /// Writes a whole entry (connectors that build `CsEntryChange`s anyway).
    pub fn push(&mut self, e: &CsEntryChange) {
        let mut w = self.entry(&e.object_type, e.modification, &e.dn, &e.identifier);
        for a in &e.anchor {
            w.anchor(&a.name, (&a.value).into());
        }
        for c in &e.changes {
            if let (AttributeModification::Add, [v]) = (c.modification, c.values.as_slice())
                && v.modification == ValueModification::Add
            {
                w.add(&c.name, (&v.value).into());
                continue;
            }
            w.change(
                &c.name,
                c.modification,
                c.values.iter().map(|v| (v.modification, (&v.value).into())),
            );
        }
        if let Some(err) = &e.error {
            w.error(err.code, &err.name, &err.detail);
        }
    }

    /// The buffer and the number of entries in it.
    pub fn into_parts(self) -> (Vec<u8>, u32) {
        let Self {
            mut buf,
            entries,
            names,
        } = self;
        let names_at = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        buf.extend_from_slice(&names.table);
        put_u32(&mut buf, names_at);
        (buf, entries)
    }
}

/// One entry being written; ends (is terminated in the buffer) on drop.
pub struct EntryWriter<'a> {
    page: &'a mut PageWriter,
}

impl EntryWriter<'_> {
    #[inline]
    pub fn anchor<'n>(&mut self, name: impl Into<Name<'n>>, value: ValueRef<'_>) -> &mut Self {
        let name = self.page.names.resolve(name.into());
        put_named_value(&mut self.page.buf, ANCHOR, name, value);
        self
    }

    /// An attribute added with one value: the shape of every single-valued import attribute.
    #[inline]
    pub fn add<'n>(&mut self, name: impl Into<Name<'n>>, value: ValueRef<'_>) -> &mut Self {
        let name = self.page.names.resolve(name.into());
        put_named_value(&mut self.page.buf, ADD_ONE, name, value);
        self
    }

    /// An attribute change with its values.
    #[inline]
    pub fn change<'n, 'v>(
        &mut self,
        name: impl Into<Name<'n>>,
        modification: AttributeModification,
        values: impl IntoIterator<Item = (ValueModification, ValueRef<'v>)>,
    ) -> &mut Self {
        let name = self.page.names.resolve(name.into());
        let buf = &mut self.page.buf;
        buf.push(CHANGE);
        put_u32(buf, name);
        buf.push(modification.to_wire());
        let count_at = buf.len();
        buf.extend_from_slice(&[0; 8]);
        let mut count: u32 = 0;
        for (m, v) in values {
            buf.push(m.to_wire());
            put_value(buf, v);
            count += 1;
        }
        let bytes = u32::try_from(buf.len() - count_at - 8).unwrap_or(u32::MAX);
        buf[count_at..count_at + 4].copy_from_slice(&count.to_le_bytes());
        buf[count_at + 4..count_at + 8].copy_from_slice(&bytes.to_le_bytes());
        self
    }

    #[inline]
    pub fn error(&mut self, code: ImportErrorCode, name: &str, detail: &str) -> &mut Self {
        let buf = &mut self.page.buf;
        buf.push(ERROR);
        buf.push(code.to_wire());
        put_str(buf, name.as_bytes());
        put_str(buf, detail.as_bytes());
        self
    }
}

impl Drop for EntryWriter<'_> {
    #[inline]
    fn drop(&mut self) {
        self.page.buf.push(END);
    }
}
