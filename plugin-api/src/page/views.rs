//! Reading a page in place: the host's side. A [`PackedPage`] yields [`EntryView`]s, each
//! checked whole before it is yielded and then read through iterators that borrow from the
//! connector's buffer.

use crate::model::*;

use super::format::{ADD_ONE, ANCHOR, CHANGE, END, ERROR, FORMAT_VERSION, IDENTIFIER_IS_DN};
use super::reader::{PageError, Reader};
use super::value::ValueRef;
use super::writer::PageWriter;

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

    /// The page as the connector packed it (the format in `page/format.rs`, documented in
    /// `docs/worker-protocol.md`), unchecked: for passing it on whole, as a worker process
    /// does, without decoding and packing it again. [`PackedPage::new`] reads it back.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes()
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
                    let modification = AttributeModification::from_wire(r.u8().ok()?);
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

/// Checking whole entries, each into a view (the reads of bytes and values are in `reader.rs`).
impl<'a> Reader<'a> {
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
                let code = ImportErrorCode::from_wire(self.u8()?);
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
        let modification = ObjectModification::from_wire(self.u8()?);
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
