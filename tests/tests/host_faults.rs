//! Fault handling of the running host: a panicking plugin, the importing state, a failed
//! import, and graceful shutdown on SIGTERM.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ecma_host::app::{Application, ImportMode};
use ecma_host::config::Config;
use ecma_host::plugins::PluginRegistry;
use ecma_host_tests::host::{start_host, start_host_with, wait_until_ready};
use ecma_host_tests::plugins::{plugin_path, target_dir};
use ecma_host_tests::servers::free_port;
use serde_json::json;

const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";

fn panicky_app(extra_params: &str) -> String {
    format!(
        r#"
[[app]]
name = "p"
connector = "panicky"
token = "{{TOKEN}}"
autosync_minutes = 0
[app.parameters.connectivity]
{extra_params}
[[app.object_type]]
scim = "User"
target = "User"
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_panic_is_a_500_for_that_request_and_the_host_serves_on() {
    let host = start_host(
        &panicky_app("\"Panic on\" = \"export\""),
        &[plugin_path("fixture_panicky")],
    )
    .await;
    host.wait_ready().await;
    let body = |name: &str, id: &str| {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
               EXT: {"id": id, "displayName": name}})
    };
    let r = host
        .request("POST", "p", "/Users", Some(body("panic", "x1")))
        .await;
    assert_eq!(r.status, 500, "{:?}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("export panic requested"),
        "{:?}",
        r.body
    );
    assert_eq!(
        host.request("GET", "p", "/Users/x1", None).await.status,
        404,
        "nothing cached"
    );
    // The host still serves, and a new instance takes the next export.
    let r = host.request("GET", "p", "/Users", None).await;
    assert_eq!(r.status, 200);
    let r = host
        .request("POST", "p", "/Users", Some(body("fine", "x2")))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_during_the_first_import_get_503_importing() {
    let host = start_host(
        &panicky_app("\"Import delay ms\" = \"1500\""),
        &[plugin_path("fixture_panicky")],
    )
    .await;
    let r = host
        .request("GET", "p", "/Users?filter=PLACEHOLDER+eq+%22x%22", None)
        .await;
    assert_eq!(r.status, 503, "{:?}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("currently importing data from the target application"),
        "{:?}",
        r.body
    );
    assert!(r.headers.contains_key("retry-after"));
    let ready = host
        .client
        .get(format!("{}/readyz", host.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    host.wait_ready().await;
    assert_eq!(host.request("GET", "p", "/Users", None).await.status, 200);
    host.stop().await;
}

fn csv_config(state: &Path, csv: &Path) -> Config {
    let text = format!(
        r#"
[host]
state_dir = {state:?}
plugins_dirs = []
plugin_files = [{plugin:?}]
[[app]]
name = "c"
connector = "csv"
token = "abcdefghijklmnop"
[app.parameters.connectivity]
File = {csv:?}
[[app.object_type]]
scim = "User"
target = "User"
anchor = "id"
"#,
        state = state.display().to_string(),
        plugin = plugin_path("csv_connector").display().to_string(),
        csv = csv.display().to_string(),
    );
    Config::from_toml(&text, Path::new("t.toml"), std::iter::empty()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_import_keeps_the_old_cache() {
    use ecma_scim::Backend;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("u.csv");
    std::fs::write(&csv, "id,name\n1,one\n2,two\n").unwrap();
    let config = csv_config(dir.path(), &csv);
    let registry = PluginRegistry::discover(&[], &config.host.plugin_files);
    let app = Application::new(
        &config.apps[0],
        &config.host,
        &registry,
        "https://h/ecma2host_c/scim",
    )
    .unwrap();
    let first = app.import(ImportMode::Full, false).await.unwrap();
    assert_eq!(first.objects, 2);
    std::fs::remove_file(&csv).unwrap();
    let err = app.import(ImportMode::Auto, false).await.unwrap_err();
    assert!(err.to_string().contains("cannot open"), "{err}");
    let rt = app.types[0].resource_type.clone();
    assert!(
        app.get(&rt, "1").await.unwrap().is_some(),
        "the old cache is kept"
    );
    assert!(app.is_ready());
    assert!(app.last_error().is_some());
    // A dry run reads but changes nothing.
    std::fs::write(&csv, "id,name\n3,three\n").unwrap();
    let dry = app.import(ImportMode::Full, true).await.unwrap();
    assert_eq!(dry.objects, 1);
    assert!(app.get(&rt, "1").await.unwrap().is_some());
    assert!(app.get(&rt, "3").await.unwrap().is_none());
    // A real import replaces the snapshot.
    app.import(ImportMode::Full, false).await.unwrap();
    assert!(app.get(&rt, "1").await.unwrap().is_none());
    assert!(app.get(&rt, "3").await.unwrap().is_some());
}

#[test]
fn the_binary_stops_gracefully_on_sigterm_and_check_config_reports_problems() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("u.csv");
    std::fs::write(&csv, "id,name\n1,one\n").unwrap();
    let port = free_port();
    let config_text = format!(
        "[host]\nlisten = \"127.0.0.1\"\nport = {port}\nstate_dir = {state:?}\nplugins_dirs = []\nplugin_files = [{plugin:?}]\n[[app]]\nname = \"c\"\nconnector = \"csv\"\ntoken = \"abcdefghijklmnop\"\n[app.parameters.connectivity]\nFile = {csv:?}\n[[app.object_type]]\nscim = \"User\"\ntarget = \"User\"\n",
        state = dir.path().display().to_string(),
        plugin = plugin_path("csv_connector").display().to_string(),
        csv = csv.display().to_string(),
    );
    let config = dir.path().join("c.toml");
    std::fs::write(&config, &config_text).unwrap();
    let exe = target_dir().join("ecma-host");

    let check = Command::new(&exe)
        .args(["check-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        config_text
            .replace("target = \"User\"", "target = \"Person\"")
            .replace("File =", "Fiel ="),
    )
    .unwrap();
    let check = Command::new(&exe)
        .args(["check-config", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!check.status.success());
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(out.contains("'File' is missing"), "{out}");

    let mut child = Command::new(&exe)
        .args(["serve", "--insecure-http", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_until_ready(
            &format!("http://127.0.0.1:{port}/readyz"),
            None,
            Duration::from_secs(10)
        ),
        "host did not start"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "host did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "graceful exit, got {exit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_export_answers_503_in_time_and_still_lands_in_the_cache() {
    let host = start_host_with(
        &panicky_app("\"Export delay ms\" = \"2500\""),
        &[plugin_path("fixture_panicky")],
        "request_timeout_secs = 1",
    )
    .await;
    host.wait_ready().await;
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT], EXT: {"id": "slow1", "displayName": "Slow"}});
    let started = Instant::now();
    let r = host.request("POST", "p", "/Users", Some(body)).await;
    assert_eq!(r.status, 503, "{:?}", r.body);
    assert!(
        started.elapsed() < Duration::from_millis(2400),
        "answered before the export finished"
    );
    assert!(r.headers.contains_key("retry-after"));
    // The export goes on and the cache follows the target: Entra's retry finds the user.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let r = host
        .request("GET", "p", "/Users?filter=id+eq+%22slow1%22", None)
        .await;
    assert_eq!(r.body["totalResults"], 1, "{:?}", r.body);
    host.stop().await;
}

fn two_panicky_apps(p_params: &str, p_extra: &str) -> String {
    format!(
        "{}\n{}",
        panicky_app(p_params).replace(
            "autosync_minutes = 0\n",
            &format!("autosync_minutes = 0\n{p_extra}\n")
        ),
        panicky_app("").replace("name = \"p\"", "name = \"q\""),
    )
}

#[test]
fn a_hung_export_is_abandoned_within_its_limit_and_every_application_serves_on() {
    let rt = ecma_host_tests::host::test_runtime();
    rt.block_on(hung_export_scenario());
    // The fixture's thread never returns: a runtime dropped normally would wait for it.
    rt.shutdown_timeout(Duration::from_millis(100));
}

async fn hung_export_scenario() {
    let host = start_host(
        &two_panicky_apps(
            "\"Hang on\" = \"export\"",
            "[app.timeouts]\nexport_secs = 1",
        ),
        &[plugin_path("fixture_panicky")],
    )
    .await;
    host.wait_ready().await;
    let body = |name: &str, id: &str| {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
               EXT: {"id": id, "displayName": name}})
    };
    let started = Instant::now();
    let hung = host.request("POST", "p", "/Users", Some(body("hang", "h1")));
    // The other application answers while p's connector is stuck.
    let other = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        host.request("GET", "q", "/Users", None).await
    };
    let (hung, other) = tokio::join!(hung, other);
    assert_eq!(other.status, 200, "{:?}", other.body);
    assert_eq!(hung.status, 503, "{:?}", hung.body);
    assert!(hung.headers.contains_key("retry-after"));
    assert!(
        hung.body["detail"]
            .as_str()
            .unwrap()
            .contains("did not answer within 1 s"),
        "{:?}",
        hung.body
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // The stuck thread keeps its instance; a fresh one takes the next write at once.
    let started = Instant::now();
    let r = host
        .request("POST", "p", "/Users", Some(body("fine", "f1")))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert!(started.elapsed() < Duration::from_secs(2));
    let metrics = host
        .client
        .get(format!("{}/metrics", host.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("ecma_connector_abandoned_calls_total")
                && l.contains("app=\"p\"")
                && l.contains("kind=\"Export\"")),
        "{metrics}"
    );
    host.stop().await;
}

#[test]
fn sigterm_stops_the_host_within_ten_seconds_even_with_a_hung_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config_text = format!(
        "[host]\nlisten = \"127.0.0.1\"\nport = {port}\nstate_dir = {state:?}\nplugins_dirs = []\nplugin_files = [{plugin:?}]\n{apps}",
        state = dir.path().display().to_string(),
        plugin = plugin_path("fixture_panicky").display().to_string(),
        // A limit far beyond the shutdown bound: the call is still hung when SIGTERM comes.
        apps = two_panicky_apps(
            "\"Hang on\" = \"export\"",
            "[app.timeouts]\nexport_secs = 300"
        )
        // Each application its own token (a shared one is a configuration error); `p`,
        // the first, gets the one the request below sends.
        .replacen("{TOKEN}", "abcdefghijklmnop", 1)
        .replace("{TOKEN}", "qrstuvwxyz012345"),
    );
    let config = dir.path().join("c.toml");
    std::fs::write(&config, &config_text).unwrap();
    let mut child = Command::new(target_dir().join("ecma-host"))
        .args(["serve", "--insecure-http", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_until_ready(
            &format!("http://127.0.0.1:{port}/readyz"),
            None,
            Duration::from_secs(10)
        ),
        "host did not start"
    );
    let url = format!("http://127.0.0.1:{port}/ecma2host_p/scim/Users");
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
                      EXT: {"id": "h1", "displayName": "hang"}});
    // The request that hangs, sent from its own thread (it may never get an answer).
    std::thread::spawn(move || {
        let _ = reqwest::blocking::Client::new()
            .post(url)
            .bearer_auth("abcdefghijklmnop")
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .timeout(Duration::from_secs(60))
            .send();
    });
    std::thread::sleep(Duration::from_millis(800));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let signalled = Instant::now();
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if signalled.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("the host did not stop within 10 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "graceful exit, got {exit:?}");
}
