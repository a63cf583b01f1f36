//! The Python reference connector (`plugins/python-json/json_connector.py`), a worker in
//! another language named by `connector_command`: the connector kit through the worker
//! protocol, Entra's flow for users and groups through a real host (checked in the SCIM
//! answers and in the JSON file), an import that reads what another tool wrote into the file,
//! a clear setup error for a missing file, and on the bare pipes what the host cannot make
//! it do (another protocol version, cancel, a broken frame, passwords).
//!
//! The host side of a protocol version mismatch is `host_isolation.rs`'s test; here the
//! script's own side of it.
//!
//! Over 800 lines: every test drives the same script, through the kit, a real host or bare
//! pipes, with the framing and JSON-file helpers below; split across files they would have to
//! be shared through the harness for this one connector.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use ecma_host::worker::{ProcessPlugin, WorkerSpec};
use ecma_host_tests::host::{TestHost, eventually, start_host_with};
use ecma_host_tests::servers::require_binary;
use plugin_api::kit::{Kit, Sample};
use plugin_api::model::*;
use serde_json::{Value as Json, json};

const CONNECTOR: &str = "python-json";
const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// The script, when python3 is there to run it (under `CI=true` a missing python3 fails).
fn connector() -> Option<PathBuf> {
    require_binary("python3", &[])?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/python-json/json_connector.py")
        .canonicalize()
        .expect("plugins/python-json/json_connector.py");
    Some(script)
}

/// A JSON file with one user and one group holding it.
fn seed(dir: &Path) -> PathBuf {
    let file = dir.join("directory.json");
    write_json(
        &file,
        &json!({
            "User": [{"id": "existing", "userName": "existing@contoso.com", "displayName": "Ex Isting",
                      "mail": "existing@contoso.com", "disabled": false}],
            "Group": [{"id": "seed", "displayName": "Seed", "members": ["existing"]}]
        }),
    );
    file
}

/// Writes the file as another tool would: a new copy renamed over it.
fn write_json(file: &Path, value: &Json) {
    let tmp = file.with_extension("other-tool");
    std::fs::write(&tmp, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

fn read_json(file: &Path) -> Json {
    serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
}

/// The object of `kind` with this id in the file, if any.
fn object(file: &Path, kind: &str, id: &str) -> Option<Json> {
    read_json(file)[kind]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id)
        .cloned()
}

fn apps(script: &Path, file: &Path, autosync_minutes: &str) -> String {
    format!(
        r#"
[[app]]
name = "hr"
connector = "{CONNECTOR}"
connector_command = [{script:?}]
token = "{{TOKEN}}"
autosync_minutes = {autosync_minutes}
[app.parameters.connectivity]
File = {file:?}
[[app.object_type]]
scim = "User"
target = "User"
anchor = "id"
query_attributes = ["userName"]
core = {{ userName = "userName", displayName = "displayName" }}
on_disable = {{ set = "disabled", value = true }}
[[app.object_type]]
scim = "Group"
target = "Group"
core = {{ displayName = "displayName" }}
members_attribute = "members"
"#,
        script = script.display().to_string(),
        file = file.display().to_string(),
    )
}

async fn host(script: &Path, file: &Path, autosync_minutes: &str) -> TestHost {
    let host = start_host_with(&apps(script, file, autosync_minutes), &[], "").await;
    host.wait_ready().await;
    host
}

/// The SCIM resource `path` names, with status 200.
async fn get(host: &TestHost, path: &str) -> Json {
    let r = host.request("GET", "hr", path, None).await;
    assert_eq!(r.status, 200, "GET {path}: {:?}", r.body);
    r.body
}

async fn patch(host: &TestHost, path: &str, operations: Json) -> Json {
    let body = json!({"schemas": [PATCH], "Operations": operations});
    let r = host.request("PATCH", "hr", path, Some(body)).await;
    assert_eq!(r.status, 200, "PATCH {path}: {:?}", r.body);
    r.body
}

fn members(group: &Json) -> Vec<String> {
    let mut m: Vec<String> = group["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| m["value"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    m.sort();
    m
}

#[test]
fn the_connector_kit_passes_through_the_worker_protocol() {
    let Some(script) = connector() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = seed(dir.path());
    let plugin = ProcessPlugin::start(WorkerSpec {
        program: script,
        args: Vec::new(),
        app: "kit".into(),
        connector: CONNECTOR.into(),
    })
    .expect("the worker shakes hands");
    assert_eq!(
        plugin_api::host::ConnectorPlugin::info(&plugin).name,
        CONNECTOR
    );
    let mut config = ConfigParameters::new();
    config.set("File", file.to_str().unwrap());
    let sample = Sample::new("User", "displayName", |key, text| {
        CsEntryChange::new("User", ObjectModification::Add)
            .with_anchor("id", key)
            .with_change(AttributeChange::add("displayName", [Value::from(text)]))
    });
    Kit::new(&plugin, config, sample).run().assert_passed();
    // The kit deletes what it made: the seeded objects are all that is left.
    let after = read_json(&file);
    assert_eq!(after["User"].as_array().unwrap().len(), 1, "{after}");
    assert_eq!(after["User"][0]["id"], "existing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_flow_for_users_and_groups_lands_in_the_json_file() {
    let Some(script) = connector() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = seed(dir.path());
    let host = host(&script, &file, "0").await;

    // Test connection, then the imported objects by their matching attribute and id.
    let r = get(
        &host,
        "/Users?filter=PLACEHOLDER+eq+%228646d011-1693-4cd3-9ee6-0d7482ca2219%22",
    )
    .await;
    assert_eq!(r["totalResults"], 0, "{r}");
    let r = get(
        &host,
        "/Users?filter=userName+eq+%22EXISTING@contoso.com%22",
    )
    .await;
    assert_eq!(r["totalResults"], 1, "{r}");
    assert_eq!(r["Resources"][0]["id"], "existing");
    assert_eq!(r["Resources"][0][EXT]["mail"], "existing@contoso.com");
    let seeded = get(&host, "/Groups/seed").await;
    assert_eq!(members(&seeded), ["existing"], "{seeded}");

    // Create as Entra does: look the matching value up, then POST (no id: the connector
    // generates the anchor and reports it; the password arrives inside the Add).
    let r = get(&host, "/Users?filter=userName+eq+%22adele@contoso.com%22").await;
    assert_eq!(r["totalResults"], 0);
    let create = json!({"schemas": [USER, EXT], "userName": "adele@contoso.com",
        "displayName": "Adele Vance", "password": "Initial-Passw0rd!",
        EXT: {"mail": "adele@contoso.com"}});
    let r = host
        .request("POST", "hr", "/Users", Some(create.clone()))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let adele = r.body["id"].as_str().unwrap().to_owned();
    assert!(
        uuid::Uuid::parse_str(&adele).is_ok(),
        "a generated anchor: {adele}"
    );
    assert!(r.body.get("password").is_none());
    let stored = object(&file, "User", &adele).expect("the user is in the file");
    assert_eq!(stored["userName"], "adele@contoso.com");
    assert_eq!(stored["displayName"], "Adele Vance");
    assert_eq!(stored["mail"], "adele@contoso.com");
    let hash = stored["_password"].as_str().unwrap();
    assert!(hash.starts_with("pbkdf2_sha256$"), "{hash}");
    assert!(
        !std::fs::read_to_string(&file)
            .unwrap()
            .contains("Initial-Passw0rd!"),
        "the password is stored as a hash only"
    );
    let r = host.request("POST", "hr", "/Users", Some(create)).await;
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (409, Some("uniqueness"))
    );
    let r = get(&host, "/Users?filter=userName+eq+%22adele@contoso.com%22").await;
    assert_eq!(r["Resources"][0]["id"], adele.as_str(), "{r}");

    // PATCH replace, then disable with Entra's string boolean.
    let path = format!("/Users/{adele}");
    let r = patch(
        &host,
        &path,
        json!([
        {"op": "Replace", "path": "displayName", "value": "Adele Vance-Smith"},
        {"op": "Remove", "path": format!("{EXT}:mail")}]),
    )
    .await;
    assert_eq!(r["displayName"], "Adele Vance-Smith");
    let stored = object(&file, "User", &adele).unwrap();
    assert_eq!(stored["displayName"], "Adele Vance-Smith");
    assert!(stored.get("mail").is_none(), "{stored}");
    assert!(
        stored["_password"].is_string(),
        "an update keeps the password"
    );
    let r = patch(
        &host,
        &path,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    )
    .await;
    assert_eq!(r["active"], false, "{r}");
    assert_eq!(object(&file, "User", &adele).unwrap()["disabled"], true);

    // A group with a member, then one member added and the other removed.
    let r = host
        .request(
            "POST",
            "hr",
            "/Groups",
            Some(
                json!({"schemas": [GROUP], "displayName": "Sales", "members": [{"value": adele}]}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let sales = r.body["id"].as_str().unwrap().to_owned();
    let stored = object(&file, "Group", &sales).expect("the group is in the file");
    assert_eq!(stored["displayName"], "Sales");
    assert_eq!(
        stored["members"],
        json!([adele]),
        "members are the users' anchors"
    );
    let gpath = format!("/Groups/{sales}");
    patch(
        &host,
        &gpath,
        json!([{"op": "Add", "path": "members", "value": [{"value": "existing"}]}]),
    )
    .await;
    let mut both = vec![adele.clone(), "existing".to_owned()];
    both.sort();
    assert_eq!(members(&get(&host, &gpath).await), both);
    let mut in_file: Vec<String> =
        serde_json::from_value(object(&file, "Group", &sales).unwrap()["members"].clone()).unwrap();
    in_file.sort();
    assert_eq!(in_file, both);
    patch(
        &host,
        &gpath,
        json!([{"op": "remove", "path": format!("members[value eq \"{adele}\"]")}]),
    )
    .await;
    assert_eq!(members(&get(&host, &gpath).await), ["existing"]);
    assert_eq!(
        object(&file, "Group", &sales).unwrap()["members"],
        json!(["existing"])
    );

    // DELETE: gone from SCIM and from the file.
    for (kind, id) in [("Groups", &sales), ("Users", &adele)] {
        let r = host
            .request("DELETE", "hr", &format!("/{kind}/{id}"), None)
            .await;
        assert_eq!(r.status, 204, "{:?}", r.body);
        let r = host
            .request("GET", "hr", &format!("/{kind}/{id}"), None)
            .await;
        assert_eq!(r.status, 404);
    }
    assert!(object(&file, "Group", &sales).is_none());
    assert!(object(&file, "User", &adele).is_none());
    assert!(
        object(&file, "User", "existing").is_some(),
        "other objects are kept"
    );
    assert_eq!(
        host.metric("ecma_worker_restarts_total", "hr").await,
        0.0,
        "no worker died"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_reads_what_another_tool_wrote_into_the_file() {
    let Some(script) = connector() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = seed(dir.path());
    // Autosync every 1.2 s: each cycle is a full import (the connector has no delta).
    let host = host(&script, &file, "0.02").await;
    assert_eq!(
        get(&host, "/Users/existing").await["displayName"],
        "Ex Isting"
    );

    write_json(
        &file,
        &json!({
            "User": [{"id": "carol", "userName": "carol@contoso.com", "displayName": "Carol"},
                     {"userName": "no-anchor@contoso.com"}],
            "Group": [{"id": "seed", "displayName": "Seed", "members": ["carol"]}]
        }),
    );
    // Users are imported before groups: wait for the whole run, not the first half of it.
    eventually(
        "the import brings carol into the cache and the group",
        Duration::from_secs(15),
        || async {
            host.request("GET", "hr", "/Users/carol", None).await.status == 200
                && members(&get(&host, "/Groups/seed").await) == ["carol"]
        },
    )
    .await;
    let r = get(&host, "/Users?filter=userName+eq+%22carol@contoso.com%22").await;
    assert_eq!(r["Resources"][0]["displayName"], "Carol", "{r}");
    // The user the other tool removed is gone; the object without an anchor is an entry
    // error of the import, not an object.
    assert_eq!(
        host.request("GET", "hr", "/Users/existing", None)
            .await
            .status,
        404
    );
    assert_eq!(get(&host, "/Users").await["totalResults"], 1);
    assert!(host.metric("ecma_import_entry_errors_total", "hr").await >= 1.0);
    assert!(host.import_changes("hr", "full", "added").await >= 1.0);
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_file_keeps_the_application_down_with_a_clear_reason() {
    let Some(script) = connector() else { return };
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.json");
    let host = start_host_with(&apps(&script, &missing, "0"), &[], "").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let reason = loop {
        let status = host.app_status("hr").await;
        if let Some(reason) = status["reason"].as_str().filter(|r| !r.is_empty()) {
            break reason.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no reason given: {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        reason.contains("nowhere.json") && reason.contains("does not exist"),
        "{reason}"
    );
    let r = host.request("GET", "hr", "/Users", None).await;
    assert_eq!(r.status, 503, "{:?}", r.body);
    host.stop().await;
}

/// The script on bare pipes, frames read on a thread so that a silent script fails the test
/// instead of hanging it.
struct Pipe {
    child: Child,
    stdin: Option<ChildStdin>,
    frames: Receiver<(u8, Vec<u8>)>,
}

impl Pipe {
    fn start(script: &Path) -> Self {
        let mut child = Command::new(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, frames) = channel();
        std::thread::spawn(move || {
            loop {
                let mut len = [0u8; 4];
                if stdout.read_exact(&mut len).is_err() {
                    return;
                }
                let mut body = vec![0u8; u32::from_le_bytes(len) as usize];
                if stdout.read_exact(&mut body).is_err()
                    || tx.send((body[0], body[1..].to_vec())).is_err()
                {
                    return;
                }
            }
        });
        Self {
            stdin: child.stdin.take(),
            child,
            frames,
        }
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    fn send(&mut self, message: Json) {
        let data = message.to_string().into_bytes();
        let mut frame = ((data.len() + 1) as u32).to_le_bytes().to_vec();
        frame.push(1);
        frame.extend(data);
        self.send_raw(&frame);
    }

    /// The next page frame: its entries, read by the host's own page reader, and whether
    /// more follow.
    fn recv_page(&mut self, id: u64) -> (Vec<CsEntryChange>, bool) {
        let (kind, body) = self
            .frames
            .recv_timeout(Duration::from_secs(10))
            .expect("a page within 10 s");
        assert_eq!(kind, 2, "a page frame: {}", String::from_utf8_lossy(&body));
        assert_eq!(u64::from_le_bytes(body[0..8].try_into().unwrap()), id);
        let entries = u32::from_le_bytes(body[8..12].try_into().unwrap());
        let custom = u32::from_le_bytes(body[13..17].try_into().unwrap()) as usize;
        let page = plugin_api::page::PackedPage::new(body[17 + custom..].to_vec(), entries);
        (
            page.to_entries().expect("a valid packed page"),
            body[12] == 1,
        )
    }

    /// The next JSON message that is not a log line.
    fn recv(&mut self) -> Json {
        loop {
            let (kind, body) = self
                .frames
                .recv_timeout(Duration::from_secs(10))
                .expect("an answer within 10 s");
            assert_eq!(kind, 1, "a JSON frame");
            let message: Json = serde_json::from_slice(&body).unwrap();
            if message["type"] != "log" {
                return message;
            }
        }
    }

    /// The exit status, once the script has ended on its own.
    fn exit_code(mut self) -> Option<i32> {
        drop(self.stdin.take());
        for _ in 0..500 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("the script did not exit");
    }

    fn hello(&mut self) {
        self.send(json!({"type": "hello", "protocol": 1, "host": "test"}));
        let hello = self.recv();
        assert_eq!(
            (
                hello["protocol"].as_u64(),
                hello["connector"]["name"].as_str()
            ),
            (Some(1), Some(CONNECTOR)),
            "{hello}"
        );
    }
}

fn config(file: &Path) -> Json {
    json!({"params": {
        "File": {"name": "File", "value": file.to_str().unwrap(), "encrypted": false},
        "Lock wait": {"name": "Lock wait", "value": "60", "encrypted": false}}})
}

#[test]
fn on_its_pipes_the_script_refuses_another_version_obeys_cancel_and_survives_bad_input() {
    let Some(script) = connector() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = seed(dir.path());

    // Another protocol version: its own version and why, then exit status 1.
    let mut pipe = Pipe::start(&script);
    pipe.send(json!({"type": "hello", "protocol": 2, "host": "future"}));
    let hello = pipe.recv();
    assert_eq!(hello["protocol"], 1, "{hello}");
    assert!(
        hello["error"]
            .as_str()
            .unwrap()
            .contains("speaks worker protocol version 1; the host speaks version 2"),
        "{hello}"
    );
    assert_eq!(pipe.exit_code(), Some(1));

    // Calls with wrong input are errors, never the end of the worker; passwords check the
    // old one; a cancel ends a call that waits (here: for a lock another writer holds).
    let mut pipe = Pipe::start(&script);
    pipe.hello();
    pipe.send(json!({"type": "test_connection", "id": 1}));
    assert_eq!(
        pipe.recv()["kind"],
        "Internal",
        "an instance call before create_instance"
    );
    pipe.send(json!({"type": "schema", "id": 2, "config": {"params": {}}}));
    let e = pipe.recv();
    assert_eq!(e["kind"], "Config", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("'File' is required"),
        "{e}"
    );
    pipe.send(json!({"type": "create_instance", "id": 3, "config": config(&file)}));
    assert_eq!(pipe.recv()["type"], "result");
    pipe.send(json!({"type": "put_export_entries", "id": 4, "entries": [{"identifier": "x", "object_type": "User", "modification": "Update", "changes": "not a list"}]}));
    let r = pipe.recv();
    assert_eq!(
        (
            r["value"][0]["identifier"].as_str(),
            r["value"][0]["code"].as_str()
        ),
        (Some("x"), Some("SyntaxViolation")),
        "{r}"
    );
    pipe.send(json!({"type": "open_import", "id": 5, "import_type": "Delta", "page_size": 10, "custom_data": "", "partition": null, "schema": {"types": []}}));
    assert_eq!(pipe.recv()["kind"], "Unsupported");
    let target = json!({"object_type": "User", "dn": "", "anchor": [{"name": "id", "value": {"String": "existing"}}]});
    pipe.send(json!({"type": "set_password", "id": 6, "target": target, "password": "first-Passw0rd", "options": {}}));
    assert_eq!(pipe.recv()["type"], "result");
    pipe.send(json!({"type": "change_password", "id": 7, "target": target, "old_password": "wrong", "new_password": "second-Passw0rd"}));
    let e = pipe.recv();
    assert_eq!(
        (e["kind"].as_str(), e["message"].as_str()),
        (
            Some("InvalidInput"),
            Some("the old password does not match")
        )
    );
    pipe.send(json!({"type": "change_password", "id": 8, "target": target, "old_password": "first-Passw0rd", "new_password": "second-Passw0rd"}));
    assert_eq!(pipe.recv()["type"], "result");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains("Passw0rd"),
        "no password in the file as text: {text}"
    );

    // FullObject re-reads: the object asked for as a full import reads it, a Delete for
    // one the file does not hold.
    let ask = |id: &str| {
        json!({"identifier": id, "object_type": "User", "modification": "None", "dn": "",
        "anchor": [{"name": "id", "value": {"String": id}}], "changes": [], "error": null})
    };
    pipe.send(
        json!({"type": "get_full_objects", "id": 10, "requests": [ask("existing"), ask("gone")]}),
    );
    let (entries, more) = pipe.recv_page(10);
    assert!(!more);
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0].modification, ObjectModification::Add);
    assert_eq!(
        entries[0].anchor_value().map(Value::as_text).as_deref(),
        Some("existing")
    );
    assert_eq!(
        entries[0]
            .change("userName")
            .and_then(|c| c.added_values().next())
            .map(Value::as_text)
            .as_deref(),
        Some("existing@contoso.com")
    );
    assert!(
        entries[0].change("_password").is_none(),
        "the hash is never imported"
    );
    assert_eq!(
        (
            entries[1].modification,
            entries[1].anchor_value().map(Value::as_text)
        ),
        (ObjectModification::Delete, Some("gone".to_owned()))
    );

    // Cancellation is sticky for the worker's life, so it comes last.
    let lock_path = PathBuf::from(format!("{}.lock", file.display()));
    let lock = std::fs::File::create(&lock_path).unwrap();
    lock.lock().unwrap();
    let started = std::time::Instant::now();
    pipe.send(json!({"type": "put_export_entries", "id": 9, "entries": [{"identifier": "y", "object_type": "User", "modification": "Delete", "dn": "", "anchor": [{"name": "id", "value": {"String": "existing"}}], "changes": [], "error": null}]}));
    std::thread::sleep(Duration::from_millis(300));
    pipe.send(json!({"type": "cancel", "id": 9}));
    let e = pipe.recv();
    assert_eq!(
        (e["id"].as_u64(), e["kind"].as_str()),
        (Some(9), Some("Cancelled")),
        "{e}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the cancel ended the wait for the lock"
    );
    drop(lock);
    assert!(
        object(&file, "User", "existing").is_some(),
        "the cancelled delete wrote nothing"
    );

    // End of input: exit status 0.
    assert_eq!(pipe.exit_code(), Some(0));

    // A frame the protocol does not allow (length 0): the script stops (status 2).
    let mut pipe = Pipe::start(&script);
    pipe.hello();
    pipe.send_raw(&[0, 0, 0, 0]);
    assert_eq!(pipe.exit_code(), Some(2));
}

#[test]
fn on_its_pipes_the_script_answers_export_in_one_call_and_keeps_its_schema() {
    let Some(script) = connector() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = seed(dir.path());
    let mut pipe = Pipe::start(&script);
    pipe.send(json!({"type": "hello", "protocol": 1, "host": "test"}));
    let hello = pipe.recv();
    assert_eq!(hello["features"], json!(["export"]), "{hello}");
    pipe.send(json!({"type": "create_instance", "id": 1, "config": config(&file)}));
    assert_eq!(pipe.recv()["type"], "result");
    let add = |id: &str, emails: Json| {
        json!({"identifier": id, "object_type": "User", "modification": "Add", "dn": "",
            "anchor": [{"name": "id", "value": {"String": id}}], "error": null,
            "changes": [{"name": "emails", "modification": "Add", "values": emails}]})
    };
    let two = json!([{"modification": "Add", "value": {"String": "a@x"}},
                     {"modification": "Add", "value": {"String": "b@x"}}]);
    let one = json!([{"modification": "Add", "value": {"String": "c@x"}}]);
    // No schema yet: the worker has none to keep.
    pipe.send(
        json!({"type": "export", "id": 2, "batch_size": 1, "partition": null,
                     "entries": [add("early", one.clone())]}),
    );
    let e = pipe.recv();
    assert_eq!(
        (e["id"].as_u64(), e["kind"].as_str()),
        (Some(2), Some("Internal")),
        "{e}"
    );
    assert!(object(&file, "User", "early").is_none());
    // The schema says `emails` is multi-valued: the file gets a list, also for the later
    // export that leaves the schema out and so uses the kept one.
    let schema = json!({"types": [{"name": "User", "locked": true, "anchor_attributes": ["id"],
        "possible_dn_components": [], "attributes": [
        {"name": "id", "data_type": "String", "multi_valued": false, "operation": "ImportExport", "is_anchor": true, "hidden_by_default": false},
        {"name": "emails", "data_type": "String", "multi_valued": true, "operation": "ImportExport", "is_anchor": false, "hidden_by_default": false}]}]});
    pipe.send(
        json!({"type": "export", "id": 3, "batch_size": 1, "partition": null,
                     "schema": schema, "entries": [add("first", two)]}),
    );
    let r = pipe.recv();
    assert_eq!(
        (r["id"].as_u64(), r["value"][0]["code"].as_str()),
        (Some(3), Some("Success")),
        "{r}"
    );
    pipe.send(
        json!({"type": "export", "id": 4, "batch_size": 1, "partition": null,
                     "entries": [add("second", one)]}),
    );
    let r = pipe.recv();
    assert_eq!(
        (
            r["id"].as_u64(),
            r["value"][0]["identifier"].as_str(),
            r["value"][0]["code"].as_str()
        ),
        (Some(4), Some("second"), Some("Success")),
        "{r}"
    );
    assert_eq!(
        object(&file, "User", "first").unwrap()["emails"],
        json!(["a@x", "b@x"])
    );
    assert_eq!(
        object(&file, "User", "second").unwrap()["emails"],
        json!(["c@x"]),
        "the kept schema made the single value a list"
    );
    assert_eq!(pipe.exit_code(), Some(0));
}

/// A proxy between the host and the script that writes down every call the host sends (the
/// worker's pid, the call's type, whether it carries a schema) and, told `strip`, takes the
/// `features` out of the script's `hello`: a worker written before features existed.
const RECORDING_PROXY: &str = r#"import json, os, struct, subprocess, sys, threading
record, mode, script = sys.argv[1], sys.argv[2], sys.argv[3]
child = subprocess.Popen([sys.executable, script], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def frames(f):
    while True:
        head = f.read(5)
        if len(head) < 5:
            return
        n, kind = struct.unpack("<IB", head)
        yield kind, f.read(n - 1)
def write(f, kind, body):
    f.write(struct.pack("<IB", len(body) + 1, kind) + body)
    f.flush()
def to_worker():
    for kind, body in frames(sys.stdin.buffer):
        m = json.loads(body)
        with open(record, "a") as r:
            r.write(json.dumps({"pid": os.getpid(), "type": m["type"], "schema": "schema" in m}) + "\n")
        write(child.stdin, kind, body)
    child.stdin.close()
threading.Thread(target=to_worker, daemon=True).start()
for kind, body in frames(child.stdout):
    m = json.loads(body) if kind == 1 else None
    if m is not None and m.get("type") == "hello" and mode == "strip":
        m.pop("features", None)
        body = json.dumps(m).encode()
    write(sys.stdout.buffer, kind, body)
"#;

/// The calls the proxy wrote down: (pid, type, carries a schema).
fn recorded(record: &Path) -> Vec<(u32, String, bool)> {
    std::fs::read_to_string(record)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: Json = serde_json::from_str(l).unwrap();
            let kind = v["type"].as_str().unwrap().to_owned();
            (v["pid"].as_u64().unwrap() as u32, kind, v["schema"] == true)
        })
        .collect()
}

/// A host whose application runs the script behind the recording proxy.
async fn proxied_host(dir: &Path, script: &Path, file: &Path, mode: &str) -> (TestHost, PathBuf) {
    let proxy = dir.join("proxy.py");
    std::fs::write(&proxy, RECORDING_PROXY).unwrap();
    let record = dir.join("calls.jsonl");
    let apps = apps(script, file, "0").replace(
        &format!("connector_command = [{:?}]", script.display().to_string()),
        &format!(
            "connector_command = [\"/usr/bin/python3\", {:?}, {:?}, {mode:?}, {:?}]",
            proxy.display().to_string(),
            record.display().to_string(),
            script.display().to_string()
        ),
    );
    // Its own name: the metrics of this test binary are shared, and a test here kills a worker.
    let apps = apps.replace("name = \"hr\"", "name = \"proxied\"");
    assert!(
        apps.contains("proxy.py") && apps.contains("proxied"),
        "{apps}"
    );
    let host = start_host_with(&apps, &[], "").await;
    host.wait_ready().await;
    (host, record)
}

async fn create(host: &TestHost, login: &str) -> u16 {
    let user = json!({"schemas": [USER], "userName": login, "displayName": login});
    host.request("POST", "proxied", "/Users", Some(user))
        .await
        .status
}

/// The export calls the host sent, in order: (pid, type, carries a schema).
fn exports(record: &Path) -> Vec<(u32, String, bool)> {
    recorded(record)
        .into_iter()
        .filter(|(_, kind, _)| kind.contains("export"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_announcing_export_gets_one_call_per_write_and_its_schema_once() {
    let Some(script) = connector() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = seed(dir.path());
    let (host, record) = proxied_host(dir.path(), &script, &file, "keep").await;
    assert_eq!(create(&host, "one@contoso.com").await, 201);
    assert_eq!(create(&host, "two@contoso.com").await, 201);
    let calls = exports(&record);
    let pid = calls[0].0;
    assert_eq!(
        calls,
        [(pid, "export".into(), true), (pid, "export".into(), false)],
        "one call per write, the schema only in the first"
    );
    let users = read_json(&file)["User"].to_string();
    assert!(
        users.contains("one@contoso.com") && users.contains("two@contoso.com"),
        "{users}"
    );

    // A new worker process holds no schema: its first export carries one again.
    assert!(
        Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    eventually(
        "a write through a new worker",
        Duration::from_secs(15),
        || async { create(&host, "three@contoso.com").await == 201 },
    )
    .await;
    let calls = exports(&record);
    let (new_pid, kind, schema) = calls.last().unwrap().clone();
    assert_ne!(new_pid, pid, "{calls:?}");
    assert_eq!((kind.as_str(), schema), ("export", true), "{calls:?}");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_without_the_export_feature_gets_the_three_calls() {
    let Some(script) = connector() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = seed(dir.path());
    let (host, record) = proxied_host(dir.path(), &script, &file, "strip").await;
    assert_eq!(create(&host, "one@contoso.com").await, 201);
    let kinds: Vec<String> = exports(&record).into_iter().map(|(_, k, _)| k).collect();
    assert_eq!(kinds, ["open_export", "put_export_entries", "close_export"]);
    assert!(
        read_json(&file)["User"]
            .to_string()
            .contains("one@contoso.com")
    );
    host.stop().await;
}
