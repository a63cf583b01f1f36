//! Conversions between database cells, ECMA values and bound parameters.
//!
//! Date-times travel as ISO-8601 strings in ECMA (it has no date type). Values without a zone
//! in the database are read and written in the configured database time zone; text columns
//! marked DateTime use the configured date format.

use plugin_api::prelude::*;
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::cells::{Bind, Cell, CellRef, NativeKind};
use crate::config::Settings;
use crate::error::SqlError;
use crate::schema::{Attr, ColumnDef};

fn iso(dt: OffsetDateTime) -> String {
    dt.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| dt.to_string())
}

/// A cell as an ECMA value of the attribute's type. `None` for NULL.
pub fn to_value(cell: &Cell, attr: &Attr, settings: &Settings) -> Result<Option<Value>, SqlError> {
    with_value_ref(&cell.as_ref(), attr, settings, |v| Value::from(v))
}

/// Calls `f` with the cell as an ECMA value of the attribute's type, borrowed from the cell
/// where no conversion is needed (the import hot path, inlined into it; the conversions stay
/// out of line); `None` for NULL.
#[inline]
pub fn with_value_ref<R>(
    cell: &CellRef<'_>,
    attr: &Attr,
    settings: &Settings,
    f: impl FnOnce(ValueRef<'_>) -> R,
) -> Result<Option<R>, SqlError> {
    if !attr.datetime {
        let borrowed = match (attr.data_type, cell) {
            (_, CellRef::Null) => return Ok(None),
            (DataType::String, CellRef::Text(s)) => Some(ValueRef::String(s)),
            (DataType::Reference, CellRef::Text(s)) => Some(ValueRef::Reference(s)),
            (DataType::Binary, CellRef::Bytes(b)) => Some(ValueRef::Binary(b)),
            (DataType::Integer, CellRef::Int(i)) => Some(ValueRef::Integer(*i)),
            (DataType::Boolean, CellRef::Bool(b)) => Some(ValueRef::Boolean(*b)),
            (DataType::Boolean, CellRef::Int(i)) => Some(ValueRef::Boolean(*i != 0)),
            _ => None,
        };
        if let Some(v) = borrowed {
            return Ok(Some(f(v)));
        }
    }
    Ok(converted(cell, attr, settings)?.map(|v| f((&v).into())))
}

/// The conversions of [`with_value_ref`]: date-times, and values stored in a column of
/// another type than the attribute's.
#[inline(never)]
fn converted(
    cell: &CellRef<'_>,
    attr: &Attr,
    settings: &Settings,
) -> Result<Option<Value>, SqlError> {
    let text = |s: String| match attr.data_type {
        DataType::Reference => Value::Reference(s),
        _ => Value::String(s),
    };
    let v = match cell {
        CellRef::Null => return Ok(None),
        CellRef::TimestampTz(t) => text(iso(*t)),
        CellRef::Timestamp(t) => text(iso(t.assume_offset(settings.time_zone))),
        CellRef::Date(d) => text(d.to_string()),
        CellRef::Text(s) if attr.datetime => {
            // Text stored in the configured date format; anything unparsable is passed through
            // unchanged rather than lost.
            match PrimitiveDateTime::parse(s, &settings.date_format) {
                Ok(t) => text(iso(t.assume_offset(settings.time_zone))),
                Err(_) => match OffsetDateTime::parse(s, &Rfc3339) {
                    Ok(t) => text(iso(t)),
                    Err(_) => text(s.to_string()),
                },
            }
        }
        other => match attr.data_type {
            DataType::Integer => Value::Integer(match other {
                CellRef::Int(i) => *i,
                CellRef::Bool(b) => *b as i64,
                CellRef::Float(f) => *f as i64,
                CellRef::Text(s) => s.trim().parse().map_err(|_| {
                    SqlError::Value(format!("'{}': {s:?} is not an integer", attr.name))
                })?,
                _ => {
                    return Err(SqlError::Value(format!(
                        "'{}' is not an integer",
                        attr.name
                    )));
                }
            }),
            DataType::Boolean => Value::Boolean(match other {
                CellRef::Bool(b) => *b,
                CellRef::Int(i) => *i != 0,
                CellRef::Text(s) => matches!(
                    s.trim().to_ascii_lowercase().as_str(),
                    "1" | "true" | "t" | "yes" | "y"
                ),
                _ => return Err(SqlError::Value(format!("'{}' is not a boolean", attr.name))),
            }),
            DataType::Binary => Value::Binary(match other {
                CellRef::Bytes(b) => b.to_vec(),
                CellRef::Text(s) => s.as_bytes().to_vec(),
                c => cell_text(c).into_bytes(),
            }),
            DataType::String | DataType::Reference => text(cell_text(other)),
        },
    };
    Ok(Some(v))
}

/// A cell as text (key matching, text binds, conversions to string attributes).
pub fn cell_text(c: &CellRef<'_>) -> String {
    match c {
        CellRef::Null => String::new(),
        CellRef::Int(i) => i.to_string(),
        CellRef::Float(f) => f.to_string(),
        CellRef::Text(s) => s.to_string(),
        CellRef::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        CellRef::Bool(b) => b.to_string(),
        CellRef::TimestampTz(t) => iso(*t),
        CellRef::Timestamp(t) => t.to_string(),
        CellRef::Date(d) => d.to_string(),
    }
}

/// A cell bound back as a parameter (keyset pagination, joins): the same kind it came out as.
pub fn cell_to_bind(cell: &Cell, kind: NativeKind) -> Bind {
    match cell {
        Cell::Null => Bind::Null(kind),
        Cell::Int(i) => Bind::Int(*i),
        Cell::Bool(b) => Bind::Bool(*b),
        Cell::Bytes(b) => Bind::Bytes(b.clone()),
        Cell::Text(s) => Bind::Text(s.clone()),
        other => Bind::Text(cell_text(&other.as_ref())),
    }
}

/// Parses an ISO-8601 date-time; a value without a zone is taken as UTC.
fn parse_iso(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(s, &Iso8601::DEFAULT))
        .ok()
        .or_else(|| {
            PrimitiveDateTime::parse(s, &Iso8601::DEFAULT)
                .ok()
                .map(|p| p.assume_utc())
        })
        .or_else(|| {
            time::Date::parse(s, &Iso8601::DEFAULT)
                .ok()
                .map(|d| d.midnight().assume_utc())
        })
}

/// An ECMA value bound for a column.
pub fn to_bind(
    value: &Value,
    attr: &Attr,
    column: &ColumnDef,
    settings: &Settings,
) -> Result<Bind, SqlError> {
    let bad = |what: &str| {
        SqlError::Value(format!(
            "attribute '{}': {what} (column type {})",
            attr.name, column.sql_type
        ))
    };
    if (attr.datetime || column.kind.is_temporal())
        && let Some(s) = value.as_str()
    {
        {
            let Some(t) = parse_iso(s) else {
                return Err(bad(&format!("{s:?} is not an ISO-8601 date-time")));
            };
            let local = t.to_offset(settings.time_zone);
            let text = match column.kind {
                NativeKind::Date => local.date().to_string(),
                // PostgreSQL's timestamptz keeps the zone: send it exactly.
                NativeKind::TimestampTz => t.format(&Rfc3339).map_err(|e| bad(&e.to_string()))?,
                _ => PrimitiveDateTime::new(local.date(), local.time())
                    .format(&settings.date_format)
                    .map_err(|e| bad(&e.to_string()))?,
            };
            return Ok(Bind::Text(text));
        }
    }
    Ok(match (column.kind, value) {
        (NativeKind::Int | NativeKind::UInt, Value::Integer(i)) => Bind::Int(*i),
        (NativeKind::Int | NativeKind::UInt, Value::Boolean(b)) => Bind::Int(*b as i64),
        (NativeKind::Int | NativeKind::UInt, Value::String(s) | Value::Reference(s)) => Bind::Int(
            s.trim()
                .parse()
                .map_err(|_| bad(&format!("{s:?} is not an integer")))?,
        ),
        (NativeKind::Bool, Value::Boolean(b)) => Bind::Bool(*b),
        (NativeKind::Bool, Value::Integer(i)) => Bind::Bool(*i != 0),
        (NativeKind::Bool, Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Bind::Bool(true),
            "0" | "false" | "no" => Bind::Bool(false),
            _ => return Err(bad(&format!("{s:?} is not a boolean"))),
        },
        (NativeKind::Bytes, Value::Binary(b)) => Bind::Bytes(b.clone()),
        (NativeKind::Bytes, v) => Bind::Bytes(v.as_text().into_bytes()),
        (_, Value::Binary(b)) => Bind::Text(
            String::from_utf8(b.clone()).map_err(|_| bad("binary value is not UTF-8 text"))?,
        ),
        (_, Value::Boolean(b)) if column.kind == NativeKind::Int => Bind::Int(*b as i64),
        (_, v) => Bind::Text(v.as_text()),
    })
}

/// The value bound for a query-mode `@name` parameter with no column to guide it.
pub fn plain_bind(value: &Value) -> Bind {
    match value {
        Value::Integer(i) => Bind::Int(*i),
        Value::Boolean(b) => Bind::Bool(*b),
        Value::Binary(b) => Bind::Bytes(b.clone()),
        Value::String(s) | Value::Reference(s) => Bind::Text(s.clone()),
    }
}
