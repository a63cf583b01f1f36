//! The connector kit (`plugin_api::kit`) against the three first-party connectors on real
//! targets (the built libraries, loaded the way the host loads them), and against a connector
//! that lies about its capabilities, which the kit must catch.

use plugin_api::host::{ConnectorPlugin, InProcessPlugin};
use plugin_api::kit::{self, Kit, Outcome, Sample};
use plugin_api::prelude::*;

use ecma_host_tests::plugins::plugin_path;
use ecma_host_tests::slapd::{self, Slapd};
use ecma_host_tests::sql::Target;

fn load(lib: &str) -> plugin_api::loader::LoadedPlugin {
    plugin_api::loader::load_plugin(&plugin_path(lib)).expect("load plugin")
}

/// An object with an anchor `id` (also written as a column) and the text in `name`.
fn id_and_name(object_type: &'static str) -> Sample {
    Sample::new(object_type, "name", move |key, text| {
        CsEntryChange::new(object_type, ObjectModification::Add)
            .with_anchor("id", key)
            .with_change(AttributeChange::add("id", [Value::from(key)]))
            .with_change(AttributeChange::add("name", [Value::from(text)]))
    })
}

#[test]
fn the_csv_connector_passes_the_kit() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(
        &file,
        "id,name,mail\nexisting,Pre Existing,pre@example.org\n",
    )
    .unwrap();
    let mut config = ConfigParameters::new();
    config.set("File", file.to_str().unwrap());
    let plugin = load("csv_connector");
    let report = Kit::new(&plugin, config, id_and_name("User")).run();
    report.assert_passed();
    // Only what the kit created was deleted again.
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "id,name,mail\nexisting,Pre Existing,pre@example.org\n"
    );
}

#[test]
fn the_generic_sql_connector_passes_the_kit_on_sqlite() {
    let t = Target::sqlite();
    t.exec(&[&format!(
        "CREATE TABLE kit_users (id VARCHAR(100) PRIMARY KEY, name VARCHAR(200), pw VARCHAR(200), modified {})",
        t.modified_column()
    )]);
    let config = t.config(&[
        ("Table", "kit_users"),
        ("Anchor columns", "id"),
        ("Object type", "User"),
        ("Delta strategy", "Watermark"),
        ("Watermark column", "modified"),
        ("Password method", "SQL"),
        (
            "Set password SQL",
            "UPDATE kit_users SET pw = @Password WHERE id = @id",
        ),
    ]);
    let plugin = load("generic_sql");
    let report = Kit::new(&plugin, config, id_and_name("User")).run();
    report.assert_passed();
    assert_eq!(
        t.count("SELECT COUNT(*) FROM kit_users"),
        0,
        "the kit cleans up"
    );
}

#[test]
fn the_generic_ldap_connector_passes_the_kit_on_slapd() {
    let Some(s) = Slapd::start() else { return };
    let ou = s.create_ou("kit");
    let plugin = load("generic_ldap");
    let config = slapd::connector::config(&s);
    let sample = Sample::new("inetOrgPerson", "description", move |key, text| {
        let mut e = CsEntryChange::new("inetOrgPerson", ObjectModification::Add)
            .with_change(AttributeChange::add("uid", [Value::from(key)]))
            .with_change(AttributeChange::add(
                "cn",
                [Value::from(format!("Kit {key}"))],
            ))
            .with_change(AttributeChange::add("sn", [Value::from("Kit")]))
            .with_change(AttributeChange::add("description", [Value::from(text)]));
        e.dn = format!("uid={key},{ou}");
        e
    });
    let report = Kit::new(&plugin, config, sample).run();
    report.assert_passed();
}

/// A connector that declares delta import and answers it with Unsupported (and is otherwise
/// a correct, if tiny, in-memory connector).
struct Liar {
    store: &'static std::sync::Mutex<Vec<(String, String)>>,
    /// The rows an open import has still to return, and its page size.
    import: Option<(Vec<(String, String)>, usize)>,
}

static LIAR_STORE: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

impl Connector for Liar {
    fn info() -> ConnectorInfo {
        ConnectorInfo {
            name: "liar".into(),
            version: "1".into(),
            vendor: "tests".into(),
            description: "declares a delta import it does not have".into(),
            api_version: String::new(),
        }
    }
    fn capabilities(_: &ConfigParameters) -> Capabilities {
        Capabilities {
            support_import: true,
            support_export: true,
            delta_import: true,
            ..Capabilities::default()
        }
    }
    fn schema(_: &ConfigParameters) -> ConnectorResult<Schema> {
        Ok(Schema {
            types: vec![SchemaType {
                name: "User".into(),
                locked: true,
                attributes: vec![
                    SchemaAttribute::anchor("id", DataType::String),
                    SchemaAttribute::single("name", DataType::String),
                ],
                anchor_attributes: vec!["id".into()],
                possible_dn_components: Vec::new(),
            }],
        })
    }
    fn create(_: &ConfigParameters, _: HostServices) -> ConnectorResult<Self> {
        Ok(Self {
            store: &LIAR_STORE,
            import: None,
        })
    }
    fn test_connection(&mut self) -> ConnectorResult<()> {
        Ok(())
    }
    fn open_import(&mut self, request: OpenImportRequest) -> ConnectorResult<String> {
        if request.import_type == ImportType::Delta {
            return Err(ConnectorError::unsupported("no delta import here"));
        }
        let rows = self.store.lock().unwrap().clone();
        self.import = Some((rows, request.page_size.max(1) as usize));
        Ok(String::new())
    }
    fn get_import_entries(&mut self) -> ConnectorResult<ImportPage> {
        let (rows, size) = self
            .import
            .as_mut()
            .ok_or_else(|| ConnectorError::invalid_input("no import open"))?;
        let page: Vec<(String, String)> = rows.drain(..(*size).min(rows.len())).collect();
        let more_to_import = !rows.is_empty();
        Ok(ImportPage {
            entries: page
                .into_iter()
                .map(|(id, name)| {
                    CsEntryChange::new("User", ObjectModification::Add)
                        .with_anchor("id", id)
                        .with_change(AttributeChange::add("name", [Value::from(name)]))
                })
                .collect(),
            more_to_import,
            custom_data: String::new(),
        })
    }
    fn open_export(&mut self, _: OpenExportRequest) -> ConnectorResult<()> {
        Ok(())
    }
    fn put_export_entries(
        &mut self,
        entries: Vec<CsEntryChange>,
    ) -> ConnectorResult<Vec<ExportResult>> {
        let mut store = self.store.lock().unwrap();
        Ok(entries
            .iter()
            .map(|e| {
                let id = e.anchor_value().map(Value::as_text).unwrap_or_default();
                let at = store.iter().position(|(k, _)| *k == id);
                let name = e
                    .change("name")
                    .and_then(|c| c.added_values().next())
                    .map(Value::as_text);
                match (e.modification, at) {
                    (ObjectModification::Add, None) => {
                        store.push((id.clone(), name.unwrap_or_default()));
                        ExportResult::success(&e.identifier).with_anchor("id", id)
                    }
                    (ObjectModification::Add, Some(_)) => ExportResult::failure(
                        &e.identifier,
                        ExportErrorCode::ConnectedDirectoryExistingObject,
                        "exists",
                    ),
                    (ObjectModification::Delete, Some(i)) => {
                        store.remove(i);
                        ExportResult::success(&e.identifier)
                    }
                    (_, Some(i)) => {
                        store[i].1 = name.unwrap_or_default();
                        ExportResult::success(&e.identifier)
                    }
                    (_, None) => ExportResult::failure(
                        &e.identifier,
                        ExportErrorCode::ConnectedDirectoryMissingObject,
                        "missing",
                    ),
                }
            })
            .collect())
    }
}

#[test]
fn a_connector_declaring_delta_import_but_answering_unsupported_fails_the_kit() {
    let plugin = InProcessPlugin::<Liar>::new().unwrap();
    let report = Kit::new(&plugin, ConfigParameters::new(), id_and_name("User")).run();
    assert!(!report.passed(), "{report}");
    let Some(Outcome::Failed(why)) = report.outcome(kit::DELTA) else {
        panic!("the delta check did not fail: {report}");
    };
    assert!(
        why.contains("delta_import is declared")
            && why.contains("Unsupported error \"no delta import here\""),
        "{why}"
    );
    // Only that check fails: the rest of this small connector is correct.
    let failed: Vec<&str> = report.failures().map(|c| c.name).collect();
    assert_eq!(failed, [kit::DELTA], "{report}");
    let text = report.to_string();
    assert!(
        text.contains("FAILED  declared delta import works"),
        "{text}"
    );
    assert!(
        plugin
            .capabilities(&ConfigParameters::new())
            .unwrap()
            .delta_import
    );
}

/// The generator `ecma-host new-connector` runs.
use ecma_host::new_connector;

/// The generated skeleton builds outside the workspace against this workspace's plugin-api
/// and passes the kit (`plugin-api/template/check.sh`). Slow (a build of its own in
/// target/skeleton), so CI runs it through the script; run it here with `--ignored`.
#[test]
#[ignore = "builds a crate of its own; CI runs plugin-api/template/check.sh"]
fn the_generated_skeleton_builds_out_of_tree_and_passes_the_kit() {
    let dir = tempfile::Builder::new()
        .prefix("ecma-skeleton-")
        .tempdir_in("/tmp")
        .unwrap();
    let crate_dir = new_connector::new_connector("kit-skeleton", dir.path()).unwrap();
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = std::process::Command::new(workspace.join("plugin-api/template/check.sh"))
        .arg(&crate_dir)
        .status()
        .unwrap();
    assert!(status.success(), "check.sh failed: {status}");
}
