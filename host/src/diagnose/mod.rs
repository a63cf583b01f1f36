//! `ecma-host diagnose`: one tar.gz an administrator attaches to a support request.
//!
//! Every file in it is text that went through redaction: the configuration is rewritten
//! without secret values (`config.rs`), and every file is then searched for each secret the
//! configuration resolves to, verbatim, which catches a secret wherever else it turns up
//! (a log line, an error message).

pub mod about;
mod config;
pub mod plugins;
mod sections;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::logging::redact::scrub_known;

/// What `ecma-host diagnose` was asked for.
#[derive(Debug, Clone)]
pub struct Request {
    pub config: PathBuf,
    /// Default: `ecma-host-diagnose-HOST-TIME.tar.gz` in the working directory.
    pub out: Option<PathBuf>,
    pub log_file: Option<PathBuf>,
    pub log_lines: usize,
}

/// Writes the archive and returns its path.
pub fn run(request: &Request) -> anyhow::Result<PathBuf> {
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default();
    let top = format!("ecma-host-diagnose-{}-{stamp}", crate::tls::hostname());
    let out = request
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{top}.tar.gz")));
    let files = collect(request);
    write_archive(&out, &top, &files)?;
    Ok(out)
}

/// The archive's files, each redacted.
fn collect(request: &Request) -> Vec<(&'static str, String)> {
    let mut files: Vec<(&'static str, String)> = vec![("version.txt", about::report())];
    let raw = std::fs::read_to_string(&request.config);
    let loaded = Config::load(&request.config);
    let (secrets, config_text) = match &raw {
        Ok(raw) => (
            config::known_secrets(raw, loaded.as_ref().ok()),
            config::redacted_text(raw).unwrap_or_else(|e| format!("# {e}\n")),
        ),
        Err(e) => (
            Vec::new(),
            format!("# cannot read {}: {e}\n", request.config.display()),
        ),
    };
    files.push((
        "config.toml",
        format!(
            "# {} with every secret value replaced by {}\n{config_text}",
            request.config.display(),
            crate::logging::redact::MARKER
        ),
    ));
    files.push(("environment.txt", config::environment_overrides()));
    match &loaded {
        Ok(config) => {
            let registry = config.host.plugin_registry();
            files.push(("plugins.txt", plugins::render_plugin_list(&registry)));
            let (status, name) = sections::host_status(config);
            files.push((name, status));
            files.push(("certificate.txt", sections::certificate(config)));
            files.push(("state-dir.txt", sections::state_listing(&config.host.state_dir)));
        }
        // The file's own problem is the finding; what depends on it cannot be reported.
        Err(e) => files.push((
            "config-error.txt",
            format!(
                "The configuration does not load, so plugins, the running host, the certificate and the state directory are not reported:\n{}\n",
                without_quoted_source(&e.to_string())
            ),
        )),
    }
    files.push((
        "log.txt",
        sections::log_tail(request.log_file.as_deref(), request.log_lines),
    ));
    let listing: String = files.iter().map(|(n, _)| format!("  {n}\n")).collect();
    files.push((
        "README.txt",
        format!(
            "ecma-host diagnose archive.\nSecret values (tokens, passwords, secret parameters, credentials in connection strings) are replaced by {}; secret files are never read into it.\nFiles:\n{listing}",
            crate::logging::redact::MARKER
        ),
    ));
    files
        .into_iter()
        .map(|(name, text)| (name, scrub_known(&text, &secrets)))
        .collect()
}

/// A parse error without the source lines the TOML parser quotes (`12 | token = "…"`).
fn without_quoted_source(message: &str) -> String {
    message
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !(t.starts_with('|')
                || t.split_once('|')
                    .is_some_and(|(n, _)| n.trim().parse::<u64>().is_ok()))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes the tar.gz next to its final name and renames it there: owner-only, never a
/// half-written archive under the final name.
fn write_archive(out: &Path, top: &str, files: &[(&'static str, String)]) -> anyhow::Result<()> {
    use anyhow::Context;
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".ecma-host-diagnose")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    {
        let gz = flate2::write::GzEncoder::new(tmp.as_file_mut(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        let mtime = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        for (name, text) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(mtime);
            header.set_cksum();
            tar.append_data(&mut header, format!("{top}/{name}"), text.as_bytes())?;
        }
        tar.into_inner()?.finish()?.flush()?;
    }
    tmp.persist(out)
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}
