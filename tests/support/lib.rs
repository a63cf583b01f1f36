//! Test harness shared by the integration tests in `tests/tests/`:
//! locating the built plugin libraries and starting real servers (slapd, PostgreSQL,
//! MariaDB) in temporary directories on loopback, stopped by PID when dropped.
//!
//! Server binaries missing: the test is skipped with a loud message locally, and fails when
//! `CI=true`, so a missing install step can never turn into "ran no test".

pub mod directory;
pub mod drive;
pub mod ds389;
pub mod host;
pub mod plugins;
pub mod servers;
pub mod slapd;
pub mod sql;
