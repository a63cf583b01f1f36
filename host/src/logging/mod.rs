//! Where log lines go and what they look like: stderr (journald under systemd), colours only
//! at a terminal, text or one JSON object per line; at debug level the SCIM request and
//! response bodies, redacted (`bodies.rs`, `redact.rs`).

pub mod bodies;
pub mod redact;

use crate::config::LogFormat;

/// The field names of a `log_format = "json"` line. Fields are only ever added; these never
/// change meaning: `timestamp` (RFC 3339, UTC), `level` (`ERROR` … `TRACE`), `target` (the
/// module that logged), `message`, then the event's own fields (`app`, `status`, …) at the
/// same level.
pub const JSON_FIELDS: [&str; 4] = ["timestamp", "level", "target", "message"];

/// Installs the global `tracing` subscriber; `RUST_LOG` overrides `default_filter`.
pub fn init_logging(default_filter: &str) {
    init_logging_with(default_filter, LogFormat::Text)
}

pub fn init_logging_with(default_filter: &str, format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    // rustls warns on every handshake that sends an IP address as SNI (load tools, probes);
    // keep that out of the log unless asked for.
    let default_filter = if default_filter.contains("rustls") {
        default_filter.to_owned()
    } else {
        format!("{default_filter},rustls=error")
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&default_filter));
    // Colours only for a person at a terminal: journald and log files would store the escape
    // sequences verbatim.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        // Flat objects (no nested `fields`, no span lists): what log shippers index without
        // a mapping, and what `JSON_FIELDS` promises.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_ansi(false)
            .try_init(),
    };
}
