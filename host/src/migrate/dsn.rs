//! ODBC file DSNs (`.dsn`, the Generic SQL connector's "DSN File"): finding one the export
//! names and turning it into a generic-sql connection string. Passwords in the file are
//! noticed, never copied.

use std::path::{Path, PathBuf};

/// The parts of a file DSN the migration uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dsn {
    pub driver: String,
    pub server: String,
    pub port: String,
    pub database: String,
    pub user: String,
    pub has_password: bool,
    /// `Trusted_Connection=Yes` / integrated security: Windows authentication.
    pub windows_auth: bool,
    /// Every other key, in file order (driver options).
    pub other: Vec<(String, String)>,
}

/// What kind of database the driver name says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverKind {
    Postgres,
    MySql,
    Sqlite,
    /// SQL Server, Oracle, DB2, ...: only through ODBC.
    Other,
}

impl Dsn {
    pub fn kind(&self) -> DriverKind {
        let d = self.driver.to_ascii_lowercase();
        if d.contains("postgres") || d.contains("psqlodbc") {
            DriverKind::Postgres
        } else if d.contains("mysql") || d.contains("mariadb") {
            DriverKind::MySql
        } else if d.contains("sqlite") {
            DriverKind::Sqlite
        } else {
            DriverKind::Other
        }
    }
}

/// The places a DSN file named `value` (often a Windows path) is looked for: the path itself,
/// then its file name in `source_dir` (the export's folder).
pub fn candidates(value: &str, source_dir: Option<&Path>) -> Vec<PathBuf> {
    let value = value.trim();
    let mut out = vec![PathBuf::from(value)];
    let file = value.rsplit(['\\', '/']).next().unwrap_or(value);
    if let Some(dir) = source_dir
        && !file.is_empty()
    {
        out.push(dir.join(file));
    }
    out
}

/// Parses a file DSN (INI, section `[ODBC]`; keys without case). A UTF-8 byte-order mark
/// is ignored (Microsoft's connector wants the file in UTF-8).
pub fn parse(text: &str) -> Dsn {
    let mut dsn = Dsn::default();
    let mut in_odbc = true;
    for line in text.trim_start_matches('\u{feff}').lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with([';', '#']) {
            continue;
        }
        if line.starts_with('[') {
            in_odbc = line.eq_ignore_ascii_case("[odbc]");
            continue;
        }
        if !in_odbc {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        match k.to_ascii_lowercase().as_str() {
            "driver" => dsn.driver = v.trim_matches(['{', '}']).to_owned(),
            "server" | "servername" | "host" | "hostname" | "data source" => {
                dsn.server = v.to_owned()
            }
            "port" => dsn.port = v.to_owned(),
            "database" | "db" | "initial catalog" | "dbname" => dsn.database = v.to_owned(),
            "uid" | "user" | "username" | "user id" => dsn.user = v.to_owned(),
            "pwd" | "password" => dsn.has_password = !v.is_empty(),
            "trusted_connection" | "integrated security" => {
                dsn.windows_auth =
                    matches!(v.to_ascii_lowercase().as_str(), "yes" | "true" | "sspi")
            }
            _ => dsn.other.push((k.to_owned(), v.to_owned())),
        }
    }
    dsn
}

/// The generic-sql connection string for the DSN (never with a password: ours takes it from
/// the Password parameter). A SQL Server `host\instance` or `host,port` server keeps its form
/// inside an ODBC string.
pub fn connection_string(dsn: &Dsn) -> String {
    let host_port = || {
        let host = if dsn.server.is_empty() {
            "localhost"
        } else {
            dsn.server.as_str()
        };
        if dsn.port.is_empty() {
            host.to_owned()
        } else {
            format!("{host}:{}", dsn.port)
        }
    };
    match dsn.kind() {
        DriverKind::Postgres => format!("postgres://{}/{}", host_port(), dsn.database),
        DriverKind::MySql => format!("mysql://{}/{}", host_port(), dsn.database),
        DriverKind::Sqlite => format!("sqlite://{}?mode=rw", dsn.database.replace('\\', "/")),
        DriverKind::Other => {
            let mut parts = vec![format!("Driver={{{}}}", dsn.driver)];
            if !dsn.server.is_empty() {
                parts.push(format!("Server={}", dsn.server));
            }
            if !dsn.port.is_empty() {
                parts.push(format!("Port={}", dsn.port));
            }
            if !dsn.database.is_empty() {
                parts.push(format!("Database={}", dsn.database));
            }
            parts.extend(
                dsn.other
                    .iter()
                    .filter(|(k, _)| !k.eq_ignore_ascii_case("description"))
                    .map(|(k, v)| format!("{k}={v}")),
            );
            format!("odbc:{}", parts.join(";"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drivers_become_native_urls_or_odbc_strings() {
        let pg = parse(
            "\u{feff}[ODBC]\nDRIVER=PostgreSQL Unicode(x64)\nSERVER=db1\nPORT=5433\nDATABASE=hr\nUID=ecma\nPWD=dsn-pw\n",
        );
        assert_eq!(connection_string(&pg), "postgres://db1:5433/hr");
        assert_eq!(pg.user, "ecma");
        assert!(pg.has_password);
        let my =
            parse("[ODBC]\nDRIVER={MySQL ODBC 8.0 Unicode Driver}\nSERVER=db2\nDATABASE=app\n");
        assert_eq!(connection_string(&my), "mysql://db2/app");
        let ss = parse(
            "[ODBC]\nDRIVER=ODBC Driver 18 for SQL Server\nSERVER=sql1\\HR\nDATABASE=CONTOSO\nTrusted_Connection=Yes\nEncrypt=yes\nDescription=x\n",
        );
        assert!(ss.windows_auth);
        assert_eq!(
            connection_string(&ss),
            "odbc:Driver={ODBC Driver 18 for SQL Server};Server=sql1\\HR;Database=CONTOSO;Encrypt=yes"
        );
        assert!(!connection_string(&pg).contains("dsn-pw"));
    }

    #[test]
    fn a_windows_path_is_looked_for_next_to_the_export() {
        let c = candidates(
            r"C:\Users\admin\Documents\hr.dsn",
            Some(Path::new("/srv/export")),
        );
        assert_eq!(c[1], Path::new("/srv/export/hr.dsn"));
    }
}
