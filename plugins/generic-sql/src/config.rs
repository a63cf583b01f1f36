//! The configuration pages (ECMA parameter pages) and their parsed form.
//!
//! Over 800 lines on purpose: each parameter's name, parsing, page and definition stay in this
//! one file, so adding or changing a parameter touches one place.

use std::collections::HashMap;
use std::time::Duration;

use plugin_api::prelude::*;
use time::UtcOffset;
use time::format_description::OwnedFormatItem;

use crate::dialect::Dialect;

// ---- Connectivity ----
pub const P_CONNECTION: &str = "Connection string";
pub const P_USER: &str = "User";
pub const P_PASSWORD: &str = "Password";
pub const P_TIMEOUT: &str = "Command timeout";
pub const P_DN_IS_ANCHOR: &str = "DN is anchor";
pub const P_EXPORT_TYPE: &str = "Export type";
// ---- Schema 1: object types ----
pub const P_TYPE_DETECTION: &str = "Object type detection";
pub const P_OBJECT_TYPES: &str = "Object types";
pub const P_TYPE_COLUMN: &str = "Object type column";
// ---- Schema 2: attributes ----
pub const P_ATTR_DETECTION: &str = "Attribute detection";
pub const P_TABLE: &str = "Table";
pub const P_ATTR_QUERY: &str = "Attribute query";
pub const P_ATTR_PROC: &str = "Attribute procedure";
pub const P_MV_TABLE: &str = "Multi-valued table";
pub const P_MV_JOIN: &str = "Multi-valued join column";
// ---- Schema 3: anchor and DN ----
pub const P_ANCHORS: &str = "Anchor columns";
pub const P_DN_COLUMN: &str = "DN column";
// ---- Schema 4: data types and direction ----
pub const P_TYPES: &str = "Attribute types";
pub const P_DIRECTIONS: &str = "Attribute directions";
pub const P_EXPOSE: &str = "Expose columns";
// ---- Global ----
pub const P_DELTA: &str = "Delta strategy";
pub const P_WM_COLUMN: &str = "Watermark column";
pub const P_WM_QUERY: &str = "Watermark query";
pub const P_CT_TABLE: &str = "Change table";
pub const P_CT_ANCHOR: &str = "Change table anchor column";
pub const P_CT_TYPE: &str = "Change table type column";
pub const P_CT_SEQ: &str = "Change table sequence column";
pub const P_CT_VALUES: &str = "Change type values";
pub const P_TIME_ZONE: &str = "Database time zone";
pub const P_DATE_FORMAT: &str = "Date format";
pub const P_PW_METHOD: &str = "Password method";
pub const P_PW_SQL: &str = "Set password SQL";
pub const P_PW_PROC: &str = "Set password procedure";
// ---- Run steps ----
pub const P_IMPORT_METHOD: &str = "Import method";
pub const P_IMPORT_QUERY: &str = "Import query";
pub const P_DELTA_QUERY: &str = "Delta import query";
pub const P_IMPORT_PROC: &str = "Import procedure";
pub const P_DELTA_PROC: &str = "Delta import procedure";
pub const P_EXPORT_METHOD: &str = "Export method";
pub const P_INSERT_QUERY: &str = "Insert query";
pub const P_UPDATE_QUERY: &str = "Update query";
pub const P_DELETE_QUERY: &str = "Delete query";
pub const P_ADD_PROC: &str = "Add procedure";
pub const P_UPDATE_PROC: &str = "Update procedure";
pub const P_DELETE_PROC: &str = "Delete procedure";
pub const P_PROC_PARAMS: &str = "Procedure parameters";

pub const DEFAULT_DATE_FORMAT: &str = "[year]-[month]-[day] [hour]:[minute]:[second]";

/// How the object type of a row is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeDetection {
    Fixed(Vec<String>),
    /// Read from a column of the table; the distinct values are the types.
    Column(String),
}

/// Where attributes are discovered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeSource {
    /// A table or view (views are read-only unless the database makes them updatable).
    Table,
    /// The result columns of a query.
    Query(String),
    /// The result columns of a stored procedure called with @StartIndex, @EndIndex.
    Procedure(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeltaStrategy {
    None,
    /// A last-modified column compared with the database's own clock. Deletes are not seen.
    Watermark {
        column: String,
        query: String,
    },
    /// A history table filled by triggers; deletes are seen.
    ChangeTable {
        table: String,
        anchor_column: String,
        type_column: String,
        sequence_column: String,
        add: String,
        update: String,
        delete: String,
    },
}

/// How an import or export run step reaches the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunMode {
    /// Generated statements against the table (or view).
    Table,
    /// User statements with `@attribute` parameters.
    Query,
    /// Stored procedures with `@attribute` parameters.
    StoredProcedure,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordMethod {
    None,
    /// A statement with `@Password`, `@OldPassword` and anchor parameters.
    Sql(String),
    /// A procedure called with the anchor values, then the password.
    StoredProcedure(String),
}

/// A data type override (Schema 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeOverride {
    Plain(DataType),
    /// An ISO-8601 string in ECMA, a date-time in the database.
    DateTime,
}

/// The parsed configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dialect: Dialect,
    pub url: String,
    pub user: String,
    pub password: String,
    pub timeout: Duration,
    pub dn_is_anchor: bool,
    pub export_type: ExportType,
    pub types: TypeDetection,
    pub source: AttributeSource,
    pub table: String,
    pub mv_table: Option<(String, String)>,
    pub anchors: Vec<String>,
    pub dn_column: Option<String>,
    pub type_overrides: HashMap<String, TypeOverride>,
    pub directions: HashMap<String, AttributeOperation>,
    /// Columns served although their names look like secrets (`secrets.rs`).
    pub expose: Vec<String>,
    pub delta: DeltaStrategy,
    pub time_zone: UtcOffset,
    pub date_format: OwnedFormatItem,
    pub password_method: PasswordMethod,
    pub import_mode: RunMode,
    pub import_query: String,
    pub delta_query: String,
    pub import_proc: String,
    /// Called with @Watermark, @StartIndex, @EndIndex for a delta import.
    pub delta_proc: String,
    pub export_mode: RunMode,
    pub insert_query: String,
    pub update_query: String,
    pub delete_query: String,
    /// The export procedures as configured (Stored procedure export method).
    pub add_proc: String,
    pub update_proc: String,
    pub delete_proc: String,
    pub proc_params: Vec<String>,
}

/// The statement calling an export procedure with the listed attributes, in order.
pub fn export_call(dialect: Dialect, procedure: &str, params: &[String]) -> String {
    let args: Vec<String> = params.iter().map(|p| format!("@{p}")).collect();
    format!(
        "CALL {}({})",
        dialect.quote_table(procedure),
        args.join(", ")
    )
}

/// A configuration error naming the parameter at fault.
#[derive(Debug, Clone)]
pub struct ParamError {
    pub parameter: &'static str,
    pub message: String,
}

impl From<ParamError> for ConnectorError {
    fn from(e: ParamError) -> Self {
        ConnectorError::config(format!("'{}': {}", e.parameter, e.message))
    }
}

fn err(parameter: &'static str, message: impl Into<String>) -> ParamError {
    ParamError {
        parameter,
        message: message.into(),
    }
}

fn list(config: &ConfigParameters, name: &str) -> Vec<String> {
    config
        .get_or_empty(name)
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn get<'a>(config: &'a ConfigParameters, name: &str) -> &'a str {
    config.get_or_empty(name).trim()
}

/// A choice's value reduced to its letters and digits, lower case: "Stored Procedure",
/// "stored procedure" and "Fixed Value" (Microsoft's wizard spells its choices so) are read as
/// the words they are.
fn choice(config: &ConfigParameters, name: &str) -> String {
    get(config, name)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// `name:value` lines (or comma-separated pairs).
fn pairs(
    config: &ConfigParameters,
    name: &'static str,
) -> Result<Vec<(String, String)>, ParamError> {
    let mut out = Vec::new();
    for item in config
        .get_or_empty(name)
        .split(['\n', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let Some((k, v)) = item.rsplit_once(':') else {
            return Err(err(
                name,
                format!("'{item}' is not of the form column:value"),
            ));
        };
        out.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    Ok(out)
}

pub fn parse_offset(s: &str) -> Option<UtcOffset> {
    let s = s.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("utc") || s == "Z" {
        return Some(UtcOffset::UTC);
    }
    let (sign, rest) = match s.as_bytes()[0] {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let h: i8 = h.parse().ok()?;
    let m: i8 = m.parse().ok()?;
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

impl Settings {
    pub fn dialect_of(config: &ConfigParameters) -> Option<Dialect> {
        Dialect::from_connection_string(get(config, P_CONNECTION))
    }

    pub fn from_config(config: &ConfigParameters) -> Result<Self, ParamError> {
        let url = get(config, P_CONNECTION).to_owned();
        if url.is_empty() {
            return Err(err(
                P_CONNECTION,
                "a connection string is required, e.g. sqlite:///var/lib/ecma/users.db?mode=rwc, postgres://host/db or mysql://host/db",
            ));
        }
        let dialect = Dialect::from_connection_string(&url).ok_or_else(|| {
            err(
                P_CONNECTION,
                "the connection string must start with sqlite:, postgres:// or mysql:// (mariadb://)",
            )
        })?;
        // sqlx's MySQL driver only knows the mysql scheme; MariaDB speaks the same protocol.
        let url = match url.strip_prefix("mariadb:") {
            Some(rest) => format!("mysql:{rest}"),
            None => url,
        };
        let timeout = match get(config, P_TIMEOUT) {
            "" => Duration::from_secs(30),
            t => match t.parse::<u64>() {
                Ok(s) if s > 0 => Duration::from_secs(s),
                _ => {
                    return Err(err(
                        P_TIMEOUT,
                        format!("'{t}' is not a positive number of seconds"),
                    ));
                }
            },
        };
        // Microsoft's "Export Type: Object Replace" is a checkbox: checked is ObjectReplace.
        let export_type = match choice(config, P_EXPORT_TYPE).as_str() {
            "" | "attributeupdate" | "0" | "false" => ExportType::AttributeUpdate,
            "objectreplace" | "1" | "true" => ExportType::ObjectReplace,
            _ => {
                return Err(err(
                    P_EXPORT_TYPE,
                    format!(
                        "'{}' is not AttributeUpdate or ObjectReplace",
                        get(config, P_EXPORT_TYPE)
                    ),
                ));
            }
        };
        let types = match choice(config, P_TYPE_DETECTION).as_str() {
            "" | "fixed" | "fixedvalue" => {
                let mut t = list(config, P_OBJECT_TYPES);
                if t.is_empty() {
                    t.push("User".to_owned());
                }
                TypeDetection::Fixed(t)
            }
            "column" => {
                let c = get(config, P_TYPE_COLUMN);
                if c.is_empty() {
                    return Err(err(
                        P_TYPE_COLUMN,
                        "required when object types are read from a column",
                    ));
                }
                TypeDetection::Column(c.to_owned())
            }
            _ => {
                return Err(err(
                    P_TYPE_DETECTION,
                    format!("'{}' is not Fixed or Column", get(config, P_TYPE_DETECTION)),
                ));
            }
        };
        let table = get(config, P_TABLE).to_owned();
        let source = match choice(config, P_ATTR_DETECTION).as_str() {
            "" | "table" | "view" => {
                if table.is_empty() {
                    return Err(err(
                        P_TABLE,
                        "the table or view to detect attributes from is required",
                    ));
                }
                AttributeSource::Table
            }
            "sqlquery" => {
                let q = get(config, P_ATTR_QUERY);
                if q.is_empty() {
                    return Err(err(
                        P_ATTR_QUERY,
                        "required when attributes are detected from a query",
                    ));
                }
                AttributeSource::Query(q.to_owned())
            }
            "storedprocedure" => {
                // Defaults to the import procedure: what detection must match is what
                // imports return.
                let p = match get(config, P_ATTR_PROC) {
                    "" => get(config, P_IMPORT_PROC),
                    p => p,
                };
                if p.is_empty() {
                    return Err(err(
                        P_ATTR_PROC,
                        "required (or an 'Import procedure') when attributes are detected from a stored procedure",
                    ));
                }
                AttributeSource::Procedure(p.to_owned())
            }
            _ => {
                return Err(err(
                    P_ATTR_DETECTION,
                    format!(
                        "'{}' is not Table, View, SQL query or Stored procedure",
                        get(config, P_ATTR_DETECTION)
                    ),
                ));
            }
        };
        let mv_table = match (get(config, P_MV_TABLE), get(config, P_MV_JOIN)) {
            ("", _) => None,
            (_, "") => {
                return Err(err(
                    P_MV_JOIN,
                    "the child table's column that holds the parent's anchor is required",
                ));
            }
            (t, j) => Some((t.to_owned(), j.to_owned())),
        };
        let anchors = list(config, P_ANCHORS);
        if anchors.is_empty() {
            return Err(err(P_ANCHORS, "at least one anchor column is required"));
        }
        let dn_column = Some(get(config, P_DN_COLUMN).to_owned()).filter(|s| !s.is_empty());
        let mut type_overrides = HashMap::new();
        for (col, t) in pairs(config, P_TYPES)? {
            let o = match t.to_ascii_lowercase().as_str() {
                "string" => TypeOverride::Plain(DataType::String),
                "integer" => TypeOverride::Plain(DataType::Integer),
                "boolean" => TypeOverride::Plain(DataType::Boolean),
                "binary" => TypeOverride::Plain(DataType::Binary),
                "reference" => TypeOverride::Plain(DataType::Reference),
                "datetime" => TypeOverride::DateTime,
                _ => {
                    return Err(err(
                        P_TYPES,
                        format!(
                            "'{t}' for '{col}' is not String, Integer, Boolean, Binary, Reference or DateTime"
                        ),
                    ));
                }
            };
            type_overrides.insert(col.to_ascii_lowercase(), o);
        }
        let mut directions = HashMap::new();
        for (col, d) in pairs(config, P_DIRECTIONS)? {
            let op = match d.to_ascii_lowercase().as_str() {
                "import" | "importonly" => AttributeOperation::ImportOnly,
                "export" | "exportonly" => AttributeOperation::ExportOnly,
                "importexport" => AttributeOperation::ImportExport,
                _ => {
                    return Err(err(
                        P_DIRECTIONS,
                        format!("'{d}' for '{col}' is not Import, Export or ImportExport"),
                    ));
                }
            };
            directions.insert(col.to_ascii_lowercase(), op);
        }
        let delta = match choice(config, P_DELTA).as_str() {
            "" | "none" => DeltaStrategy::None,
            "watermark" => {
                let column = get(config, P_WM_COLUMN);
                if column.is_empty() {
                    return Err(err(
                        P_WM_COLUMN,
                        "the last-modified column is required for the watermark strategy",
                    ));
                }
                let query = match get(config, P_WM_QUERY) {
                    "" => dialect.default_watermark_query().to_owned(),
                    q => q.to_owned(),
                };
                DeltaStrategy::Watermark {
                    column: column.to_owned(),
                    query,
                }
            }
            // Microsoft's "Trigger" strategy: a history table the database's triggers fill.
            "changetable" | "trigger" => {
                let table = get(config, P_CT_TABLE);
                if table.is_empty() {
                    return Err(err(
                        P_CT_TABLE,
                        "the history table is required for the change-table strategy",
                    ));
                }
                let values = list(config, P_CT_VALUES);
                let (add, update, delete) = match values.as_slice() {
                    [] => ("Add".into(), "Update".into(), "Delete".into()),
                    [a, u, d] => (a.clone(), u.clone(), d.clone()),
                    _ => {
                        return Err(err(
                            P_CT_VALUES,
                            "three comma-separated values are required: add,update,delete (e.g. Add,Update,Delete or I,U,D)",
                        ));
                    }
                };
                let or = |name: &str, default: &str| match get(config, name) {
                    "" => default.to_owned(),
                    v => v.to_owned(),
                };
                DeltaStrategy::ChangeTable {
                    table: table.to_owned(),
                    anchor_column: or(P_CT_ANCHOR, &anchors[0]),
                    type_column: or(P_CT_TYPE, "change_type"),
                    sequence_column: or(P_CT_SEQ, "change_id"),
                    add,
                    update,
                    delete,
                }
            }
            _ => {
                return Err(err(
                    P_DELTA,
                    format!(
                        "'{}' is not None, Watermark or Change table (Trigger)",
                        get(config, P_DELTA)
                    ),
                ));
            }
        };
        if matches!(delta, DeltaStrategy::ChangeTable { .. }) && anchors.len() != 1 {
            return Err(err(
                P_DELTA,
                "the change-table strategy needs a single anchor column",
            ));
        }
        if mv_table.is_some() && anchors.len() != 1 {
            return Err(err(
                P_MV_TABLE,
                "a multi-valued table needs a single anchor column to join on",
            ));
        }
        let time_zone = parse_offset(get(config, P_TIME_ZONE)).ok_or_else(|| {
            err(
                P_TIME_ZONE,
                "expected UTC or an offset such as +02:00 or -05:30",
            )
        })?;
        let date_format_text = match get(config, P_DATE_FORMAT) {
            "" => DEFAULT_DATE_FORMAT,
            f => f,
        };
        let date_format =
            time::format_description::parse_owned::<2>(date_format_text).map_err(|e| {
                err(
                    P_DATE_FORMAT,
                    format!("not a valid format description ({e}); e.g. {DEFAULT_DATE_FORMAT}"),
                )
            })?;
        let password = match choice(config, P_PW_METHOD).as_str() {
            "" | "none" => PasswordMethod::None,
            "sql" => {
                let q = get(config, P_PW_SQL);
                if !q.contains("@Password") {
                    return Err(err(
                        P_PW_SQL,
                        "a statement using @Password (and the anchor as @<anchor column>) is required",
                    ));
                }
                PasswordMethod::Sql(q.to_owned())
            }
            "storedprocedure" => {
                let p = get(config, P_PW_PROC);
                if p.is_empty() {
                    return Err(err(P_PW_PROC, "the procedure name is required"));
                }
                PasswordMethod::StoredProcedure(p.to_owned())
            }
            _ => {
                return Err(err(
                    P_PW_METHOD,
                    format!(
                        "'{}' is not None, SQL or Stored procedure",
                        get(config, P_PW_METHOD)
                    ),
                ));
            }
        };
        let mode = |name: &'static str| match choice(config, name).as_str() {
            "" | "table" | "view" => Ok(RunMode::Table),
            "sqlquery" => Ok(RunMode::Query),
            "storedprocedure" => {
                if dialect == Dialect::Sqlite {
                    Err(err(
                        name,
                        "SQLite has no stored procedures; use Table or SQL query",
                    ))
                } else {
                    Ok(RunMode::StoredProcedure)
                }
            }
            _ => Err(err(
                name,
                format!(
                    "'{}' is not Table, SQL query or Stored procedure",
                    get(config, name)
                ),
            )),
        };
        let import_mode = mode(P_IMPORT_METHOD)?;
        let export_mode = mode(P_EXPORT_METHOD)?;
        let import_query = get(config, P_IMPORT_QUERY).to_owned();
        let import_proc = get(config, P_IMPORT_PROC).to_owned();
        match import_mode {
            RunMode::Query if import_query.is_empty() => {
                return Err(err(
                    P_IMPORT_QUERY,
                    "required for the SQL query import method",
                ));
            }
            RunMode::StoredProcedure if import_proc.is_empty() => {
                return Err(err(
                    P_IMPORT_PROC,
                    "required for the stored procedure import method",
                ));
            }
            _ => {}
        }
        if import_mode != RunMode::Table && table.is_empty() && export_mode == RunMode::Table {
            return Err(err(
                P_TABLE,
                "the table is required for the Table export method",
            ));
        }
        let (insert_query, update_query, delete_query) = match export_mode {
            RunMode::Table => (String::new(), String::new(), String::new()),
            RunMode::Query => (
                get(config, P_INSERT_QUERY).to_owned(),
                get(config, P_UPDATE_QUERY).to_owned(),
                get(config, P_DELETE_QUERY).to_owned(),
            ),
            RunMode::StoredProcedure => {
                let params = list(config, P_PROC_PARAMS);
                let call = |name: &str| -> String {
                    match get(config, name) {
                        "" => String::new(),
                        name => export_call(dialect, name, &params),
                    }
                };
                (call(P_ADD_PROC), call(P_UPDATE_PROC), call(P_DELETE_PROC))
            }
        };
        if export_mode != RunMode::Table
            && insert_query.is_empty()
            && update_query.is_empty()
            && delete_query.is_empty()
        {
            let p = if export_mode == RunMode::Query {
                P_INSERT_QUERY
            } else {
                P_ADD_PROC
            };
            return Err(err(
                p,
                "at least one of the add, update and delete statements is required",
            ));
        }
        Ok(Self {
            dialect,
            url,
            user: get(config, P_USER).to_owned(),
            password: config.get_or_empty(P_PASSWORD).to_owned(),
            timeout,
            dn_is_anchor: config.get_bool(P_DN_IS_ANCHOR).unwrap_or(false),
            export_type,
            types,
            source,
            table,
            mv_table,
            anchors,
            dn_column,
            type_overrides,
            directions,
            expose: list(config, P_EXPOSE),
            delta,
            time_zone,
            date_format,
            password_method: password,
            import_mode,
            import_query,
            delta_query: get(config, P_DELTA_QUERY).to_owned(),
            import_proc,
            delta_proc: get(config, P_DELTA_PROC).to_owned(),
            export_mode,
            insert_query,
            update_query,
            delete_query,
            add_proc: get(config, P_ADD_PROC).to_owned(),
            update_proc: get(config, P_UPDATE_PROC).to_owned(),
            delete_proc: get(config, P_DELETE_PROC).to_owned(),
            proc_params: list(config, P_PROC_PARAMS),
        })
    }

    /// Which page a parameter lives on, so validation reports failures on the right page.
    pub fn page_of(parameter: &str) -> (ConfigPage, u32) {
        match parameter {
            P_CONNECTION | P_USER | P_PASSWORD | P_TIMEOUT | P_DN_IS_ANCHOR | P_EXPORT_TYPE => {
                (ConfigPage::Connectivity, 1)
            }
            P_TYPE_DETECTION | P_OBJECT_TYPES | P_TYPE_COLUMN => (ConfigPage::Schema, 1),
            P_ATTR_DETECTION | P_TABLE | P_ATTR_QUERY | P_ATTR_PROC | P_MV_TABLE | P_MV_JOIN => {
                (ConfigPage::Schema, 2)
            }
            P_ANCHORS | P_DN_COLUMN => (ConfigPage::Schema, 3),
            P_TYPES | P_DIRECTIONS | P_EXPOSE => (ConfigPage::Schema, 4),
            P_DELTA | P_WM_COLUMN | P_WM_QUERY | P_CT_TABLE | P_CT_ANCHOR | P_CT_TYPE
            | P_CT_SEQ | P_CT_VALUES | P_TIME_ZONE | P_DATE_FORMAT | P_PW_METHOD | P_PW_SQL
            | P_PW_PROC => (ConfigPage::Global, 1),
            _ => (ConfigPage::RunStep, 1),
        }
    }
}

/// The parameter definitions of one page.
///
/// Aliases are the labels Microsoft's Generic SQL wizard shows for the same setting (its
/// technical reference and Entra's on-premises SQL tutorial), so an application written with
/// them works: only where a value typed under Microsoft's label means the same here. Labels
/// that differ from ours only in case or spacing ("Water Mark Query", "Delta Strategy",
/// "Command Timeout", "DN is Anchor", "Insert Query") need none. Not aliased, as their values
/// mean something else here: "DSN File" (a file, not a connection string), "Data Source Date
/// Time Format" (a .NET format), "Data Source Time Zone" (a Windows zone name), "Join
/// condition" (`Parent.col=Child.col`), "Add SP Parameters" (`name:direction:value` lines),
/// "Table/View/SP", "Operation Method" and "SQL Query" (their meaning depends on the page and
/// run step), "Column Name for Table/View/SP" (a column of another table).
pub fn definitions(
    config: &ConfigParameters,
    page: ConfigPage,
    page_number: u32,
) -> Vec<ConfigParameterDefinition> {
    type D = ConfigParameterDefinition;
    let dialect = Settings::dialect_of(config);
    match (page, page_number) {
        (ConfigPage::Connectivity, _) => vec![
            D::string(
                P_CONNECTION,
                "^(sqlite|postgres|postgresql|mysql|mariadb):.+",
                "",
            )
            .describe(
                "sqlite:///path/users.db?mode=rwc, postgres://host:5432/db or mysql://host:3306/db",
            )
            .required(),
            D::string(P_USER, "", "")
                .describe("Overrides the user in the connection string")
                .alias("User Name"),
            D::encrypted_string(P_PASSWORD)
                .describe("Overrides the password in the connection string"),
            D::string(P_TIMEOUT, "^[0-9]+$", "30")
                .describe("Seconds to wait for any database call"),
            D::checkbox(P_DN_IS_ANCHOR, false)
                .describe("The DN is also the anchor (one object type only)"),
            D::dropdown(
                P_EXPORT_TYPE,
                &["AttributeUpdate", "ObjectReplace"],
                false,
                "AttributeUpdate",
            )
            .describe("ObjectReplace: the whole object is exported on any change")
            // Microsoft's checkbox: checked (1, true) is ObjectReplace.
            .alias("Export Type: Object Replace"),
        ],
        (ConfigPage::Schema, 1) => vec![
            D::dropdown(P_TYPE_DETECTION, &["Fixed", "Column"], false, "Fixed")
                .alias("Object type detection method"),
            D::string(P_OBJECT_TYPES, "", "User")
                .describe("Comma-separated object types (Fixed)")
                .alias("Fixed value list/Table/View/SP"),
            D::string(P_TYPE_COLUMN, "", "")
                .describe("The column holding each row's object type (Column)"),
        ],
        (ConfigPage::Schema, 2) => vec![
            D::dropdown(
                P_ATTR_DETECTION,
                &["Table", "View", "SQL query", "Stored procedure"],
                false,
                "Table",
            ),
            D::string(P_TABLE, "", "").describe("The table or view holding the objects"),
            D::text(P_ATTR_QUERY, "").describe("A query whose result columns are the attributes"),
            D::string(P_ATTR_PROC, "", "").describe(
                "A procedure whose result columns are the attributes (called with @StartIndex, @EndIndex; default: the import procedure)",
            ),
            D::string(P_MV_TABLE, "", "")
                .describe("A child table whose columns are multi-valued attributes")
                .alias("Name of Multi-Valued table/views"),
            D::string(P_MV_JOIN, "", "")
                .describe("The child table's column holding the parent's anchor"),
        ],
        (ConfigPage::Schema, 3) => vec![
            D::string(P_ANCHORS, "", "id")
                .describe("Comma-separated anchor column(s)")
                .required(),
            D::string(P_DN_COLUMN, "", "")
                .describe("Column holding the DN; empty: autogenerated from the anchor"),
        ],
        (ConfigPage::Schema, 4) => vec![
            D::text(P_TYPES, "").describe(
                "Overrides, one per line: column:String|Integer|Boolean|Binary|Reference|DateTime",
            ),
            D::text(P_DIRECTIONS, "").describe("One per line: column:Import|Export|ImportExport"),
            D::string(P_EXPOSE, "", "").describe(
                "Comma-separated columns to serve although their names look like secrets (password, hash, salt, secret, token, API key); such columns are hidden otherwise",
            ),
        ],
        (ConfigPage::Global, _) => vec![
            D::dropdown(
                P_DELTA,
                &["None", "Watermark", "Change table"],
                false,
                "None",
            ),
            D::string(P_WM_COLUMN, "", "")
                .describe("Last-modified column (Watermark)")
                .alias("Water Mark Column Name"),
            D::string(
                P_WM_QUERY,
                "",
                dialect.map(Dialect::default_watermark_query).unwrap_or(""),
            )
            .describe("Returns the database's current time (Watermark)"),
            D::string(P_CT_TABLE, "", "")
                .describe("History table filled by triggers (Change table)")
                .alias("History Table or Snapshot database name"),
            D::string(P_CT_ANCHOR, "", "")
                .describe("Its column holding the object's anchor (default: the anchor column)"),
            D::string(P_CT_TYPE, "", "change_type").alias("Change Type attribute"),
            D::string(P_CT_SEQ, "", "change_id").describe("An increasing key of the history table"),
            D::string(P_CT_VALUES, "", "Add,Update,Delete")
                .describe("The change types the triggers write: add,update,delete"),
            D::string(P_TIME_ZONE, "", "UTC").describe("Zone of date-times stored without one"),
            D::string(P_DATE_FORMAT, "", DEFAULT_DATE_FORMAT)
                .describe("How date-times stored as text are formatted"),
            D::dropdown(
                P_PW_METHOD,
                &["None", "SQL", "Stored procedure"],
                false,
                "None",
            ),
            D::text(P_PW_SQL, "")
                .describe("e.g. UPDATE users SET password_hash = @Password WHERE id = @id"),
            D::string(P_PW_PROC, "", "")
                .describe("Called with the anchor value(s), then the password")
                .alias("Set Password SP Name"),
        ],
        (ConfigPage::RunStep, _) => vec![
            D::dropdown(
                P_IMPORT_METHOD,
                &["Table", "SQL query", "Stored procedure"],
                false,
                "Table",
            ),
            D::text(P_IMPORT_QUERY, "")
                .describe("Full import; may page with @StartIndex and @EndIndex"),
            D::text(P_DELTA_QUERY, "")
                .describe("Delta import; may use @Watermark, @StartIndex, @EndIndex"),
            D::string(P_IMPORT_PROC, "", "").describe("Called with @StartIndex, @EndIndex"),
            D::string(P_DELTA_PROC, "", "").describe(
                "Called with @Watermark, @StartIndex, @EndIndex; returns the rows changed since the watermark",
            ),
            D::dropdown(
                P_EXPORT_METHOD,
                &["Table", "SQL query", "Stored procedure"],
                false,
                "Table",
            ),
            D::text(P_INSERT_QUERY, "")
                .describe("e.g. INSERT INTO users (id, name) VALUES (@id, @name)"),
            D::text(P_UPDATE_QUERY, "")
                .describe("e.g. UPDATE users SET name = @name WHERE id = @id"),
            D::text(P_DELETE_QUERY, "").describe("e.g. DELETE FROM users WHERE id = @id"),
            D::string(P_ADD_PROC, "", "").alias("Add SP Name"),
            D::string(P_UPDATE_PROC, "", "").alias("Update SP Name"),
            D::string(P_DELETE_PROC, "", "").alias("Delete SP Name"),
            D::string(P_PROC_PARAMS, "", "")
                .describe("Comma-separated attributes passed to the procedures, in order"),
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every definition of every page (Schema pages 1 to 4 declare different parameters).
    fn all_definitions() -> Vec<ConfigParameterDefinition> {
        let config = ConfigParameters::new();
        [
            (ConfigPage::Connectivity, 1),
            (ConfigPage::Schema, 1),
            (ConfigPage::Schema, 2),
            (ConfigPage::Schema, 3),
            (ConfigPage::Schema, 4),
            (ConfigPage::Global, 1),
            (ConfigPage::RunStep, 1),
        ]
        .into_iter()
        .flat_map(|(page, n)| definitions(&config, page, n))
        .collect()
    }

    #[test]
    fn microsofts_wizard_labels_name_our_parameters() {
        let defs = all_definitions();
        for (label, ours) in [
            ("User Name", P_USER),
            ("Command Timeout", P_TIMEOUT),
            ("DN is Anchor", P_DN_IS_ANCHOR),
            ("Export Type: Object Replace", P_EXPORT_TYPE),
            ("Export Type", P_EXPORT_TYPE),
            ("Object type detection method", P_TYPE_DETECTION),
            ("Fixed value list/Table/View/SP", P_OBJECT_TYPES),
            ("Attribute Detection", P_ATTR_DETECTION),
            ("Name of Multi-Valued table/views", P_MV_TABLE),
            ("Delta Strategy", P_DELTA),
            ("Water Mark Query", P_WM_QUERY),
            ("Water Mark Column Name", P_WM_COLUMN),
            ("History Table or Snapshot database name", P_CT_TABLE),
            ("Change Type attribute", P_CT_TYPE),
            ("Set Password SP Name", P_PW_PROC),
            ("Insert Query", P_INSERT_QUERY),
            ("Update Query", P_UPDATE_QUERY),
            ("Delete Query", P_DELETE_QUERY),
            ("Add SP Name", P_ADD_PROC),
            ("Update SP Name", P_UPDATE_PROC),
            ("Delete SP Name", P_DELETE_PROC),
        ] {
            let named: Vec<&str> = defs
                .iter()
                .filter(|d| d.is_named(label))
                .map(|d| d.name.as_str())
                .collect();
            assert_eq!(named, [ours], "{label}");
            // Declared on the page the parameter lives on.
            let (page, n) = Settings::page_of(ours);
            assert!(
                definitions(&ConfigParameters::new(), page, n)
                    .iter()
                    .any(|d| d.name == ours && d.is_named(label)),
                "{label} on {page:?} {n}"
            );
        }
        // Values that mean something else here.
        for label in [
            "DSN File",
            "Data Source Date Time Format",
            "Data Source Time Zone",
            "Database Server Time Zone",
            "Join condition",
            "Add SP Parameters",
            "Table/View/SP",
            "Operation Method",
            "SQL Query",
            "Column Name for Table/View/SP",
        ] {
            assert!(!defs.iter().any(|d| d.is_named(label)), "{label}");
        }
    }

    #[test]
    fn no_two_parameters_share_a_name() {
        let defs = all_definitions();
        for (i, a) in defs.iter().enumerate() {
            for b in &defs[i + 1..] {
                for name in std::iter::once(&a.name).chain(&a.aliases) {
                    assert!(
                        !b.is_named(name),
                        "'{name}' names {} and {}",
                        a.name,
                        b.name
                    );
                }
            }
        }
    }

    fn sqlite(pairs: &[(&str, &str)]) -> ConfigParameters {
        let mut c = ConfigParameters::new();
        c.set(P_CONNECTION, "sqlite::memory:");
        c.set(P_TABLE, "users");
        c.set(P_ANCHORS, "id");
        for (k, v) in pairs {
            c.set(k, *v);
        }
        c
    }

    #[test]
    fn microsofts_value_words_are_read_as_ours() {
        let s = Settings::from_config(&sqlite(&[
            (P_TYPE_DETECTION, "Fixed Value"),
            (P_OBJECT_TYPES, "User,Group"),
            (P_ATTR_DETECTION, "view"),
            (P_EXPORT_TYPE, "1"),
            (P_DELTA, "Trigger"),
            (P_CT_TABLE, "history"),
            (P_IMPORT_METHOD, "SQL Query"),
            (P_IMPORT_QUERY, "SELECT * FROM users"),
            (P_PW_METHOD, "sql"),
            (P_PW_SQL, "UPDATE users SET pw = @Password WHERE id = @id"),
        ]))
        .unwrap();
        assert_eq!(
            s.types,
            TypeDetection::Fixed(vec!["User".into(), "Group".into()])
        );
        assert_eq!(s.source, AttributeSource::Table);
        assert_eq!(s.export_type, ExportType::ObjectReplace);
        assert!(
            matches!(s.delta, DeltaStrategy::ChangeTable { ref table, .. } if table == "history")
        );
        assert_eq!(s.import_mode, RunMode::Query);
        assert!(matches!(s.password_method, PasswordMethod::Sql(_)));
        let s = Settings::from_config(&sqlite(&[(P_EXPORT_TYPE, "false")])).unwrap();
        assert_eq!(s.export_type, ExportType::AttributeUpdate);
        // Microsoft's strategies with no counterpart stay errors naming the value.
        let e = Settings::from_config(&sqlite(&[(P_DELTA, "Change Tracking")])).unwrap_err();
        assert_eq!(e.parameter, P_DELTA);
        assert!(e.message.contains("'Change Tracking'"), "{}", e.message);
        let e = Settings::from_config(&sqlite(&[(P_EXPORT_TYPE, "AttributeReplace")])).unwrap_err();
        assert_eq!(e.parameter, P_EXPORT_TYPE);
    }
}
