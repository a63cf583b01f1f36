//! Import pages packed into one byte buffer.
//!
//! A page crosses the ABI as one `RVec<u8>` instead of a tree of `RString`s and `RVec`s: the
//! plugin's allocator is not the host's, so every string of a tree has to be copied on the host
//! side and freed through a vtable call, which cost a third of a full import's time (measured
//! in `plugins/generic-sql/benches/full_import.rs`). A connector writes entries straight into a
//! [`PageWriter`] (no intermediate `CsEntryChange`s), and the host reads the buffer in place
//! ([`PackedPage`], [`EntryView`]) or decodes it into its own
//! [`CsEntryChange`](crate::model::CsEntryChange)s.
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
//! Enumerations are written as their wire values (the model's `Wire` conversions), as in the
//! ABI types, so an unknown value decodes to the same safe default in both.
//!
//! One file per job: the format's constants (`format.rs`), borrowed values (`value.rs`), the
//! writer (the connector's side), the byte reader, the views (the host's side, reading in
//! place) and the tests. Everything public is re-exported here, so `plugin_api::page::X` names
//! each.

mod format;
mod reader;
mod value;
mod views;
mod writer;

#[cfg(test)]
mod tests;

pub use format::FORMAT_VERSION;
pub use reader::PageError;
pub use value::ValueRef;
pub use views::{
    Anchors, ChangeView, Changes, Entries, EntryErrorView, EntryView, PackedImportPage, PackedPage,
    Values, decode_page,
};
pub use writer::{EntryWriter, Name, NameId, PageStatus, PageWriter};
