//! Import pages packed into one byte buffer.
//!
//! A page crosses the ABI as one `RVec<u8>` instead of a tree of `RString`s and `RVec`s: the
//! plugin's allocator is not the host's, so every string of a tree has to be copied on the host
//! side and freed through a vtable call, which cost a third of a full import's time (measured
//! in `plugins/generic-sql/benches/full_import.rs`). A connector writes entries straight into a
//! [`PageWriter`] (no intermediate `CsEntryChange`s), and the host decodes the buffer once into
//! its own [`CsEntryChange`]s.
//!
//! Wire format (all integers little-endian; `str` = u32 length + UTF-8 bytes):
//!
//! ```text
//! page   := FORMAT_VERSION entry*
//! entry  := u8 modification, str identifier, str object_type, str dn, record*, 0
//! record := 1 str name value                      -- anchor attribute
//!         | 2 str name u8 modification u32 n (u8 value_modification value){n}
//!         | 3 u8 code str name str detail         -- entry error
//! value  := 0 str | 1 i64 | 2 u8 | 3 u32 n bytes{n} | 4 str
//!           (String, Integer, Boolean, Binary, Reference)
//! ```
//!
//! Enumerations are encoded by their position, as everywhere in the ABI; the decoder maps
//! unknown values to the same safe defaults as the ABI conversions.

use thiserror::Error;

use crate::model::*;

/// The first byte of every page; bumped when the layout changes.
pub const FORMAT_VERSION: u8 = 1;

const END: u8 = 0;
const ANCHOR: u8 = 1;
const CHANGE: u8 = 2;
const ERROR: u8 = 3;

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

/// Entries of one import page, written into one buffer.
#[derive(Debug, Clone)]
pub struct PageWriter {
    buf: Vec<u8>,
    entries: u32,
}

impl Default for PageWriter {
    fn default() -> Self {
        Self::new()
    }
}

fn put_str(buf: &mut Vec<u8>, s: &[u8]) {
    // A single string over 4 GiB cannot be imported; saturating keeps the page decodable
    // (the decoder then reports it as truncated) instead of wrapping silently.
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&s[..len as usize]);
}

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

impl PageWriter {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// `bytes`: the expected size of the page (e.g. the previous page's [`Self::byte_len`]).
    pub fn with_capacity(bytes: usize) -> Self {
        let mut buf = Vec::with_capacity(bytes.max(1));
        buf.push(FORMAT_VERSION);
        Self { buf, entries: 0 }
    }

    /// Entries written so far.
    pub fn len(&self) -> usize {
        self.entries as usize
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Bytes written so far.
    pub fn byte_len(&self) -> usize {
        self.buf.len()
    }

    /// Starts an entry; its anchors, attributes and error follow through the returned writer,
    /// and the entry ends when that writer is dropped.
    pub fn entry(
        &mut self,
        object_type: &str,
        modification: ObjectModification,
        dn: &str,
        identifier: &str,
    ) -> EntryWriter<'_> {
        self.entries += 1;
        let buf = &mut self.buf;
        buf.push(modification as u8);
        put_str(buf, identifier.as_bytes());
        put_str(buf, object_type.as_bytes());
        put_str(buf, dn.as_bytes());
        EntryWriter { buf }
    }

    /// Writes a whole entry (connectors that build `CsEntryChange`s anyway).
    pub fn push(&mut self, e: &CsEntryChange) {
        let mut w = self.entry(&e.object_type, e.modification, &e.dn, &e.identifier);
        for a in &e.anchor {
            w.anchor(&a.name, (&a.value).into());
        }
        for c in &e.changes {
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
        (self.buf, self.entries)
    }
}

/// One entry being written; ends (is terminated in the buffer) on drop.
pub struct EntryWriter<'a> {
    buf: &'a mut Vec<u8>,
}

impl EntryWriter<'_> {
    pub fn anchor(&mut self, name: &str, value: ValueRef<'_>) -> &mut Self {
        self.buf.push(ANCHOR);
        put_str(self.buf, name.as_bytes());
        put_value(self.buf, value);
        self
    }

    /// An attribute added with one value: the shape of every single-valued import attribute.
    pub fn add(&mut self, name: &str, value: ValueRef<'_>) -> &mut Self {
        self.change(
            name,
            AttributeModification::Add,
            [(ValueModification::Add, value)],
        )
    }

    /// An attribute change with its values.
    pub fn change<'v>(
        &mut self,
        name: &str,
        modification: AttributeModification,
        values: impl IntoIterator<Item = (ValueModification, ValueRef<'v>)>,
    ) -> &mut Self {
        self.buf.push(CHANGE);
        put_str(self.buf, name.as_bytes());
        self.buf.push(modification as u8);
        let count_at = self.buf.len();
        self.buf.extend_from_slice(&0u32.to_le_bytes());
        let mut count: u32 = 0;
        for (m, v) in values {
            self.buf.push(m as u8);
            put_value(self.buf, v);
            count += 1;
        }
        self.buf[count_at..count_at + 4].copy_from_slice(&count.to_le_bytes());
        self
    }

    pub fn error(&mut self, code: ImportErrorCode, name: &str, detail: &str) -> &mut Self {
        self.buf.push(ERROR);
        self.buf.push(code as u8);
        put_str(self.buf, name.as_bytes());
        put_str(self.buf, detail.as_bytes());
        self
    }
}

impl Drop for EntryWriter<'_> {
    fn drop(&mut self) {
        self.buf.push(END);
    }
}

/// Why a page could not be decoded (a bug in the connector or the plugin-api it was built
/// with; the host fails the import with this message).
#[derive(Debug, Error, PartialEq, Eq)]
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
    #[error("import page: {found} entries, the connector announced {announced}")]
    Count { found: u32, announced: u32 },
}

const OBJECT_MODS: [ObjectModification; 5] = [
    ObjectModification::Add,
    ObjectModification::Replace,
    ObjectModification::Update,
    ObjectModification::Delete,
    ObjectModification::None,
];
const ATTR_MODS: [AttributeModification; 4] = [
    AttributeModification::Add,
    AttributeModification::Replace,
    AttributeModification::Update,
    AttributeModification::Delete,
];
const IMPORT_ERRORS: [ImportErrorCode; 5] = [
    ImportErrorCode::CustomContinueRun,
    ImportErrorCode::CustomStopRun,
    ImportErrorCode::InvalidAttributeValue,
    ImportErrorCode::MissingAnchor,
    ImportErrorCode::ParseError,
];

struct Reader<'a> {
    bytes: &'a [u8],
    entry: u32,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PageError> {
        if self.bytes.len() < n {
            return Err(PageError::Truncated { entry: self.entry });
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, PageError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, PageError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn bytes(&mut self) -> Result<&'a [u8], PageError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn string(&mut self) -> Result<String, PageError> {
        let b = self.bytes()?;
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| PageError::Utf8 { entry: self.entry })
    }
    fn value(&mut self) -> Result<Value, PageError> {
        Ok(match self.u8()? {
            0 => Value::String(self.string()?),
            1 => Value::Integer(i64::from_le_bytes(
                self.take(8)?.try_into().expect("8 bytes"),
            )),
            2 => Value::Boolean(self.u8()? != 0),
            3 => Value::Binary(self.bytes()?.to_vec()),
            4 => Value::Reference(self.string()?),
            tag => {
                return Err(PageError::ValueTag {
                    entry: self.entry,
                    tag,
                });
            }
        })
    }
}

/// Decodes a page written by [`PageWriter`]. `announced` is the entry count the connector
/// reported with it; a page that disagrees is refused rather than half-imported.
pub fn decode_page(bytes: &[u8], announced: u32) -> Result<Vec<CsEntryChange>, PageError> {
    let Some((&format, body)) = bytes.split_first() else {
        return Err(PageError::Format(0));
    };
    if format != FORMAT_VERSION {
        return Err(PageError::Format(format));
    }
    let mut r = Reader {
        bytes: body,
        entry: 0,
    };
    // Bounded by the buffer: a bogus count cannot make the host reserve gigabytes.
    let mut out = Vec::with_capacity((announced as usize).min(body.len() / 14 + 1));
    while !r.bytes.is_empty() {
        let modification = OBJECT_MODS
            .get(r.u8()? as usize)
            .copied()
            // As in the ABI conversions: an unknown modification is ignored, never a write.
            .unwrap_or(ObjectModification::None);
        let identifier = r.string()?;
        let object_type = r.string()?;
        let dn = r.string()?;
        let mut e = CsEntryChange {
            identifier,
            object_type,
            modification,
            dn,
            anchor: Vec::with_capacity(1),
            changes: Vec::new(),
            error: None,
        };
        loop {
            match r.u8()? {
                END => break,
                ANCHOR => {
                    let name = r.string()?;
                    let value = r.value()?;
                    e.anchor.push(AnchorAttribute { name, value });
                }
                CHANGE => {
                    let name = r.string()?;
                    let modification = ATTR_MODS
                        .get(r.u8()? as usize)
                        .copied()
                        .unwrap_or(AttributeModification::Replace);
                    let n = r.u32()? as usize;
                    // At least two bytes per value: the count cannot exceed what is left.
                    let mut values = Vec::with_capacity(n.min(r.bytes.len() / 2));
                    for _ in 0..n {
                        let modification = if r.u8()? == 1 {
                            ValueModification::Delete
                        } else {
                            ValueModification::Add
                        };
                        values.push(ValueChange {
                            modification,
                            value: r.value()?,
                        });
                    }
                    e.changes.push(AttributeChange {
                        name,
                        modification,
                        values,
                    });
                }
                ERROR => {
                    let code = IMPORT_ERRORS
                        .get(r.u8()? as usize)
                        .copied()
                        .unwrap_or(ImportErrorCode::CustomContinueRun);
                    let name = r.string()?;
                    let detail = r.string()?;
                    e.error = Some(EntryError { code, name, detail });
                }
                tag => {
                    return Err(PageError::Tag {
                        entry: r.entry,
                        tag,
                    });
                }
            }
        }
        out.push(e);
        r.entry += 1;
    }
    if r.entry != announced {
        return Err(PageError::Count {
            found: r.entry,
            announced,
        });
    }
    Ok(out)
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
        // The last byte of the dn "x".
        let at = bytes.len() - 2;
        bytes[at] = 0xff;
        assert_eq!(decode_page(&bytes, n), Err(PageError::Utf8 { entry: 0 }));
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
