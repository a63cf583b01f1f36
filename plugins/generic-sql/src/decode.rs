//! Row decoding for the sqlx drivers: each value of a row as a [`CellRef`] borrowed from the
//! driver's buffer, read by the kind its column's type name gives ([`Dialect::native_kind`]).

use std::borrow::Cow;

use sqlx::mysql::{MySql, MySqlRow};
use sqlx::postgres::{PgRow, Postgres};
use sqlx::sqlite::SqliteRow;
use sqlx::{Column, Row, TypeInfo, ValueRef};

use crate::cells::{CellRef, Header, NativeKind};
use crate::dialect::Dialect;
use crate::error::SqlError;

/// The header and decoding kinds of a result set, from its first row.
pub fn header_of<R: Row>(row: &R) -> (Header, Vec<(NativeKind, String)>) {
    let columns = row.columns();
    let header = Header {
        columns: columns.iter().map(|c| c.name().to_owned()).collect(),
        types: columns
            .iter()
            .map(|c| c.type_info().name().to_owned())
            .collect(),
    };
    let kinds = header
        .types
        .iter()
        .map(|t| (kind_of::<R::Database>(t), t.clone()))
        .collect();
    (header, kinds)
}

fn kind_of<DB: sqlx::Database>(type_name: &str) -> NativeKind {
    let dialect = match DB::NAME {
        "PostgreSQL" => Dialect::Postgres,
        "MySQL" => Dialect::MySql,
        _ => Dialect::Sqlite,
    };
    dialect.native_kind(type_name)
}

pub fn decode_sqlite(row: &SqliteRow, i: usize) -> Result<CellRef<'_>, SqlError> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(CellRef::Null);
    }
    // SQLite is dynamically typed: decode by the storage class of this value, not the
    // column's declared type.
    let class = raw.type_info();
    Ok(match class.name() {
        "INTEGER" | "BOOLEAN" => CellRef::Int(row.try_get_unchecked::<i64, _>(i)?),
        "REAL" => CellRef::Float(row.try_get_unchecked::<f64, _>(i)?),
        "BLOB" => CellRef::Bytes(row.try_get_unchecked::<&[u8], _>(i)?),
        _ => CellRef::Text(Cow::Borrowed(row.try_get_unchecked::<&str, _>(i)?)),
    })
}

/// Decodes a value the caller has already looked up (and found not NULL), without sqlx's
/// per-value type compatibility check: the caller picks `T` from the column's own type name.
/// A wrong pick still fails to decode (sqlx's decoders check lengths and formats) rather than
/// misreading.
fn decode_raw<'r, DB: sqlx::Database, T: sqlx::Decode<'r, DB>>(
    raw: <DB as sqlx::Database>::ValueRef<'r>,
    i: usize,
) -> Result<T, SqlError> {
    T::decode(raw).map_err(|source| column_decode(i, source))
}

/// sqlx's error for a value of column `i` that did not decode.
fn column_decode(i: usize, source: sqlx::error::BoxDynError) -> SqlError {
    SqlError::from(sqlx::Error::ColumnDecode {
        index: format!("{i:?}"),
        source,
    })
}

/// Text from a driver's bytes. Names and most values are short ASCII strings, for which this
/// inlined check is cheaper than a call to `from_utf8`; anything else is checked in full.
#[inline]
fn utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes)
}

pub fn decode_pg<'r>(
    row: &'r PgRow,
    i: usize,
    (kind, type_name): (NativeKind, &str),
) -> Result<CellRef<'r>, SqlError> {
    // One lookup per value: sqlx's `try_get*` look the value up (and clone its type) again.
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(CellRef::Null);
    }
    // Unchecked: the Rust type is chosen from the column's own type name (`kind`), which is
    // what sqlx's per-value compatibility check would compare again (a tenth of the import's
    // time).
    Ok(match kind {
        NativeKind::Int | NativeKind::UInt => match type_name {
            "INT2" => CellRef::Int(decode_raw::<Postgres, i16>(raw, i)?.into()),
            "INT4" => CellRef::Int(decode_raw::<Postgres, i32>(raw, i)?.into()),
            "OID" => CellRef::Int(decode_raw::<Postgres, sqlx::postgres::types::Oid>(raw, i)?.0.into()),
            _ => CellRef::Int(decode_raw::<Postgres, i64>(raw, i)?),
        },
        NativeKind::Bool => CellRef::Bool(decode_raw::<Postgres, _>(raw, i)?),
        NativeKind::Float => match type_name {
            "FLOAT4" => CellRef::Float(decode_raw::<Postgres, f32>(raw, i)?.into()),
            _ => CellRef::Float(decode_raw::<Postgres, f64>(raw, i)?),
        },
        NativeKind::Bytes => CellRef::Bytes(decode_raw::<Postgres, &[u8]>(raw, i)?),
        NativeKind::TimestampTz => CellRef::TimestampTz(decode_raw::<Postgres, _>(raw, i)?),
        NativeKind::Timestamp => CellRef::Timestamp(decode_raw::<Postgres, _>(raw, i)?),
        NativeKind::Date => CellRef::Date(decode_raw::<Postgres, _>(raw, i)?),
        // A text value's bytes are its text in both wire formats.
        NativeKind::Text => CellRef::Text(Cow::Borrowed(
            raw.as_bytes()
                .and_then(|b| Ok(utf8(b)?))
                .map_err(|source| column_decode(i, source))?,
        )),
        // Checked: another type's binary form must never be read as text.
        NativeKind::Other => CellRef::Text(Cow::Borrowed(row.try_get::<&str, _>(i).map_err(
            |_| {
                SqlError::Config(format!(
                    "column '{}' has PostgreSQL type {type_name}, which the connector reads only as \
                     text: CAST it to text in the query",
                    row.column(i).name()
                ))
            },
        )?)),
    })
}

pub fn decode_mysql<'r>(
    row: &'r MySqlRow,
    i: usize,
    (kind, _): (NativeKind, &str),
) -> Result<CellRef<'r>, SqlError> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(CellRef::Null);
    }
    // Unchecked where the kind comes from the column's type name, as for PostgreSQL; sqlx's
    // MySQL integer decoders read any width, its float decoder FLOAT and DOUBLE.
    Ok(match kind {
        NativeKind::Int => CellRef::Int(decode_raw::<MySql, _>(raw, i)?),
        NativeKind::UInt => {
            let v: u64 = decode_raw::<MySql, _>(raw, i)?;
            CellRef::Int(i64::try_from(v).map_err(|_| {
                SqlError::Value(format!("value {v} does not fit a 64-bit signed integer"))
            })?)
        }
        NativeKind::Bool => CellRef::Bool(decode_raw::<MySql, _>(raw, i)?),
        NativeKind::Float => CellRef::Float(decode_raw::<MySql, _>(raw, i)?),
        NativeKind::Bytes => {
            // MySQL flags text columns with a binary collation (utf8mb4_bin) as binary, so
            // the wire type cannot tell them from VARBINARY. Valid UTF-8 is kept as text;
            // the attribute's type decides the value, and text converts back to the same
            // bytes for binary attributes.
            let bytes: &[u8] = decode_raw::<MySql, _>(raw, i)?;
            match utf8(bytes) {
                Ok(s) => CellRef::Text(Cow::Borrowed(s)),
                Err(_) => CellRef::Bytes(bytes),
            }
        }
        // Checked: the temporal decoders accept several wire types each.
        NativeKind::TimestampTz => CellRef::TimestampTz(row.try_get(i)?),
        NativeKind::Timestamp => CellRef::Timestamp(row.try_get(i)?),
        NativeKind::Date => CellRef::Date(row.try_get(i)?),
        // Text is its bytes, checked as UTF-8 by the decoder. MySQL reports some text results
        // (e.g. of CAST or CONCAT with binary collation) as binary; they are still UTF-8 text,
        // and anything else is read as lossy text.
        NativeKind::Text => {
            let bytes: &[u8] = decode_raw::<MySql, _>(raw, i)?;
            CellRef::Text(match utf8(bytes) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(bytes),
            })
        }
        NativeKind::Other => match row.try_get::<&str, _>(i) {
            Ok(s) => CellRef::Text(Cow::Borrowed(s)),
            Err(_) => CellRef::Text(String::from_utf8_lossy(decode_raw::<MySql, &[u8]>(raw, i)?)),
        },
    })
}
