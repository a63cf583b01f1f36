//! `isolation = "process"`: a connector that segfaults, aborts or hangs takes down its own
//! worker process only. The application answers 503 with `Retry-After` for the call that was
//! in flight, its worker restarts, and another application on the same host (and the host's
//! own process: these hosts run inside the test process) never notices. Also: a worker that
//! speaks another protocol version is refused with both versions named, the CSV connector
//! runs its whole flow in a worker, and what the same crash does in process (the host dies).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ecma_host_tests::host::{TestHost, eventually, start_host_with, wait_until_ready};
use ecma_host_tests::plugins::{plugin_path, target_dir};
use ecma_host_tests::servers::free_port;
use serde_json::{Value, json};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";

/// `[host]` lines: workers are the built `ecma-host` binary (these hosts run inside the test
/// binary, which is no `ecma-host`).
fn host_extra() -> String {
    format!(
        "worker_executable = {:?}",
        target_dir().join("ecma-host").display().to_string()
    )
}

/// A healthy CSV application "hr" (in process) and a crashing one in a worker, named after
/// `how` (metrics are per process, and the tests of this file share one).
fn apps(csv: &Path, pid_file: &Path, how: &str, extra: &str) -> String {
    let app = crashy(how);
    format!(
        r#"
[[app]]
name = "hr"
connector = "csv"
token = "{{TOKEN}}"
autosync_minutes = 0
[app.parameters.connectivity]
File = {csv:?}
[app.parameters.schema]
"Anchor column" = "id"
[[app.object_type]]
scim = "User"
target = "User"

[[app]]
name = "{app}"
connector = "crashing"
isolation = "process"
token = "{{TOKEN}}"
autosync_minutes = 0
{extra}
[app.parameters.connectivity]
"Crash on" = "export"
"Crash how" = "{how}"
"Pid file" = {pid:?}
[[app.object_type]]
scim = "User"
target = "User"
"#,
        csv = csv.display().to_string(),
        pid = pid_file.display().to_string(),
    )
}

fn crashy(how: &str) -> String {
    format!("crashy-{how}")
}

fn user(id: &str, name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
           EXT: {"id": id, "displayName": name}})
}

async fn start(dir: &Path, how: &str, extra: &str) -> (TestHost, PathBuf) {
    let csv = dir.join("hr.csv");
    std::fs::write(&csv, "id,displayName\nann,Ann\n").unwrap();
    let pid_file = dir.join("worker.pid");
    let host = start_host_with(
        &apps(&csv, &pid_file, how, extra),
        &[
            plugin_path("csv_connector"),
            plugin_path("fixture_crashing"),
        ],
        &host_extra(),
    )
    .await;
    host.wait_ready().await;
    (host, pid_file)
}

fn read_pid(file: &Path) -> u32 {
    std::fs::read_to_string(file)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The pids of this process's children that are `ecma-host worker`s.
fn worker_pids() -> Vec<u32> {
    let mut pids = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for pid in children.split_whitespace().filter_map(|p| p.parse().ok()) {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if cmdline.split(|b| *b == 0).any(|arg| arg == b"worker") {
                pids.push(pid);
            }
        }
    }
    pids
}

/// Reads "hr" every 20 ms until stopped; returns every status it got.
fn keep_reading(host: &TestHost, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Vec<u16>> {
    let client = host.client.clone();
    let url = format!("{}/ecma2host_hr/scim/Users/ann", host.base);
    let token = ecma_host_tests::host::TOKEN;
    tokio::spawn(async move {
        let mut statuses = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let r = client.get(&url).bearer_auth(token).send().await.unwrap();
            statuses.push(r.status().as_u16());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        statuses
    })
}

/// The crash of `how` in an export: 503 + Retry-After, the worker gone and counted with
/// `reason`, a new worker for the next write, "hr" answering 200 throughout.
async fn a_crash_stays_in_its_worker(how: &str, reason: &str, signal_name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (host, pid_file) = start(dir.path(), how, "").await;
    let crashy = &crashy(how);
    let r = host
        .request("POST", crashy, "/Users", Some(user("u1", "fine")))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let first = read_pid(&pid_file);
    assert_ne!(first, std::process::id(), "the export ran in a worker");
    assert!(worker_pids().contains(&first), "{first} is a worker child");

    let stop = Arc::new(AtomicBool::new(false));
    let reader = keep_reading(&host, stop.clone());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = host
        .request("POST", crashy, "/Users", Some(user("u2", "crash")))
        .await;
    assert_eq!(r.status, 503, "{:?}", r.body);
    assert!(r.headers.contains_key("retry-after"), "{:?}", r.headers);
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("worker died") && detail.contains(signal_name),
        "{detail}"
    );
    assert!(!alive(first), "the crashed worker {first} is gone");
    assert_eq!(
        host.metric_with(
            "ecma_worker_restarts_total",
            &[("app", crashy), ("reason", reason)]
        )
        .await,
        1.0
    );

    // The next write gets a new worker (after a short backoff, a 503 meanwhile).
    eventually(
        "a write after the restart",
        Duration::from_secs(10),
        || async {
            host.request("POST", crashy, "/Users", Some(user("u3", "fine again")))
                .await
                .status
                == 201
        },
    )
    .await;
    let second = read_pid(&pid_file);
    assert_ne!(second, first, "a new worker");
    assert!(alive(second));
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    let statuses = reader.await.unwrap();
    assert!(statuses.len() > 5, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_segfault_in_a_worker_is_a_503_and_the_worker_restarts() {
    a_crash_stays_in_its_worker("segfault", "signal", "SIGSEGV").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abort_in_a_worker_is_a_503_and_the_worker_restarts() {
    a_crash_stays_in_its_worker("abort", "signal", "SIGABRT").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_call_gets_its_worker_killed_not_a_thread_abandoned() {
    let dir = tempfile::tempdir().unwrap();
    let (host, pid_file) = start(dir.path(), "hang", "[app.timeouts]\nexport_secs = 1").await;
    let crashy = &crashy("hang");
    let r = host
        .request("POST", crashy, "/Users", Some(user("u1", "fine")))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = host
        .request("POST", crashy, "/Users", Some(user("u2", "crash")))
        .await;
    assert_eq!(r.status, 503, "{:?}", r.body);
    assert!(r.headers.contains_key("retry-after"));
    let hung = read_pid(&pid_file);
    assert!(worker_pids().contains(&hung), "the hung worker {hung}");
    // The watchdog gave up after 1 s; the worker gets `cancel`, ignores it and is killed.
    eventually(
        "the hung worker is killed",
        Duration::from_secs(10),
        || async { !alive(hung) },
    )
    .await;
    eventually("the kill is counted", Duration::from_secs(5), || async {
        host.metric_with(
            "ecma_worker_restarts_total",
            &[("app", crashy), ("reason", "hung")],
        )
        .await
            == 1.0
    })
    .await;
    eventually(
        "a write after the kill",
        Duration::from_secs(10),
        || async {
            host.request("POST", crashy, "/Users", Some(user("u3", "fine")))
                .await
                .status
                == 201
        },
    )
    .await;
    assert_ne!(read_pid(&pid_file), hung);
    assert_eq!(
        host.request("GET", "hr", "/Users/ann", None).await.status,
        200
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_speaking_another_protocol_version_is_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("old-worker.py");
    std::fs::write(
        &script,
        r#"import json, struct, sys
n, = struct.unpack("<I", sys.stdin.buffer.read(4))
sys.stdin.buffer.read(n)
m = json.dumps({"type": "hello", "protocol": 99, "connector": {"name": "old", "version": "1",
    "vendor": "t", "description": "", "api_version": ""}}).encode()
sys.stdout.buffer.write(struct.pack("<IB", len(m) + 1, 1) + m)
sys.stdout.buffer.flush()
"#,
    )
    .unwrap();
    let apps = format!(
        r#"
[[app]]
name = "old"
connector = "old"
connector_command = ["/usr/bin/python3", {script:?}]
token = "{{TOKEN}}"
autosync_minutes = 0
[[app.object_type]]
scim = "User"
target = "User"
"#,
        script = script.display().to_string()
    );
    let host = start_host_with(&apps, &[], "").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let reason = loop {
        let r = host.request("GET", "old", "/Users", None).await;
        let body = r.body.to_string();
        if r.status == 503 && body.contains("protocol version 99") {
            break body;
        }
        assert!(std::time::Instant::now() < deadline, "{} {body}", r.status);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        reason.contains("speaks worker protocol version 99; this host speaks version 1"),
        "{reason}"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_flow_runs_in_a_worker() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("users.csv");
    std::fs::write(&csv, "id,login,first\nann,ann@contoso.com,Ann\n").unwrap();
    let apps = format!(
        r#"
[[app]]
name = "hr"
connector = "csv"
isolation = "process"
token = "{{TOKEN}}"
autosync_minutes = 0
[app.parameters.connectivity]
File = {csv:?}
[app.parameters.schema]
"Anchor column" = "id"
[[app.object_type]]
scim = "User"
target = "User"
query_attributes = ["login"]
"#,
        csv = csv.display().to_string()
    );
    let before = worker_pids();
    let host = start_host_with(&apps, &[plugin_path("csv_connector")], &host_extra()).await;
    host.wait_ready().await;
    let workers: Vec<u32> = worker_pids()
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    assert!(!workers.is_empty(), "the connector runs in workers");

    // The import read the file through a worker.
    let r = host
        .request(
            "GET",
            "hr",
            "/Users?filter=login+eq+%22ann@contoso.com%22",
            None,
        )
        .await;
    assert_eq!(r.body["totalResults"], 1, "{:?}", r.body);
    // Create, update, delete: each lands in the file.
    let create = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
                        EXT: {"id": "bob", "login": "bob@contoso.com", "first": "Bob"}});
    let r = host.request("POST", "hr", "/Users", Some(create)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .contains("bob,bob@contoso.com,Bob")
    );
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "replace", "path": format!("{EXT}:first"), "value": "Robert"}]});
    let r = host.request("PATCH", "hr", "/Users/bob", Some(patch)).await;
    assert!(r.status == 200 || r.status == 204, "{:?}", r.body);
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .contains("bob,bob@contoso.com,Robert")
    );
    let r = host.request("GET", "hr", "/Users/bob", None).await;
    assert_eq!(r.body[EXT]["first"], "Robert", "{:?}", r.body);
    assert_eq!(
        host.request("DELETE", "hr", "/Users/bob", None)
            .await
            .status,
        204
    );
    assert!(!std::fs::read_to_string(&csv).unwrap().contains("bob"));
    assert_eq!(
        host.request("GET", "hr", "/Users/bob", None).await.status,
        404
    );
    host.stop().await;
    // Stopping the host ends its workers (they exit when their stdin closes).
    eventually("the workers exit", Duration::from_secs(10), || async {
        workers.iter().all(|p| !alive(*p))
    })
    .await;
}

/// What isolation is for: the same crash in process ends the whole host (a real `ecma-host
/// serve`, since it takes the process with it).
#[test]
fn in_process_the_same_segfault_ends_the_host() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("host.toml");
    std::fs::write(
        &config,
        format!(
            "[host]\nlisten = \"127.0.0.1\"\nport = {port}\nstate_dir = {state:?}\nplugins_dirs = []\nplugin_files = [{plugin:?}]\n[[app]]\nname = \"crashy\"\nconnector = \"crashing\"\ntoken = \"abcdefghijklmnop\"\nautosync_minutes = 0\n[app.parameters.connectivity]\n\"Crash on\" = \"export\"\n\"Crash how\" = \"segfault\"\n[[app.object_type]]\nscim = \"User\"\ntarget = \"User\"\n",
            state = dir.path().join("state").display().to_string(),
            plugin = plugin_path("fixture_crashing").display().to_string(),
        ),
    )
    .unwrap();
    let mut child = Command::new(target_dir().join("ecma-host"))
        .args(["serve", "--insecure-http", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_until_ready(
        &format!("http://127.0.0.1:{port}/readyz"),
        None,
        Duration::from_secs(10)
    ));
    // Plain HTTP/1.1 by hand: the request, then no answer but the connection's end.
    use std::io::{Read, Write};
    let body = user("u1", "crash").to_string();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST /ecma2host_crashy/scim/Users HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer abcdefghijklmnop\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(
        answer.is_empty(),
        "no answer: the host died mid-request, got {answer}"
    );
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(11), "{status:?}");
}
