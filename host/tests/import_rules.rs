//! ECMA's continue-run rules for imports, driven through a connector linked into the test
//! (no database is involved: what is tested is the host's bookkeeping of watermarks and
//! snapshots around entry errors).
//!
//! * a delta with a failed entry applies the rest but keeps the old watermark, so the next
//!   delta asks for the same changes again;
//! * a clean delta then advances it;
//! * `CustomStopRun` stops a full import and keeps the old snapshot.

use std::path::Path;
use std::sync::{Arc, Mutex};

use ecma_host::app::{Application, ImportMode};
use ecma_host::config::Config;
use ecma_host::plugins::PluginRegistry;
use ecma_scim::Backend;
use plugin_api::host::InProcessPlugin;
use plugin_api::prelude::*;

/// What the scripted connector does next, and what it was asked.
#[derive(Default)]
struct Script {
    /// The delta fails one entry.
    fail_one_delta_entry: bool,
    /// The full import sends a CustomStopRun entry.
    stop_full_import: bool,
    /// The watermark of every delta it was asked for.
    delta_requests: Vec<String>,
}

static SCRIPT: Mutex<Option<Script>> = Mutex::new(None);

fn script<R>(f: impl FnOnce(&mut Script) -> R) -> R {
    f(SCRIPT.lock().unwrap().get_or_insert_with(Script::default))
}

struct Scripted {
    delta: bool,
}

fn user(id: &str, name: &str, modification: ObjectModification) -> CsEntryChange {
    CsEntryChange::new("User", modification)
        .with_anchor("id", id.to_owned())
        .with_change(AttributeChange::replace("name", [Value::from(name)]))
}

impl Connector for Scripted {
    fn info() -> ConnectorInfo {
        ConnectorInfo {
            name: "scripted".into(),
            version: "1".into(),
            vendor: "tests".into(),
            description: String::new(),
            api_version: String::new(),
        }
    }
    fn capabilities(_: &ConfigParameters) -> Capabilities {
        Capabilities {
            delta_import: true,
            support_password: false,
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
                possible_dn_components: vec![],
            }],
        })
    }
    fn create(_: &ConfigParameters, _: HostServices) -> ConnectorResult<Self> {
        Ok(Scripted { delta: false })
    }
    fn test_connection(&mut self) -> ConnectorResult<()> {
        Ok(())
    }
    fn open_import(&mut self, request: OpenImportRequest) -> ConnectorResult<String> {
        self.delta = request.import_type == ImportType::Delta;
        if self.delta {
            script(|s| s.delta_requests.push(request.custom_data.clone()));
        }
        Ok(String::new())
    }
    fn get_import_entries(&mut self) -> ConnectorResult<ImportPage> {
        let (fail, stop) = script(|s| (s.fail_one_delta_entry, s.stop_full_import));
        let mut entries = Vec::new();
        let custom_data = if self.delta {
            if fail {
                let mut broken = CsEntryChange::new("User", ObjectModification::Update);
                broken.error = Some(EntryError {
                    code: ImportErrorCode::CustomContinueRun,
                    name: "Unparsable".into(),
                    detail: "row 3 has a value the connector cannot read".into(),
                });
                entries.push(broken);
            }
            entries.push(user("2", "two, renamed", ObjectModification::Replace));
            "after-delta"
        } else {
            entries.push(user("1", "one", ObjectModification::Add));
            if stop {
                let mut stop = CsEntryChange::new("User", ObjectModification::Add);
                stop.error = Some(EntryError {
                    code: ImportErrorCode::CustomStopRun,
                    name: "Stop".into(),
                    detail: "the source is being restored".into(),
                });
                entries.push(stop);
            }
            entries.push(user("2", "two", ObjectModification::Add));
            "after-full"
        };
        Ok(ImportPage {
            entries,
            more_to_import: false,
            custom_data: custom_data.into(),
        })
    }
}

fn application(state: &Path) -> Application {
    let text = format!(
        "[host]\nstate_dir = {:?}\nplugins_dirs = []\n[[app]]\nname = \"s\"\nconnector = \"scripted\"\ntoken = \"abcdefghijklmnop\"\n[[app.object_type]]\nscim = \"User\"\ntarget = \"User\"\n",
        state.display().to_string()
    );
    let config = Config::from_toml(&text, Path::new("t.toml"), std::iter::empty()).unwrap();
    let mut registry = PluginRegistry::default();
    registry.register(
        "in-process".into(),
        Arc::new(InProcessPlugin::<Scripted>::new().unwrap()),
    );
    Application::new(
        &config.apps[0],
        &config.host,
        &registry,
        "https://h/ecma2host_s/scim",
    )
    .unwrap()
}

fn stored_watermark(state: &Path) -> String {
    let text = std::fs::read_to_string(state.join("apps/s/watermarks.json")).unwrap();
    let marks: serde_json::Value = serde_json::from_str(&text).unwrap();
    marks["User"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entry_errors_keep_the_watermark_and_stop_run_keeps_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let app = application(dir.path());
    let rt = app.types[0].resource_type.clone();
    let name_of = |id: &'static str| {
        let app = &app;
        let rt = rt.clone();
        async move {
            let r = app.get(&rt, id).await.unwrap().expect("cached");
            r.resource["urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User"]["name"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };

    app.import(ImportMode::Full, false).await.unwrap();
    assert_eq!(stored_watermark(dir.path()), "after-full");

    // A delta with one failed entry: the good entry is applied, the watermark stays.
    script(|s| s.fail_one_delta_entry = true);
    let summary = app.import(ImportMode::Auto, false).await.unwrap();
    assert!(!summary.full);
    assert_eq!(summary.errors, 1);
    assert_eq!(name_of("2").await, "two, renamed");
    assert_eq!(stored_watermark(dir.path()), "after-full", "not advanced");

    // The next delta asks from the same point again; once clean, the watermark advances.
    script(|s| s.fail_one_delta_entry = false);
    let summary = app.import(ImportMode::Auto, false).await.unwrap();
    assert_eq!(summary.errors, 0);
    assert_eq!(stored_watermark(dir.path()), "after-delta");
    assert_eq!(
        script(|s| s.delta_requests.clone()),
        ["after-full", "after-full"],
        "the delta after the failed one starts from the old watermark"
    );

    // CustomStopRun: the full import stops and the old snapshot stays whole.
    script(|s| s.stop_full_import = true);
    let err = app.import(ImportMode::Full, false).await.unwrap_err();
    assert!(err.to_string().contains("CustomStopRun"), "{err}");
    assert_eq!(
        name_of("2").await,
        "two, renamed",
        "the old snapshot is kept"
    );
    assert_eq!(stored_watermark(dir.path()), "after-delta");
}
