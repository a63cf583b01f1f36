//! An entry read against the discovered schema: its changes, its anchor values, and what the
//! export of it reports back.

use plugin_api::prelude::*;

use crate::cells::Bind;
use crate::config::Settings;
use crate::error::SqlError;
use crate::schema::{Attr, Detected, Location};
use crate::sql::SqlBuilder;
use crate::values::to_bind;

/// An attribute change with the attribute it changes.
pub type Change<'a> = (&'a Attr, &'a AttributeChange);

pub fn fail(e: &CsEntryChange, code: ExportErrorCode, detail: impl Into<String>) -> ExportResult {
    ExportResult::failure(&e.identifier, code, detail)
}

/// The failure of an entry that does not carry every anchor value.
pub fn missing_anchor(e: &CsEntryChange, settings: &Settings) -> ExportResult {
    fail(
        e,
        ExportErrorCode::MissingAnchorComponent,
        format!(
            "no value for anchor column(s) {}",
            settings.anchors.join(", ")
        ),
    )
}

/// The entry's changes, each checked to name a writable attribute of the discovered schema.
pub fn changes<'a>(d: &'a Detected, e: &'a CsEntryChange) -> Result<Vec<Change<'a>>, SqlError> {
    let mut out = Vec::with_capacity(e.changes.len());
    for c in &e.changes {
        let attr = d.attr(&c.name).ok_or_else(|| {
            SqlError::Schema(format!(
                "attribute '{}' is not in the discovered schema",
                c.name
            ))
        })?;
        let is_anchor = matches!(attr.location, Location::Parent(i) if d.anchors.contains(&i));
        if attr.operation == AttributeOperation::ImportOnly && !is_anchor {
            return Err(SqlError::Schema(format!(
                "attribute '{}' is import-only",
                attr.name
            )));
        }
        out.push((attr, c));
    }
    Ok(out)
}

/// The anchor values of an entry: from its anchor attributes, or (for adds) from the changes.
pub fn anchor_binds(
    d: &Detected,
    settings: &Settings,
    e: &CsEntryChange,
) -> Result<Vec<Option<Bind>>, SqlError> {
    let mut out = Vec::with_capacity(d.anchors.len());
    for &i in &d.anchors {
        let col = &d.columns[i];
        let attr = d.attr_at(Location::Parent(i)).expect("anchor attribute");
        let value = e
            .anchor
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(&col.name))
            .map(|a| a.value.clone())
            .filter(|v| !v.as_text().is_empty())
            .or_else(|| {
                e.change(&col.name)
                    .and_then(|c| c.added_values().next().cloned())
            })
            .or_else(|| {
                // A single anchor may also come as the DN (DN is anchor).
                (settings.dn_is_anchor && d.anchors.len() == 1 && !e.dn.is_empty())
                    .then(|| Value::String(e.dn.clone()))
            });
        out.push(match value {
            Some(v) => Some(to_bind(&v, attr, col, settings)?),
            None => None,
        });
    }
    Ok(out)
}

/// Appends ` WHERE <anchor> = <value> AND ...`.
pub fn where_anchor(sql: &mut SqlBuilder, d: &Detected, anchors: &[Bind]) {
    sql.push(" WHERE ")
        .join(d.anchors.iter().zip(anchors), " AND ", |sql, (&i, b)| {
            let c = &d.columns[i];
            sql.ident(&c.name).push(" = ");
            sql.param(b.clone(), c.kind, &c.sql_type);
        });
}

/// The single value an attribute change leaves in a single-valued column (`None`: NULL).
pub fn single_value(c: &AttributeChange) -> Option<&Value> {
    match c.modification {
        AttributeModification::Delete => None,
        _ => c.added_values().next(),
    }
}

/// Anchor values for messages.
pub fn describe_anchor(anchors: &[Bind]) -> String {
    anchors
        .iter()
        .map(|b| match b {
            Bind::Int(i) => i.to_string(),
            Bind::Text(s) => format!("{s:?}"),
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A bound anchor value as the value reported back to the host (`None` for NULL).
pub fn bind_value(b: &Bind) -> Option<Value> {
    Some(match b {
        Bind::Int(i) => Value::Integer(*i),
        Bind::Text(s) => Value::String(s.clone()),
        Bind::Bool(v) => Value::Boolean(*v),
        Bind::Bytes(v) => Value::Binary(v.clone()),
        Bind::Null(_) => return None,
    })
}
