//! What this build is and where it runs.

/// `ecma-host --version`: the host's version, the plugin ABI version it loads, and the commit
/// it was built from (`host/build.rs`).
pub fn version_text() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        format!(
            "{} (plugin-api {}, commit {})",
            env!("CARGO_PKG_VERSION"),
            plugin_api::PLUGIN_API_VERSION,
            env!("ECMA_HOST_COMMIT")
        )
    })
}

/// The archive's `version.txt`: the build, the operating system, the machine, the time.
pub fn report() -> String {
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| std::env::consts::OS.to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned());
    format!(
        "ecma-host {}\nos: {os}\nkernel: {kernel}\narch: {}\nhost name: {}\nwritten: {}\n",
        version_text(),
        std::env::consts::ARCH,
        crate::tls::hostname(),
        crate::app::now_rfc3339()
    )
}
