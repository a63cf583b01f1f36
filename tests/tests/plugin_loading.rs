//! Loading real built plugin libraries, and every kind of bad file, the way the host does.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use ecma_host::plugins::{CallLimits, ManagedInstance, PluginRegistry};
use ecma_host_tests::plugins::{copy_plugin_into, plugin_path, target_dir};
use plugin_api::model::{ConfigParameters, ErrorKind, ImportType, OpenImportRequest, Schema};

fn plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn failure_for<'a>(registry: &'a PluginRegistry, file: &str) -> &'a str {
    registry
        .failures()
        .iter()
        .find(|f| f.file.file_name().unwrap() == file)
        .map(|f| f.reason.as_str())
        .unwrap_or_else(|| panic!("no failure recorded for {file}: {:?}", registry.failures()))
}

#[test]
fn loads_the_csv_connector_with_its_metadata() {
    let registry = PluginRegistry::discover(&[], &[plugin_path("csv_connector")]);
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
    let csv = registry.get("csv").expect("csv connector registered");
    let info = csv.plugin.info();
    assert_eq!(info.api_version, plugin_api::PLUGIN_API_VERSION);
    assert_eq!(info.vendor, "ecma-host");
    let caps = csv.plugin.capabilities(&ConfigParameters::new()).unwrap();
    assert!(caps.support_import && caps.support_export);
    assert!(!caps.delta_import, "CSV has no delta import");
}

#[test]
fn two_plugins_from_different_files_are_distinct() {
    // RootModule::load_from_file would return the first module for the second path; the
    // loader must not.
    let registry = PluginRegistry::discover(
        &[],
        &[plugin_path("csv_connector"), plugin_path("fixture_panicky")],
    );
    assert!(registry.get("csv").is_some());
    assert!(registry.get("panicky").is_some());
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
}

#[test]
fn every_bad_file_gets_a_clear_reason_and_the_rest_still_load() {
    let dir = plugin_dir();
    std::fs::write(dir.path().join("libgarbage.so"), b"\x7fELF but not really").unwrap();
    copy_plugin_into("fixture_not_a_plugin", dir.path(), "libnotaplugin.so");
    copy_plugin_into("fixture_old_api", dir.path(), "libold.so");
    copy_plugin_into("fixture_layout_mismatch", dir.path(), "liblayout.so");
    copy_plugin_into("fixture_init_fails", dir.path(), "libinitfails.so");
    copy_plugin_into("csv_connector", dir.path(), "libcsv1.so");
    copy_plugin_into("csv_connector", dir.path(), "libcsv2.so");
    std::fs::write(dir.path().join("README.txt"), "not a library, ignored").unwrap();

    let registry = PluginRegistry::discover(&[dir.path().to_owned()], &[]);

    assert!(registry.get("csv").is_some(), "the good plugin still loads");
    assert_eq!(registry.failures().len(), 6, "{:?}", registry.failures());
    assert!(failure_for(&registry, "libgarbage.so").starts_with("not a loadable library"));
    assert!(failure_for(&registry, "libnotaplugin.so").starts_with("not an ecma-host plugin"));
    let old = failure_for(&registry, "libold.so");
    assert!(
        old.contains("incompatible plugin-api version") && old.contains("0.0.9"),
        "{old}"
    );
    let layout = failure_for(&registry, "liblayout.so");
    assert!(layout.starts_with("plugin-api layout mismatch"), "{layout}");
    assert!(!layout.contains('\n'), "one line only: {layout}");
    let init = failure_for(&registry, "libinitfails.so");
    assert!(
        init.contains("initialisation failed") && init.contains("license.key"),
        "{init}"
    );
    let dup = failure_for(&registry, "libcsv2.so");
    assert!(dup.contains("duplicate connector name 'csv'"), "{dup}");
    for f in registry.failures() {
        assert!(
            !f.reason.contains('\n'),
            "one line per failure: {:?}",
            f.reason
        );
    }
}

#[test]
fn refuses_files_and_folders_writable_by_others() {
    let dir = plugin_dir();
    let file = copy_plugin_into("csv_connector", dir.path(), "libcsv.so");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let registry = PluginRegistry::discover(&[dir.path().to_owned()], &[]);
    assert!(registry.get("csv").is_none());
    let reason = failure_for(&registry, "libcsv.so");
    assert!(reason.contains("writable by other users"), "{reason}");

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let registry = PluginRegistry::discover(&[dir.path().to_owned()], &[]);
    assert!(registry.get("csv").is_none());
    assert!(
        registry.failures()[0]
            .reason
            .contains("folder is writable by other users"),
        "{:?}",
        registry.failures()
    );
}

#[test]
fn a_panicking_connector_returns_an_error_and_is_recreated() {
    let registry = PluginRegistry::discover(&[], &[plugin_path("fixture_panicky")]);
    let plugin = registry.get("panicky").unwrap().plugin.clone();

    // Module-level call panics: an error, not an aborted process.
    let mut cfg = ConfigParameters::new();
    cfg.set("Panic on", "schema");
    let err = plugin.schema(&cfg).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Panicked);
    assert!(
        err.message.contains("schema panic requested"),
        "{}",
        err.message
    );

    // Instance call panics: an error, the instance is dropped, the next call gets a new one.
    let mut cfg = ConfigParameters::new();
    cfg.set("Panic on", "test");
    let managed = ManagedInstance::new(plugin, cfg, "app", CallLimits::default());
    let first = managed.call_blocking(|i| import_one_anchor(i)).unwrap();
    let err = managed.call_blocking(|i| i.test_connection()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Panicked);
    let second = managed.call_blocking(|i| import_one_anchor(i)).unwrap();
    assert_ne!(
        first, second,
        "a panicked instance must be replaced by a new one"
    );
    // ...and the process is obviously still here to assert this.
}

fn import_one_anchor(
    instance: &mut dyn plugin_api::host::ConnectorInstance,
) -> plugin_api::model::ConnectorResult<String> {
    instance.open_import(OpenImportRequest {
        import_type: ImportType::Full,
        page_size: 10,
        custom_data: String::new(),
        partition: None,
        schema: Schema::default(),
    })?;
    let page = instance.get_import_entries()?;
    Ok(page.entries[0].anchor_value().unwrap().as_text())
}

#[test]
fn plugins_command_lists_connectors_and_one_line_per_bad_file() {
    let dir = plugin_dir();
    copy_plugin_into("csv_connector", dir.path(), "libcsv.so");
    copy_plugin_into("fixture_old_api", dir.path(), "libold.so");
    std::fs::write(dir.path().join("libgarbage.so"), b"garbage").unwrap();
    let exe = target_dir().join("ecma-host");
    assert!(
        Path::new(&exe).exists(),
        "run `cargo build --workspace` first"
    );
    let out = Command::new(&exe)
        .arg("plugins")
        .arg("--dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let csv_line = stdout
        .lines()
        .find(|l| l.starts_with("csv "))
        .unwrap_or_else(|| panic!("csv not listed:\n{stdout}"));
    assert!(
        csv_line.contains("libcsv.so") && csv_line.contains("export("),
        "{csv_line}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.contains("libold.so")).count(),
        1,
        "{stdout}"
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.contains("libgarbage.so: not a loadable library"))
            .count(),
        1,
        "{stdout}"
    );
    let help = Command::new(&exe)
        .args(["plugins", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--dir"));
}
