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

const GUIDE: &str = include_str!("../../plugin-api/docs/connector-guide.md");

/// The rows of the guide's table under `heading`: first cell (without backticks) → the
/// status, scimType and Retry-After cells.
fn guide_table(heading: &str) -> Vec<(String, String, String, bool)> {
    let start = GUIDE
        .find(heading)
        .unwrap_or_else(|| panic!("the guide has no '{heading}'"));
    GUIDE[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|row| {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            (
                cells[1].trim_matches('`').to_owned(),
                cells[2].to_owned(),
                cells[3].to_owned(),
                cells[4] == "yes",
            )
        })
        .collect()
}

fn row_of(e: &ecma_scim::ScimError) -> (String, String, bool) {
    (
        e.status.to_string(),
        e.scim_type
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        e.retry_after_secs.is_some(),
    )
}

#[test]
fn the_guides_error_kind_table_is_the_hosts_mapping() {
    use plugin_api::model::{ConnectorError, ErrorKind};
    let kinds = [
        ErrorKind::Config,
        ErrorKind::Connection,
        ErrorKind::Unsupported,
        ErrorKind::InvalidInput,
        ErrorKind::Cancelled,
        ErrorKind::Panicked,
        ErrorKind::Internal,
        ErrorKind::FullImportRequired,
    ];
    let table = guide_table("### Error kinds → HTTP status");
    assert_eq!(table.len(), kinds.len(), "one row per kind: {table:?}");
    for kind in kinds {
        let name = format!("{kind:?}");
        let (_, status, scim_type, retry) = table
            .iter()
            .find(|r| r.0 == name)
            .unwrap_or_else(|| panic!("the guide has no row for {name}"));
        let host = ecma_host::errors::connector_error_to_scim(&ConnectorError::new(kind, "x"));
        assert_eq!(
            (status.clone(), scim_type.clone(), *retry),
            row_of(&host),
            "the guide's row for {name} differs from the host's mapping"
        );
    }
}

#[test]
fn the_guides_export_code_table_is_the_hosts_mapping() {
    use plugin_api::model::ExportResult;
    let table = guide_table("### Export codes → HTTP status");
    assert_eq!(
        table.len(),
        all_codes().len(),
        "one row per code: {table:?}"
    );
    for code in all_codes() {
        let name = format!("{code:?}");
        let (_, status, scim_type, retry) = table
            .iter()
            .find(|r| r.0 == name)
            .unwrap_or_else(|| panic!("the guide has no row for {name}"));
        let result = ExportResult::failure("x", code, "detail");
        match ecma_host::errors::export_result_to_scim(&result) {
            Ok(()) => assert_eq!(status, "2xx", "{name}"),
            Err(host) => assert_eq!(
                (status.clone(), scim_type.clone(), *retry),
                row_of(&host),
                "the guide's row for {name} differs from the host's mapping"
            ),
        }
    }
}

/// Every export code; the match makes a new code a compile error here until it is listed.
fn all_codes() -> Vec<plugin_api::model::ExportErrorCode> {
    use plugin_api::model::ExportErrorCode as C;
    let listed = |c: C| match c {
        C::Success
        | C::ConvertUpdateToAdd
        | C::ProvisioningParent
        | C::RetryReferenceAttribute
        | C::AmbiguousUpdate
        | C::AnchorTooLong
        | C::ChangeNamingAttribute
        | C::ConnectedDirectoryError
        | C::ConnectedDirectoryMissingObject
        | C::ConnectedDirectoryExistingObject
        | C::CustomContinueRun
        | C::CustomStopRun
        | C::InvalidDn
        | C::MissingAnchorComponent
        | C::MissingProvisioningAttribute
        | C::PermissionIssue
        | C::SyntaxViolation => c,
    };
    vec![
        C::Success,
        C::ConvertUpdateToAdd,
        C::ProvisioningParent,
        C::RetryReferenceAttribute,
        C::AmbiguousUpdate,
        C::AnchorTooLong,
        C::ChangeNamingAttribute,
        C::ConnectedDirectoryError,
        C::ConnectedDirectoryMissingObject,
        C::ConnectedDirectoryExistingObject,
        C::CustomContinueRun,
        C::CustomStopRun,
        C::InvalidDn,
        C::MissingAnchorComponent,
        C::MissingProvisioningAttribute,
        C::PermissionIssue,
        C::SyntaxViolation,
    ]
    .into_iter()
    .map(listed)
    .collect()
}
