//! Rows written into an import page as entries: where an entry's parts are in a result's
//! columns, each row's anchors, DN and values, and the multi-valued attributes a page of rows
//! reads from the child table.

use std::collections::HashMap;

use plugin_api::prelude::*;

use crate::cells::{Cell, CellRef, Rows};
use crate::config::Settings;
use crate::conn::Conn;
use crate::error::SqlError;
use crate::schema::{Attr, Detected, Location};
use crate::sql::SqlBuilder;
use crate::values::{cell_text, cell_to_bind, to_value, with_value_ref};

/// A stable text key for matching anchors across tables (an integer key may come back as
/// text from another table, or the other way round).
pub fn key_text(c: &Cell) -> String {
    match c {
        Cell::Int(i) => i.to_string(),
        Cell::Text(s) => s.clone(),
        Cell::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

/// Where the parts of an entry are in a result's columns (matched by name), resolved once per
/// result.
pub struct RowLayout<'d> {
    /// Result column -> attribute.
    mapping: Vec<Option<&'d Attr>>,
    /// Result column of each anchor, with its attribute.
    anchors: Vec<(usize, &'d Attr)>,
    dn: Option<usize>,
    object_type: Option<usize>,
}

impl<'d> RowLayout<'d> {
    pub fn new(d: &'d Detected, settings: &Settings, columns: &[String]) -> Result<Self, SqlError> {
        let index = |name: &str| columns.iter().position(|c| c.eq_ignore_ascii_case(name));
        let column_of = |col: usize| index(&d.columns[col].name);
        let mapping = columns
            .iter()
            .map(|name| {
                d.attrs.iter().find(|a| {
                    a.name.eq_ignore_ascii_case(name)
                        && matches!(a.location, Location::Parent(_))
                        && a.operation != AttributeOperation::ExportOnly
                })
            })
            .collect();
        let anchors = d
            .anchors
            .iter()
            .map(|&a| {
                let attr = d.attr_at(Location::Parent(a)).expect("anchor attribute");
                column_of(a).map(|i| (i, attr))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                SqlError::Config(format!(
                    "the import result has no anchor column ({}); columns: {}",
                    settings.anchors.join(", "),
                    columns.join(", ")
                ))
            })?;
        Ok(Self {
            mapping,
            anchors,
            dn: d.dn_column.and_then(column_of),
            object_type: d.type_column.and_then(column_of),
        })
    }
}

/// Writes one row into the page as an entry, values borrowed from the row, with the row's
/// child-table values.
#[allow(clippy::too_many_arguments)]
pub fn write_row(
    layout: &RowLayout<'_>,
    d: &Detected,
    settings: &Settings,
    row: &[CellRef<'_>],
    children: Vec<(&Attr, Vec<Value>)>,
    modification: ObjectModification,
    scratch: &mut RowScratch,
    page: &mut PageWriter,
) -> Result<(), SqlError> {
    let object_type = match layout.object_type.map(|i| &row[i]) {
        Some(CellRef::Text(t)) => Some(t),
        _ => None,
    };
    let RowScratch { anchors, dn, names } = scratch;
    let names = match names {
        Some(n) => &*n,
        None => names.insert(PageNames::new(layout, d, page)),
    };
    anchors.clear();
    let mut missing = None;
    for (k, &(idx, attr)) in layout.anchors.iter().enumerate() {
        match with_value_ref(&row[idx], attr, settings, |v| Value::from(v))? {
            Some(v) => anchors.push((k, v)),
            // A row without an anchor cannot be tracked; the host reports it.
            None => missing = Some(&d.columns[d.anchors[k]].name),
        }
    }
    dn.clear();
    push_dn(dn, layout.dn.map(|i| &row[i]), d, anchors);
    let object_type = match object_type {
        Some(t) => Name::Text(t),
        None => Name::Id(names.object_type),
    };
    let mut e = page.entry(object_type, modification, dn, dn);
    for (k, v) in anchors.iter() {
        e.anchor(names.anchors[*k], v.into());
    }
    if let Some(column) = missing {
        e.error(
            ImportErrorCode::MissingAnchor,
            "MissingAnchor",
            &format!("anchor column '{column}' is NULL"),
        );
    }
    for (i, cell) in row.iter().enumerate() {
        let (Some(attr), Some(name)) = (layout.mapping[i], names.columns[i]) else {
            continue;
        };
        with_value_ref(cell, attr, settings, |v| {
            e.add(name, v);
        })?;
    }
    for (attr, values) in children {
        e.change(
            &attr.name,
            AttributeModification::Add,
            values
                .iter()
                .map(|v| (ValueModification::Add, ValueRef::from(v))),
        );
    }
    Ok(())
}

/// Appends an entry's DN: the DN column's value, or (no DN column, or NULL in it) the anchor
/// values, `+`-joined, each as `column=value` when the anchor is composite.
#[inline]
fn push_dn(
    dn: &mut String,
    column: Option<&CellRef<'_>>,
    d: &Detected,
    anchors: &[(usize, Value)],
) {
    match column {
        Some(CellRef::Null) | None => {
            for (n, (k, v)) in anchors.iter().enumerate() {
                if n > 0 {
                    dn.push('+');
                }
                if d.anchors.len() > 1 {
                    dn.push_str(&d.columns[d.anchors[*k]].name);
                    dn.push('=');
                }
                push_text(dn, v);
            }
        }
        Some(CellRef::Text(t)) => dn.push_str(t),
        Some(c) => dn.push_str(&cell_text(c)),
    }
}

/// Writes a `Delete` for an object the table does not hold: its anchors (anchor index, value)
/// and its DN, or without one the DN a full import generates from those anchors.
pub fn write_gone(
    d: &Detected,
    object_type: &str,
    anchors: &[(usize, Value)],
    dn: &str,
    page: &mut PageWriter,
) {
    let mut generated = String::new();
    let dn = if dn.is_empty() {
        push_dn(&mut generated, None, d, anchors);
        generated.as_str()
    } else {
        dn
    };
    let mut e = page.entry(object_type, ObjectModification::Delete, dn, dn);
    for (k, v) in anchors {
        e.anchor(&d.columns[d.anchors[*k]].name, v.into());
    }
}

/// Buffers [`write_row`] reuses from row to row, and the names of the page being written.
#[derive(Default)]
pub struct RowScratch {
    anchors: Vec<(usize, Value)>,
    dn: String,
    /// Set by the page's first row; reset ([`RowScratch::new_page`]) with every page.
    names: Option<PageNames>,
}

impl RowScratch {
    /// Forgets the names of the previous page (ids are valid in their own page only).
    pub fn new_page(&mut self) {
        self.names = None;
    }
}

/// The ids of a row layout's names in one page's name table, looked up once per page
/// instead of once per value.
struct PageNames {
    /// Per result column, for the mapped ones.
    columns: Vec<Option<NameId>>,
    /// Per anchor.
    anchors: Vec<NameId>,
    /// The object type of rows without a type column.
    object_type: NameId,
}

impl PageNames {
    fn new(layout: &RowLayout<'_>, d: &Detected, page: &mut PageWriter) -> Self {
        Self {
            columns: layout
                .mapping
                .iter()
                .map(|a| a.map(|a| page.name(&a.name)))
                .collect(),
            anchors: d
                .anchors
                .iter()
                .map(|&a| page.name(&d.columns[a].name))
                .collect(),
            object_type: page.name(&d.object_types[0]),
        }
    }
}

/// Writes rows read whole (a query's result, or a chunk of a stream) as entries, in any order:
/// the result's layout and the rows' child-table values are read once, up front.
pub struct RowsWriter<'a> {
    d: &'a Detected,
    settings: &'a Settings,
    rows: &'a [Vec<Cell>],
    layout: RowLayout<'a>,
    children: ChildValues<'a>,
    scratch: RowScratch,
    /// The cells of the row being written, borrowed from `rows`; reused from row to row.
    cells: Vec<CellRef<'a>>,
}

impl<'a> RowsWriter<'a> {
    /// `None` for an empty result (it carries no column names to check). `conn` reads the
    /// child table, if there is one.
    pub async fn new(
        conn: Option<&mut Conn>,
        d: &'a Detected,
        settings: &'a Settings,
        rows: &'a Rows,
    ) -> Result<Option<Self>, SqlError> {
        if rows.rows.is_empty() {
            return Ok(None);
        }
        let layout = RowLayout::new(d, settings, &rows.columns)?;
        let children = if d.child_columns.is_empty() {
            ChildValues::default()
        } else {
            let conn = conn.expect("a connection for the child table");
            let keys: Vec<&Cell> = rows.rows.iter().map(|r| &r[layout.anchors[0].0]).collect();
            child_values(conn, d, settings, &keys).await?
        };
        Ok(Some(Self {
            d,
            settings,
            rows: &rows.rows,
            layout,
            children,
            scratch: RowScratch::default(),
            cells: Vec::new(),
        }))
    }

    /// Writes row `n` as an entry.
    pub fn write(
        &mut self,
        n: usize,
        modification: ObjectModification,
        page: &mut PageWriter,
    ) -> Result<(), SqlError> {
        self.cells.clear();
        self.cells.extend(self.rows[n].iter().map(Cell::as_ref));
        write_row(
            &self.layout,
            self.d,
            self.settings,
            &self.cells,
            self.children.take(n),
            modification,
            &mut self.scratch,
            page,
        )
    }

    /// The cells of row `n` that hold its anchors, in the order of the anchor columns.
    pub fn anchor_cells(&self, n: usize) -> Vec<&'a Cell> {
        let row = &self.rows[n];
        self.layout.anchors.iter().map(|&(i, _)| &row[i]).collect()
    }

    /// The cell of row `n` that holds its DN, when the result has a DN column.
    pub fn dn_cell(&self, n: usize) -> Option<&'a Cell> {
        self.layout.dn.map(|i| &self.rows[n][i])
    }

    /// Row index by the text of the first anchor value its entry carries (empty for none); for
    /// rows with the same text, the last one.
    pub fn by_anchor_text(&self) -> Result<HashMap<String, usize>, SqlError> {
        let mut out = HashMap::with_capacity(self.rows.len());
        for (n, row) in self.rows.iter().enumerate() {
            let mut key = String::new();
            for &(idx, attr) in &self.layout.anchors {
                if let Some(text) =
                    with_value_ref(&row[idx].as_ref(), attr, self.settings, |v| v.as_text())?
                {
                    key = text;
                    break;
                }
            }
            out.insert(key, n);
        }
        Ok(out)
    }
}

/// Writes rows (from the table or a query, columns matched by name) into the page as entries,
/// in their order, with the multi-valued attributes from the child table (one query per page,
/// made before the page is written).
pub async fn write_entries(
    conn: Option<&mut Conn>,
    d: &Detected,
    settings: &Settings,
    rows: Rows,
    modification: ObjectModification,
    page: &mut PageWriter,
) -> Result<(), SqlError> {
    let Some(mut writer) = RowsWriter::new(conn, d, settings, &rows).await? else {
        return Ok(());
    };
    for n in 0..rows.rows.len() {
        writer.write(n, modification, page)?;
    }
    Ok(())
}

/// A value's text as [`Value::as_text`] gives it, appended without a temporary string for the
/// common cases.
fn push_text(out: &mut String, v: &Value) {
    match v {
        Value::String(s) | Value::Reference(s) => out.push_str(s),
        // itoa: ~170 instructions per row fewer than core::fmt (callgrind).
        Value::Integer(i) => out.push_str(itoa::Buffer::new().format(*i)),
        other => out.push_str(&other.as_text()),
    }
}

/// Child-table values of one page: per entry (row index), per child attribute.
#[derive(Default)]
struct ChildValues<'a> {
    values: HashMap<usize, Vec<(&'a Attr, Vec<Value>)>>,
}

impl<'a> ChildValues<'a> {
    fn take(&mut self, entry: usize) -> Vec<(&'a Attr, Vec<Value>)> {
        self.values.remove(&entry).unwrap_or_default()
    }
}

/// The child-table values of the rows whose anchors are `keys` (one per row, by row index).
async fn child_values<'d>(
    conn: &mut Conn,
    d: &'d Detected,
    settings: &Settings,
    keys: &[&Cell],
) -> Result<ChildValues<'d>, SqlError> {
    let join = d.child_join.as_ref().expect("child join column");
    let mut sql = SqlBuilder::new(d.dialect);
    sql.push("SELECT ").ident(&join.name);
    for c in &d.child_columns {
        sql.push(", ").push(&d.dialect.select_expr(&c.name, c.kind));
    }
    sql.push(" FROM ")
        .push(&d.child_table_sql)
        .push(" WHERE ")
        .ident(&join.name)
        .push(" IN (");
    // Anchor text -> row index.
    let mut position: HashMap<String, usize> = HashMap::new();
    let present = keys
        .iter()
        .enumerate()
        .filter(|(_, key)| !matches!(key, Cell::Null));
    sql.join(present, ", ", |sql, (i, key)| {
        position.insert(key_text(key), i);
        sql.param(cell_to_bind(key, join.kind), join.kind, &join.sql_type);
    });
    if position.is_empty() {
        return Ok(ChildValues::default());
    }
    sql.push(") ORDER BY ").ident(&join.name);
    for c in &d.child_columns {
        sql.push(", ").ident(&c.name);
    }
    let child_rows = conn.fetch(&sql.text, &sql.binds).await?;
    // Values per (entry, child attribute), in the database's order.
    let mut values: HashMap<(usize, usize), Vec<Value>> = HashMap::new();
    let child_attrs: Vec<&Attr> = (0..d.child_columns.len())
        .map(|k| d.attr_at(Location::Child(k)).expect("child attribute"))
        .collect();
    for row in &child_rows.rows {
        let Some(&entry) = position.get(&key_text(&row[0])) else {
            continue;
        };
        for (k, attr) in child_attrs.iter().enumerate() {
            if attr.operation == AttributeOperation::ExportOnly {
                continue;
            }
            if let Some(v) = to_value(&row[k + 1], attr, settings)? {
                let list = values.entry((entry, k)).or_default();
                if !list.contains(&v) {
                    list.push(v);
                }
            }
        }
    }
    let mut keys: Vec<(usize, usize)> = values.keys().copied().collect();
    keys.sort_unstable();
    let mut out = ChildValues::default();
    for key in keys {
        let vals = values.remove(&key).unwrap_or_default();
        out.values
            .entry(key.0)
            .or_default()
            .push((child_attrs[key.1], vals));
    }
    Ok(out)
}
