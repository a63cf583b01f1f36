//! ecma-host: a cross-platform ECMA Connector Host.
//!
//! The binary (`main.rs`) only parses the command line; everything else lives here so tests
//! drive it without a process.

#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
pub mod cache;
pub mod check_config;
pub mod cli;
pub mod config;
pub mod demo;
pub mod describe;
pub mod diagnose;
pub mod errors;
pub mod logging;
pub mod mapping;
pub mod migrate;
pub mod new_connector;
pub mod plugins;
pub mod probe;
pub mod recorder;
pub mod runtime;
pub mod server;
pub mod slot;
pub mod state;
pub mod tls;
pub mod worker;
