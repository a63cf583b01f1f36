//! The host's log as an administrator reads it: `log_format = "json"` gives one flat JSON
//! object per line with stable field names, no colour codes when stderr is not a terminal,
//! and at debug level the SCIM request and response bodies without passwords or tokens.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ecma_host_tests::host::{KillOnDrop, wait_until_ready};
use ecma_host_tests::plugins::{plugin_path, target_dir};
use ecma_host_tests::servers::free_port;
use serde_json::{Value, json};

const TOKEN: &str = "logging-test-token-7f3a9c";
const PASSWORD: &str = "Sup3r-Secret-Pw!";
const PATCHED_PASSWORD: &str = "Patch-Secret-Pw2";

/// A CSV application served over plain HTTP on loopback, logging to `log` at `level`.
fn start(dir: &Path, port: u16, level: &str, format: &str, log: &Path) -> KillOnDrop {
    let csv = dir.join("users.csv");
    std::fs::write(&csv, "id,login,name\n1,grace,Grace Hopper\n").unwrap();
    let config = dir.join("host.toml");
    std::fs::write(
        &config,
        format!(
            "[admin]\nstatus_page = \"off\"\n[host]\nlisten = \"127.0.0.1\"\nport = {port}\nstate_dir = {state:?}\nplugins_dirs = []\nplugin_files = [{plugin:?}]\nlog_level = {level:?}\nlog_format = {format:?}\n[[app]]\nname = \"c\"\nconnector = \"csv\"\ntoken = {TOKEN:?}\n[app.parameters.connectivity]\nFile = {csv:?}\n[[app.object_type]]\nscim = \"User\"\ntarget = \"User\"\nanchor = \"id\"\nquery_attributes = [\"login\"]\n",
            state = dir.join("state").display().to_string(),
            plugin = plugin_path("csv_connector").display().to_string(),
            csv = csv.display().to_string(),
        ),
    )
    .unwrap();
    let child = Command::new(target_dir().join("ecma-host"))
        .args(["serve", "--insecure-http", "--config"])
        .arg(&config)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let child = KillOnDrop(child);
    assert!(
        wait_until_ready(
            &format!("http://127.0.0.1:{port}/readyz"),
            None,
            Duration::from_secs(20)
        ),
        "host did not start: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
    child
}

/// Waits until the log holds a line containing `needle`.
fn wait_for_log(log: &Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "no '{needle}' in the log:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn json_lines_with_stable_fields_and_debug_bodies_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("stderr.log");
    let _host = start(dir.path(), port, "debug", "json", &log);
    let client = ecma_host::probe::client(None).unwrap();
    let users = format!("http://127.0.0.1:{port}/ecma2host_c/scim/Users");
    let created = client
        .post(&users)
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .body(
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "ada.lovelace",
                "password": PASSWORD,
                "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User": {
                    "login": "ada.lovelace",
                    "name": "Ada Lovelace"
                }
            })
            .to_string(),
        )
        .send()
        .unwrap();
    let created_status = created.status().as_u16();
    let _ = created.text();
    let patch = client
        .patch(format!("{users}/1"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .body(
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "password", "value": PATCHED_PASSWORD}]
            })
            .to_string(),
        )
        .send()
        .unwrap();
    let patch_status = patch.status().as_u16();
    let _ = patch.text();
    let text = wait_for_log(&log, "\"method\":\"PATCH\"");

    assert!(
        !text.contains('\u{1b}'),
        "colour codes in a log file:\n{text}"
    );
    for secret in [PASSWORD, PATCHED_PASSWORD, TOKEN] {
        assert!(!text.contains(secret), "'{secret}' in the log:\n{text}");
    }
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 3, "{text}");
    for line in &lines {
        for field in ecma_host::logging::JSON_FIELDS {
            assert!(line.get(field).is_some(), "no '{field}' in {line}");
        }
        // Flat: the event's fields sit beside the message, not under a `fields` object.
        assert!(line.get("fields").is_none(), "{line}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "listening" && l["level"] == "INFO")
    );
    let bodies: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "SCIM bodies")
        .collect();
    let post = bodies
        .iter()
        .find(|l| l["method"] == "POST")
        .unwrap_or_else(|| panic!("no POST body line:\n{text}"));
    assert_eq!(post["target"], ecma_host::logging::bodies::TARGET);
    assert_eq!(post["status"], created_status);
    let request = post["request"].as_str().unwrap();
    assert!(
        request.contains("ada.lovelace") && request.contains("[REDACTED]"),
        "{request}"
    );
    // The response is logged too (the created user or the error Entra would see).
    assert!(!post["response"].as_str().unwrap().is_empty(), "{post}");
    let patched = bodies.iter().find(|l| l["method"] == "PATCH").unwrap();
    assert_eq!(patched["status"], patch_status);
    assert!(
        patched["request"]
            .as_str()
            .unwrap()
            .contains("\"path\":\"password\""),
        "{patched}"
    );
    // The ordinary request line has no bodies.
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "request" && l.get("request").is_none())
    );
}

#[test]
fn at_info_level_no_bodies_are_logged_and_text_has_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("stderr.log");
    let _host = start(dir.path(), port, "info", "text", &log);
    let answer = ecma_host::probe::client(None)
        .unwrap()
        .get(format!(
            "http://127.0.0.1:{port}/ecma2host_c/scim/Users?filter=login+eq+%22grace%22"
        ))
        .bearer_auth(TOKEN)
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let text = wait_for_log(&log, "path=/ecma2host_c/scim/Users");
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(!text.contains("SCIM bodies"), "{text}");
    assert!(!text.contains("Grace Hopper"), "{text}");
    assert!(text.contains(" INFO "), "{text}");
}
