//! Dialect-neutral values: what comes out of the database ([`Cell`], [`CellRef`], [`Rows`])
//! and what goes in ([`Bind`]). The native drivers (`conn`), the ODBC driver (`odbc`) and
//! everything above them speak these, so no module needs another's driver types.

use std::borrow::Cow;

use time::{Date, OffsetDateTime, PrimitiveDateTime};

/// How a column is read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeKind {
    Int,
    UInt,
    Bool,
    Float,
    Text,
    Bytes,
    /// A date-time without a zone (interpreted in the configured database time zone).
    Timestamp,
    /// A date-time with a zone (PostgreSQL `timestamptz`, MySQL `TIMESTAMP`).
    TimestampTz,
    Date,
    /// Anything else (numeric, uuid, json, enums): read as text, written as text with a cast.
    Other,
}

impl NativeKind {
    pub fn is_temporal(self) -> bool {
        matches!(
            self,
            NativeKind::Timestamp | NativeKind::TimestampTz | NativeKind::Date
        )
    }
}

/// A value read from the database.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
    TimestampTz(OffsetDateTime),
    Timestamp(PrimitiveDateTime),
    Date(Date),
}

/// A [`Cell`] borrowed from the driver's row buffer: what the import reads without copying.
#[derive(Debug, Clone, PartialEq)]
pub enum CellRef<'a> {
    Null,
    Int(i64),
    Float(f64),
    /// Borrowed, or repaired (MySQL text that was not valid UTF-8).
    Text(Cow<'a, str>),
    Bytes(&'a [u8]),
    Bool(bool),
    TimestampTz(OffsetDateTime),
    Timestamp(PrimitiveDateTime),
    Date(Date),
}

impl Cell {
    pub fn as_ref(&self) -> CellRef<'_> {
        match self {
            Cell::Null => CellRef::Null,
            Cell::Int(i) => CellRef::Int(*i),
            Cell::Float(f) => CellRef::Float(*f),
            Cell::Text(s) => CellRef::Text(Cow::Borrowed(s)),
            Cell::Bytes(b) => CellRef::Bytes(b),
            Cell::Bool(b) => CellRef::Bool(*b),
            Cell::TimestampTz(t) => CellRef::TimestampTz(*t),
            Cell::Timestamp(t) => CellRef::Timestamp(*t),
            Cell::Date(d) => CellRef::Date(*d),
        }
    }
}

impl From<CellRef<'_>> for Cell {
    fn from(c: CellRef<'_>) -> Self {
        match c {
            CellRef::Null => Cell::Null,
            CellRef::Int(i) => Cell::Int(i),
            CellRef::Float(f) => Cell::Float(f),
            CellRef::Text(s) => Cell::Text(s.into_owned()),
            CellRef::Bytes(b) => Cell::Bytes(b.to_vec()),
            CellRef::Bool(b) => Cell::Bool(b),
            CellRef::TimestampTz(t) => Cell::TimestampTz(t),
            CellRef::Timestamp(t) => Cell::Timestamp(t),
            CellRef::Date(d) => Cell::Date(d),
        }
    }
}

/// A value to bind as a statement parameter. Every value the connector writes goes through
/// this: nothing from an entry is ever spliced into SQL text.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Int(i64),
    Text(String),
    Bool(bool),
    Bytes(Vec<u8>),
    /// A typed NULL: PostgreSQL rejects a text-typed NULL for an integer column.
    Null(NativeKind),
}

/// Rows with their column names.
#[derive(Debug, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    /// The database's type name of each column (as `Dialect::native_kind` reads it).
    pub types: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Rows {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    }
}

/// Column names and database type names of a result set.
#[derive(Debug, Default, Clone)]
pub struct Header {
    pub columns: Vec<String>,
    pub types: Vec<String>,
}

/// A column of a prepared statement's result.
#[derive(Debug, Clone)]
pub struct ColumnInfo {
    pub name: String,
    pub type_name: String,
}

/// The result of a write.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    pub rows_affected: u64,
    pub last_insert_id: Option<u64>,
}
