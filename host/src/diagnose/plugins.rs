//! The plugin listing: `ecma-host plugins` prints it, `ecma-host diagnose` archives it.

use crate::plugins::PluginRegistry;

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
