//! The multi-valued table, kept in step by the connector in every export method: an object's
//! rows go before the object on delete, and are written after it on add and update.

use plugin_api::prelude::*;

use crate::cells::{Bind, NativeKind};
use crate::config::Settings;
use crate::conn::Conn;
use crate::error::SqlError;
use crate::schema::{ColumnDef, Detected, Location};
use crate::sql::SqlBuilder;
use crate::values::to_bind;

use super::entry::Change;

/// Removes an object's multi-valued rows (before the object itself: they may reference it).
pub async fn delete_children(conn: &mut Conn, d: &Detected, anchor: &Bind) -> Result<(), SqlError> {
    let Some(join) = &d.child_join else {
        return Ok(());
    };
    let children = ObjectChildren::new(d, join, anchor);
    let mut sql = SqlBuilder::new(d.dialect);
    sql.push("DELETE FROM ").push(&d.child_table_sql);
    children.where_parent(&mut sql);
    conn.execute(&sql.text, &sql.binds).await?;
    Ok(())
}

/// Keeps the child table in step with the multi-valued attribute changes. `replace_all`:
/// every multi-valued attribute the entry does not mention is emptied (Add, ObjectReplace).
pub async fn write_children(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    anchors: &[Bind],
    changes: &[Change<'_>],
    replace_all: bool,
) -> Result<(), SqlError> {
    let Some(join) = &d.child_join else {
        return Ok(());
    };
    let children = ObjectChildren::new(d, join, &anchors[0]);
    for (k, col) in d.child_columns.iter().enumerate() {
        let attr = d.attr_at(Location::Child(k)).expect("child attribute");
        let change = changes
            .iter()
            .find(|(a, _)| a.location == Location::Child(k))
            .map(|(_, c)| *c);
        let Some(edit) = ValuesEdit::of(change, replace_all) else {
            continue;
        };
        if attr.operation == AttributeOperation::ImportOnly
            && (edit.clear || !edit.adds.is_empty())
            && change.is_some()
        {
            return Err(SqlError::Schema(format!(
                "attribute '{}' is import-only",
                attr.name
            )));
        }
        if edit.clear {
            children.remove(conn, col, None).await?;
        }
        for v in edit.deletes {
            let b = to_bind(v, attr, col, settings)?;
            children.remove(conn, col, Some(b)).await?;
        }
        for v in edit.adds {
            let b = to_bind(v, attr, col, settings)?;
            // An added value that is already there stays once.
            if !edit.clear && children.contains(conn, col, &b).await? {
                continue;
            }
            children.insert(conn, col, b).await?;
        }
    }
    Ok(())
}

/// What a change does to the values of one multi-valued attribute.
struct ValuesEdit<'a> {
    /// Every value is removed first.
    clear: bool,
    deletes: Vec<&'a Value>,
    adds: Vec<&'a Value>,
}

impl<'a> ValuesEdit<'a> {
    /// `None`: the attribute stays as it is.
    fn of(change: Option<&'a AttributeChange>, replace_all: bool) -> Option<Self> {
        let edit = |clear, deletes, adds| {
            Some(Self {
                clear,
                deletes,
                adds,
            })
        };
        match change {
            None if replace_all => edit(true, Vec::new(), Vec::new()),
            None => None,
            Some(c) => match c.modification {
                AttributeModification::Add | AttributeModification::Replace => {
                    edit(true, Vec::new(), c.added_values().collect())
                }
                AttributeModification::Delete => edit(true, Vec::new(), Vec::new()),
                AttributeModification::Update => edit(
                    false,
                    c.deleted_values().collect(),
                    c.added_values().collect(),
                ),
            },
        }
    }
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

/// One object's rows in the child table.
struct ObjectChildren<'d> {
    d: &'d Detected,
    join: &'d ColumnDef,
    /// The object's anchor as a value of the join column.
    parent: Bind,
}

impl<'d> ObjectChildren<'d> {
    fn new(d: &'d Detected, join: &'d ColumnDef, anchor: &Bind) -> Self {
        Self {
            d,
            join,
            parent: join_bind(anchor, join),
        }
    }

    /// Appends ` WHERE <join column> = <parent>`.
    fn where_parent(&self, sql: &mut SqlBuilder) {
        sql.push(" WHERE ").ident(&self.join.name).push(" = ");
        sql.param(self.parent.clone(), self.join.kind, &self.join.sql_type);
    }

    /// Appends ` AND <col> = <value>`.
    fn and_value(sql: &mut SqlBuilder, col: &ColumnDef, value: Bind) {
        sql.push(" AND ").ident(&col.name).push(" = ");
        sql.param(value, col.kind, &col.sql_type);
    }

    /// Removes one value (or all values) of one child column. With several value columns a
    /// row may hold values of other attributes too, so the column is cleared and only rows
    /// left empty are deleted.
    async fn remove(
        &self,
        conn: &mut Conn,
        col: &ColumnDef,
        value: Option<Bind>,
    ) -> Result<(), SqlError> {
        let d = self.d;
        let single_column = d.child_columns.len() == 1;
        let mut sql = SqlBuilder::new(d.dialect);
        if single_column {
            sql.push("DELETE FROM ").push(&d.child_table_sql);
        } else {
            sql.push("UPDATE ").push(&d.child_table_sql).push(" SET ");
            sql.ident(&col.name).push(" = NULL");
        }
        self.where_parent(&mut sql);
        if let Some(v) = value {
            Self::and_value(&mut sql, col, v);
        }
        conn.execute(&sql.text, &sql.binds).await?;
        if !single_column {
            let mut sql = SqlBuilder::new(d.dialect);
            sql.push("DELETE FROM ").push(&d.child_table_sql);
            self.where_parent(&mut sql);
            for c in &d.child_columns {
                sql.push(" AND ").ident(&c.name).push(" IS NULL");
            }
            conn.execute(&sql.text, &sql.binds).await?;
        }
        Ok(())
    }

    /// Whether the object already has `value` in one child column.
    async fn contains(
        &self,
        conn: &mut Conn,
        col: &ColumnDef,
        value: &Bind,
    ) -> Result<bool, SqlError> {
        let mut sql = SqlBuilder::new(self.d.dialect);
        sql.push("SELECT 1 FROM ").push(&self.d.child_table_sql);
        self.where_parent(&mut sql);
        Self::and_value(&mut sql, col, value.clone());
        Ok(!conn.fetch(&sql.text, &sql.binds).await?.rows.is_empty())
    }

    async fn insert(&self, conn: &mut Conn, col: &ColumnDef, value: Bind) -> Result<(), SqlError> {
        let mut sql = SqlBuilder::new(self.d.dialect);
        sql.push("INSERT INTO ")
            .push(&self.d.child_table_sql)
            .push(" (")
            .ident(&self.join.name)
            .push(", ")
            .ident(&col.name)
            .push(") VALUES (");
        sql.param(self.parent.clone(), self.join.kind, &self.join.sql_type);
        sql.push(", ");
        sql.param(value, col.kind, &col.sql_type);
        sql.push(")");
        conn.execute(&sql.text, &sql.binds).await?;
        Ok(())
    }
}
