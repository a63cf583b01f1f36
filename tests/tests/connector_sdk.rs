//! What a connector author is told: the loader's one-line layout message, and the connector
//! guide's table of error kinds and export codes against the host's real mapping.

use ecma_host::plugins::PluginRegistry;
use ecma_host_tests::plugins::copy_plugin_into;

#[test]
fn a_layout_mismatch_names_the_type_and_field_that_differ_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    copy_plugin_into("fixture_layout_mismatch", dir.path(), "liblayout.so");
    let registry = PluginRegistry::discover(&[dir.path().to_owned()], &[]);
    let reason = &registry.failures()[0].reason;
    eprintln!("{reason}");
    assert!(
        reason.starts_with("plugin-api layout mismatch: "),
        "{reason}"
    );
    assert!(!reason.contains('\n'), "{reason}");
}
