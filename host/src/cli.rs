//! The command line: `ecma-host <command>`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::plugins::PluginRegistry;

/// A cross-platform ECMA Connector Host: serves SCIM 2.0 to Microsoft Entra provisioning and
/// drives connector plugins that talk to the target systems.
#[derive(Debug, Parser)]
#[command(name = "ecma-host", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the connector plugins found in plugin folders and the files that failed to load.
    Plugins {
        /// A folder to scan for plugin libraries (repeatable). Default: $ECMA_HOST_PLUGINS_DIR or ./plugins.
        #[arg(long = "dir", value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// A plugin library file to load (repeatable).
        #[arg(long = "file", value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Also log loading details to stderr.
        #[arg(short, long)]
        verbose: bool,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Plugins {
            dirs,
            files,
            verbose,
        } => {
            init_logging(if verbose { "debug" } else { "off" });
            let dirs = if dirs.is_empty() && files.is_empty() {
                vec![default_plugins_dir()]
            } else {
                dirs
            };
            let registry = PluginRegistry::discover(&dirs, &files);
            print!("{}", render_plugin_list(&registry));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn default_plugins_dir() -> PathBuf {
    std::env::var_os("ECMA_HOST_PLUGINS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("plugins"))
}

/// The `plugins` listing: loaded connectors, then one line per file that failed.
pub fn render_plugin_list(registry: &PluginRegistry) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let rows: Vec<[String; 5]> = registry
        .plugins()
        .map(|(name, p)| {
            let info = p.plugin.info();
            let caps = p
                .plugin
                .capabilities(&Default::default())
                .map(|c| c.short())
                .unwrap_or_else(|e| format!("(capabilities failed: {})", e.message));
            [
                name.clone(),
                info.version.clone(),
                info.api_version.clone(),
                p.file.display().to_string(),
                caps,
            ]
        })
        .collect();
    let header = ["CONNECTOR", "VERSION", "API", "FILE", "CAPABILITIES"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    for row in std::iter::once(&header).chain(rows.iter()) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    if rows.is_empty() {
        let _ = writeln!(out, "(no connectors loaded)");
    }
    if !registry.failures().is_empty() {
        let _ = writeln!(out, "\nFailed to load:");
        for f in registry.failures() {
            let _ = writeln!(out, "  {}: {}", f.file.display(), f.reason);
        }
    }
    out
}

/// Installs the global `tracing` subscriber; `RUST_LOG` overrides `default_filter`.
pub fn init_logging(default_filter: &str) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
