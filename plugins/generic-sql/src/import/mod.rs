//! Full and delta import, one page per call.
//!
//! Table mode pages by keyset on the anchor (`WHERE (anchor) > (last) ORDER BY anchor LIMIT n`)
//! so every page costs the same and memory stays constant however large the table; OFFSET
//! would rescan all skipped rows on every page. The watermark is taken before the first row is
//! read, so a change made while the import runs is seen again by the next delta.
//!
//! How a row becomes an entry is in `entries`; the change-table delta in `changes`; the
//! objects the host asks for by name (FullObject import) in `full_object`.

mod changes;
mod entries;
mod full_object;

use std::collections::VecDeque;

use plugin_api::prelude::*;

use crate::cells::{Bind, Cell, Rows};
use crate::config::*;
use crate::conn::{Conn, Pool};
use crate::dialect::Dialect;
use crate::error::{SqlError, within};
use crate::schema::Detected;
use crate::sql::{SqlBuilder, translate_named};
use crate::values::cell_to_bind;
use changes::PageChanges;
use entries::{RowLayout, RowScratch, write_entries, write_row};
pub use full_object::write_full_objects;

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
    Query(QueryRun),
    Changes {
        last_seq: i64,
        max_seq: i64,
    },
}

/// A run of the configured import query or procedure.
pub struct QueryRun {
    sql: String,
    /// The statement's parameters, in placeholder order.
    names: Vec<String>,
    /// The statement takes `@StartIndex`: it runs once per page.
    paged: bool,
    next_index: i64,
    since: String,
    modification: ObjectModification,
    /// Rows of an unpaged query, handed out page by page.
    buffered: Option<(Vec<String>, VecDeque<Vec<Cell>>)>,
}

/// Entries of a full import are adds; a delta's (objects changed since the watermark) replace
/// what the host has.
fn modification_of(delta: bool) -> ObjectModification {
    if delta {
        ObjectModification::Replace
    } else {
        ObjectModification::Add
    }
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

async fn max_seq(conn: &mut Conn, d: &Detected) -> Result<i64, SqlError> {
    let Some(ct) = &d.change_table else {
        return Ok(0);
    };
    let sql = format!(
        "SELECT MAX({}) FROM {}",
        d.dialect.quote_part(&ct.sequence_column),
        ct.table_sql
    );
    let rows = conn
        .fetch(&sql, &[])
        .await
        .map_err(|e| e.blame_config(|e| format!("'{P_CT_TABLE}': {e}")))?;
    Ok(match rows.rows.first().and_then(|r| r.first()) {
        Some(Cell::Int(i)) => *i,
        Some(Cell::Text(s)) => s.parse().unwrap_or(0),
        _ => 0,
    })
}

/// A delta import needs a delta strategy and the watermark of an earlier import.
fn check_delta(settings: &Settings, request: &OpenImportRequest) -> Result<(), SqlError> {
    // Not declared (the capabilities say no delta import): ECMA2's "not implemented".
    if settings.delta == DeltaStrategy::None {
        return Err(SqlError::Unsupported(format!(
            "delta import needs a '{P_DELTA}' other than None"
        )));
    }
    if request.custom_data.trim().is_empty() {
        return Err(SqlError::Config(
            "delta import needs the watermark of a previous full import: run a full import first"
                .into(),
        ));
    }
    Ok(())
}

pub async fn open(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    request: &OpenImportRequest,
) -> Result<ImportRun, SqlError> {
    let page_size = request.page_size.clamp(1, 10_000) as usize;
    let delta = request.import_type == ImportType::Delta;
    if delta {
        check_delta(settings, request)?;
    }
    // The new watermark, taken before any row is read.
    let custom_data = match &settings.delta {
        DeltaStrategy::None => String::new(),
        DeltaStrategy::Watermark { query, .. } => read_watermark(conn, query).await?,
        DeltaStrategy::ChangeTable { .. } => max_seq(conn, d).await?.to_string(),
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
                ImportKind::Query(QueryRun::new(d, settings, since)?)
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

/// The statement of a query or procedure import: the configured query, or the call of the
/// configured procedure.
fn query_template(d: &Detected, settings: &Settings, delta: bool) -> Result<String, SqlError> {
    Ok(match (&settings.import_mode, delta) {
        (RunMode::Query, false) => settings.import_query.clone(),
        (RunMode::Query, true) if !settings.delta_query.is_empty() => settings.delta_query.clone(),
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
        (_, true) => d.dialect.procedure_call(
            d.procedure(&settings.delta_proc),
            "@Watermark, @StartIndex, @EndIndex",
        ),
        (_, false) => d
            .dialect
            .procedure_call(d.procedure(&settings.import_proc), "@StartIndex, @EndIndex"),
    })
}

impl QueryRun {
    /// `since`: the watermark of a delta import.
    fn new(d: &Detected, settings: &Settings, since: Option<String>) -> Result<Self, SqlError> {
        let delta = since.is_some();
        let template = query_template(d, settings, delta)?;
        let (sql, names) = translate_named(d.dialect, &template);
        for n in &names {
            if !["startindex", "endindex", "watermark"].contains(&n.to_ascii_lowercase().as_str()) {
                return Err(SqlError::Config(format!(
                    "'{P_IMPORT_QUERY}': unknown parameter @{n} (use @StartIndex, @EndIndex, @Watermark)"
                )));
            }
        }
        let paged = names.iter().any(|n| n.eq_ignore_ascii_case("StartIndex"));
        Ok(Self {
            sql,
            names,
            paged,
            next_index: 1,
            since: since.unwrap_or_default(),
            modification: modification_of(delta),
            buffered: None,
        })
    }

    fn binds(&self, start: i64, end: i64) -> Vec<Bind> {
        self.names
            .iter()
            .map(|n| match n.to_ascii_lowercase().as_str() {
                "startindex" => Bind::Int(start),
                "endindex" => Bind::Int(end),
                _ => Bind::Text(self.since.clone()),
            })
            .collect()
    }

    /// The rows of the next page, and whether it is the last.
    async fn next_rows(&mut self, conn: &mut Conn, page: usize) -> Result<(Rows, bool), SqlError> {
        if !self.paged {
            return self.next_buffered(conn, page).await;
        }
        let end = self.next_index + page as i64 - 1;
        let binds = self.binds(self.next_index, end);
        let rows = conn.fetch(&self.sql, &binds).await?;
        self.next_index = end + 1;
        let last = rows.rows.len() < page;
        Ok((rows, last))
    }

    /// A query without `@StartIndex` is run once, on the first page, and its rows handed out
    /// a page at a time.
    async fn next_buffered(
        &mut self,
        conn: &mut Conn,
        page: usize,
    ) -> Result<(Rows, bool), SqlError> {
        if self.buffered.is_none() {
            let binds = self.binds(1, i64::MAX);
            let rows = conn.fetch(&self.sql, &binds).await?;
            self.buffered = Some((rows.columns, rows.rows.into()));
        }
        let (columns, queue) = self.buffered.as_mut().expect("buffered rows");
        let take = queue.len().min(page);
        let rows = Rows {
            columns: columns.clone(),
            types: Vec::new(),
            rows: queue.drain(..take).collect(),
        };
        Ok((rows, queue.is_empty()))
    }
}

/// Appends the anchor columns, comma-separated.
fn push_anchor_list(sql: &mut SqlBuilder, d: &Detected) {
    sql.join(d.anchor_columns(), ", ", |sql, c| {
        sql.ident(&c.name);
    });
}

/// The table's rows in anchor order: after `last` (keyset paging), changed since the
/// watermark `since` (delta), at most `limit`.
fn table_select(
    d: &Detected,
    last: Option<&[Bind]>,
    since: Option<&str>,
    limit: Option<usize>,
) -> SqlBuilder {
    let mut sql = d.select_all();
    let mut conditions = 0;
    if let Some(last) = last {
        sql.push(" WHERE (");
        push_anchor_list(&mut sql, d);
        sql.push(") > (")
            .join(last.iter().zip(d.anchor_columns()), ", ", |sql, (b, c)| {
                sql.param(b.clone(), c.kind, &c.sql_type);
            })
            .push(")");
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
    sql.push(" ORDER BY ");
    push_anchor_list(&mut sql, d);
    if let Some(limit) = limit {
        sql.push(&d.dialect.limit_clause(limit));
    }
    sql
}

/// Where finished pages go: the page and whether it is the last one, or the error that ended
/// the run.
pub type PageSender = tokio::sync::mpsc::Sender<Result<(PageWriter, bool), SqlError>>;

/// The read-ahead task of an import: writes the run's pages and sends them, each page under
/// the command timeout; it ends after the last page, on the first error (sent too), or when
/// the receiver is gone.
pub async fn feed(
    mut conn: Conn,
    pool: Pool,
    d: std::sync::Arc<Detected>,
    settings: Settings,
    mut run: ImportRun,
    pages: PageSender,
) {
    if streams(&run, &d) {
        let streamed = async {
            let children = match d.child_columns.is_empty() {
                true => None,
                false => Some(pool.acquire().await?),
            };
            stream_table(&mut conn, children, &d, &settings, &run, &pages).await
        };
        if let Err(e) = streamed.await {
            let _ = pages.send(Err(e)).await;
        }
        return;
    }
    let mut outlet = PageOutlet::new(&pages);
    loop {
        let mut page = outlet.page();
        let written = next_page(&mut conn, &d, &settings, &mut run, &mut page);
        if let Err(e) = within(settings.timeout, written).await {
            let _ = pages.send(Err(e)).await;
            return;
        }
        if !outlet.send(page, run.done).await {
            return;
        }
    }
}

/// Hands an import's pages to the host, each allocated at the size of the one before.
struct PageOutlet<'a> {
    pages: &'a PageSender,
    capacity: usize,
}

impl<'a> PageOutlet<'a> {
    fn new(pages: &'a PageSender) -> Self {
        Self { pages, capacity: 0 }
    }

    /// An empty page for the next entries.
    fn page(&self) -> PageWriter {
        PageWriter::with_capacity(self.capacity)
    }

    /// Sends a written page; false when the run ends with it (the last page, or the receiver
    /// is gone).
    async fn send(&mut self, page: PageWriter, last: bool) -> bool {
        self.capacity = page.byte_len();
        let gone = self.pages.send(Ok((page, last))).await.is_err();
        !gone && !last
    }
}

/// Whether this run reads the table with one streamed statement instead of a keyset query
/// per page. PostgreSQL and MySQL/MariaDB: a page per query costs a round trip and a plan
/// each time (PostgreSQL even turns large-limit pages into repeated top-N sorts), while one
/// statement reads the table in a single consistent snapshot. SQLite keeps keyset pages: a
/// statement that stays open holds the database's shared lock, and in SQLite's default
/// (rollback-journal) mode that would keep every writer out for the whole import. ODBC
/// drivers are read whole per statement, so they page too.
fn streams(run: &ImportRun, d: &Detected) -> bool {
    matches!(run.kind, ImportKind::Table { last: None, .. })
        && matches!(d.dialect, Dialect::Postgres | Dialect::MySql)
}

/// A table-mode run as one streamed statement ([`streams`]), page by page into `pages`, each
/// page under the command timeout. `children` is a second connection for the child-table
/// queries (the first one is busy streaming).
async fn stream_table(
    conn: &mut Conn,
    children: Option<Conn>,
    d: &Detected,
    settings: &Settings,
    run: &ImportRun,
    pages: &PageSender,
) -> Result<(), SqlError> {
    let ImportKind::Table { since, .. } = &run.kind else {
        unreachable!("only table runs are streamed");
    };
    let modification = modification_of(since.is_some());
    let sql = table_select(d, None, since.as_deref(), None);
    let mut rows = conn.stream(&sql.text, &sql.binds);
    let page_size = run.page_size;
    let mut outlet = PageOutlet::new(pages);
    let Some(mut children) = children else {
        // Each row goes into the page straight from the driver's buffer.
        let mut layout: Option<RowLayout<'_>> = None;
        let mut scratch = RowScratch::default();
        loop {
            let mut page = outlet.page();
            scratch.new_page();
            let filled = async {
                while page.len() < page_size {
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
            let last = within(settings.timeout, filled).await?;
            if !outlet.send(page, last).await {
                return Ok(());
            }
        }
    };
    // With a child table, a page of rows is read first: its children come in one query.
    loop {
        let mut page = outlet.page();
        let filled = async {
            let chunk = rows.next_chunk(page_size).await?;
            let last = chunk.rows.len() < page_size;
            write_entries(
                Some(&mut children),
                d,
                settings,
                chunk,
                modification,
                &mut page,
            )
            .await?;
            Ok::<_, SqlError>(last)
        };
        let last = within(settings.timeout, filled).await?;
        if !outlet.send(page, last).await {
            return Ok(());
        }
    }
}

/// The next page of entries of a run read a query per page.
async fn next_page(
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
            let rows = next_keyset_rows(conn, d, last, since.as_deref(), page).await?;
            run.done = rows.rows.len() < page;
            let modification = modification_of(since.is_some());
            write_entries(Some(conn), d, settings, rows, modification, out).await
        }
        ImportKind::Query(query) => {
            let (rows, last) = query.next_rows(conn, page).await?;
            run.done = last;
            write_entries(Some(conn), d, settings, rows, query.modification, out).await
        }
        ImportKind::Changes { last_seq, max_seq } => {
            let changes = PageChanges::read(conn, d, settings, last_seq, *max_seq, page).await?;
            run.done = changes.read < page;
            changes.write(conn, d, settings, out).await
        }
    }
}

/// The next keyset page of the table; `last` moves on to its last anchor.
async fn next_keyset_rows(
    conn: &mut Conn,
    d: &Detected,
    last: &mut Option<Vec<Bind>>,
    since: Option<&str>,
    page: usize,
) -> Result<Rows, SqlError> {
    let sql = table_select(d, last.as_deref(), since, Some(page));
    let rows = conn.fetch(&sql.text, &sql.binds).await?;
    if let Some(last_row) = rows.rows.last() {
        *last = Some(
            d.anchors
                .iter()
                .map(|&i| cell_to_bind(&last_row[i], d.columns[i].kind))
                .collect(),
        );
    }
    Ok(rows)
}
