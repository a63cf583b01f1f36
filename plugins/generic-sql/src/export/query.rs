//! Query and stored-procedure modes: the configured statement for the entry's modification,
//! its `@attribute` parameters bound from the entry (and, for an update, from the row's
//! current values).

use std::collections::HashMap;

use plugin_api::prelude::*;

use crate::cells::{Bind, Cell, NativeKind, Rows};
use crate::config::{RunMode, Settings, export_call};
use crate::conn::Conn;
use crate::error::SqlError;
use crate::schema::{Detected, Location};
use crate::sql::translate_named;
use crate::values::{plain_bind, to_bind, to_value};

use super::children::{delete_children, write_children};
use super::entry::{
    Change, anchor_binds, bind_value, changes, describe_anchor, fail, single_value, where_anchor,
};

/// Statement parameters by lower-case name.
type Params = HashMap<String, Bind>;

pub async fn apply(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    e: &CsEntryChange,
) -> Result<ExportResult, SqlError> {
    let (statement, procedure) = match e.modification {
        ObjectModification::None => return Ok(ExportResult::success(&e.identifier)),
        ObjectModification::Add => (&settings.insert_query, &settings.add_proc),
        ObjectModification::Update | ObjectModification::Replace => {
            (&settings.update_query, &settings.update_proc)
        }
        ObjectModification::Delete => (&settings.delete_query, &settings.delete_proc),
    };
    // A procedure is called by the name the catalog spells it with.
    let called;
    let template = match settings.export_mode {
        RunMode::StoredProcedure if !procedure.is_empty() => {
            called = export_call(d.dialect, d.procedure(procedure), &settings.proc_params);
            &called
        }
        _ => statement,
    };
    if template.is_empty() {
        return Ok(fail(
            e,
            ExportErrorCode::CustomContinueRun,
            format!("no statement is configured for {:?}", e.modification),
        ));
    }
    let changes = changes(d, e)?;
    let anchors = anchor_binds(d, settings, e)?;
    let params = statement_params(conn, d, settings, e, &changes, &anchors).await?;
    let (sql, names) = translate_named(d.dialect, template);
    let binds = named_binds(d, &names, &params)?;
    // The multi-valued table is the connector's to keep in step, whatever runs the parent
    // row: children go before the parent on delete, after it on add and update.
    if e.modification == ObjectModification::Delete
        && d.child_join.is_some()
        && let Some(Some(anchor)) = anchors.first()
    {
        delete_children(conn, d, anchor).await?;
    }
    let result = run_statement(conn, d, settings, e, &sql, &binds, &anchors).await?;
    if d.child_join.is_some() && e.modification != ObjectModification::Delete {
        children_after(conn, d, settings, e, &changes, &anchors, &result).await?;
    }
    Ok(result)
}

/// The values of the statement's parameters: the row's current values (an update), the
/// anchors, the entry's changes, `@ObjectType` and `@DN`, each overriding the ones before.
async fn statement_params(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    e: &CsEntryChange,
    changes: &[Change<'_>],
    anchors: &[Option<Bind>],
) -> Result<Params, SqlError> {
    let mut params = Params::new();
    // An update statement sets every column it names, so attributes the entry does not
    // change keep their current values: they are read first.
    if matches!(e.modification, ObjectModification::Update)
        && !d.table_sql.is_empty()
        && let Some(given) = anchors.iter().cloned().collect::<Option<Vec<Bind>>>()
    {
        current_values(conn, d, settings, &given, &mut params).await?;
    }
    for (k, &i) in d.anchors.iter().enumerate() {
        if let Some(b) = &anchors[k] {
            params.insert(d.columns[i].name.to_ascii_lowercase(), b.clone());
        }
    }
    for (attr, c) in changes {
        let bind = match (attr.location, single_value(c)) {
            (Location::Parent(i), Some(v)) => to_bind(v, attr, &d.columns[i], settings)?,
            (Location::Child(_), Some(v)) => plain_bind(v),
            (Location::Parent(i), None) => Bind::Null(d.columns[i].kind),
            (Location::Child(_), None) => Bind::Null(NativeKind::Text),
        };
        params.insert(attr.name.to_ascii_lowercase(), bind);
    }
    params.insert("objecttype".into(), Bind::Text(e.object_type.clone()));
    params.insert("dn".into(), Bind::Text(e.dn.clone()));
    Ok(params)
}

/// The row's current values, as parameters of its attributes.
async fn current_values(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    anchors: &[Bind],
    params: &mut Params,
) -> Result<(), SqlError> {
    let mut sql = d.select_all();
    where_anchor(&mut sql, d, anchors);
    let rows = conn.fetch(&sql.text, &sql.binds).await?;
    let Some(row) = rows.rows.first() else {
        return Err(SqlError::Missing(format!(
            "no row with anchor {}",
            describe_anchor(anchors)
        )));
    };
    for (i, cell) in row.iter().enumerate() {
        let Some(name) = rows.columns.get(i) else {
            continue;
        };
        let Some(attr) = d.attr(name) else { continue };
        let Location::Parent(ci) = attr.location else {
            continue;
        };
        let col = &d.columns[ci];
        let bind = match to_value(cell, attr, settings)? {
            Some(v) => to_bind(&v, attr, col, settings)?,
            None => Bind::Null(col.kind),
        };
        params.insert(attr.name.to_ascii_lowercase(), bind);
    }
    Ok(())
}

/// The values of the statement's `@name` parameters, in placeholder order; an attribute the
/// entry does not mention is NULL.
fn named_binds(d: &Detected, names: &[String], params: &Params) -> Result<Vec<Bind>, SqlError> {
    let mut binds = Vec::with_capacity(names.len());
    for n in names {
        let key = n.to_ascii_lowercase();
        match params.get(&key) {
            Some(b) => binds.push(b.clone()),
            None => match d.attr(n) {
                Some(a) => binds.push(Bind::Null(match a.location {
                    Location::Parent(i) => d.columns[i].kind,
                    Location::Child(_) => NativeKind::Text,
                })),
                None => {
                    return Err(SqlError::Config(format!(
                        "statement parameter @{n} is not an attribute (nor @ObjectType or @DN)"
                    )));
                }
            },
        }
    }
    Ok(binds)
}

fn changed_no_row() -> SqlError {
    SqlError::Missing("the statement changed no row".into())
}

/// Runs the statement; the result carries the anchor an add generated. A procedure that adds
/// reports it as a result row: PostgreSQL's INOUT parameters come back that way from CALL,
/// MySQL procedures end with a SELECT.
async fn run_statement(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    e: &CsEntryChange,
    sql: &str,
    binds: &[Bind],
    anchors: &[Option<Bind>],
) -> Result<ExportResult, SqlError> {
    let returns_rows = sql.to_ascii_uppercase().contains("RETURNING")
        || (settings.export_mode == RunMode::StoredProcedure
            && e.modification == ObjectModification::Add);
    let query_mode_change =
        settings.export_mode == RunMode::Query && e.modification != ObjectModification::Add;
    let mut result = ExportResult::success(&e.identifier);
    if returns_rows {
        let rows = conn.fetch(sql, binds).await?;
        if let Some(row) = rows.rows.first() {
            result = with_returned_anchors(result, d, settings, &rows, row, anchors)?;
        } else if query_mode_change {
            return Err(changed_no_row());
        }
        return Ok(result);
    }
    let written = conn.execute(sql, binds).await?;
    if query_mode_change && written.rows_affected == 0 {
        return Err(changed_no_row());
    }
    if e.modification == ObjectModification::Add {
        match (
            written.last_insert_id,
            d.generated_anchor(),
            anchors.first(),
        ) {
            (Some(id), true, Some(None)) => {
                result =
                    result.with_anchor(&d.columns[d.anchors[0]].name, Value::Integer(id as i64));
            }
            _ => {
                for (b, c) in anchors.iter().zip(d.anchor_columns()) {
                    if let Some(v) = b.as_ref().and_then(bind_value) {
                        result = result.with_anchor(&c.name, v);
                    }
                }
            }
        }
    }
    Ok(result)
}

/// The anchors a statement's result row reports: columns named like the anchor, or the one
/// column of a one-column row (an OUT parameter keeps its own name).
fn with_returned_anchors(
    mut result: ExportResult,
    d: &Detected,
    settings: &Settings,
    rows: &Rows,
    row: &[Cell],
    anchors: &[Option<Bind>],
) -> Result<ExportResult, SqlError> {
    // Only for a generated anchor: a given one is known, and a one-column status row must not
    // replace it.
    let single = d.anchors.len() == 1 && row.len() == 1 && matches!(anchors.first(), Some(None));
    for c in d.anchor_columns() {
        let i = rows.index(&c.name).or(single.then_some(0));
        if let (Some(i), Some(attr)) = (i, d.attr(&c.name))
            && let Some(v) = to_value(&row[i], attr, settings)?
        {
            result = result.with_anchor(&c.name, v);
        }
    }
    Ok(result)
}

/// Writes the multi-valued rows after the statement, for the parent's anchor: given, or
/// generated and reported by the statement.
async fn children_after(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    e: &CsEntryChange,
    changes: &[Change<'_>],
    anchors: &[Option<Bind>],
    result: &ExportResult,
) -> Result<(), SqlError> {
    let anchor = match anchors.first() {
        Some(Some(b)) => b.clone(),
        _ => match result.anchor_changes.iter().find(|a| {
            d.anchor_columns()
                .next()
                .is_some_and(|c| c.name.eq_ignore_ascii_case(&a.name))
        }) {
            Some(a) => plain_bind(&a.value),
            None => {
                return Err(SqlError::Value(
                    "the statement reported no generated anchor, so the multi-valued rows cannot be written (return it with RETURNING or a result row)".into(),
                ));
            }
        },
    };
    let replace_all = matches!(
        e.modification,
        ObjectModification::Add | ObjectModification::Replace
    );
    write_children(conn, d, settings, &[anchor], changes, replace_all).await
}
