//! SQL databases for the generic-sql connector tests: a throwaway PostgreSQL cluster and a
//! throwaway MariaDB datadir in temp dirs on loopback, and SQLite temp files. Each server is
//! owned by one test and stopped by PID (and reaped) when dropped.
//!
//! [`Target`] bundles a database with a fixture client and config helpers, so the same
//! [`scenarios`] run against every dialect.

pub mod connector;
pub mod host_app;
pub mod mariadb;
pub mod odbc;
pub mod postgres;
pub mod scenarios;
pub mod target;

pub use host_app::scim_app_toml;
pub use target::{Kind, Server, Target};
