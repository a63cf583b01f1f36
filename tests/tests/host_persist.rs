//! `persist_cache`: a restarted host serves the cache it kept before it has read the target
//! again, and a damaged cache file is not used (a full import fills the cache instead).
//! The real `ecma-host` binary, stopped and started again on one state directory.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use ecma_host_tests::host::{KillOnDrop, test_runtime, wait_until_ready};
use ecma_host_tests::plugins::{plugin_path, target_dir};
use ecma_host_tests::servers::free_port;

const TOKEN: &str = "persist-token-0123456789";

fn write_config(dir: &Path, port: u16, csv: &Path) -> std::path::PathBuf {
    let path = dir.join("host.toml");
    std::fs::write(
        &path,
        format!(
            r#"[admin]
status_page = "off"
[host]
listen = "127.0.0.1"
port = {port}
state_dir = {state:?}
plugins_dirs = []
plugin_files = [{plugin:?}]
[[app]]
name = "kept"
connector = "csv"
token = "{TOKEN}"
autosync_minutes = 0
persist_cache = true
[app.parameters.connectivity]
File = {csv:?}
[[app.object_type]]
scim = "User"
target = "User"
anchor = "id"
query_attributes = ["userName"]
core = {{ userName = "userName" }}
"#,
            state = dir.join("state").display().to_string(),
            plugin = plugin_path("csv_connector").display().to_string(),
            csv = csv.display().to_string(),
        ),
    )
    .unwrap();
    path
}

fn serve(config: &Path, log: &Path) -> KillOnDrop {
    KillOnDrop(
        Command::new(target_dir().join("ecma-host"))
            .args(["serve", "--insecure-http", "--config"])
            .arg(config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap(),
    )
}

/// `GET /Users?filter=userName eq "..."`: the status and the ids found.
fn find(port: u16, user_name: &str) -> (u16, Vec<String>) {
    // reqwest is built without a default TLS provider; plain HTTP still asks for one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    test_runtime().block_on(async {
        let r = reqwest::Client::new()
            .get(format!(
                "http://127.0.0.1:{port}/ecma2host_kept/scim/Users?filter=userName%20eq%20%22{user_name}%22"
            ))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        let ids = body["Resources"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        (status, ids)
    })
}

/// Killed outright: the cache file is written after each import, not at shutdown, so a
/// crash keeps it as well as a clean stop does.
fn stop(host: KillOnDrop) {
    drop(host);
}

/// `ecma_import_changes_total{app="kept",import="full",change}` once the first import of this
/// run has finished (0 until then).
fn first_import_changes(port: u16, change: &str) -> f64 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    for _ in 0..300 {
        let text = test_runtime().block_on(async {
            reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        });
        let total = |c: &str| {
            text.lines()
                .filter(|l| {
                    l.starts_with("ecma_import_changes_total{") && l.contains("app=\"kept\"")
                })
                .filter(|l| l.contains(&format!("change=\"{c}\"")))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>()
        };
        // The import has run once it has counted its objects.
        if total("added") + total("unchanged") + total("changed") > 0.0 {
            return total(change);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no import finished");
}

#[test]
fn a_restart_serves_the_kept_cache_and_catches_up_and_a_damaged_file_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("users.csv");
    let mut rows = String::from("id,userName\n");
    for i in 0..500 {
        rows.push_str(&format!("u{i:04},user{i}@contoso.com\n"));
    }
    std::fs::write(&csv, &rows).unwrap();
    let port = free_port();
    let config = write_config(dir.path(), port, &csv);
    let readyz = format!("http://127.0.0.1:{port}/readyz");
    let cache_file = dir.path().join("state/apps/kept/cache.bin");
    let log = |n: u32| std::fs::read_to_string(dir.path().join(format!("{n}.log"))).unwrap();

    // First start: a full import fills the cache, and the cache is written, owner-only.
    let host = serve(&config, &dir.path().join("1.log"));
    assert!(wait_until_ready(&readyz, None, Duration::from_secs(30)));
    assert_eq!(first_import_changes(port, "added"), 500.0);
    stop(host);
    let meta = std::fs::metadata(&cache_file).expect("the cache was written");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    // Another tool adds a user while the host is down. The restarted host serves the kept
    // cache: its catch-up import (a full one: CSV has no delta) finds the 500 users it kept
    // unchanged, where without the file all 501 would be added, and brings the new one.
    std::fs::write(&csv, format!("{rows}late,late@contoso.com\n")).unwrap();
    let host = serve(&config, &dir.path().join("2.log"));
    assert!(wait_until_ready(&readyz, None, Duration::from_secs(30)));
    assert_eq!(first_import_changes(port, "unchanged"), 500.0, "{}", log(2));
    assert_eq!(first_import_changes(port, "added"), 1.0);
    assert_eq!(
        find(port, "user499@contoso.com"),
        (200, vec!["u0499".to_owned()])
    );
    assert_eq!(
        find(port, "late@contoso.com"),
        (200, vec!["late".to_owned()])
    );
    stop(host);
    assert!(log(2).contains("serving the cache kept in"), "{}", log(2));

    // One byte changed in the middle: the file is refused as damaged, and the full import
    // adds every user again.
    let mut bytes = std::fs::read(&cache_file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&cache_file, &bytes).unwrap();
    let host = serve(&config, &dir.path().join("3.log"));
    assert!(wait_until_ready(&readyz, None, Duration::from_secs(30)));
    assert_eq!(first_import_changes(port, "added"), 501.0, "{}", log(3));
    assert_eq!(
        find(port, "user42@contoso.com"),
        (200, vec!["u0042".to_owned()])
    );
    stop(host);
    assert!(
        log(3).contains("is not used: it is damaged (checksum)"),
        "{}",
        log(3)
    );

    // Pointed at another file (the import above rewrote the cache file whole): the kept
    // cache belongs to the other target and is not used.
    let other = dir.path().join("other.csv");
    std::fs::copy(&csv, &other).unwrap();
    let config = write_config(dir.path(), port, &other);
    let host = serve(&config, &dir.path().join("4.log"));
    assert!(wait_until_ready(&readyz, None, Duration::from_secs(30)));
    assert_eq!(first_import_changes(port, "added"), 501.0, "{}", log(4));
    stop(host);
    assert!(
        log(4).contains(
            "is not used: it was written for another connector, other connector parameters"
        ),
        "{}",
        log(4)
    );
}
