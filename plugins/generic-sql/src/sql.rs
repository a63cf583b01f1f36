//! Building statements: generated SQL with bound parameters ([`SqlBuilder`]), and user SQL
//! whose `@name` parameters become the dialect's placeholders ([`translate_named`]).

use crate::cells::{Bind, NativeKind};
use crate::dialect::Dialect;

/// A SQL statement under construction: text with placeholders, and the values they bind.
pub struct SqlBuilder {
    pub dialect: Dialect,
    pub text: String,
    pub binds: Vec<Bind>,
}

impl SqlBuilder {
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            text: String::new(),
            binds: Vec::new(),
        }
    }
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }
    pub fn ident(&mut self, name: &str) -> &mut Self {
        let q = self.dialect.quote_part(name);
        self.text.push_str(&q);
        self
    }
    /// Appends what `each` writes for every item, `separator` between them (column lists,
    /// parameter lists, conditions).
    pub fn join<I: IntoIterator>(
        &mut self,
        items: I,
        separator: &str,
        mut each: impl FnMut(&mut Self, I::Item),
    ) -> &mut Self {
        for (k, item) in items.into_iter().enumerate() {
            if k > 0 {
                self.text.push_str(separator);
            }
            each(self, item);
        }
        self
    }
    /// Appends a placeholder binding `value`. `sql_type` is the column's type: PostgreSQL gets
    /// an explicit cast for types that have no native binding (timestamps, uuid, numeric), so
    /// that text parameters are converted by the server instead of being rejected.
    pub fn param(&mut self, value: Bind, kind: NativeKind, sql_type: &str) -> &mut Self {
        self.binds.push(value);
        match self.dialect {
            Dialect::Sqlite | Dialect::MySql | Dialect::Odbc => self.text.push('?'),
            Dialect::Postgres => {
                let n = self.binds.len();
                let needs_cast = matches!(kind, NativeKind::Other)
                    || (kind.is_temporal()
                        && matches!(self.binds.last(), Some(Bind::Text(_) | Bind::Null(_))));
                if needs_cast && is_plain_type_name(sql_type) {
                    self.text.push_str(&format!("CAST(${n} AS {sql_type})"));
                } else {
                    self.text.push_str(&format!("${n}"));
                }
            }
        }
        self
    }
}

/// PostgreSQL type names as sqlx reports them are plain identifiers (`TIMESTAMPTZ`, `UUID`,
/// `NUMERIC`); anything else is never put into SQL text.
fn is_plain_type_name(t: &str) -> bool {
    !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Translates `@name` parameters in a user-supplied statement into the dialect's placeholders.
/// Returns the translated SQL and the parameter names in placeholder order (a name used twice
/// binds twice). Quoted strings, quoted identifiers, comments and `@@system` variables are left
/// alone.
pub fn translate_named(dialect: Dialect, sql: &str) -> (String, Vec<String>) {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut names = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' | '`' => {
                // Copy a quoted run verbatim; a doubled quote is an escaped quote.
                out.push(c);
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    if chars[i] == c {
                        if i + 1 < chars.len() && chars[i + 1] == c {
                            out.push(c);
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(chars[i]);
                    i += 1;
                }
            }
            '@' if chars.get(i + 1) == Some(&'@') => {
                out.push_str("@@");
                i += 2;
            }
            '@' if chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_') =>
            {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_')
                {
                    end += 1;
                }
                names.push(chars[start..end].iter().collect());
                match dialect {
                    Dialect::Postgres => out.push_str(&format!("${}", names.len())),
                    Dialect::Sqlite | Dialect::MySql | Dialect::Odbc => out.push('?'),
                }
                i = end;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    (out, names)
}

/// Whether a statement is a query that can stand as a derived table (`SELECT * FROM (...) x`):
/// it starts with SELECT or WITH once leading comments are skipped. A `CALL`, an `EXEC` or the
/// ODBC call escape `{CALL ...}` cannot.
pub fn is_query(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    loop {
        if let Some(comment) = rest.strip_prefix("--") {
            rest = comment.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(comment) = rest.strip_prefix("/*") {
            rest = comment.split_once("*/").map_or("", |(_, after)| after);
        } else {
            break;
        }
        rest = rest.trim_start();
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    word.eq_ignore_ascii_case("SELECT") || word.eq_ignore_ascii_case("WITH")
}

/// The statement without its trailing semicolons (a derived table cannot contain one).
pub fn without_terminator(sql: &str) -> &str {
    sql.trim_end().trim_end_matches(';').trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_parameters_are_translated_outside_literals() {
        let (sql, names) = translate_named(
            Dialect::Postgres,
            "INSERT INTO t (a, b) VALUES (@id, '@notme') -- @nor_me\n RETURNING @@x, @Name",
        );
        assert_eq!(
            sql,
            "INSERT INTO t (a, b) VALUES ($1, '@notme') -- @nor_me\n RETURNING @@x, $2"
        );
        assert_eq!(names, vec!["id".to_owned(), "Name".to_owned()]);
        let (sql, names) = translate_named(Dialect::MySql, "CALL p(@a, @a)");
        assert_eq!(sql, "CALL p(?, ?)");
        assert_eq!(names.len(), 2);
    }

    #[test]
    fn only_select_statements_can_be_derived_tables() {
        assert!(is_query("  -- paged\n/* users */ select id FROM t;"));
        assert!(is_query("WITH x AS (SELECT 1) SELECT * FROM x"));
        assert!(!is_query("CALL p(?, ?)"));
        assert!(!is_query("{CALL p(?, ?)}"));
        assert!(!is_query("SELECTED"));
        assert_eq!(without_terminator("SELECT 1 ; \n"), "SELECT 1");
    }
}
