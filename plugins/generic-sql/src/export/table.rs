//! Table mode: the INSERT, UPDATE or DELETE of an entry, generated from the discovered schema.

use plugin_api::prelude::*;

use crate::cells::Bind;
use crate::config::{P_TABLE, Settings};
use crate::conn::Conn;
use crate::dialect::{Dialect, GeneratedKeys};
use crate::error::SqlError;
use crate::schema::{Detected, Location};
use crate::sql::SqlBuilder;
use crate::values::{cell_to_bind, to_bind};

use super::children::{delete_children, write_children};
use super::entry::{
    Change, anchor_binds, bind_value, changes, describe_anchor, fail, missing_anchor, single_value,
    where_anchor,
};

pub async fn apply(
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
    match e.modification {
        ObjectModification::None => Ok(ExportResult::success(&e.identifier)),
        ObjectModification::Add => add(conn, d, settings, e, &changes, &anchors).await,
        ObjectModification::Update | ObjectModification::Replace | ObjectModification::Delete => {
            let Some(anchors) = anchors.into_iter().collect::<Option<Vec<Bind>>>() else {
                return Ok(missing_anchor(e, settings));
            };
            lock_row(conn, d, &anchors).await?;
            if e.modification == ObjectModification::Delete {
                delete_row(conn, d, &anchors).await?;
            } else {
                let replace = e.modification == ObjectModification::Replace;
                update_row(conn, d, settings, &changes, &anchors, replace).await?;
            }
            Ok(ExportResult::success(&e.identifier))
        }
    }
}

/// An add: the row (a generated anchor read back where the database has a way), then its
/// multi-valued rows. The result carries the anchor.
async fn add(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    e: &CsEntryChange,
    changes: &[Change<'_>],
    anchors: &[Option<Bind>],
) -> Result<ExportResult, SqlError> {
    let needs_generated = anchors.iter().any(Option::is_none);
    if needs_generated && !d.generated_anchor() {
        return Ok(missing_anchor(e, settings));
    }
    let values = insert_values(d, settings, e, changes, anchors)?;
    if needs_generated && d.generated_keys == GeneratedKeys::Unsupported {
        return Ok(fail(
            e,
            ExportErrorCode::MissingAnchorComponent,
            "this database returns generated anchors only through output parameters: \
             provide the anchor value, or add objects with a stored procedure that \
             returns the anchor as a result row",
        ));
    }
    let sql = insert_statement(d, values, needs_generated);
    let anchors = insert_row(conn, d, &sql, anchors, needs_generated).await?;
    write_children(conn, d, settings, &anchors, changes, true).await?;
    let mut result = ExportResult::success(&e.identifier);
    for (b, c) in anchors.iter().zip(d.anchor_columns()) {
        let attr = d.attr(&c.name).expect("anchor attribute");
        let Some(value) = bind_value(b) else {
            continue;
        };
        let value = match (attr.data_type, value) {
            (DataType::String, Value::Integer(i)) => Value::String(i.to_string()),
            (_, v) => v,
        };
        result = result.with_anchor(&c.name, value);
    }
    Ok(result)
}

/// The column values of an add (index into `d.columns`, value): the given anchors, the object
/// type, the single-valued attributes, and the DN where it has a column of its own.
fn insert_values(
    d: &Detected,
    settings: &Settings,
    e: &CsEntryChange,
    changes: &[Change<'_>],
    anchors: &[Option<Bind>],
) -> Result<Vec<(usize, Bind)>, SqlError> {
    let mut values: Vec<(usize, Bind)> = Vec::new();
    for (k, &i) in d.anchors.iter().enumerate() {
        if let Some(b) = &anchors[k] {
            values.push((i, b.clone()));
        }
    }
    if let Some(t) = d.type_column {
        values.push((t, Bind::Text(e.object_type.clone())));
    }
    for (attr, c) in changes {
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
        && let Some(attr) = d.attr_at(Location::Parent(dn))
    {
        let v = Value::String(e.dn.clone());
        values.push((dn, to_bind(&v, attr, &d.columns[dn], settings)?));
    }
    Ok(values)
}

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
        sql.push(" (")
            .join(&values, ", ", |sql, (i, _)| {
                sql.ident(&d.columns[*i].name);
            })
            .push(")");
        // SQL Server's OUTPUT clause goes between the column list and VALUES.
        if output {
            sql.push(" OUTPUT ").push(&returned("INSERTED."));
        }
        sql.push(" VALUES (")
            .join(values, ", ", |sql, (i, b)| {
                let c = &d.columns[i];
                sql.param(b, c.kind, &c.sql_type);
            })
            .push(")");
    }
    if needs_generated && d.generated_keys == GeneratedKeys::Returning {
        sql.push(" RETURNING ").push(&returned(""));
    }
    sql
}

fn no_generated_anchor() -> SqlError {
    SqlError::Value("the database returned no generated anchor".into())
}

/// Runs the INSERT; the new row's anchor values: the given ones, or the generated one as the
/// database returns it.
async fn insert_row(
    conn: &mut Conn,
    d: &Detected,
    sql: &SqlBuilder,
    anchors: &[Option<Bind>],
    needs_generated: bool,
) -> Result<Vec<Bind>, SqlError> {
    let returning = needs_generated
        && matches!(
            d.generated_keys,
            GeneratedKeys::Returning | GeneratedKeys::OutputInserted
        );
    if returning {
        let rows = conn.fetch(&sql.text, &sql.binds).await?;
        let row = rows
            .rows
            .into_iter()
            .next()
            .ok_or_else(no_generated_anchor)?;
        return Ok(row
            .into_iter()
            .zip(d.anchor_columns())
            .map(|(cell, c)| cell_to_bind(&cell, c.kind))
            .collect());
    }
    let written = conn.execute(&sql.text, &sql.binds).await?;
    if needs_generated {
        let id = written.last_insert_id.ok_or_else(no_generated_anchor)?;
        return Ok(vec![Bind::Int(id as i64)]);
    }
    Ok(anchors
        .iter()
        .map(|b| b.clone().expect("checked"))
        .collect())
}

/// Locks the row (where the dialect can) and makes sure it exists.
async fn lock_row(conn: &mut Conn, d: &Detected, anchors: &[Bind]) -> Result<(), SqlError> {
    let mut sql = SqlBuilder::new(d.dialect);
    sql.push("SELECT 1 FROM ").push(&d.table_sql);
    where_anchor(&mut sql, d, anchors);
    sql.push(d.dialect.lock_clause());
    if conn.fetch(&sql.text, &sql.binds).await?.rows.is_empty() {
        return Err(SqlError::Missing(format!(
            "no row in {} with anchor {}",
            d.table_sql,
            describe_anchor(anchors)
        )));
    }
    Ok(())
}

/// Deletes the row, after its multi-valued rows.
async fn delete_row(conn: &mut Conn, d: &Detected, anchors: &[Bind]) -> Result<(), SqlError> {
    delete_children(conn, d, &anchors[0]).await?;
    let mut sql = SqlBuilder::new(d.dialect);
    sql.push("DELETE FROM ").push(&d.table_sql);
    where_anchor(&mut sql, d, anchors);
    if conn.execute(&sql.text, &sql.binds).await?.rows_affected == 0 {
        return Err(SqlError::Missing(format!(
            "no row with anchor {}",
            describe_anchor(anchors)
        )));
    }
    Ok(())
}

/// Updates the row and its multi-valued rows. `replace` (ObjectReplace): every writable column
/// and multi-valued attribute the entry does not mention is cleared.
async fn update_row(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    changes: &[Change<'_>],
    anchors: &[Bind],
    replace: bool,
) -> Result<(), SqlError> {
    let mut sets = update_sets(d, settings, changes, anchors)?;
    if replace {
        clear_unmentioned(d, &mut sets);
    }
    if !sets.is_empty() {
        let mut sql = SqlBuilder::new(d.dialect);
        sql.push("UPDATE ")
            .push(&d.table_sql)
            .push(" SET ")
            .join(sets, ", ", |sql, (i, b)| {
                let c = &d.columns[i];
                sql.ident(&c.name).push(" = ");
                sql.param(b, c.kind, &c.sql_type);
            });
        where_anchor(&mut sql, d, anchors);
        conn.execute(&sql.text, &sql.binds).await?;
    }
    write_children(conn, d, settings, anchors, changes, replace).await
}

/// The columns an update sets (index into `d.columns`, value): what each changed
/// single-valued attribute leaves, or NULL.
fn update_sets(
    d: &Detected,
    settings: &Settings,
    changes: &[Change<'_>],
    anchors: &[Bind],
) -> Result<Vec<(usize, Bind)>, SqlError> {
    let mut sets: Vec<(usize, Bind)> = Vec::new();
    for (attr, c) in changes {
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
        let bind = match single_value(c) {
            Some(v) => to_bind(v, attr, col, settings)?,
            None => Bind::Null(col.kind),
        };
        sets.push((i, bind));
    }
    Ok(sets)
}

/// ObjectReplace: every writable column the entry does not mention is set to NULL.
fn clear_unmentioned(d: &Detected, sets: &mut Vec<(usize, Bind)>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cells::NativeKind;
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
            change_table: None,
            procedures: Vec::new(),
            hidden: Vec::new(),
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
