//! Export: each entry in its own transaction, so an entry is either fully written (parent
//! row and child rows) or not at all.
//!
//! Table mode generates INSERT/UPDATE/DELETE from the discovered schema: identifiers come from
//! discovery and are quoted, values are always bound. Query and stored-procedure modes run the
//! configured statements with `@attribute` parameters.

use std::collections::HashMap;

use plugin_api::prelude::*;

use crate::cells::{Bind, NativeKind};
use crate::config::*;
use crate::conn::Conn;
use crate::dialect::{Dialect, GeneratedKeys};
use crate::error::SqlError;
use crate::schema::{Attr, ColumnDef, Detected, Location};
use crate::sql::{SqlBuilder, translate_named};
use crate::values::{plain_bind, to_bind, to_value};

fn fail(e: &CsEntryChange, code: ExportErrorCode, detail: impl Into<String>) -> ExportResult {
    ExportResult::failure(&e.identifier, code, detail)
}

/// Runs one entry in a transaction. On error the transaction is rolled back; a connection
/// whose rollback failed is reported back so the caller discards it.
pub async fn export_entry(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    e: &CsEntryChange,
) -> Result<ExportResult, SqlError> {
    conn.raw(d.dialect.begin_statement()).await?;
    let result = match settings.export_mode {
        RunMode::Table => apply_table(conn, d, settings, e).await,
        RunMode::Query | RunMode::StoredProcedure => apply_query(conn, d, settings, e).await,
    };
    match result {
        Ok(r) if r.code == ExportErrorCode::Success => {
            if let Err(e) = conn.raw("COMMIT").await {
                // Leave no transaction open on a connection that goes back to the pool.
                let _ = conn.raw("ROLLBACK").await;
                return Err(e);
            }
            Ok(r)
        }
        Ok(r) => {
            conn.raw("ROLLBACK").await?;
            Ok(r)
        }
        Err(err) => {
            // A failed rollback means the connection is gone; the caller sees the original error.
            let _ = conn.raw("ROLLBACK").await;
            Err(err)
        }
    }
}

/// Checks every change names a writable attribute of the discovered schema.
/// The INSERT of an add: the given column values, and when the anchor is generated, the
/// clause that returns it where the database has one ([`GeneratedKeys`]).
fn insert_statement(d: &Detected, values: Vec<(usize, Bind)>, needs_generated: bool) -> SqlBuilder {
    let dialect = d.dialect;
    let mut sql = SqlBuilder::new(dialect);
    sql.push("INSERT INTO ").push(&d.table_sql);
    let returned = |prefix: &str| {
        d.anchor_columns()
            .map(|c| format!("{prefix}{}", dialect.quote_part(&c.name)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let output = needs_generated && d.generated_keys == GeneratedKeys::OutputInserted;
    if values.is_empty() {
        if output {
            sql.push(" OUTPUT ").push(&returned("INSERTED."));
        }
        sql.push(if dialect == Dialect::MySql {
            " () VALUES ()"
        } else {
            " DEFAULT VALUES"
        });
    } else {
        sql.push(" (");
        for (k, (i, _)) in values.iter().enumerate() {
            if k > 0 {
                sql.push(", ");
            }
            sql.ident(&d.columns[*i].name);
        }
        sql.push(")");
        // SQL Server's OUTPUT clause goes between the column list and VALUES.
        if output {
            sql.push(" OUTPUT ").push(&returned("INSERTED."));
        }
        sql.push(" VALUES (");
        for (k, (i, b)) in values.into_iter().enumerate() {
            if k > 0 {
                sql.push(", ");
            }
            let c = &d.columns[i];
            sql.param(b, c.kind, &c.sql_type);
        }
        sql.push(")");
    }
    if needs_generated && d.generated_keys == GeneratedKeys::Returning {
        sql.push(" RETURNING ").push(&returned(""));
    }
    sql
}

fn changes<'a>(
    d: &'a Detected,
    e: &'a CsEntryChange,
) -> Result<Vec<(&'a Attr, &'a AttributeChange)>, SqlError> {
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
fn anchor_binds(
    d: &Detected,
    settings: &Settings,
    e: &CsEntryChange,
) -> Result<Vec<Option<Bind>>, SqlError> {
    let mut out = Vec::with_capacity(d.anchors.len());
    for &i in &d.anchors {
        let col = &d.columns[i];
        let attr = d
            .attrs
            .iter()
            .find(|a| a.location == Location::Parent(i))
            .expect("anchor attribute");
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

fn where_anchor(sql: &mut SqlBuilder, d: &Detected, anchors: &[Bind]) {
    sql.push(" WHERE ");
    for (k, (&i, b)) in d.anchors.iter().zip(anchors).enumerate() {
        let c = &d.columns[i];
        if k > 0 {
            sql.push(" AND ");
        }
        sql.ident(&c.name).push(" = ");
        sql.param(b.clone(), c.kind, &c.sql_type);
    }
}

/// The single value an attribute change leaves in a single-valued column (`None`: NULL).
fn single_value(c: &AttributeChange) -> Option<&Value> {
    match c.modification {
        AttributeModification::Delete => None,
        _ => c.added_values().next(),
    }
}

async fn apply_table(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    e: &CsEntryChange,
) -> Result<ExportResult, SqlError> {
    if d.table_sql.is_empty() {
        return Err(SqlError::Config(format!(
            "'{P_TABLE}' is required to export"
        )));
    }
    let changes = changes(d, e)?;
    let anchors = anchor_binds(d, settings, e)?;
    let dialect = d.dialect;
    match e.modification {
        ObjectModification::None => Ok(ExportResult::success(&e.identifier)),
        ObjectModification::Add => {
            let generated = d.generated_anchor();
            if !generated && anchors.iter().any(Option::is_none) {
                return Ok(fail(
                    e,
                    ExportErrorCode::MissingAnchorComponent,
                    format!(
                        "no value for anchor column(s) {}",
                        settings.anchors.join(", ")
                    ),
                ));
            }
            // Column index -> value.
            let mut values: Vec<(usize, Bind)> = Vec::new();
            for (k, &i) in d.anchors.iter().enumerate() {
                if let Some(b) = &anchors[k] {
                    values.push((i, b.clone()));
                }
            }
            if let Some(t) = d.type_column {
                values.push((t, Bind::Text(e.object_type.clone())));
            }
            for (attr, c) in &changes {
                let Location::Parent(i) = attr.location else {
                    continue;
                };
                if d.anchors.contains(&i) || Some(i) == d.type_column {
                    continue;
                }
                if let Some(v) = single_value(c) {
                    values.push((i, to_bind(v, attr, &d.columns[i], settings)?));
                }
            }
            if let (Some(dn), false) = (d.dn_column, settings.dn_is_anchor)
                && !e.dn.is_empty()
                && !values.iter().any(|(i, _)| *i == dn)
                && let Some(attr) = d.attrs.iter().find(|a| a.location == Location::Parent(dn))
            {
                let v = Value::String(e.dn.clone());
                values.push((dn, to_bind(&v, attr, &d.columns[dn], settings)?));
            }
            let needs_generated = anchors.iter().any(Option::is_none);
            if needs_generated && d.generated_keys == GeneratedKeys::Unsupported {
                return Ok(fail(
                    e,
                    ExportErrorCode::MissingAnchorComponent,
                    "this database returns generated anchors only through output parameters: \
                     provide the anchor value, or add objects with a stored procedure that \
                     returns the anchor as a result row",
                ));
            }
            let returning = needs_generated
                && matches!(
                    d.generated_keys,
                    GeneratedKeys::Returning | GeneratedKeys::OutputInserted
                );
            let sql = insert_statement(d, values, needs_generated);
            let final_anchor: Vec<Bind> = if returning {
                let rows = conn.fetch(&sql.text, &sql.binds).await?;
                let row = rows.rows.into_iter().next().ok_or_else(|| {
                    SqlError::Value("the database returned no generated anchor".into())
                })?;
                row.into_iter()
                    .zip(d.anchor_columns())
                    .map(|(cell, c)| crate::values::cell_to_bind(&cell, c.kind))
                    .collect()
            } else {
                let written = conn.execute(&sql.text, &sql.binds).await?;
                if needs_generated {
                    let id = written.last_insert_id.ok_or_else(|| {
                        SqlError::Value("the database returned no generated anchor".into())
                    })?;
                    vec![Bind::Int(id as i64)]
                } else {
                    anchors
                        .iter()
                        .map(|b| b.clone().expect("checked"))
                        .collect()
                }
            };
            write_children(conn, d, settings, &final_anchor, &changes, true).await?;
            let mut result = ExportResult::success(&e.identifier);
            for (b, c) in final_anchor.iter().zip(d.anchor_columns()) {
                let attr = d.attr(&c.name).expect("anchor attribute");
                let value = match b {
                    Bind::Int(i) => Value::Integer(*i),
                    Bind::Text(s) => Value::String(s.clone()),
                    Bind::Bool(v) => Value::Boolean(*v),
                    Bind::Bytes(v) => Value::Binary(v.clone()),
                    Bind::Null(_) => continue,
                };
                let value = match (attr.data_type, value) {
                    (DataType::String, Value::Integer(i)) => Value::String(i.to_string()),
                    (_, v) => v,
                };
                result = result.with_anchor(&c.name, value);
            }
            Ok(result)
        }
        ObjectModification::Update | ObjectModification::Replace | ObjectModification::Delete => {
            let Some(anchors) = anchors.into_iter().collect::<Option<Vec<Bind>>>() else {
                return Ok(fail(
                    e,
                    ExportErrorCode::MissingAnchorComponent,
                    format!(
                        "no value for anchor column(s) {}",
                        settings.anchors.join(", ")
                    ),
                ));
            };
            // Lock the row (where the dialect can) and learn whether it exists.
            let mut sql = SqlBuilder::new(dialect);
            sql.push("SELECT 1 FROM ").push(&d.table_sql);
            where_anchor(&mut sql, d, &anchors);
            sql.push(dialect.lock_clause());
            if conn.fetch(&sql.text, &sql.binds).await?.rows.is_empty() {
                return Err(SqlError::Missing(format!(
                    "no row in {} with anchor {}",
                    d.table_sql,
                    describe_anchor(&anchors)
                )));
            }
            if e.modification == ObjectModification::Delete {
                delete_children(conn, d, &anchors[0]).await?;
                let mut sql = SqlBuilder::new(dialect);
                sql.push("DELETE FROM ").push(&d.table_sql);
                where_anchor(&mut sql, d, &anchors);
                if conn.execute(&sql.text, &sql.binds).await?.rows_affected == 0 {
                    return Err(SqlError::Missing(format!(
                        "no row with anchor {}",
                        describe_anchor(&anchors)
                    )));
                }
                return Ok(ExportResult::success(&e.identifier));
            }
            let replace = e.modification == ObjectModification::Replace;
            let mut sets: Vec<(usize, Bind)> = Vec::new();
            for (attr, c) in &changes {
                let Location::Parent(i) = attr.location else {
                    continue;
                };
                let col = &d.columns[i];
                if let Some(k) = d.anchors.iter().position(|a| *a == i) {
                    // The anchor identifies the row; it may be repeated, never changed.
                    if let Some(v) = single_value(c)
                        && to_bind(v, attr, col, settings)? != anchors[k]
                    {
                        return Err(SqlError::Schema(format!(
                            "the anchor column '{}' cannot be changed",
                            col.name
                        )));
                    }
                    continue;
                }
                let bind = match (c.modification, single_value(c)) {
                    (_, Some(v)) => to_bind(v, attr, col, settings)?,
                    (_, None) => Bind::Null(col.kind),
                };
                sets.push((i, bind));
            }
            if replace {
                // ObjectReplace: every writable column the entry does not mention is cleared.
                for a in &d.attrs {
                    let Location::Parent(i) = a.location else {
                        continue;
                    };
                    let col = &d.columns[i];
                    if d.anchors.contains(&i)
                        || Some(i) == d.type_column
                        || Some(i) == d.watermark_column
                        || Some(i) == d.dn_column
                        || col.generated
                        || a.operation == AttributeOperation::ImportOnly
                        || sets.iter().any(|(s, _)| *s == i)
                    {
                        continue;
                    }
                    sets.push((i, Bind::Null(col.kind)));
                }
            }
            if !sets.is_empty() {
                let mut sql = SqlBuilder::new(dialect);
                sql.push("UPDATE ").push(&d.table_sql).push(" SET ");
                for (k, (i, b)) in sets.into_iter().enumerate() {
                    if k > 0 {
                        sql.push(", ");
                    }
                    let c = &d.columns[i];
                    sql.ident(&c.name).push(" = ");
                    sql.param(b, c.kind, &c.sql_type);
                }
                where_anchor(&mut sql, d, &anchors);
                conn.execute(&sql.text, &sql.binds).await?;
            }
            write_children(conn, d, settings, &anchors, &changes, replace).await?;
            Ok(ExportResult::success(&e.identifier))
        }
    }
}

fn describe_anchor(anchors: &[Bind]) -> String {
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

/// The parent anchor as a value of the child's join column.
fn join_bind(anchor: &Bind, join: &ColumnDef) -> Bind {
    match (anchor, join.kind) {
        (Bind::Text(s), NativeKind::Int | NativeKind::UInt) => {
            s.parse().map(Bind::Int).unwrap_or_else(|_| anchor.clone())
        }
        (Bind::Int(i), NativeKind::Text | NativeKind::Other) => Bind::Text(i.to_string()),
        _ => anchor.clone(),
    }
}

/// Keeps the child table in step with the multi-valued attribute changes. `replace_all`:
/// every multi-valued attribute the entry does not mention is emptied (Add, ObjectReplace).
/// Removes an object's multi-valued rows (before the object itself: they may reference it).
async fn delete_children(conn: &mut Conn, d: &Detected, anchor: &Bind) -> Result<(), SqlError> {
    let Some(join) = &d.child_join else {
        return Ok(());
    };
    let mut sql = SqlBuilder::new(d.dialect);
    sql.push("DELETE FROM ")
        .push(&d.child_table_sql)
        .push(" WHERE ")
        .ident(&join.name)
        .push(" = ");
    sql.param(join_bind(anchor, join), join.kind, &join.sql_type);
    conn.execute(&sql.text, &sql.binds).await?;
    Ok(())
}

async fn write_children(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    anchors: &[Bind],
    changes: &[(&Attr, &AttributeChange)],
    replace_all: bool,
) -> Result<(), SqlError> {
    let Some(join) = &d.child_join else {
        return Ok(());
    };
    let parent = join_bind(&anchors[0], join);
    let single_column = d.child_columns.len() == 1;
    for (k, col) in d.child_columns.iter().enumerate() {
        let attr = d
            .attrs
            .iter()
            .find(|a| a.location == Location::Child(k))
            .expect("child attribute");
        let change = changes
            .iter()
            .find(|(a, _)| a.location == Location::Child(k))
            .map(|(_, c)| *c);
        let (clear, deletes, adds): (bool, Vec<&Value>, Vec<&Value>) = match change {
            None if replace_all => (true, Vec::new(), Vec::new()),
            None => continue,
            Some(c) => match c.modification {
                AttributeModification::Add | AttributeModification::Replace => {
                    (true, Vec::new(), c.added_values().collect())
                }
                AttributeModification::Delete => (true, Vec::new(), Vec::new()),
                AttributeModification::Update => (
                    false,
                    c.deleted_values().collect(),
                    c.added_values().collect(),
                ),
            },
        };
        if attr.operation == AttributeOperation::ImportOnly
            && (clear || !adds.is_empty())
            && change.is_some()
        {
            return Err(SqlError::Schema(format!(
                "attribute '{}' is import-only",
                attr.name
            )));
        }
        if clear {
            remove_values(conn, d, join, col, &parent, None, single_column).await?;
        }
        for v in deletes {
            let b = to_bind(v, attr, col, settings)?;
            remove_values(conn, d, join, col, &parent, Some(b), single_column).await?;
        }
        for v in adds {
            let b = to_bind(v, attr, col, settings)?;
            if !clear {
                // An added value that is already there stays once.
                let mut sql = SqlBuilder::new(d.dialect);
                sql.push("SELECT 1 FROM ")
                    .push(&d.child_table_sql)
                    .push(" WHERE ");
                sql.ident(&join.name).push(" = ");
                sql.param(parent.clone(), join.kind, &join.sql_type);
                sql.push(" AND ").ident(&col.name).push(" = ");
                sql.param(b.clone(), col.kind, &col.sql_type);
                if !conn.fetch(&sql.text, &sql.binds).await?.rows.is_empty() {
                    continue;
                }
            }
            let mut sql = SqlBuilder::new(d.dialect);
            sql.push("INSERT INTO ").push(&d.child_table_sql).push(" (");
            sql.ident(&join.name)
                .push(", ")
                .ident(&col.name)
                .push(") VALUES (");
            sql.param(parent.clone(), join.kind, &join.sql_type);
            sql.push(", ");
            sql.param(b, col.kind, &col.sql_type);
            sql.push(")");
            conn.execute(&sql.text, &sql.binds).await?;
        }
    }
    Ok(())
}

/// Removes one value (or all values) of one child column. With several value columns a row
/// may hold values of other attributes too, so the column is cleared and only rows left empty
/// are deleted.
async fn remove_values(
    conn: &mut Conn,
    d: &Detected,
    join: &ColumnDef,
    col: &ColumnDef,
    parent: &Bind,
    value: Option<Bind>,
    single_column: bool,
) -> Result<(), SqlError> {
    let mut sql = SqlBuilder::new(d.dialect);
    if single_column {
        sql.push("DELETE FROM ").push(&d.child_table_sql);
    } else {
        sql.push("UPDATE ").push(&d.child_table_sql).push(" SET ");
        sql.ident(&col.name).push(" = NULL");
    }
    sql.push(" WHERE ").ident(&join.name).push(" = ");
    sql.param(parent.clone(), join.kind, &join.sql_type);
    if let Some(v) = value {
        sql.push(" AND ").ident(&col.name).push(" = ");
        sql.param(v, col.kind, &col.sql_type);
    }
    conn.execute(&sql.text, &sql.binds).await?;
    if !single_column {
        let mut sql = SqlBuilder::new(d.dialect);
        sql.push("DELETE FROM ")
            .push(&d.child_table_sql)
            .push(" WHERE ");
        sql.ident(&join.name).push(" = ");
        sql.param(parent.clone(), join.kind, &join.sql_type);
        for c in &d.child_columns {
            sql.push(" AND ").ident(&c.name).push(" IS NULL");
        }
        conn.execute(&sql.text, &sql.binds).await?;
    }
    Ok(())
}

/// Query and stored-procedure modes: the configured statement with `@attribute` parameters.
async fn apply_query(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    e: &CsEntryChange,
) -> Result<ExportResult, SqlError> {
    let template = match e.modification {
        ObjectModification::None => return Ok(ExportResult::success(&e.identifier)),
        ObjectModification::Add => &settings.insert_query,
        ObjectModification::Update | ObjectModification::Replace => &settings.update_query,
        ObjectModification::Delete => &settings.delete_query,
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
    // Parameter name (lower case) -> value.
    let mut params: HashMap<String, Bind> = HashMap::new();
    // An update statement sets every column it names, so attributes the entry does not
    // change keep their current values: they are read first.
    if matches!(e.modification, ObjectModification::Update)
        && !d.table_sql.is_empty()
        && anchors.iter().all(Option::is_some)
    {
        let binds: Vec<Bind> = anchors
            .iter()
            .map(|b| b.clone().expect("checked"))
            .collect();
        let mut sql = SqlBuilder::new(d.dialect);
        let list: Vec<String> = d
            .columns
            .iter()
            .map(|c| d.dialect.select_expr(&c.name, c.kind))
            .collect();
        sql.push("SELECT ")
            .push(&list.join(", "))
            .push(" FROM ")
            .push(&d.table_sql);
        where_anchor(&mut sql, d, &binds);
        let rows = conn.fetch(&sql.text, &sql.binds).await?;
        let Some(row) = rows.rows.first() else {
            return Err(SqlError::Missing(format!(
                "no row with anchor {}",
                describe_anchor(&binds)
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
    }
    for (k, &i) in d.anchors.iter().enumerate() {
        if let Some(b) = &anchors[k] {
            params.insert(d.columns[i].name.to_ascii_lowercase(), b.clone());
        }
    }
    for (attr, c) in &changes {
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
    let (sql, names) = translate_named(d.dialect, template);
    let mut binds = Vec::with_capacity(names.len());
    for n in &names {
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
    // The multi-valued table is the connector's to keep in step, whatever runs the parent
    // row: children go before the parent on delete, after it on add and update.
    if e.modification == ObjectModification::Delete
        && d.child_join.is_some()
        && let Some(Some(anchor)) = anchors.first()
    {
        delete_children(conn, d, anchor).await?;
    }
    // A procedure that adds reports the generated anchor as a result row: PostgreSQL's INOUT
    // parameters come back that way from CALL, MySQL procedures end with a SELECT.
    let returns_rows = sql.to_ascii_uppercase().contains("RETURNING")
        || (settings.export_mode == RunMode::StoredProcedure
            && e.modification == ObjectModification::Add);
    let mut result = ExportResult::success(&e.identifier);
    if returns_rows {
        let rows = conn.fetch(&sql, &binds).await?;
        if let Some(row) = rows.rows.first() {
            // Only for a generated anchor: a given one is known, and a one-column status row
            // must not replace it.
            let single =
                d.anchors.len() == 1 && row.len() == 1 && matches!(anchors.first(), Some(None));
            for c in d.anchor_columns() {
                // Columns named like the anchor, or the one column of a one-column row
                // (an OUT parameter keeps its own name).
                let i = rows.index(&c.name).or(single.then_some(0));
                if let (Some(i), Some(attr)) = (i, d.attr(&c.name))
                    && let Some(v) = to_value(&row[i], attr, settings)?
                {
                    result = result.with_anchor(&c.name, v);
                }
            }
        } else if e.modification != ObjectModification::Add
            && settings.export_mode == RunMode::Query
        {
            return Err(SqlError::Missing("the statement changed no row".into()));
        }
    } else {
        let written = conn.execute(&sql, &binds).await?;
        if settings.export_mode == RunMode::Query
            && e.modification != ObjectModification::Add
            && written.rows_affected == 0
        {
            return Err(SqlError::Missing("the statement changed no row".into()));
        }
        if e.modification == ObjectModification::Add {
            match (
                written.last_insert_id,
                d.generated_anchor(),
                anchors.first(),
            ) {
                (Some(id), true, Some(None)) => {
                    result = result
                        .with_anchor(&d.columns[d.anchors[0]].name, Value::Integer(id as i64));
                }
                _ => {
                    for (b, c) in anchors.iter().zip(d.anchor_columns()) {
                        if let Some(b) = b {
                            result = result.with_anchor(&c.name, bind_value(b));
                        }
                    }
                }
            }
        }
    }
    if d.child_join.is_some() && e.modification != ObjectModification::Delete {
        // The parent's anchor: given, or generated and reported by the statement.
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
        write_children(conn, d, settings, &[anchor], &changes, replace_all).await?;
    }
    Ok(result)
}

fn bind_value(b: &Bind) -> Value {
    match b {
        Bind::Int(i) => Value::Integer(*i),
        Bind::Text(s) => Value::String(s.clone()),
        Bind::Bool(v) => Value::Boolean(*v),
        Bind::Bytes(v) => Value::Binary(v.clone()),
        Bind::Null(_) => Value::String(String::new()),
    }
}

/// Sets (or changes) a password with the configured statement or procedure.
pub async fn set_password(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    target: &PasswordTarget,
    password: &str,
    old: Option<&str>,
) -> Result<(), SqlError> {
    let template = match &settings.password_method {
        PasswordMethod::None => {
            return Err(SqlError::Config(format!("'{P_PW_METHOD}' is None")));
        }
        PasswordMethod::Sql(q) => q.clone(),
        PasswordMethod::StoredProcedure(p) => {
            let mut args: Vec<String> =
                d.anchor_columns().map(|c| format!("@{}", c.name)).collect();
            args.push("@Password".into());
            let call = format!("CALL {}({})", d.dialect.quote_table(p), args.join(", "));
            if d.dialect == Dialect::Odbc {
                // The ODBC call escape, translated by the driver.
                format!("{{{call}}}")
            } else {
                call
            }
        }
    };
    let (sql, names) = translate_named(d.dialect, &template);
    let mut binds = Vec::with_capacity(names.len());
    for n in &names {
        let b = match n.to_ascii_lowercase().as_str() {
            "password" => Bind::Text(password.to_owned()),
            "oldpassword" => Bind::Text(old.unwrap_or_default().to_owned()),
            _ => {
                let col = d.anchor_columns().find(|c| c.name.eq_ignore_ascii_case(n));
                let value = target
                    .anchor
                    .iter()
                    .find(|a| a.name.eq_ignore_ascii_case(n))
                    .map(|a| &a.value);
                match (col, value) {
                    (Some(col), Some(v)) => {
                        let attr = d.attr(&col.name).expect("anchor attribute");
                        to_bind(v, attr, col, settings)?
                    }
                    _ => {
                        return Err(SqlError::Config(format!(
                            "password statement parameter @{n} is not @Password, @OldPassword or an anchor the target carries"
                        )));
                    }
                }
            }
        };
        binds.push(b);
    }
    let written = conn.execute(&sql, &binds).await?;
    if matches!(settings.password_method, PasswordMethod::Sql(_)) && written.rows_affected == 0 {
        return Err(SqlError::Missing(format!(
            "no object with anchor {:?}",
            target
                .anchor
                .iter()
                .map(|a| a.value.as_text())
                .collect::<Vec<_>>()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ColumnDef;

    fn users(dialect: Dialect, generated_keys: GeneratedKeys) -> Detected {
        let column = |name: &str, kind, generated| ColumnDef {
            name: name.into(),
            sql_type: "int".into(),
            kind,
            generated,
        };
        Detected {
            dialect,
            generated_keys,
            table_sql: dialect.quote_part("users"),
            columns: vec![
                column("id", NativeKind::Int, true),
                column("name", NativeKind::Text, false),
            ],
            child_table_sql: String::new(),
            child_join: None,
            child_columns: Vec::new(),
            attrs: Vec::new(),
            anchors: vec![0],
            dn_column: None,
            type_column: None,
            watermark_column: None,
            object_types: vec!["User".into()],
        }
    }

    #[test]
    fn generated_anchors_are_returned_in_each_databases_syntax() {
        let name = || vec![(1, Bind::Text("Zoë".into()))];
        let sql = |keys, values| insert_statement(&users(Dialect::Odbc, keys), values, true).text;
        assert_eq!(
            sql(GeneratedKeys::OutputInserted, name()),
            r#"INSERT INTO "users" ("name") OUTPUT INSERTED."id" VALUES (?)"#
        );
        assert_eq!(
            sql(GeneratedKeys::OutputInserted, Vec::new()),
            r#"INSERT INTO "users" OUTPUT INSERTED."id" DEFAULT VALUES"#
        );
        assert_eq!(
            sql(GeneratedKeys::Returning, name()),
            r#"INSERT INTO "users" ("name") VALUES (?) RETURNING "id""#
        );
        // MySQL reads the id from the protocol: no clause.
        let mysql = users(Dialect::MySql, GeneratedKeys::LastInsertId);
        assert_eq!(
            insert_statement(&mysql, name(), true).text,
            "INSERT INTO `users` (`name`) VALUES (?)"
        );
        // A provided anchor needs nothing back.
        let provided = vec![(0, Bind::Int(7)), (1, Bind::Text("x".into()))];
        let server = users(Dialect::Odbc, GeneratedKeys::OutputInserted);
        assert_eq!(
            insert_statement(&server, provided, false).text,
            r#"INSERT INTO "users" ("id", "name") VALUES (?, ?)"#
        );
    }
}
