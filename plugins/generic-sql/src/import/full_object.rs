//! ECMA2's FullObject import: the objects the host names, read again and written exactly as a
//! full import writes them (an `Add` with every attribute and multi-value), or as a `Delete`
//! when the database does not hold them.
//!
//! Table mode reads `SELECT <columns> FROM <table> WHERE <anchor> IN (...)`. The SQL query
//! and stored procedure methods have no statement that reads one object (neither has
//! Microsoft's Generic SQL), so there the full-import statement itself is filtered as a
//! derived table, `SELECT * FROM (<import statement>) q WHERE <anchor> IN (...)`, when it is a
//! query the database accepts as one. A procedure call (`CALL`, `{CALL}`) is not, and a
//! statement the database refuses to wrap is not either: both answer Unsupported, and the host
//! re-reads the whole target instead.

use std::collections::{HashMap, HashSet};

use plugin_api::prelude::*;

use crate::cells::{Bind, Cell, Rows};
use crate::config::{P_IMPORT_METHOD, P_TABLE, RunMode, Settings};
use crate::conn::Conn;
use crate::error::SqlError;
use crate::export::anchor_binds;
use crate::schema::{Detected, Location};
use crate::sql::{SqlBuilder, is_query, without_terminator};
use crate::values::{cell_to_bind, to_bind, to_value};

use super::QueryRun;
use super::entries::{RowsWriter, write_gone};

/// Objects asked for in one statement at most, which keeps every dialect far below its limit
/// of bound parameters.
const PER_STATEMENT: usize = 200;

/// The alias of the full-import statement as a derived table.
const DERIVED: &str = "ecma_full_object";

/// Where the objects are read from.
enum Source {
    Table,
    /// The full-import statement (translated, without its terminator) and its parameters.
    Query {
        sql: String,
        binds: Vec<Bind>,
    },
}

impl Source {
    fn of(d: &Detected, settings: &Settings) -> Result<Self, SqlError> {
        if settings.import_mode == RunMode::Table {
            if d.table_sql.is_empty() {
                return Err(SqlError::Config(format!(
                    "'{P_TABLE}' is required to read objects"
                )));
            }
            return Ok(Source::Table);
        }
        let run = QueryRun::new(d, settings, None)?;
        if !is_query(&run.sql) {
            return Err(SqlError::Unsupported(format!(
                "FullObject import needs an import statement that can be filtered by anchor, and '{P_IMPORT_METHOD}' runs `{}`, which is not a SELECT (the SQL query and stored procedure methods have no statement that reads one object); the whole target is read instead",
                run.sql
            )));
        }
        Ok(Source::Query {
            sql: without_terminator(&run.sql).to_owned(),
            // Every row, as a full import pages through them all.
            binds: run.binds(1, i64::MAX),
        })
    }

    /// `SELECT ... FROM <source>`, before its condition.
    fn select(&self, d: &Detected) -> SqlBuilder {
        match self {
            Source::Table => d.select_all(),
            Source::Query { sql, binds } => {
                let mut select = SqlBuilder::new(d.dialect);
                // Newlines: a `--` comment ending the statement must not swallow the `)`.
                // No `AS` before the alias: Oracle refuses it there.
                select
                    .push("SELECT * FROM (\n")
                    .push(sql)
                    .push("\n) ")
                    .push(DERIVED);
                // The statement's own placeholders come first (PostgreSQL numbers on from them).
                select.binds = binds.clone();
                select
            }
        }
    }

    async fn fetch(&self, conn: &mut Conn, sql: &SqlBuilder) -> Result<Rows, SqlError> {
        let rows = conn.fetch(&sql.text, &sql.binds).await;
        match (self, rows) {
            (Source::Query { .. }, Err(e)) if !e.is_connection() => {
                Err(SqlError::Unsupported(format!(
                    "FullObject import: the database refused the import statement filtered by anchor ({e}); the whole target is read instead"
                )))
            }
            (_, rows) => rows,
        }
    }
}

/// What a request finds its object by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum By {
    Anchor,
    /// The DN column (the request carries no anchor, e.g. a create whose anchor the database
    /// generates).
    Dn,
}

impl By {
    /// The columns (indices into `Detected::columns`) whose values find the object.
    fn columns(self, d: &Detected) -> Vec<usize> {
        match self {
            By::Anchor => d.anchors.clone(),
            By::Dn => d.dn_column.into_iter().collect(),
        }
    }
}

/// One object to read: its request, and the values that find it.
struct Lookup<'r> {
    request: &'r CsEntryChange,
    by: By,
    /// One value per column of `by`, bound for that column.
    values: Vec<Bind>,
    /// `values` as text: a row found belongs to the lookup with its key.
    key: String,
}

/// What can be done with a request.
enum Ask<'r> {
    Find(Lookup<'r>),
    /// No row can hold what it names (a value its column cannot store).
    Gone(&'r CsEntryChange),
    /// It names nothing the database can be searched by.
    Unanswerable,
}

fn ask<'r>(d: &Detected, settings: &Settings, request: &'r CsEntryChange) -> Ask<'r> {
    let lookup = |by, values: Vec<Bind>| {
        Ask::Find(Lookup {
            request,
            by,
            key: key_of(values.iter()),
            values,
        })
    };
    match anchor_binds(d, settings, request) {
        Err(_) => return Ask::Gone(request),
        Ok(anchors) => {
            if let Some(values) = anchors.into_iter().collect::<Option<Vec<Bind>>>() {
                return lookup(By::Anchor, values);
            }
        }
    }
    let Some(dn_column) = d.dn_column.filter(|_| !request.dn.is_empty()) else {
        return Ask::Unanswerable;
    };
    let Some(attr) = d.attr_at(Location::Parent(dn_column)) else {
        return Ask::Unanswerable;
    };
    let dn = Value::String(request.dn.clone());
    match to_bind(&dn, attr, &d.columns[dn_column], settings) {
        Ok(value) => lookup(By::Dn, vec![value]),
        Err(_) => Ask::Gone(request),
    }
}

/// Values as one text: how a lookup and the rows it finds are matched.
fn key_of<'b>(values: impl Iterator<Item = &'b Bind>) -> String {
    let mut key = String::new();
    for (n, b) in values.enumerate() {
        if n > 0 {
            // A separator no anchor value contains.
            key.push('\u{1f}');
        }
        match b {
            Bind::Int(i) => key.push_str(&i.to_string()),
            Bind::Text(s) => key.push_str(s),
            Bind::Bool(v) => key.push_str(if *v { "true" } else { "false" }),
            Bind::Bytes(v) => key.push_str(&String::from_utf8_lossy(v)),
            Bind::Null(_) => {}
        }
    }
    key
}

/// The key of row `n`: its cells for `by`, bound the way a request's values are.
fn row_key(writer: &RowsWriter<'_>, d: &Detected, by: By, n: usize) -> String {
    let cells = match by {
        By::Anchor => writer.anchor_cells(n),
        By::Dn => writer.dn_cell(n).into_iter().collect(),
    };
    let binds: Vec<Bind> = cells
        .into_iter()
        .zip(by.columns(d))
        .map(|(cell, i)| cell_to_bind(cell, d.columns[i].kind))
        .collect();
    key_of(binds.iter())
}

/// Writes, for each request, its object as a full import would (an `Add`), or a `Delete`
/// naming what it asked for when the database does not hold it. A request with nothing to
/// search by (no anchor, and no DN column to find its DN in) is left unanswered. Requests for
/// the same object are answered once.
pub async fn write_full_objects(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    requests: &[CsEntryChange],
    page: &mut PageWriter,
) -> Result<(), SqlError> {
    let source = Source::of(d, settings)?;
    // Lookups grouped by what one statement can ask: the object type (a type column filters
    // on it) and the columns searched.
    let mut groups: Vec<((String, By), Vec<Lookup<'_>>)> = Vec::new();
    let mut seen = HashSet::new();
    for request in requests {
        match ask(d, settings, request) {
            Ask::Unanswerable => {}
            Ask::Gone(request) => {
                if seen.insert((request.object_type.clone(), None, anchor_text(request))) {
                    write_not_held(d, settings, request, None, page);
                }
            }
            Ask::Find(lookup) => {
                let group = (request.object_type.clone(), lookup.by);
                if !seen.insert((group.0.clone(), Some(group.1), lookup.key.clone())) {
                    continue;
                }
                match groups.iter_mut().find(|(g, _)| *g == group) {
                    Some((_, lookups)) => lookups.push(lookup),
                    None => groups.push((group, vec![lookup])),
                }
            }
        }
    }
    for ((object_type, by), lookups) in &groups {
        for chunk in lookups.chunks(PER_STATEMENT) {
            answer(conn, d, settings, &source, object_type, *by, chunk, page).await?;
        }
    }
    Ok(())
}

/// The request's anchor values as text, for telling repeated requests apart.
fn anchor_text(request: &CsEntryChange) -> String {
    let mut text: Vec<String> = request.anchor.iter().map(|a| a.value.as_text()).collect();
    text.push(request.dn.clone());
    text.join("\u{1f}")
}

/// Answers lookups of one object type and kind with one statement. Rows are matched back to
/// their lookup by key; when the database matched a row the keys do not (a case-insensitive
/// collation, a date-time's text), the lookups left over are asked one by one, so that the
/// database's own comparison decides.
#[allow(clippy::too_many_arguments)]
async fn answer(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    source: &Source,
    object_type: &str,
    by: By,
    lookups: &[Lookup<'_>],
    page: &mut PageWriter,
) -> Result<(), SqlError> {
    if let [lookup] = lookups {
        return answer_one(conn, d, settings, source, object_type, lookup, page).await;
    }
    let sql = statement(d, source, object_type, by, lookups);
    let rows = source.fetch(conn, &sql).await?;
    let mut writer = RowsWriter::new(Some(conn), d, settings, &rows).await?;
    let mut found: HashMap<String, Vec<usize>> = HashMap::new();
    if let Some(w) = &writer {
        for n in 0..rows.rows.len() {
            found.entry(row_key(w, d, by, n)).or_default().push(n);
        }
    }
    let mut unmatched = Vec::new();
    for lookup in lookups {
        match (found.remove(&lookup.key), writer.as_mut()) {
            (Some(rows), Some(w)) => {
                for n in rows {
                    w.write(n, ObjectModification::Add, page)?;
                }
            }
            _ => unmatched.push(lookup),
        }
    }
    for lookup in unmatched {
        if found.is_empty() {
            write_not_held(d, settings, lookup.request, Some(lookup), page);
        } else {
            answer_one(conn, d, settings, source, object_type, lookup, page).await?;
        }
    }
    Ok(())
}

/// Answers one lookup: every row its statement returns is its object.
async fn answer_one(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    source: &Source,
    object_type: &str,
    lookup: &Lookup<'_>,
    page: &mut PageWriter,
) -> Result<(), SqlError> {
    let sql = statement(
        d,
        source,
        object_type,
        lookup.by,
        std::slice::from_ref(lookup),
    );
    let rows = source.fetch(conn, &sql).await?;
    match RowsWriter::new(Some(conn), d, settings, &rows).await? {
        Some(mut writer) => {
            for n in 0..rows.rows.len() {
                writer.write(n, ObjectModification::Add, page)?;
            }
        }
        None => write_not_held(d, settings, lookup.request, Some(lookup), page),
    }
    Ok(())
}

/// The statement reading the lookups' objects: `... WHERE <column> IN (...)`, or for a
/// composite anchor `(a = ? AND b = ?) OR ...` (row-value IN lists are not portable), and the
/// object type where a column holds it.
fn statement(
    d: &Detected,
    source: &Source,
    object_type: &str,
    by: By,
    lookups: &[Lookup<'_>],
) -> SqlBuilder {
    let columns = by.columns(d);
    let mut sql = source.select(d);
    sql.push(" WHERE ");
    if let [i] = columns[..] {
        let c = &d.columns[i];
        sql.ident(&c.name)
            .push(" IN (")
            .join(lookups, ", ", |sql, l| {
                sql.param(l.values[0].clone(), c.kind, &c.sql_type);
            })
            .push(")");
    } else {
        sql.push("(")
            .join(lookups, " OR ", |sql, l| {
                sql.push("(")
                    .join(columns.iter().zip(&l.values), " AND ", |sql, (&i, b)| {
                        let c = &d.columns[i];
                        sql.ident(&c.name).push(" = ");
                        sql.param(b.clone(), c.kind, &c.sql_type);
                    })
                    .push(")");
            })
            .push(")");
    }
    if let Some(t) = d.type_column {
        let c = &d.columns[t];
        sql.push(" AND ").ident(&c.name).push(" = ");
        sql.param(Bind::Text(object_type.to_owned()), c.kind, &c.sql_type);
    }
    sql
}

/// The `Delete` of a request whose object the database does not hold: the anchors it asked
/// for, typed as a full import types them where they could be bound, and its DN.
fn write_not_held(
    d: &Detected,
    settings: &Settings,
    request: &CsEntryChange,
    lookup: Option<&Lookup<'_>>,
    page: &mut PageWriter,
) {
    let bound = lookup.filter(|l| l.by == By::Anchor).map(|l| &l.values);
    let mut anchors = Vec::new();
    for (k, &i) in d.anchors.iter().enumerate() {
        let column = &d.columns[i];
        let typed = match (bound, d.attr_at(Location::Parent(i))) {
            (Some(values), Some(attr)) => to_value(&cell_of(&values[k]), attr, settings)
                .ok()
                .flatten(),
            _ => None,
        };
        let asked = || {
            request
                .anchor
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(&column.name))
                .map(|a| a.value.clone())
        };
        if let Some(v) = typed.or_else(asked) {
            anchors.push((k, v));
        }
    }
    write_gone(d, &request.object_type, &anchors, &request.dn, page);
}

/// A bound value as the cell the database would return for it.
fn cell_of(b: &Bind) -> Cell {
    match b {
        Bind::Int(i) => Cell::Int(*i),
        Bind::Text(s) => Cell::Text(s.clone()),
        Bind::Bool(v) => Cell::Bool(*v),
        Bind::Bytes(v) => Cell::Bytes(v.clone()),
        Bind::Null(_) => Cell::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_requests_and_rows_agree() {
        let request = key_of([Bind::Text("t1".into()), Bind::Int(7)].iter());
        let row = key_of(
            [
                cell_to_bind(&Cell::Text("t1".into()), crate::cells::NativeKind::Text),
                cell_to_bind(&Cell::Int(7), crate::cells::NativeKind::Int),
            ]
            .iter(),
        );
        assert_eq!(request, row);
        assert_ne!(request, key_of([Bind::Text("t17".into())].iter()));
    }
}
