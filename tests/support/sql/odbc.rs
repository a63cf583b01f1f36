//! Finding the PostgreSQL ODBC driver (psqlODBC's Unicode build) that the ODBC tests configure
//! generic-sql with. Its directory differs between distributions and, on Debian and Ubuntu,
//! between architectures (the multiarch triplet); odbcinst.ini names it without a directory,
//! and the tests point ODBCSYSINI at an empty directory anyway, so the file is searched for.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::servers::skip_or_fail;

const DRIVER_FILE: &str = "psqlodbcw.so";

/// The driver's path. When it is not installed: panics under CI, otherwise prints a loud skip
/// message naming every place searched and returns None (the caller returns early).
pub fn psqlodbc_driver() -> Option<PathBuf> {
    static FOUND: OnceLock<Result<PathBuf, Vec<PathBuf>>> = OnceLock::new();
    match FOUND.get_or_init(find) {
        Ok(path) => Some(path.clone()),
        Err(searched) => {
            let searched: Vec<String> = searched.iter().map(|p| p.display().to_string()).collect();
            skip_or_fail(&format!(
                "the PostgreSQL ODBC driver {DRIVER_FILE} was not found (searched {}); install it (apt-get install odbc-postgresql)",
                searched.join(", ")
            ));
            None
        }
    }
}

/// The connector's connection string for the `postgres` database of a server on `port`,
/// through `driver`.
pub fn postgres_connection_string(driver: &Path, port: u16) -> String {
    format!(
        "odbc:Driver={};Server=127.0.0.1;Port={port};Database=postgres;Uid=postgres;BoolsAsChar=0;ConnSettings={{SET TimeZone TO 'UTC'}}",
        driver.display()
    )
}

/// The first candidate that exists, or every candidate searched.
fn find() -> Result<PathBuf, Vec<PathBuf>> {
    let candidates = candidates();
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or(candidates)
}

/// Debian's multiarch directory for this machine's architecture first (every multiarch
/// directory when the triplet cannot be asked: a foreign architecture's driver then fails to
/// load with its own message), then where other distributions and source builds put it.
fn candidates() -> Vec<PathBuf> {
    let mut dirs = match multiarch_triplet() {
        Some(triplet) => vec![Path::new("/usr/lib").join(triplet).join("odbc")],
        None => every_multiarch_odbc_dir(),
    };
    dirs.extend(["/usr/lib64", "/usr/lib/odbc", "/usr/lib", "/usr/local/lib"].map(PathBuf::from));
    dirs.into_iter().map(|d| d.join(DRIVER_FILE)).collect()
}

/// The multiarch triplet (e.g. `aarch64-linux-gnu`), from dpkg-architecture or, without
/// dpkg-dev, from gcc.
fn multiarch_triplet() -> Option<String> {
    let askers: [(&str, &str); 2] = [
        ("dpkg-architecture", "-qDEB_HOST_MULTIARCH"),
        ("gcc", "-print-multiarch"),
    ];
    askers.into_iter().find_map(|(program, arg)| {
        let out = Command::new(program)
            .arg(arg)
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())?;
        let triplet = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        (!triplet.is_empty()).then_some(triplet)
    })
}

/// Every `/usr/lib/<triplet>/odbc`, sorted.
fn every_multiarch_odbc_dir() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib")
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.path().join("odbc"))
                .filter(|d| d.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}
