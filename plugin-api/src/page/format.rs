//! The page format's constants: the format version, record tags and entry flags (the grammar
//! is in the module documentation).

/// The first byte of every page; bumped when the layout changes (2: record 4; 3: the name
/// table, and an identifier equal to the dn written once).
pub const FORMAT_VERSION: u8 = 3;

pub(super) const END: u8 = 0;
pub(super) const ANCHOR: u8 = 1;
pub(super) const CHANGE: u8 = 2;
pub(super) const ERROR: u8 = 3;
pub(super) const ADD_ONE: u8 = 4;

/// Entry flag: the identifier is the dn.
pub(super) const IDENTIFIER_IS_DN: u8 = 1;
