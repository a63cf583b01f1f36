//! Reading the bytes of a page: bounds, strings, values, and the errors a damaged page gives.

use thiserror::Error;

use crate::model::*;

use super::format::{ADD_ONE, ANCHOR, CHANGE, ERROR, FORMAT_VERSION};
use super::value::ValueRef;

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

pub(super) struct Reader<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) entry: u32,
    /// Reading records that a checking reader has already read (see [`Reader::str`]).
    pub(super) checked: bool,
}

impl<'a> Reader<'a> {
    #[inline]
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], PageError> {
        if self.bytes.len() < n {
            return Err(PageError::Truncated { entry: self.entry });
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    #[inline]
    pub(super) fn u8(&mut self) -> Result<u8, PageError> {
        Ok(self.take(1)?[0])
    }
    #[inline]
    pub(super) fn u32(&mut self) -> Result<u32, PageError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    #[inline]
    pub(super) fn bytes(&mut self) -> Result<&'a [u8], PageError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    #[inline]
    pub(super) fn str(&mut self) -> Result<&'a str, PageError> {
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
    pub(super) fn name(&mut self, names: usize) -> Result<u32, PageError> {
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
    pub(super) fn value(&mut self) -> Result<ValueRef<'a>, PageError> {
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
    pub(super) fn value_change(&mut self) -> Result<(ValueModification, ValueRef<'a>), PageError> {
        let modification = ValueModification::from_wire(self.u8()?);
        Ok((modification, self.value()?))
    }
    /// Steps over one checked value, returning its bytes (tag included).
    #[inline]
    pub(super) fn value_bytes(&mut self) -> Option<&'a [u8]> {
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
    pub(super) fn skip_record(&mut self, tag: u8) -> Option<()> {
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
    pub(super) fn check_value(&mut self) -> Result<(), PageError> {
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
}
