//! The archive's reports that ask the machine: the running host, the log, the certificate,
//! the state directory.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use crate::config::Config;

/// How long the running host gets to answer.
const STATUS_TIMEOUT: Duration = Duration::from_secs(10);

/// What the running host reports (`ecma-host status --json`), or why it could not be asked.
pub fn host_status(config: &Config) -> (String, &'static str) {
    let client = crate::admin::client::AdminClient::new(&config.host.state_dir, "");
    let asked = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|rt| {
            rt.block_on(async {
                match tokio::time::timeout(STATUS_TIMEOUT, client.status(None)).await {
                    Ok(r) => r.map_err(|e| e.to_string()),
                    Err(_) => Err(format!(
                        "the host did not answer within {} s",
                        STATUS_TIMEOUT.as_secs()
                    )),
                }
            })
        });
    match asked.and_then(|r| serde_json::to_string_pretty(&r).map_err(|e| e.to_string())) {
        Ok(json) => (json + "\n", "status.json"),
        Err(e) => (
            format!(
                "The running host could not be asked for its applications' state and last imports and exports:\n{e}\n"
            ),
            "status.txt",
        ),
    }
}

/// The last `lines` lines of the log: the given file, else the systemd journal of
/// `ecma-host.service`.
pub fn log_tail(log_file: Option<&Path>, lines: usize) -> String {
    if let Some(path) = log_file {
        return match tail_file(path, lines) {
            Ok(text) => format!("# last {lines} lines of {}\n{text}", path.display()),
            Err(e) => format!("# cannot read {}: {e}\n", path.display()),
        };
    }
    let journal = std::process::Command::new("journalctl")
        .args([
            "--unit",
            "ecma-host.service",
            "--no-pager",
            "--output",
            "short-iso",
            "--lines",
        ])
        .arg(lines.to_string())
        .output();
    match journal {
        Ok(out) if out.status.success() => format!(
            "# journalctl --unit ecma-host.service --lines {lines}\n{}",
            String::from_utf8_lossy(&out.stdout)
        ),
        Ok(out) => format!(
            "# journalctl could not show the journal of ecma-host.service:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            format!("# no log included: no --log-file given and journalctl cannot run ({e})\n")
        }
    }
}

/// The last `lines` lines of a file, reading at most its last few megabytes.
fn tail_file(path: &Path, lines: usize) -> std::io::Result<String> {
    const MAX_READ: u64 = 8 * 1024 * 1024;
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(MAX_READ)))?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    let mut out = all[start..].join("\n");
    out.push('\n');
    Ok(out)
}

/// The listener's certificate: where, for whom, until when; the key file's mode.
pub fn certificate(config: &Config) -> String {
    let (cert, key) = match crate::tls::cert_paths(
        config.host.tls_cert.as_deref(),
        config.host.tls_key.as_deref(),
        &config.host.state_dir,
    ) {
        Ok(p) => p,
        Err(e) => return format!("{e}\n"),
    };
    let mut out = format!("certificate: {}\nkey: {}\n", cert.display(), key.display());
    match crate::tls::summary(&cert) {
        Ok(s) => {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let date = time::OffsetDateTime::from_unix_timestamp(s.not_after)
                .map(|t| t.date().to_string())
                .unwrap_or_default();
            let days = (s.not_after - now).div_euclid(86_400);
            out.push_str(&format!(
                "subject: {}\nissuer: {}\nnames: {}\nnot after: {date} ({})\n",
                s.subject,
                s.issuer,
                s.names.join(", "),
                if days < 0 {
                    "EXPIRED".to_owned()
                } else {
                    format!("{days} days left")
                }
            ));
        }
        Err(e) => out.push_str(&format!("{e}\n")),
    }
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(&key) {
        use std::os::unix::fs::PermissionsExt;
        out.push_str(&format!(
            "key mode: {:o}\n",
            meta.permissions().mode() & 0o7777
        ));
    }
    out
}

/// The state directory's files: names, sizes, modes, times (no contents).
pub fn state_listing(state_dir: &Path) -> String {
    let mut out = format!("{}\n", state_dir.display());
    let mut stack = vec![(state_dir.to_owned(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            out.push_str(&format!("  (cannot list {})\n", dir.display()));
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let Ok(meta) = e.metadata() else { continue };
            let rel = e.path();
            let rel = rel.strip_prefix(state_dir).unwrap_or(&rel);
            #[cfg(unix)]
            let mode = {
                use std::os::unix::fs::PermissionsExt;
                format!("{:o}", meta.permissions().mode() & 0o7777)
            };
            #[cfg(not(unix))]
            let mode = String::new();
            let modified = meta
                .modified()
                .ok()
                .map(time::OffsetDateTime::from)
                .map(|t| t.replace_nanosecond(0).unwrap_or(t).to_string())
                .unwrap_or_default();
            out.push_str(&format!(
                "  {}{} {mode} {} bytes {modified}\n",
                rel.display(),
                if meta.is_dir() { "/" } else { "" },
                meta.len()
            ));
            if meta.is_dir() && depth < 2 {
                stack.push((e.path(), depth + 1));
            }
        }
    }
    out
}
