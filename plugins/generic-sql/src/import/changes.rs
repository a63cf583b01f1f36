//! Delta import from a change table: a history table that triggers fill with one row per
//! change (sequence number, anchor, change type). Unlike a watermark it sees deletes.

use std::borrow::Cow;
use std::collections::HashMap;

use plugin_api::prelude::*;

use crate::cells::{Bind, Cell, NativeKind, Rows};
use crate::config::{DeltaStrategy, Settings};
use crate::conn::Conn;
use crate::error::SqlError;
use crate::schema::{Attr, ColumnDef, Detected, Location};
use crate::sql::SqlBuilder;
use crate::values::{cell_to_bind, to_value};

use super::entries::{RowsWriter, key_text, write_gone};

/// One object changed within a page, as its last change in the page left it.
struct ChangedObject {
    /// The anchor's text ([`key_text`]): what the changes of one object share.
    key: String,
    /// The anchor as the change table holds it.
    anchor: Cell,
    /// Its last change in this page is a delete.
    deleted: bool,
    /// Added within this page: reported as an add even if changed again since.
    added: bool,
}

/// One page of the change table, folded per object: the last change of each object wins, and
/// objects keep the order of their first change.
pub struct PageChanges {
    /// Rows read from the change table (fewer than a page: the last page).
    pub read: usize,
    objects: Vec<ChangedObject>,
}

impl PageChanges {
    /// The changes after sequence number `last_seq` up to `max_seq` (the run's watermark), at
    /// most `page`; `last_seq` moves on to the last one read.
    pub async fn read(
        conn: &mut Conn,
        d: &Detected,
        settings: &Settings,
        last_seq: &mut i64,
        max_seq: i64,
        page: usize,
    ) -> Result<Self, SqlError> {
        let (Some(ct), DeltaStrategy::ChangeTable { add, delete, .. }) =
            (&d.change_table, &settings.delta)
        else {
            unreachable!("change-table import without a change table");
        };
        let q = |s: &str| d.dialect.quote_part(s);
        let mut sql = SqlBuilder::new(d.dialect);
        sql.push(&format!(
            "SELECT {}, {}, {} FROM {} WHERE {} > ",
            q(&ct.sequence_column),
            q(&ct.anchor_column),
            q(&ct.type_column),
            ct.table_sql,
            q(&ct.sequence_column)
        ));
        sql.param(Bind::Int(*last_seq), NativeKind::Int, "INT8");
        sql.push(&format!(" AND {} <= ", q(&ct.sequence_column)));
        sql.param(Bind::Int(max_seq), NativeKind::Int, "INT8");
        sql.push(&format!(" ORDER BY {}", q(&ct.sequence_column)))
            .push(&d.dialect.limit_clause(page));
        let rows = conn.fetch(&sql.text, &sql.binds).await?;
        Ok(Self::fold(&rows, add, delete, last_seq))
    }

    /// Folds change rows (sequence, anchor, change type) per object.
    fn fold(rows: &Rows, add: &str, delete: &str, last_seq: &mut i64) -> Self {
        let mut objects: Vec<ChangedObject> = Vec::new();
        // Anchor text -> index into `objects`.
        let mut index: HashMap<String, usize> = HashMap::new();
        for row in &rows.rows {
            if let Cell::Int(s) = row[0] {
                *last_seq = s;
            }
            let key = key_text(&row[1]);
            let kind = match &row[2] {
                Cell::Text(t) => Cow::Borrowed(t.as_str()),
                other => Cow::Owned(key_text(other)),
            };
            let deleted = kind.eq_ignore_ascii_case(delete);
            let added = kind.eq_ignore_ascii_case(add);
            match index.get(&key) {
                Some(&i) => {
                    let object = &mut objects[i];
                    object.anchor = row[1].clone();
                    object.deleted = deleted;
                    object.added |= added;
                }
                None => {
                    index.insert(key.clone(), objects.len());
                    objects.push(ChangedObject {
                        key,
                        anchor: row[1].clone(),
                        deleted,
                        added,
                    });
                }
            }
        }
        Self {
            read: rows.rows.len(),
            objects,
        }
    }

    /// Writes the page's objects in the order of their changes: one still in the table as its
    /// current row (a replace, or an add when it was added in this page), one gone (deleted,
    /// or changed and deleted again since) as a delete.
    pub async fn write(
        &self,
        conn: &mut Conn,
        d: &Detected,
        settings: &Settings,
        out: &mut PageWriter,
    ) -> Result<(), SqlError> {
        let anchor_column = &d.columns[d.anchors[0]];
        let rows = self.current_rows(conn, d, anchor_column).await?;
        let mut writer = RowsWriter::new(Some(conn), d, settings, &rows).await?;
        let mut current = match &writer {
            Some(w) => w.by_anchor_text()?,
            None => HashMap::new(),
        };
        let anchor_attr = d.attr_at(Location::Parent(d.anchors[0]));
        for object in &self.objects {
            let row = match object.deleted {
                true => None,
                false => current.remove(&object.key),
            };
            match (row, writer.as_mut()) {
                (Some(n), Some(writer)) => {
                    let modification = match object.added {
                        true => ObjectModification::Add,
                        false => ObjectModification::Replace,
                    };
                    writer.write(n, modification, out)?;
                }
                _ => write_delete(object, anchor_attr, d, settings, out)?,
            }
        }
        Ok(())
    }

    /// The table's current rows of the objects not deleted (in the database's order).
    async fn current_rows(
        &self,
        conn: &mut Conn,
        d: &Detected,
        anchor_column: &ColumnDef,
    ) -> Result<Rows, SqlError> {
        let wanted: Vec<&ChangedObject> = self.objects.iter().filter(|o| !o.deleted).collect();
        if wanted.is_empty() {
            return Ok(Rows::default());
        }
        let mut sql = d.select_all();
        sql.push(" WHERE ")
            .ident(&anchor_column.name)
            .push(" IN (")
            .join(wanted, ", ", |sql, o| {
                let b = cell_to_bind(&o.anchor, anchor_column.kind);
                sql.param(b, anchor_column.kind, &anchor_column.sql_type);
            })
            .push(")");
        conn.fetch(&sql.text, &sql.binds).await
    }
}

/// A delete entry for an object no longer in the table, its anchor from the change table.
fn write_delete(
    object: &ChangedObject,
    anchor_attr: Option<&Attr>,
    d: &Detected,
    settings: &Settings,
    out: &mut PageWriter,
) -> Result<(), SqlError> {
    let value = match anchor_attr {
        Some(a) => to_value(&object.anchor, a, settings)?,
        None => None,
    }
    .unwrap_or_else(|| Value::String(object.key.clone()));
    write_gone(d, &d.object_types[0], &[(0, value)], "", out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_of_changes_folds_per_object_in_order_of_first_change() {
        let change = |seq, anchor, kind: &str| {
            vec![Cell::Int(seq), Cell::Int(anchor), Cell::Text(kind.into())]
        };
        let rows = Rows {
            rows: vec![
                change(11, 7, "Add"),
                change(12, 3, "Update"),
                change(13, 7, "Update"),
                change(14, 5, "Update"),
                change(15, 3, "delete"),
                change(16, 5, "Add"),
            ],
            ..Rows::default()
        };
        let mut last_seq = 10;
        let page = PageChanges::fold(&rows, "Add", "Delete", &mut last_seq);
        assert_eq!((page.read, last_seq), (6, 16));
        let folded: Vec<(&str, bool, bool)> = page
            .objects
            .iter()
            .map(|o| (o.key.as_str(), o.deleted, o.added))
            .collect();
        // 7: added, then updated (still an add); 3: deleted last; 5: added after an update.
        assert_eq!(
            folded,
            [("7", false, true), ("3", true, false), ("5", false, true)]
        );
    }
}
