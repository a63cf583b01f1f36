//! The connector driven in process (`InProcessPlugin`, as the host drives it): how an export
//! replaces the file, and which error kinds and codes it reports.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use plugin_api::host::{ConnectorInstance, ConnectorPlugin, InProcessPlugin};
use plugin_api::prelude::*;

use super::CsvConnector;

fn instance(file: &Path) -> Box<dyn ConnectorInstance> {
    let mut config = ConfigParameters::new();
    config.set("File", file.to_str().unwrap());
    config.set("Columns", "id,name");
    let plugin = InProcessPlugin::<CsvConnector>::new().unwrap();
    let mut instance = plugin
        .create_instance(&config, HostServices::detached())
        .unwrap();
    instance
        .open_export(OpenExportRequest {
            batch_size: 10,
            partition: None,
            schema: plugin.schema(&config).unwrap(),
        })
        .unwrap();
    instance
}

fn add(id: &str, name: &str) -> CsEntryChange {
    let mut e = CsEntryChange::new("User", ObjectModification::Add)
        .with_anchor("id", id)
        .with_change(AttributeChange::add("name", [Value::from(name)]));
    e.identifier = format!("add-{id}");
    e
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_export_keeps_the_files_mode_and_owner_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(&file, "id,name\n1,Ann\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    // Another owner only where the test may give files away (root, as in CI).
    let give_away = std::os::unix::fs::chown(&file, Some(65534), Some(65534)).is_ok();
    let before = std::fs::metadata(&file).unwrap();

    let results = instance(&file)
        .put_export_entries(vec![add("2", "Bob")])
        .unwrap();
    assert_eq!(results[0].code, ExportErrorCode::Success, "{results:?}");

    let after = std::fs::metadata(&file).unwrap();
    assert_ne!(
        after.ino(),
        before.ino(),
        "the file was replaced, not rewritten in place"
    );
    assert_eq!(after.permissions().mode() & 0o777, 0o640);
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    if give_away {
        assert_eq!(after.uid(), 65534);
    }
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "id,name\n1,Ann\n2,Bob\n"
    );
    assert_eq!(names_in(dir.path()), ["users.csv", "users.csv.lock"]);
}

#[test]
fn a_link_planted_under_the_old_predictable_temporary_name_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep me").unwrap();
    // Until this connector used random names, an export wrote `<file>.tmp-<pid>` through
    // File::create, which follows a link there and truncates what it points to.
    let planted = dir
        .path()
        .join(format!("users.csv.tmp-{}", std::process::id()));
    std::os::unix::fs::symlink(&victim, &planted).unwrap();

    let results = instance(&file)
        .put_export_entries(vec![add("1", "Ann")])
        .unwrap();
    assert_eq!(results[0].code, ExportErrorCode::Success, "{results:?}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "id,name\n1,Ann\n");
}

#[test]
fn temporary_files_are_new_files_under_random_names() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("users.csv");
    let (_a, first) = super::create_temporary(dir.path(), &target).unwrap();
    let (_b, second) = super::create_temporary(dir.path(), &target).unwrap();
    assert_ne!(first, second);
    for path in [&first, &second] {
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(
            name.starts_with(".users.csv.") && name.ends_with(".tmp"),
            "{name}"
        );
    }
}

#[test]
fn a_malformed_file_is_the_targets_error_and_an_anchor_change_names_the_naming_attribute() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(&file, "id,name\n1,Ann\n2,Bob,extra\n").unwrap();
    let err = instance(&file)
        .put_export_entries(vec![add("3", "Cy")])
        .unwrap_err();
    // Internal: a server error to Entra, not `400 invalidValue` blaming the request.
    assert_eq!(err.kind, ErrorKind::Internal, "{err}");
    assert!(err.message.contains("malformed"), "{err}");

    std::fs::write(&file, "id,name\n1,Ann\n").unwrap();
    let mut rename = CsEntryChange::new("User", ObjectModification::Update)
        .with_anchor("id", "1")
        .with_change(AttributeChange::replace("id", [Value::from("9")]));
    rename.identifier = "rename".into();
    let results = instance(&file).put_export_entries(vec![rename]).unwrap();
    assert_eq!(results[0].code, ExportErrorCode::ChangeNamingAttribute);
}
