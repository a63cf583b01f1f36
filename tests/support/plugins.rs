//! Finding the plugin libraries that `cargo build --workspace` produced.

use std::path::PathBuf;

/// The workspace's target directory for the profile the tests were built with.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return dir.join(profile());
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join(profile())
}

fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// The path of the built plugin library for crate `lib_name` (e.g. `csv_connector`).
/// Panics with an actionable message when it was not built.
pub fn plugin_path(lib_name: &str) -> PathBuf {
    let file = format!(
        "{}{lib_name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let path = target_dir().join(&file);
    assert!(
        path.exists(),
        "{} not found: run `cargo build --workspace` before `cargo test` (cargo test does not build cdylib plugins)",
        path.display()
    );
    path
}

/// Copies a built plugin into `dir` (plugin folders must not be writable by others, and
/// tests want folders with exactly the plugins they name).
pub fn copy_plugin_into(lib_name: &str, dir: &std::path::Path, file_name: &str) -> PathBuf {
    let dest = dir.join(file_name);
    std::fs::copy(plugin_path(lib_name), &dest).expect("copy plugin");
    dest
}
