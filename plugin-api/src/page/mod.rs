//! Import pages packed into one byte buffer.
//!
//! A page crosses the ABI as one `RVec<u8>` instead of a tree of `RString`s and `RVec`s: the
//! plugin's allocator is not the host's, so every string of a tree has to be copied on the host
//! side and freed through a vtable call, which cost a third of a full import's time (measured
//! in `plugins/generic-sql/benches/full_import.rs`). A connector writes entries straight into a
//! [`PageWriter`] (no intermediate `CsEntryChange`s), and the host reads the buffer in place
//! ([`PackedPage`], [`EntryView`]) or decodes it into its own [`CsEntryChange`]s.
//!
//! Wire format (all integers little-endian; `str` = u32 length + UTF-8 bytes; `name` = u32
//! position in the page's name table):
//!
//! ```text
//! page   := FORMAT_VERSION entry* names u32 names_at
//! names  := str*                                 -- the name table, from byte names_at
//! entry  := u8 modification, u8 flags, [str identifier], name object_type, str dn, record*, 0
//!           (flags bit 0: the identifier is the dn, and is not written again)
//! record := 1 name value                         -- anchor attribute
//!         | 2 name u8 modification u32 n u32 bytes (u8 value_modification value){n}
//!         | 3 u8 code str name str detail        -- entry error
//!         | 4 name value                         -- attribute added with one value
//!           (`bytes`: the length of the values, so readers can skip them; record 4 is the
//!           shape of nearly every imported attribute)
//! value  := 0 str | 1 i64 | 2 u8 | 3 u32 n bytes{n} | 4 str
//!           (String, Integer, Boolean, Binary, Reference)
//! ```
//!
//! Attribute and object type names are written once per page, in the name table, and each
//! record refers to its name by position: an import writes the same few names on every entry,
//! and each written name was a length, a copy, a bounds check and a UTF-8 check per entry.
//! Enumerations are encoded by their position, as everywhere in the ABI; the decoder maps
//! unknown values to the same safe defaults as the ABI conversions.

use std::collections::HashMap;

use thiserror::Error;

use crate::abi::{ATTR_MODS, IMPORT_ERRORS, OBJECT_MODS};
use crate::model::*;

/// The first byte of every page; bumped when the layout changes (2: record 4; 3: the name
/// table, and an identifier equal to the dn written once).
pub const FORMAT_VERSION: u8 = 3;

const END: u8 = 0;
const ANCHOR: u8 = 1;
const CHANGE: u8 = 2;
const ERROR: u8 = 3;
const ADD_ONE: u8 = 4;

/// Entry flag: the identifier is the dn.
const IDENTIFIER_IS_DN: u8 = 1;

/// A value borrowed from wherever the connector holds it (a database row, a BER buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRef<'a> {
    String(&'a str),
    Integer(i64),
    Boolean(bool),
    Binary(&'a [u8]),
    Reference(&'a str),
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::String(s) => ValueRef::String(s),
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Boolean(b) => ValueRef::Boolean(*b),
            Value::Binary(b) => ValueRef::Binary(b),
            Value::Reference(s) => ValueRef::Reference(s),
        }
    }
}

impl From<ValueRef<'_>> for Value {
    fn from(v: ValueRef<'_>) -> Self {
        match v {
            ValueRef::String(s) => Value::String(s.to_owned()),
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Boolean(b) => Value::Boolean(b),
            ValueRef::Binary(b) => Value::Binary(b.to_vec()),
            ValueRef::Reference(s) => Value::Reference(s.to_owned()),
        }
    }
}

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NameId(u32);

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
            Name::Id(NameId(id)) => {
                // An id from another page would name the wrong attribute or none.
                assert!(
                    (id as usize) < self.spans.len(),
                    "NameId {id} was not given out by this page"
                );
                id
            }
        }
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
            names: NameTable::default(),
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
        NameId(self.names.id(name))
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
        head[0] = modification as u8;
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
        buf.push(modification as u8);
        let count_at = buf.len();
        buf.extend_from_slice(&[0; 8]);
        let mut count: u32 = 0;
        for (m, v) in values {
            buf.push(m as u8);
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
        buf.push(code as u8);
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

/// Why a page could not be decoded (a bug in the connector or the plugin-api it was built
/// with; the host fails the import with this message).
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum PageError {
    #[error("import page format {0} is not supported (this host reads format {FORMAT_VERSION})")]
    Format(u8),
    #[error("import page ends in the middle of entry {entry}")]
    Truncated { entry: u32 },
    #[error("import page: entry {entry} has an unknown record tag {tag}")]
    Tag { entry: u32, tag: u8 },
    #[error("import page: entry {entry} has an unknown value tag {tag}")]
    ValueTag { entry: u32, tag: u8 },
    #[error("import page: entry {entry} has a string that is not UTF-8")]
    Utf8 { entry: u32 },
    #[error("import page: entry {entry} refers to name {name}, past the page's name table")]
    Name { entry: u32, name: u32 },
    #[error("import page: its name table is damaged")]
    NameTable,
    #[error("import page: {found} entries, the connector announced {announced}")]
    Count { found: u32, announced: u32 },
}

/// The name table of a received page: where each name is in the page (checked as UTF-8).
#[derive(Debug)]
struct Names {
    /// The entries: between the format byte and the name table.
    body: std::ops::Range<usize>,
    spans: Vec<(u32, u32)>,
}

impl Names {
    /// Reads the table of a page whose format byte has been checked.
    fn read(bytes: &[u8]) -> Result<Self, PageError> {
        let Some(trailer) = bytes.len().checked_sub(4) else {
            return Err(PageError::NameTable);
        };
        let names_at = u32::from_le_bytes(bytes[trailer..].try_into().expect("4 bytes")) as usize;
        if names_at < 1 || names_at > trailer {
            return Err(PageError::NameTable);
        }
        let mut r = Reader {
            bytes: &bytes[names_at..trailer],
            entry: 0,
            checked: false,
        };
        let mut spans = Vec::new();
        while !r.bytes.is_empty() {
            let at = trailer - r.bytes.len() + 4;
            let s = r.str().map_err(|_| PageError::NameTable)?;
            spans.push((at as u32, s.len() as u32));
        }
        Ok(Self {
            body: 1..names_at,
            spans,
        })
    }
}

/// The names of one page as the readers use them.
#[derive(Debug, Clone, Copy)]
struct NameRefs<'a> {
    page: &'a [u8],
    spans: &'a [(u32, u32)],
}

impl<'a> NameRefs<'a> {
    /// A name whose id was checked against the table.
    #[inline(always)]
    fn get(&self, id: u32) -> &'a str {
        let (at, len) = self.spans[id as usize];
        let b = &self.page[at as usize..][..len as usize];
        // SAFETY: `Names::read` found every span of the table to be UTF-8, and the page is
        // borrowed immutably for 'a.
        unsafe { std::str::from_utf8_unchecked(b) }
    }
}

/// An import page as the host holds it: the connector's buffer, read in place.
///
/// [`PackedPage::entries`] yields [`EntryView`]s that borrow from the buffer, so the host builds
/// its cache records straight from the connector's bytes (no `CsEntryChange` in between);
/// [`PackedPage::to_entries`] decodes owned entries for everything else.
#[derive(Debug)]
pub struct PackedPage {
    bytes: PageBytes,
    announced: u32,
    names: Result<Names, PageError>,
}

#[derive(Debug)]
enum PageBytes {
    Owned(Vec<u8>),
    /// The plugin's buffer as it crossed the ABI (freed by the plugin's allocator).
    Abi(abi_stable::std_types::RVec<u8>),
}

/// The name table of a page, or why it cannot be read (the format first).
fn names_of(bytes: &[u8]) -> Result<Names, PageError> {
    match bytes.first() {
        Some(&FORMAT_VERSION) => Names::read(bytes),
        Some(&f) => Err(PageError::Format(f)),
        None => Err(PageError::Format(0)),
    }
}

impl PackedPage {
    /// A page from [`PageWriter::into_parts`].
    pub fn new(bytes: Vec<u8>, entries: u32) -> Self {
        let names = names_of(&bytes);
        Self {
            bytes: PageBytes::Owned(bytes),
            announced: entries,
            names,
        }
    }

    pub(crate) fn from_abi(bytes: abi_stable::std_types::RVec<u8>, entries: u32) -> Self {
        let names = names_of(&bytes);
        Self {
            bytes: PageBytes::Abi(bytes),
            announced: entries,
            names,
        }
    }

    fn bytes(&self) -> &[u8] {
        match &self.bytes {
            PageBytes::Owned(b) => b,
            PageBytes::Abi(b) => b.as_slice(),
        }
    }

    /// The number of entries the connector announced.
    pub fn len(&self) -> usize {
        self.announced as usize
    }

    pub fn is_empty(&self) -> bool {
        self.announced == 0
    }

    /// The entries, each checked whole (bounds, tags, names, UTF-8) before it is yielded;
    /// after an error the iterator ends. A page whose entry count differs from the announced
    /// one ends with [`PageError::Count`].
    pub fn entries(&self) -> Entries<'_> {
        entries_of(self.bytes(), self.names.as_ref(), self.announced)
    }

    /// The entries decoded into owned `CsEntryChange`s.
    pub fn to_entries(&self) -> Result<Vec<CsEntryChange>, PageError> {
        collect_owned(self.entries(), self.announced, self.bytes().len())
    }
}

fn entries_of<'a>(
    bytes: &'a [u8],
    names: Result<&'a Names, &PageError>,
    announced: u32,
) -> Entries<'a> {
    match names {
        Ok(names) => Entries {
            r: Reader {
                bytes: &bytes[names.body.clone()],
                entry: 0,
                checked: false,
            },
            names: NameRefs {
                page: bytes,
                spans: &names.spans,
            },
            announced,
            state: EntriesState::Reading,
        },
        Err(e) => Entries {
            r: Reader {
                bytes: &[],
                entry: 0,
                checked: false,
            },
            names: NameRefs {
                page: bytes,
                spans: &[],
            },
            announced,
            state: EntriesState::Failed(e.clone()),
        },
    }
}

/// An import page with the rest of what the connector returned with it.
#[derive(Debug)]
pub struct PackedImportPage {
    pub entries: PackedPage,
    pub more_to_import: bool,
    /// The watermark so far.
    pub custom_data: String,
}

impl From<ImportPage> for PackedImportPage {
    fn from(p: ImportPage) -> Self {
        let mut page = PageWriter::new();
        for e in &p.entries {
            page.push(e);
        }
        let (bytes, n) = page.into_parts();
        Self {
            entries: PackedPage::new(bytes, n),
            more_to_import: p.more_to_import,
            custom_data: p.custom_data,
        }
    }
}

impl TryFrom<PackedImportPage> for ImportPage {
    type Error = ConnectorError;
    fn try_from(p: PackedImportPage) -> Result<Self, Self::Error> {
        Ok(Self {
            entries: p
                .entries
                .to_entries()
                .map_err(|e| ConnectorError::internal(e.to_string()))?,
            more_to_import: p.more_to_import,
            custom_data: p.custom_data,
        })
    }
}

enum EntriesState {
    Reading,
    Failed(PageError),
    Done,
}

/// The entries of a [`PackedPage`].
pub struct Entries<'a> {
    r: Reader<'a>,
    names: NameRefs<'a>,
    announced: u32,
    state: EntriesState,
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<EntryView<'a>, PageError>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match std::mem::replace(&mut self.state, EntriesState::Done) {
            EntriesState::Done => return None,
            EntriesState::Failed(e) => return Some(Err(e)),
            EntriesState::Reading => {}
        }
        if self.r.bytes.is_empty() {
            return (self.r.entry != self.announced).then_some(Err(PageError::Count {
                found: self.r.entry,
                announced: self.announced,
            }));
        }
        let entry = self.r.entry_view(self.names);
        if entry.is_ok() {
            self.r.entry += 1;
            self.state = EntriesState::Reading;
        }
        Some(entry)
    }
}

/// One entry of a [`PackedPage`], borrowed from it (checked whole when it was yielded).
#[derive(Debug, Clone, Copy)]
pub struct EntryView<'a> {
    pub identifier: &'a str,
    pub object_type: &'a str,
    pub modification: ObjectModification,
    pub dn: &'a str,
    error: Option<EntryErrorView<'a>>,
    /// The entry's records (anchors, changes, error), already checked.
    records: &'a [u8],
    names: NameRefs<'a>,
    /// Where the anchors that lead the records end (connectors write anchors first).
    anchors_end: usize,
    /// Whether an anchor also follows other records.
    late_anchors: bool,
}

/// An entry's import error, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryErrorView<'a> {
    pub code: ImportErrorCode,
    pub name: &'a str,
    pub detail: &'a str,
}

/// One attribute change of an [`EntryView`].
#[derive(Debug, Clone, Copy)]
pub struct ChangeView<'a> {
    pub name: &'a str,
    pub modification: AttributeModification,
    count: u32,
    /// `count` times (value modification, value); for a `single` change (record 4) the one
    /// added value alone.
    values: &'a [u8],
    /// A record 4: one value, added, with no modification byte before it. Kept as its bytes
    /// and read again when iterated rather than held as a `ValueRef`: copying that enum
    /// through `Option`s cost store-forwarding stalls, over half of reading a page in place
    /// (perf annotate of the full_import bench).
    single: bool,
}

/// Records of an entry that was checked when it was yielded, so reading them again cannot
/// fail (a failure would only end the iteration early). Each iterator builds views only of
/// the records it yields and steps over the others by their lengths.
pub struct Anchors<'a> {
    r: Reader<'a>,
    names: NameRefs<'a>,
}

impl<'a> Iterator for Anchors<'a> {
    type Item = (&'a str, ValueRef<'a>);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.r.u8().ok()? {
                ANCHOR => {
                    let name = self.names.get(self.r.u32().ok()?);
                    return Some((name, self.r.value().ok()?));
                }
                END => return None,
                tag => self.r.skip_record(tag)?,
            }
        }
    }
}

/// The attribute changes of an [`EntryView`] (see [`Anchors`]).
pub struct Changes<'a> {
    r: Reader<'a>,
    names: NameRefs<'a>,
}

impl<'a> Iterator for Changes<'a> {
    type Item = ChangeView<'a>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let r = &mut self.r;
        loop {
            match r.u8().ok()? {
                ADD_ONE => {
                    return Some(ChangeView {
                        name: self.names.get(r.u32().ok()?),
                        modification: AttributeModification::Add,
                        count: 1,
                        values: r.value_bytes()?,
                        single: true,
                    });
                }
                CHANGE => {
                    let name = self.names.get(r.u32().ok()?);
                    let modification = ATTR_MODS
                        .get(r.u8().ok()? as usize)
                        .copied()
                        .unwrap_or(AttributeModification::Replace);
                    let count = r.u32().ok()?;
                    let values = r.bytes().ok()?;
                    return Some(ChangeView {
                        name,
                        modification,
                        count,
                        values,
                        single: false,
                    });
                }
                END => return None,
                tag => r.skip_record(tag)?,
            }
        }
    }
}

impl<'a> EntryView<'a> {
    #[inline]
    fn reader(bytes: &'a [u8]) -> Reader<'a> {
        Reader {
            bytes,
            entry: 0,
            checked: true,
        }
    }

    /// The anchor attributes: name and value.
    #[inline]
    pub fn anchors(&self) -> Anchors<'a> {
        let scanned = match self.late_anchors {
            true => self.records,
            false => &self.records[..self.anchors_end],
        };
        Anchors {
            r: Self::reader(scanned),
            names: self.names,
        }
    }

    #[inline]
    pub fn changes(&self) -> Changes<'a> {
        Changes {
            r: Self::reader(&self.records[self.anchors_end..]),
            names: self.names,
        }
    }

    /// The change of one attribute (names compare case-insensitively, as in ECMA).
    #[inline]
    pub fn change(&self, name: &str) -> Option<ChangeView<'a>> {
        self.changes().find(|c| c.name.eq_ignore_ascii_case(name))
    }

    #[inline]
    pub fn error(&self) -> Option<EntryErrorView<'a>> {
        self.error
    }

    #[inline]
    pub fn to_owned(&self) -> CsEntryChange {
        CsEntryChange {
            identifier: self.identifier.to_owned(),
            object_type: self.object_type.to_owned(),
            modification: self.modification,
            dn: self.dn.to_owned(),
            anchor: self
                .anchors()
                .map(|(name, value)| AnchorAttribute {
                    name: name.to_owned(),
                    value: value.into(),
                })
                .collect(),
            changes: self
                .changes()
                .map(|c| AttributeChange {
                    name: c.name.to_owned(),
                    modification: c.modification,
                    values: c
                        .values()
                        .map(|(modification, value)| ValueChange {
                            modification,
                            value: value.into(),
                        })
                        .collect(),
                })
                .collect(),
            error: self.error.map(|e| EntryError {
                code: e.code,
                name: e.name.to_owned(),
                detail: e.detail.to_owned(),
            }),
        }
    }
}

impl<'a> ChangeView<'a> {
    /// The values with their modification (add or delete).
    #[inline]
    pub fn values(&self) -> Values<'a> {
        Values {
            single: self.single,
            // `values` lies within the checked records of the entry.
            r: Reader {
                bytes: self.values,
                entry: 0,
                checked: true,
            },
            left: self.count,
        }
    }

    #[inline]
    pub fn added_values(&self) -> impl Iterator<Item = ValueRef<'a>> + use<'a> {
        self.values()
            .filter(|(m, _)| *m == ValueModification::Add)
            .map(|(_, v)| v)
    }

    #[inline]
    pub fn deleted_values(&self) -> impl Iterator<Item = ValueRef<'a>> + use<'a> {
        self.values()
            .filter(|(m, _)| *m == ValueModification::Delete)
            .map(|(_, v)| v)
    }
}

/// The values of a [`ChangeView`] with their modification.
pub struct Values<'a> {
    single: bool,
    r: Reader<'a>,
    left: u32,
}

impl<'a> Iterator for Values<'a> {
    type Item = (ValueModification, ValueRef<'a>);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        if self.single {
            return self.r.value().ok().map(|v| (ValueModification::Add, v));
        }
        self.r.value_change().ok()
    }
}

impl ValueRef<'_> {
    /// The value as text, as [`Value::as_text`] gives it.
    #[inline]
    pub fn as_text(&self) -> String {
        match self {
            ValueRef::String(s) | ValueRef::Reference(s) => (*s).to_owned(),
            ValueRef::Integer(i) => i.to_string(),
            ValueRef::Boolean(b) => b.to_string(),
            ValueRef::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }
}

impl PartialEq<ValueRef<'_>> for Value {
    #[inline]
    fn eq(&self, other: &ValueRef<'_>) -> bool {
        ValueRef::from(self) == *other
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    entry: u32,
    /// Reading records that a checking reader has already read (see [`Reader::str`]).
    checked: bool,
}

impl<'a> Reader<'a> {
    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], PageError> {
        if self.bytes.len() < n {
            return Err(PageError::Truncated { entry: self.entry });
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    #[inline]
    fn u8(&mut self) -> Result<u8, PageError> {
        Ok(self.take(1)?[0])
    }
    #[inline]
    fn u32(&mut self) -> Result<u32, PageError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    #[inline]
    fn bytes(&mut self) -> Result<&'a [u8], PageError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    #[inline]
    fn str(&mut self) -> Result<&'a str, PageError> {
        let b = self.bytes()?;
        if self.checked {
            // SAFETY: a reader is `checked` only over the records of an `EntryView`, a slice
            // that `entry_view` has just read whole with a checking reader, which found every
            // string in it to be UTF-8 (or yielded no view). The bytes are borrowed immutably
            // for 'a, and reading is deterministic, so this reader meets the same strings at
            // the same offsets. Checking them again cost half of reading a page in place.
            return Ok(unsafe { std::str::from_utf8_unchecked(b) });
        }
        if b.is_ascii() {
            // SAFETY: ASCII is UTF-8. Names and most values are short ASCII strings, and
            // this inlined check is several times cheaper than a call to `from_utf8`.
            return Ok(unsafe { std::str::from_utf8_unchecked(b) });
        }
        std::str::from_utf8(b).map_err(|_| PageError::Utf8 { entry: self.entry })
    }
    /// A name id, checked against the page's name table.
    #[inline]
    fn name(&mut self, names: usize) -> Result<u32, PageError> {
        let name = self.u32()?;
        if name as usize >= names {
            return Err(PageError::Name {
                entry: self.entry,
                name,
            });
        }
        Ok(name)
    }
    // Always inlined: called, it returns the value through memory in pieces that the caller
    // reloads whole, a store-forwarding stall per value (perf annotate of full_import).
    #[inline(always)]
    fn value(&mut self) -> Result<ValueRef<'a>, PageError> {
        Ok(match self.u8()? {
            0 => ValueRef::String(self.str()?),
            1 => ValueRef::Integer(i64::from_le_bytes(
                self.take(8)?.try_into().expect("8 bytes"),
            )),
            2 => ValueRef::Boolean(self.u8()? != 0),
            3 => ValueRef::Binary(self.bytes()?),
            4 => ValueRef::Reference(self.str()?),
            tag => {
                return Err(PageError::ValueTag {
                    entry: self.entry,
                    tag,
                });
            }
        })
    }
    #[inline]
    fn value_change(&mut self) -> Result<(ValueModification, ValueRef<'a>), PageError> {
        let modification = if self.u8()? == 1 {
            ValueModification::Delete
        } else {
            ValueModification::Add
        };
        Ok((modification, self.value()?))
    }
    /// Steps over one checked value, returning its bytes (tag included).
    #[inline]
    fn value_bytes(&mut self) -> Option<&'a [u8]> {
        let start = self.bytes;
        match *self.bytes.first()? {
            1 => self.take(9).ok()?,
            2 => self.take(2).ok()?,
            _ => {
                self.take(1).ok()?;
                self.bytes().ok()?
            }
        };
        Some(&start[..start.len() - self.bytes.len()])
    }
    /// Steps over a checked record whose tag has been read (`None` for the end marker).
    #[inline]
    fn skip_record(&mut self, tag: u8) -> Option<()> {
        match tag {
            ANCHOR | ADD_ONE => {
                self.take(4).ok()?;
                self.value_bytes().map(drop)
            }
            CHANGE => {
                self.take(9).ok()?;
                self.bytes().ok().map(drop)
            }
            ERROR => {
                self.take(1).ok()?;
                self.bytes().ok()?;
                self.bytes().ok().map(drop)
            }
            _ => None,
        }
    }
    /// Checks one value without building it (cheaper here than `value`, whose result the
    /// check would drop: ~90 instructions per entry, `benches/page.rs` under callgrind).
    /// Always inlined: as a call it cost a fifth of checking an entry.
    #[inline(always)]
    fn check_value(&mut self) -> Result<(), PageError> {
        match self.u8()? {
            0 | 4 => drop(self.str()?),
            1 => drop(self.take(8)?),
            2 => drop(self.take(1)?),
            3 => drop(self.bytes()?),
            tag => {
                return Err(PageError::ValueTag {
                    entry: self.entry,
                    tag,
                });
            }
        }
        Ok(())
    }
    /// Checks the next record without building a view of it (the entry is checked once,
    /// then read through views as often as the host likes): its tag, [`END`] at the end of the
    /// entry; an error record is kept in `error`.
    #[inline]
    fn check_record(
        &mut self,
        names: usize,
        error: &mut Option<EntryErrorView<'a>>,
    ) -> Result<u8, PageError> {
        let tag = self.u8()?;
        match tag {
            END => {}
            ANCHOR | ADD_ONE => {
                self.name(names)?;
                self.check_value()?;
            }
            CHANGE => {
                self.name(names)?;
                self.u8()?;
                let count = self.u32()?;
                let len = self.u32()? as usize;
                let before = self.bytes.len();
                // A bogus count ends at the end of the buffer: every value is two bytes or more.
                for _ in 0..count {
                    self.u8()?;
                    self.check_value()?;
                }
                if before - self.bytes.len() != len {
                    return Err(PageError::Truncated { entry: self.entry });
                }
            }
            ERROR => {
                let code = IMPORT_ERRORS
                    .get(self.u8()? as usize)
                    .copied()
                    .unwrap_or(ImportErrorCode::CustomContinueRun);
                *error = Some(EntryErrorView {
                    code,
                    name: self.str()?,
                    detail: self.str()?,
                });
            }
            tag => {
                return Err(PageError::Tag {
                    entry: self.entry,
                    tag,
                });
            }
        }
        Ok(tag)
    }
    /// One whole entry, checked.
    #[inline]
    fn entry_view(&mut self, names: NameRefs<'a>) -> Result<EntryView<'a>, PageError> {
        let modification = OBJECT_MODS
            .get(self.u8()? as usize)
            .copied()
            // As in the ABI conversions: an unknown modification is ignored, never a write.
            .unwrap_or(ObjectModification::None);
        let flags = self.u8()?;
        let identifier = match flags & IDENTIFIER_IS_DN {
            0 => Some(self.str()?),
            _ => None,
        };
        let object_type = names.get(self.name(names.spans.len())?);
        let dn = self.str()?;
        let start = self.bytes;
        let mut error = None;
        let (mut anchors_end, mut late_anchors) = (None, false);
        loop {
            let at = start.len() - self.bytes.len();
            match self.check_record(names.spans.len(), &mut error)? {
                ANCHOR => late_anchors |= anchors_end.is_some(),
                tag => {
                    anchors_end.get_or_insert(at);
                    if tag == END {
                        break;
                    }
                }
            }
        }
        Ok(EntryView {
            identifier: identifier.unwrap_or(dn),
            object_type,
            modification,
            dn,
            error,
            records: &start[..start.len() - self.bytes.len()],
            names,
            anchors_end: anchors_end.unwrap_or(0),
            late_anchors,
        })
    }
}

/// Owned entries of a page, refused whole if any entry is damaged.
fn collect_owned(
    entries: Entries<'_>,
    announced: u32,
    len: usize,
) -> Result<Vec<CsEntryChange>, PageError> {
    // Bounded by the buffer: a bogus count cannot make the host reserve gigabytes.
    let mut out = Vec::with_capacity((announced as usize).min(len / 12 + 1));
    for e in entries {
        out.push(e?.to_owned());
    }
    Ok(out)
}

/// Decodes a page written by [`PageWriter`]. `announced` is the entry count the connector
/// reported with it; a page that disagrees is refused rather than half-imported.
pub fn decode_page(bytes: &[u8], announced: u32) -> Result<Vec<CsEntryChange>, PageError> {
    let names = names_of(bytes);
    collect_owned(
        entries_of(bytes, names.as_ref(), announced),
        announced,
        bytes.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<CsEntryChange> {
        let mut a = CsEntryChange::new("User", ObjectModification::Add).with_anchor("id", 7i64);
        a.dn = "7".into();
        a.identifier = "7".into();
        a.changes.push(AttributeChange::add(
            "name",
            [Value::String("Zoë '; --".into())],
        ));
        a.changes.push(AttributeChange::add(
            "member",
            [
                Value::Reference("cn=a".into()),
                Value::Reference("cn=b".into()),
            ],
        ));
        a.changes.push(AttributeChange::add(
            "photo",
            [Value::Binary(vec![0, 255, 1])],
        ));
        a.changes
            .push(AttributeChange::add("active", [Value::Boolean(true)]));
        a.changes.push(AttributeChange {
            name: "mail".into(),
            modification: AttributeModification::Update,
            values: vec![
                ValueChange::delete(Value::String("old@x".into())),
                ValueChange::add(Value::String("new@x".into())),
            ],
        });
        a.changes.push(AttributeChange {
            name: "empty".into(),
            modification: AttributeModification::Delete,
            values: vec![],
        });
        let mut b = CsEntryChange::new("Group", ObjectModification::Delete)
            .with_anchor("guid", Value::Binary(vec![9; 16]))
            .with_anchor("n", i64::MIN);
        b.error = Some(EntryError {
            code: ImportErrorCode::MissingAnchor,
            name: "MissingAnchor".into(),
            detail: "x".repeat(70_000),
        });
        let c = CsEntryChange::new("", ObjectModification::None);
        vec![a, b, c]
    }

    /// Where the name table of a written page starts.
    fn names_at(bytes: &[u8]) -> usize {
        u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap()) as usize
    }

    #[test]
    fn names_are_written_once_per_page_and_ids_name_them() {
        let mut page = PageWriter::new();
        let user = page.name("User");
        let mail = page.name("mail");
        assert_eq!(page.name("mail"), mail);
        for i in 0..100i64 {
            let dn = format!("uid={i}");
            let mut e = page.entry(user, ObjectModification::Add, &dn, &dn);
            e.add(mail, ValueRef::String("m@x"));
            // Past the scanned names: the table's map finds them.
            for k in 0..40 {
                e.add(format!("attr{k}").as_str(), ValueRef::Integer(k));
            }
        }
        page.entry("Group", ObjectModification::Add, "cn=g", "g-1")
            .anchor("guid", ValueRef::Binary(&[1, 2]));
        let (bytes, n) = page.into_parts();
        // Each name once: 43 names, not 100 × 41.
        assert_eq!(
            bytes.windows(6).filter(|w| w == b"attr39").count(),
            1,
            "a name written more than once"
        );
        let packed = PackedPage::new(bytes, n);
        let views: Vec<_> = packed.entries().map(Result::unwrap).collect();
        assert_eq!(views.len(), 101);
        assert_eq!(views[7].object_type, "User");
        assert_eq!(views[7].identifier, "uid=7");
        let names: Vec<_> = views[7].changes().map(|c| c.name).collect();
        assert_eq!(names[0], "mail");
        assert_eq!(names[40], "attr39");
        assert_eq!(
            views[7]
                .change("attr12")
                .unwrap()
                .values()
                .collect::<Vec<_>>(),
            [(ValueModification::Add, ValueRef::Integer(12))]
        );
        let group = &views[100];
        assert_eq!(
            (group.object_type, group.dn, group.identifier),
            ("Group", "cn=g", "g-1")
        );
        assert_eq!(
            group.anchors().collect::<Vec<_>>(),
            [("guid", ValueRef::Binary(&[1, 2]))]
        );
    }

    #[test]
    fn a_name_id_past_the_table_is_refused() {
        let mut page = PageWriter::new();
        page.entry("User", ObjectModification::Add, "d", "d")
            .add("a", ValueRef::Integer(1));
        let (mut bytes, n) = page.into_parts();
        // The record's name id (after tag): the entry is mod, flags, type, dn (4 + 1), tag.
        let at = 1 + 2 + 4 + 5 + 1;
        assert_eq!(&bytes[at..at + 4], &1u32.to_le_bytes());
        bytes[at] = 9;
        assert_eq!(
            decode_page(&bytes, n),
            Err(PageError::Name { entry: 0, name: 9 })
        );
        // A name table that points outside the page.
        let len = bytes.len();
        bytes[len - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode_page(&bytes, n), Err(PageError::NameTable));
    }

    #[test]
    #[should_panic(expected = "was not given out by this page")]
    fn a_name_id_from_another_page_is_a_bug_caught_when_written() {
        let mut other = PageWriter::new();
        other.name("a");
        let id = other.name("b");
        let mut page = PageWriter::new();
        page.entry("User", ObjectModification::Add, "d", "d")
            .add(id, ValueRef::Integer(1));
    }

    #[test]
    fn every_field_survives_the_round_trip() {
        let entries = sample();
        let mut page = PageWriter::new();
        for e in &entries {
            page.push(e);
        }
        assert_eq!(page.len(), 3);
        let (bytes, n) = page.into_parts();
        assert_eq!(decode_page(&bytes, n).unwrap(), entries);
    }

    #[test]
    fn an_empty_page_decodes_to_no_entries() {
        let (bytes, n) = PageWriter::new().into_parts();
        assert_eq!(decode_page(&bytes, n).unwrap(), vec![]);
    }

    #[test]
    fn a_damaged_page_is_an_error_never_a_panic() {
        let mut page = PageWriter::new();
        for e in &sample() {
            page.push(e);
        }
        let (bytes, n) = page.into_parts();
        // Every truncation, and every single-byte corruption, decodes to Ok or Err.
        for cut in 0..bytes.len() {
            let r = decode_page(&bytes[..cut], n);
            assert!(r.is_err(), "truncated at {cut} decoded");
        }
        for i in 0..bytes.len().min(400) {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut damaged = bytes.clone();
                damaged[i] ^= flip;
                let _ = decode_page(&damaged, n);
            }
        }
        assert_eq!(
            decode_page(&bytes, n + 1),
            Err(PageError::Count {
                found: 3,
                announced: 4
            })
        );
        assert_eq!(decode_page(&[9], 0), Err(PageError::Format(9)));
        let mut bad_utf8 = PageWriter::new();
        bad_utf8.entry("User", ObjectModification::Add, "x", "x");
        let (mut bytes, n) = bad_utf8.into_parts();
        // The last byte of the dn "x", before the entry's end marker and the name table.
        let at = names_at(&bytes) - 2;
        bytes[at] = 0xff;
        assert_eq!(decode_page(&bytes, n), Err(PageError::Utf8 { entry: 0 }));
    }

    #[test]
    fn views_read_the_same_entries_in_place() {
        let entries = sample();
        let mut page = PageWriter::new();
        for e in &entries {
            page.push(e);
        }
        // Records in another order than `push` writes them: an anchor after a change, and
        // an error between changes.
        page.entry("User", ObjectModification::Update, "u", "u")
            .add("mail", ValueRef::String("m@x"))
            .anchor("id", ValueRef::Integer(3))
            .error(ImportErrorCode::ParseError, "Parse", "bad")
            .change(
                "member",
                AttributeModification::Update,
                [
                    (ValueModification::Delete, ValueRef::Reference("cn=old")),
                    (ValueModification::Add, ValueRef::Reference("cn=new")),
                ],
            );
        let (bytes, n) = page.into_parts();
        let packed = PackedPage::new(bytes, n);
        let views: Vec<EntryView<'_>> = packed.entries().map(Result::unwrap).collect();
        assert_eq!(views.len(), 4);
        for (view, owned) in views.iter().zip(&entries) {
            assert_eq!(&view.to_owned(), owned);
        }
        let a = &views[0];
        assert_eq!(
            a.anchors().collect::<Vec<_>>(),
            [("id", ValueRef::Integer(7))]
        );
        let member = a.change("MEMBER").unwrap();
        assert_eq!(
            member.added_values().collect::<Vec<_>>(),
            [ValueRef::Reference("cn=a"), ValueRef::Reference("cn=b")]
        );
        let mail = a.change("mail").unwrap();
        assert_eq!(
            mail.deleted_values().collect::<Vec<_>>(),
            [ValueRef::String("old@x")]
        );
        assert!(a.change("nope").is_none());
        assert_eq!(
            views[1].error().unwrap().code,
            ImportErrorCode::MissingAnchor
        );
        assert_eq!(views[1].anchors().count(), 2);
        let late = &views[3];
        assert_eq!(
            late.anchors().collect::<Vec<_>>(),
            [("id", ValueRef::Integer(3))]
        );
        assert_eq!(
            late.changes().map(|c| c.name).collect::<Vec<_>>(),
            ["mail", "member"]
        );
        assert_eq!(late.error().unwrap().detail, "bad");
        assert_eq!(late.change("member").unwrap().values().count(), 2);
        // A damaged entry ends the iteration with its error, after the good ones.
        let (mut bytes, n) = {
            let mut page = PageWriter::new();
            page.push(&entries[0]);
            page.push(&entries[0]);
            page.into_parts()
        };
        let last = names_at(&bytes) - 1;
        bytes[last] = 77; // the second entry's end marker
        let packed = PackedPage::new(bytes, n);
        let read: Vec<_> = packed.entries().collect();
        assert_eq!(read.len(), 2);
        assert!(read[0].is_ok());
        assert_eq!(
            read[1].as_ref().unwrap_err(),
            &PageError::Tag { entry: 1, tag: 77 }
        );
    }

    #[test]
    fn unknown_enumeration_values_decode_to_safe_defaults() {
        let mut page = PageWriter::new();
        page.entry("User", ObjectModification::Add, "d", "i")
            .add("a", ValueRef::Integer(1));
        let (mut bytes, n) = page.into_parts();
        bytes[1] = 200; // object modification
        let e = &decode_page(&bytes, n).unwrap()[0];
        assert_eq!(e.modification, ObjectModification::None);
    }
}
