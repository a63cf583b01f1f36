//! Names as administrators type them, resolved against the database's catalog.
//!
//! Databases fold unquoted names differently: PostgreSQL stores `CREATE TABLE Employees` as
//! `employees`, MySQL/MariaDB on Linux keeps table names case-sensitive, SQLite ignores case.
//! The connector quotes every identifier it generates, so a configured name must be spelled
//! exactly as the catalog spells it. Each configured table, view, procedure and column name is
//! therefore looked up in the catalog (every value bound): the exact spelling first, then the
//! one name that differs only in case. Two names that differ only in case, or no such name at
//! all, are one error naming the parameter and the closest names the database does have, with
//! nothing of the server's own message (PostgreSQL's includes a line of its source code).

use crate::cells::{Bind, Cell};
use crate::conn::Conn;
use crate::dialect::Dialect;
use crate::error::SqlError;

/// What a name names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A table or a view.
    Relation,
    /// A stored procedure or a (set-returning) function.
    Procedure,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Relation => "table or view",
            Kind::Procedure => "procedure",
        }
    }
}

/// A possibly schema-qualified name, spelt as the catalog spells it once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualifiedName {
    pub schema: Option<String>,
    pub name: String,
}

impl QualifiedName {
    /// `schema.name` or `name`, as configured.
    pub fn parse(configured: &str) -> Self {
        match configured.trim().rsplit_once('.') {
            Some((schema, name)) => Self {
                schema: Some(schema.trim().to_owned()),
                name: name.trim().to_owned(),
            },
            None => Self {
                schema: None,
                name: configured.trim().to_owned(),
            },
        }
    }

    /// The name quoted for SQL text.
    pub fn sql(&self, dialect: Dialect) -> String {
        match &self.schema {
            Some(s) => format!(
                "{}.{}",
                dialect.quote_part(s),
                dialect.quote_part(&self.name)
            ),
            None => dialect.quote_part(&self.name),
        }
    }

    /// The name as text (`schema.name`), unquoted.
    pub fn text(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Resolves a configured table, view or procedure name. A database whose catalog the
/// connector cannot read for `kind` (procedures through ODBC) gets the name as configured.
pub async fn resolve(
    conn: &mut Conn,
    kind: Kind,
    configured: &str,
    parameter: &'static str,
) -> Result<QualifiedName, SqlError> {
    let wanted = QualifiedName::parse(configured);
    let Some(listed) = list(conn, kind, wanted.schema.as_deref()).await? else {
        return Ok(wanted);
    };
    let schema = match &wanted.schema {
        Some(s) => {
            let mut schemas: Vec<&str> = listed.iter().map(|(s, _)| s.as_str()).collect();
            schemas.sort_unstable();
            schemas.dedup();
            if schemas.is_empty() {
                return Err(SqlError::Parameter {
                    parameter,
                    message: format!("no {} is visible in a schema named '{s}'", kind.noun()),
                });
            }
            Some(pick(s, &schemas, "schema", parameter)?.to_owned())
        }
        None => None,
    };
    let mut names: Vec<&str> = listed
        .iter()
        .filter(|(s, _)| schema.as_deref().is_none_or(|want| s == want))
        .map(|(_, n)| n.as_str())
        .collect();
    // Unqualified, the same name may be in several schemas of the search path: the database
    // takes the first, and it is one name here.
    names.sort_unstable();
    names.dedup();
    let what = match &schema {
        Some(s) => format!("{} in schema '{s}'", kind.noun()),
        None => kind.noun().to_owned(),
    };
    let name = pick(&wanted.name, &names, &what, parameter)?.to_owned();
    Ok(QualifiedName { schema, name })
}

/// The name among `candidates` that `wanted` names: itself, else the only one equal to it
/// ignoring case. `what` says what the candidates are ("column of table users").
pub fn pick<'c>(
    wanted: &str,
    candidates: &[&'c str],
    what: &str,
    parameter: &'static str,
) -> Result<&'c str, SqlError> {
    if let Some(exact) = candidates.iter().find(|c| **c == wanted) {
        return Ok(exact);
    }
    let folded: Vec<&'c str> = candidates
        .iter()
        .copied()
        .filter(|c| c.to_lowercase() == wanted.to_lowercase())
        .collect();
    match folded[..] {
        [one] => Ok(one),
        [] => Err(SqlError::Parameter {
            parameter,
            message: missing_message(wanted, candidates, what),
        }),
        _ => Err(SqlError::Parameter {
            parameter,
            message: format!(
                "'{wanted}' matches several {what} names that differ only in case: {}; write the name exactly as one of them",
                folded.join(", ")
            ),
        }),
    }
}

/// The names listed when a name is missing, at most this many.
const SUGGESTED: usize = 5;

fn missing_message(wanted: &str, candidates: &[&str], what: &str) -> String {
    if candidates.is_empty() {
        return format!("there is no {what} named '{wanted}' (none is visible to this user)");
    }
    let close = closest(wanted, candidates);
    if close.is_empty() {
        let mut some: Vec<&str> = candidates.to_vec();
        some.sort_unstable();
        let more = some.len().saturating_sub(SUGGESTED * 2);
        some.truncate(SUGGESTED * 2);
        let more = match more {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        return format!(
            "there is no {what} named '{wanted}'; there are: {}{more}",
            some.join(", ")
        );
    }
    format!(
        "there is no {what} named '{wanted}'; did you mean {}?",
        close.join(", ")
    )
}

/// The candidates closest to `wanted`: those that start with it or that it starts with
/// (ignoring case), and those within a few edits of it, nearest first.
fn closest<'c>(wanted: &str, candidates: &[&'c str]) -> Vec<&'c str> {
    let w = wanted.to_lowercase();
    let allowed = (w.chars().count() / 3).max(2);
    let mut ranked: Vec<(usize, &'c str)> = candidates
        .iter()
        .filter_map(|c| {
            let l = c.to_lowercase();
            let distance = edit_distance(&w, &l);
            let prefix = !w.is_empty() && (l.starts_with(&w) || w.starts_with(&l));
            (distance <= allowed || prefix).then_some((distance, *c))
        })
        .collect();
    ranked.sort_unstable();
    ranked.into_iter().take(SUGGESTED).map(|(_, c)| c).collect()
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// (schema, name) of every `kind` the catalog shows in `schema` (matched ignoring case), or
/// without one in the schemas an unqualified name is looked up in. `None`: no catalog to read.
async fn list(
    conn: &mut Conn,
    kind: Kind,
    schema: Option<&str>,
) -> Result<Option<Vec<(String, String)>>, SqlError> {
    let dialect = conn.dialect();
    let (sql, binds) = match (dialect, kind) {
        (Dialect::Odbc, Kind::Relation) => return conn.table_names(schema).map(Some),
        (Dialect::Odbc, Kind::Procedure) | (Dialect::Sqlite, Kind::Procedure) => {
            return Ok(None);
        }
        (Dialect::Sqlite, Kind::Relation) => (
            format!(
                "SELECT schema, name FROM pragma_table_list \
                 WHERE type IN ('table', 'view', 'virtual') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND {}",
                match schema {
                    Some(_) => "lower(schema) = lower(?)",
                    None => "schema IN ('main', 'temp')",
                }
            ),
            schema,
        ),
        (Dialect::Postgres, _) => {
            let (table, schema_col, name_col) = match kind {
                Kind::Relation => ("tables", "table_schema", "table_name"),
                Kind::Procedure => ("routines", "routine_schema", "routine_name"),
            };
            (
                format!(
                    "SELECT CAST({schema_col} AS text), CAST({name_col} AS text) FROM information_schema.{table} WHERE {} \
                     ORDER BY array_position(current_schemas(false), CAST({schema_col} AS name))",
                    match schema {
                        Some(_) => format!("lower({schema_col}) = lower($1)"),
                        None => format!("{schema_col} = ANY(current_schemas(false))"),
                    }
                ),
                schema,
            )
        }
        (Dialect::MySql, _) => {
            let (table, schema_col, name_col) = match kind {
                Kind::Relation => ("tables", "table_schema", "table_name"),
                Kind::Procedure => ("routines", "routine_schema", "routine_name"),
            };
            (
                format!(
                    "SELECT CAST({schema_col} AS CHAR), CAST({name_col} AS CHAR) FROM information_schema.{table} WHERE {}",
                    match schema {
                        Some(_) => format!("lower({schema_col}) = lower(?)"),
                        None => format!("{schema_col} = DATABASE()"),
                    }
                ),
                schema,
            )
        }
    };
    let binds: Vec<Bind> = binds
        .map(|s| Bind::Text(s.to_owned()))
        .into_iter()
        .collect();
    let rows = conn.fetch(&sql, &binds).await?;
    Ok(Some(
        rows.rows
            .iter()
            .filter_map(|r| Some((text(&r[0])?, text(&r[1])?)))
            .collect(),
    ))
}

fn text(c: &Cell) -> Option<String> {
    match c {
        Cell::Text(s) => Some(s.clone()),
        Cell::Bytes(b) => String::from_utf8(b.clone()).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<&str, SqlError>) -> String {
        match r {
            Err(SqlError::Parameter { parameter, message }) => {
                assert_eq!(parameter, "Table");
                message
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_exact_name_wins_then_the_only_one_differing_in_case() {
        let names = ["Employees", "employees", "Staff"];
        assert_eq!(
            pick("employees", &names, "table", "Table").unwrap(),
            "employees"
        );
        assert_eq!(pick("STAFF", &names, "table", "Table").unwrap(), "Staff");
        let ambiguous = message(pick("EMPLOYEES", &names, "table", "Table"));
        assert!(
            ambiguous.contains("differ only in case: Employees, employees"),
            "{ambiguous}"
        );
    }

    #[test]
    fn a_missing_name_lists_the_closest_ones() {
        let names = ["employees", "employee_roles", "orders", "invoices"];
        let m = message(pick("employes", &names, "table or view", "Table"));
        assert_eq!(
            m,
            "there is no table or view named 'employes'; did you mean employees?"
        );
        let m = message(pick("employee", &names, "table or view", "Table"));
        assert!(
            m.ends_with("did you mean employees, employee_roles?"),
            "{m}"
        );
        let m = message(pick("zzz", &names, "table or view", "Table"));
        assert!(
            m.contains("there are: employee_roles, employees, invoices, orders"),
            "{m}"
        );
        let m = message(pick("x", &[], "table or view", "Table"));
        assert!(m.contains("none is visible"), "{m}");
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("straße", "strasse"), 2);
    }

    #[test]
    fn qualified_names_are_quoted_per_part() {
        let n = QualifiedName::parse(" hr . Employees ");
        assert_eq!(n.sql(Dialect::Postgres), "\"hr\".\"Employees\"");
        assert_eq!(n.text(), "hr.Employees");
        assert_eq!(QualifiedName::parse("t").sql(Dialect::MySql), "`t`");
    }
}
