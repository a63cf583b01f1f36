//! Full and delta import, one page per call.
//!
//! Table mode pages by keyset on the anchor (`WHERE (anchor) > (last) ORDER BY anchor LIMIT n`)
//! so every page costs the same and memory stays constant however large the table; OFFSET
//! would rescan all skipped rows on every page. The watermark is taken before the first row is
//! read, so a change made while the import runs is seen again by the next delta.

use std::collections::{HashMap, VecDeque};

use plugin_api::prelude::*;

use crate::cells::{Bind, Cell, CellRef, NativeKind, Rows};
use crate::config::*;
use crate::conn::Conn;
use crate::dialect::Dialect;
use crate::error::{SqlError, within};
use crate::schema::{Detected, Location};
use crate::sql::{SqlBuilder, translate_named};
use crate::values::{cell_text, cell_to_bind, to_value, with_value_ref};

pub struct ImportRun {
    pub kind: ImportKind,
    pub page_size: usize,
    /// The watermark this run will hand back (`CustomData`).
    pub custom_data: String,
    pub done: bool,
}

pub enum ImportKind {
    Table {
        /// The last anchor of the previous page (keyset).
        last: Option<Vec<Bind>>,
        /// Delta: only rows whose watermark column is at or after this.
        since: Option<String>,
    },
    Query {
        sql: String,
        names: Vec<String>,
        paged: bool,
        next_index: i64,
        since: String,
        modification: ObjectModification,
        /// Rows of an unpaged query, handed out page by page.
        buffered: Option<(Vec<String>, VecDeque<Vec<Cell>>)>,
    },
    Changes {
        last_seq: i64,
        max_seq: i64,
    },
}

/// Reads the database's clock with the configured watermark query.
async fn read_watermark(conn: &mut Conn, query: &str) -> Result<String, SqlError> {
    let rows = conn.fetch(query, &[]).await?;
    let cell = rows
        .rows
        .first()
        .and_then(|r| r.first())
        .cloned()
        .unwrap_or(Cell::Null);
    match cell {
        Cell::Null => Err(SqlError::Config(format!(
            "'{P_WM_QUERY}' returned no value"
        ))),
        Cell::Text(s) => Ok(s),
        Cell::Int(i) => Ok(i.to_string()),
        // ISO 8601 with a space, which every database parses back in the comparison.
        Cell::TimestampTz(t) => Ok(t
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond][offset_hour sign:mandatory]:[offset_minute]"
            ))
            .unwrap_or_else(|_| t.to_string())),
        Cell::Timestamp(t) => Ok(t
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]"
            ))
            .unwrap_or_else(|_| t.to_string())),
        other => Ok(format!("{other:?}")),
    }
}

async fn max_seq(conn: &mut Conn, d: &Detected, settings: &Settings) -> Result<i64, SqlError> {
    let DeltaStrategy::ChangeTable {
        table,
        sequence_column,
        ..
    } = &settings.delta
    else {
        return Ok(0);
    };
    let sql = format!(
        "SELECT MAX({}) FROM {}",
        d.dialect.quote_part(sequence_column),
        d.dialect.quote_table(table)
    );
    let rows = conn.fetch(&sql, &[]).await.map_err(|e| match e {
        e if e.is_connection() => e,
        e => SqlError::Config(format!("'{P_CT_TABLE}': {e}")),
    })?;
    Ok(match rows.rows.first().and_then(|r| r.first()) {
        Some(Cell::Int(i)) => *i,
        Some(Cell::Text(s)) => s.parse().unwrap_or(0),
        _ => 0,
    })
}

pub async fn open(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    request: &OpenImportRequest,
) -> Result<ImportRun, SqlError> {
    let page_size = request.page_size.clamp(1, 10_000) as usize;
    let delta = request.import_type == ImportType::Delta;
    if delta && settings.delta == DeltaStrategy::None {
        return Err(SqlError::Config(format!(
            "delta import needs a '{P_DELTA}' other than None"
        )));
    }
    if delta && request.custom_data.trim().is_empty() {
        return Err(SqlError::Config(
            "delta import needs the watermark of a previous full import: run a full import first"
                .into(),
        ));
    }
    // The new watermark, taken before any row is read.
    let custom_data = match &settings.delta {
        DeltaStrategy::None => String::new(),
        DeltaStrategy::Watermark { query, .. } => read_watermark(conn, query).await?,
        DeltaStrategy::ChangeTable { .. } => max_seq(conn, d, settings).await?.to_string(),
    };
    let since = delta.then(|| request.custom_data.trim().to_owned());
    let kind = match (&settings.delta, delta) {
        (DeltaStrategy::ChangeTable { .. }, true) => ImportKind::Changes {
            last_seq: since.as_deref().unwrap_or("0").parse().map_err(|_| {
                SqlError::Config(format!(
                    "the watermark {:?} is not a change-table sequence number: run a full import",
                    request.custom_data
                ))
            })?,
            max_seq: custom_data.parse().unwrap_or(0),
        },
        _ => match settings.import_mode {
            RunMode::Table => ImportKind::Table { last: None, since },
            RunMode::Query | RunMode::StoredProcedure => {
                let template = match (settings.import_mode.clone(), delta) {
                    (RunMode::Query, false) => settings.import_query.clone(),
                    (RunMode::Query, true) if !settings.delta_query.is_empty() => {
                        settings.delta_query.clone()
                    }
                    (RunMode::Query, true) => {
                        return Err(SqlError::Config(format!(
                            "'{P_DELTA_QUERY}' is required for a delta import with the SQL query method"
                        )));
                    }
                    (_, true) if settings.delta_proc.is_empty() => {
                        return Err(SqlError::Config(format!(
                            "'{P_DELTA_PROC}' is required for a delta import with the stored procedure method"
                        )));
                    }
                    (_, true) => d
                        .dialect
                        .procedure_call(&settings.delta_proc, "@Watermark, @StartIndex, @EndIndex"),
                    (_, false) => d
                        .dialect
                        .procedure_call(&settings.import_proc, "@StartIndex, @EndIndex"),
                };
                let (sql, names) = translate_named(d.dialect, &template);
                for n in &names {
                    if !["startindex", "endindex", "watermark"]
                        .contains(&n.to_ascii_lowercase().as_str())
                    {
                        return Err(SqlError::Config(format!(
                            "'{P_IMPORT_QUERY}': unknown parameter @{n} (use @StartIndex, @EndIndex, @Watermark)"
                        )));
                    }
                }
                let paged = names.iter().any(|n| n.eq_ignore_ascii_case("StartIndex"));
                ImportKind::Query {
                    sql,
                    names,
                    paged,
                    next_index: 1,
                    since: since.unwrap_or_default(),
                    modification: if delta {
                        ObjectModification::Replace
                    } else {
                        ObjectModification::Add
                    },
                    buffered: None,
                }
            }
        },
    };
    Ok(ImportRun {
        kind,
        page_size,
        custom_data,
        done: false,
    })
}

fn select_list(d: &Detected) -> String {
    d.columns
        .iter()
        .map(|c| d.dialect.select_expr(&c.name, c.kind))
        .collect::<Vec<_>>()
        .join(", ")
}

fn anchor_list(d: &Detected) -> String {
    d.anchor_columns()
        .map(|c| d.dialect.quote_part(&c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The table's rows in anchor order: after `last` (keyset paging), changed since the
/// watermark `since` (delta), at most `limit`.
fn table_select(
    d: &Detected,
    last: Option<&[Bind]>,
    since: Option<&str>,
    limit: Option<usize>,
) -> SqlBuilder {
    let mut sql = SqlBuilder::new(d.dialect);
    sql.push("SELECT ")
        .push(&select_list(d))
        .push(" FROM ")
        .push(&d.table_sql);
    let mut conditions = 0;
    if let Some(last) = last {
        sql.push(" WHERE (").push(&anchor_list(d)).push(") > (");
        for (i, (b, c)) in last.iter().zip(d.anchor_columns()).enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.param(b.clone(), c.kind, &c.sql_type);
        }
        sql.push(")");
        conditions += 1;
    }
    if let (Some(since), Some(wm)) = (since, d.watermark_column) {
        let c = &d.columns[wm];
        sql.push(if conditions == 0 { " WHERE " } else { " AND " });
        // `>=`: the clock has finite precision, and seeing a row twice is harmless
        // while missing one is not.
        sql.ident(&c.name).push(" >= ");
        sql.param(Bind::Text(since.to_owned()), c.kind, &c.sql_type);
    }
    sql.push(" ORDER BY ").push(&anchor_list(d));
    if let Some(limit) = limit {
        sql.push(&d.dialect.limit_clause(limit));
    }
    sql
}

/// Where finished pages go: the page and whether it is the last one, or the error that ended
/// the run.
pub type PageSender = tokio::sync::mpsc::Sender<Result<(PageWriter, bool), SqlError>>;

/// Whether this run reads the table with one streamed statement instead of a keyset query
/// per page. PostgreSQL and MySQL/MariaDB: a page per query costs a round trip and a plan
/// each time (PostgreSQL even turns large-limit pages into repeated top-N sorts), while one
/// statement reads the table in a single consistent snapshot. SQLite keeps keyset pages: a
/// statement that stays open holds the database's shared lock, and in SQLite's default
/// (rollback-journal) mode that would keep every writer out for the whole import. ODBC
/// drivers are read whole per statement, so they page too.
pub fn streams(run: &ImportRun, d: &Detected) -> bool {
    matches!(run.kind, ImportKind::Table { last: None, .. })
        && matches!(d.dialect, Dialect::Postgres | Dialect::MySql)
}

/// A table-mode run as one streamed statement ([`streams`]), page by page into `pages`, each
/// page under the command timeout. `children` is a second connection for the child-table
/// queries (the first one is busy streaming).
pub async fn stream_table(
    conn: &mut Conn,
    mut children: Option<Conn>,
    d: &Detected,
    settings: &Settings,
    run: &ImportRun,
    pages: &PageSender,
) -> Result<(), SqlError> {
    let ImportKind::Table { since, .. } = &run.kind else {
        unreachable!("only table runs are streamed");
    };
    let modification = if since.is_some() {
        ObjectModification::Replace
    } else {
        ObjectModification::Add
    };
    let sql = table_select(d, None, since.as_deref(), None);
    let mut rows = conn.stream(&sql.text, &sql.binds);
    let mut capacity = 0;
    if children.is_none() {
        // Each row goes into the page straight from the driver's buffer.
        let mut layout: Option<RowLayout<'_>> = None;
        let mut scratch = RowScratch::default();
        loop {
            let mut page = PageWriter::with_capacity(capacity);
            scratch.new_page();
            let next = async {
                while page.len() < run.page_size {
                    let written = rows
                        .next_row(|header, cells| {
                            let layout = match &mut layout {
                                Some(l) => l,
                                None => {
                                    layout.insert(RowLayout::new(d, settings, &header.columns)?)
                                }
                            };
                            write_row(
                                layout,
                                d,
                                settings,
                                cells,
                                Vec::new(),
                                modification,
                                &mut scratch,
                                &mut page,
                            )
                        })
                        .await?;
                    if written.is_none() {
                        return Ok(true);
                    }
                }
                Ok::<_, SqlError>(false)
            };
            let last = within(settings.timeout, next).await?;
            capacity = page.byte_len();
            if pages.send(Ok((page, last))).await.is_err() || last {
                return Ok(());
            }
        }
    }
    loop {
        let next = async {
            let chunk = rows.next_chunk(run.page_size).await?;
            let last = chunk.rows.len() < run.page_size;
            let mut page = PageWriter::with_capacity(capacity);
            write_entries(
                children.as_mut(),
                d,
                settings,
                chunk,
                modification,
                &mut page,
            )
            .await?;
            Ok::<_, SqlError>((page, last))
        };
        let (page, last) = within(settings.timeout, next).await?;
        capacity = page.byte_len();
        if pages.send(Ok((page, last))).await.is_err() || last {
            return Ok(());
        }
    }
}

/// The next page of entries.
pub async fn next_page(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    run: &mut ImportRun,
    out: &mut PageWriter,
) -> Result<(), SqlError> {
    if run.done {
        return Ok(());
    }
    let page = run.page_size;
    match &mut run.kind {
        ImportKind::Table { last, since } => {
            let sql = table_select(d, last.as_deref(), since.as_deref(), Some(page));
            let rows = conn.fetch(&sql.text, &sql.binds).await?;
            if rows.rows.len() < page {
                run.done = true;
            }
            if let Some(last_row) = rows.rows.last() {
                *last = Some(
                    d.anchors
                        .iter()
                        .map(|&i| cell_to_bind(&last_row[i], d.columns[i].kind))
                        .collect(),
                );
            }
            let modification = if since.is_some() {
                ObjectModification::Replace
            } else {
                ObjectModification::Add
            };
            write_entries(Some(conn), d, settings, rows, modification, out).await
        }
        ImportKind::Query {
            sql,
            names,
            paged,
            next_index,
            since,
            modification,
            buffered,
        } => {
            let modification = *modification;
            if !*paged {
                if buffered.is_none() {
                    let binds = query_binds(names, 1, i64::MAX, since);
                    let rows = conn.fetch(sql, &binds).await?;
                    *buffered = Some((rows.columns, rows.rows.into()));
                }
                let (columns, queue) = buffered.as_mut().expect("buffered rows");
                let take = queue.len().min(page);
                let rows = Rows {
                    columns: columns.clone(),
                    types: Vec::new(),
                    rows: queue.drain(..take).collect(),
                };
                if queue.is_empty() {
                    run.done = true;
                }
                return write_entries(Some(conn), d, settings, rows, modification, out).await;
            }
            let end = *next_index + page as i64 - 1;
            let binds = query_binds(names, *next_index, end, since);
            let rows = conn.fetch(sql, &binds).await?;
            *next_index = end + 1;
            if rows.rows.len() < page {
                run.done = true;
            }
            write_entries(Some(conn), d, settings, rows, modification, out).await
        }
        ImportKind::Changes { last_seq, max_seq } => {
            let DeltaStrategy::ChangeTable {
                table,
                anchor_column,
                type_column,
                sequence_column,
                add,
                update: _,
                delete,
            } = &settings.delta
            else {
                unreachable!("change-table import without a change table");
            };
            let q = |s: &str| d.dialect.quote_part(s);
            let mut sql = SqlBuilder::new(d.dialect);
            sql.push(&format!(
                "SELECT {}, {}, {} FROM {} WHERE {} > ",
                q(sequence_column),
                q(anchor_column),
                q(type_column),
                d.dialect.quote_table(table),
                q(sequence_column)
            ));
            sql.param(Bind::Int(*last_seq), NativeKind::Int, "INT8");
            sql.push(&format!(" AND {} <= ", q(sequence_column)));
            sql.param(Bind::Int(*max_seq), NativeKind::Int, "INT8");
            sql.push(&format!(" ORDER BY {}", q(sequence_column)))
                .push(&d.dialect.limit_clause(page));
            let changes = conn.fetch(&sql.text, &sql.binds).await?;
            if changes.rows.len() < page {
                run.done = true;
            }
            // The last change of each object in this page wins; order of first appearance is kept.
            let mut order: Vec<String> = Vec::new();
            let mut latest: HashMap<String, (Cell, String)> = HashMap::new();
            // Objects added within this page are reported as adds even if changed again since.
            let mut added: std::collections::HashSet<String> = std::collections::HashSet::new();
            for row in &changes.rows {
                if let Cell::Int(s) = row[0] {
                    *last_seq = s;
                }
                let key = key_text(&row[1]);
                if !latest.contains_key(&key) {
                    order.push(key.clone());
                }
                let kind = match &row[2] {
                    Cell::Text(t) => t.clone(),
                    other => key_text(other),
                };
                if kind.eq_ignore_ascii_case(add) {
                    added.insert(key.clone());
                }
                latest.insert(key, (row[1].clone(), kind));
            }
            let anchor_col = &d.columns[d.anchors[0]];
            let wanted: Vec<Bind> = order
                .iter()
                .filter(|k| !latest[*k].1.eq_ignore_ascii_case(delete))
                .map(|k| cell_to_bind(&latest[k].0, anchor_col.kind))
                .collect();
            let mut by_anchor: HashMap<String, CsEntryChange> = HashMap::new();
            if !wanted.is_empty() {
                let mut sql = SqlBuilder::new(d.dialect);
                sql.push("SELECT ")
                    .push(&select_list(d))
                    .push(" FROM ")
                    .push(&d.table_sql)
                    .push(" WHERE ")
                    .ident(&anchor_col.name)
                    .push(" IN (");
                for (i, b) in wanted.into_iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.param(b, anchor_col.kind, &anchor_col.sql_type);
                }
                sql.push(")");
                let rows = conn.fetch(&sql.text, &sql.binds).await?;
                // Written, then read back: this page is rearranged by anchor before it goes out.
                let mut changed = PageWriter::new();
                write_entries(
                    Some(conn),
                    d,
                    settings,
                    rows,
                    ObjectModification::Replace,
                    &mut changed,
                )
                .await?;
                let (bytes, n) = changed.into_parts();
                let changed = plugin_api::page::decode_page(&bytes, n)
                    .map_err(|e| SqlError::Value(e.to_string()))?;
                for e in changed {
                    let key = e
                        .anchor
                        .first()
                        .map(|a| a.value.as_text())
                        .unwrap_or_default();
                    by_anchor.insert(key, e);
                }
            }
            let anchor_attr = d
                .attrs
                .iter()
                .find(|a| a.location == Location::Parent(d.anchors[0]))
                .cloned();
            for key in order {
                let (cell, kind) = &latest[&key];
                let deleted = kind.eq_ignore_ascii_case(delete);
                match by_anchor.remove(&key) {
                    Some(mut e) if !deleted => {
                        if added.contains(&key) {
                            e.modification = ObjectModification::Add;
                        }
                        out.push(&e);
                    }
                    // Deleted, or changed and deleted again since: the row is gone.
                    _ => {
                        let value = match &anchor_attr {
                            Some(a) => to_value(cell, a, settings)?,
                            None => None,
                        }
                        .unwrap_or_else(|| Value::String(key.clone()));
                        let dn = value.as_text();
                        out.entry(&d.object_types[0], ObjectModification::Delete, &dn, &dn)
                            .anchor(&anchor_col.name, (&value).into());
                    }
                }
            }
            Ok(())
        }
    }
}

fn query_binds(names: &[String], start: i64, end: i64, since: &str) -> Vec<Bind> {
    names
        .iter()
        .map(|n| match n.to_ascii_lowercase().as_str() {
            "startindex" => Bind::Int(start),
            "endindex" => Bind::Int(end),
            _ => Bind::Text(since.to_owned()),
        })
        .collect()
}

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
struct RowLayout<'d> {
    /// Result column -> attribute.
    mapping: Vec<Option<&'d crate::schema::Attr>>,
    /// Result column of each anchor, with its attribute.
    anchors: Vec<(usize, &'d crate::schema::Attr)>,
    dn: Option<usize>,
    object_type: Option<usize>,
}

impl<'d> RowLayout<'d> {
    fn new(d: &'d Detected, settings: &Settings, columns: &[String]) -> Result<Self, SqlError> {
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
                let attr = d
                    .attrs
                    .iter()
                    .find(|x| x.location == Location::Parent(a))
                    .expect("anchor attribute");
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
fn write_row(
    layout: &RowLayout<'_>,
    d: &Detected,
    settings: &Settings,
    row: &[CellRef<'_>],
    children: Vec<(&crate::schema::Attr, Vec<Value>)>,
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
    match layout.dn.map(|i| &row[i]) {
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

/// Buffers [`write_row`] reuses from row to row, and the names of the page being written.
#[derive(Default)]
struct RowScratch {
    anchors: Vec<(usize, Value)>,
    dn: String,
    /// Set by the page's first row; reset ([`RowScratch::new_page`]) with every page.
    names: Option<PageNames>,
}

impl RowScratch {
    /// Forgets the names of the previous page (ids are valid in their own page only).
    fn new_page(&mut self) {
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

/// Writes rows (from the table or a query, columns matched by name) into the page as entries,
/// with the multi-valued attributes from the child table (one query per page, made before the
/// page is written).
async fn write_entries(
    conn: Option<&mut Conn>,
    d: &Detected,
    settings: &Settings,
    rows: Rows,
    modification: ObjectModification,
    page: &mut PageWriter,
) -> Result<(), SqlError> {
    if rows.rows.is_empty() {
        // An empty result carries no column names to check.
        return Ok(());
    }
    let layout = RowLayout::new(d, settings, &rows.columns)?;
    let mut children = if d.child_columns.is_empty() {
        ChildValues::default()
    } else {
        let conn = conn.expect("a connection for the child table");
        let keys: Vec<&Cell> = rows.rows.iter().map(|r| &r[layout.anchors[0].0]).collect();
        child_values(conn, d, settings, &keys).await?
    };
    let mut scratch = RowScratch::default();
    let mut cells: Vec<CellRef<'_>> = Vec::new();
    for (n, row) in rows.rows.iter().enumerate() {
        cells.clear();
        cells.extend(row.iter().map(Cell::as_ref));
        write_row(
            &layout,
            d,
            settings,
            &cells,
            children.take(n),
            modification,
            &mut scratch,
            page,
        )?;
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
    values: HashMap<usize, Vec<(&'a crate::schema::Attr, Vec<Value>)>>,
}

impl<'a> ChildValues<'a> {
    fn take(&mut self, entry: usize) -> Vec<(&'a crate::schema::Attr, Vec<Value>)> {
        self.values.remove(&entry).unwrap_or_default()
    }
}

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
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut first = true;
    for (i, key) in keys.iter().enumerate() {
        if matches!(key, Cell::Null) {
            continue;
        }
        if !first {
            sql.push(", ");
        }
        first = false;
        position.insert(key_text(key), i);
        sql.param(cell_to_bind(key, join.kind), join.kind, &join.sql_type);
    }
    if first {
        return Ok(ChildValues::default());
    }
    sql.push(") ORDER BY ").ident(&join.name);
    for c in &d.child_columns {
        sql.push(", ").ident(&c.name);
    }
    let child_rows = conn.fetch(&sql.text, &sql.binds).await?;
    // Values per (entry, child attribute), in the database's order.
    let mut values: HashMap<(usize, usize), Vec<Value>> = HashMap::new();
    let child_attrs: Vec<&crate::schema::Attr> = (0..d.child_columns.len())
        .map(|k| {
            d.attrs
                .iter()
                .find(|a| a.location == Location::Child(k))
                .expect("child attribute")
        })
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
