//! Host hardening with the real built plugins and the real binary: plugin paths other users
//! could change are refused with the path and the reason, failed authentications are
//! throttled and counted, a broken configuration line holding a secret is never echoed, and a
//! secret file others can read is warned about.
//!
//! Plugin folders are made under the workspace's target directory: `/tmp` is shared with
//! every user, which is exactly what these tests are about.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use ecma_host::plugins::{PathPolicy, PluginRegistry};
use ecma_host_tests::host::start_host;
use ecma_host_tests::plugins::{copy_plugin_into, plugin_path, target_dir};

/// A private temporary folder (mode 0755, owned by the test's user) under target/.
fn private_dir() -> tempfile::TempDir {
    let base = target_dir().join("hardening-tmp");
    std::fs::create_dir_all(&base).unwrap();
    let base = base.canonicalize().unwrap();
    let dir = tempfile::tempdir_in(&base).unwrap();
    chmod(dir.path(), 0o755);
    dir
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mkdir(path: &Path, mode: u32) -> PathBuf {
    std::fs::create_dir_all(path).unwrap();
    chmod(path, mode);
    path.to_owned()
}

fn exe() -> PathBuf {
    let exe = target_dir().join("ecma-host");
    assert!(exe.exists(), "run `cargo build --workspace` first");
    exe
}

fn only_failure(registry: &PluginRegistry) -> String {
    assert_eq!(registry.failures().len(), 1, "{:?}", registry.failures());
    registry.failures()[0].reason.clone()
}

#[test]
fn a_plugin_below_a_folder_others_can_write_is_refused_naming_that_folder() {
    let dir = private_dir();
    let shared = mkdir(&dir.path().join("shared"), 0o755);
    let plugins = mkdir(&shared.join("plugins"), 0o755);
    copy_plugin_into("csv_connector", &plugins, "libcsv.so");

    let registry = PluginRegistry::discover(std::slice::from_ref(&plugins), &[]);
    assert!(registry.get("csv").is_some(), "{:?}", registry.failures());

    // Group-writable two levels above the file: the folder is refused, the path named.
    chmod(&shared, 0o775);
    let registry = PluginRegistry::discover(std::slice::from_ref(&plugins), &[]);
    assert!(registry.get("csv").is_none());
    let reason = only_failure(&registry);
    assert!(
        reason.contains("folder is writable by other users (mode 775)")
            && reason.contains(&shared.display().to_string())
            && !reason.contains("plugins"),
        "{reason}"
    );
    // A file named directly is checked the same way.
    let file = plugins.join("libcsv.so");
    let registry = PluginRegistry::discover(&[], std::slice::from_ref(&file));
    assert!(registry.get("csv").is_none());
    assert!(only_failure(&registry).contains(&shared.display().to_string()));

    // allow_insecure_plugin_paths: loaded (with a warning in the log).
    let registry = PluginRegistry::discover_with(
        std::slice::from_ref(&plugins),
        &[],
        PathPolicy::AllowInsecure,
    );
    assert!(registry.get("csv").is_some(), "{:?}", registry.failures());

    // `ecma-host plugins` prints one line with the path and the reason.
    let out = Command::new(exe())
        .arg("plugins")
        .arg("--dir")
        .arg(&plugins)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("writable by other users"))
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].contains(&shared.display().to_string()), "{stdout}");
}

#[test]
fn a_link_to_a_plugin_is_checked_where_it_points() {
    let dir = private_dir();
    let open = mkdir(&dir.path().join("open"), 0o755);
    let real = copy_plugin_into("csv_connector", &open, "libcsv.so");
    let plugins = mkdir(&dir.path().join("plugins"), 0o755);
    let link = plugins.join("libcsv.so");
    std::os::unix::fs::symlink(&real, &link).unwrap();

    let registry = PluginRegistry::discover(std::slice::from_ref(&plugins), &[]);
    assert!(registry.get("csv").is_some(), "{:?}", registry.failures());

    // The link's own folder is private; the one it points into is not.
    chmod(&open, 0o777);
    let registry = PluginRegistry::discover(std::slice::from_ref(&plugins), &[]);
    assert!(registry.get("csv").is_none());
    let failure = &registry.failures()[0];
    assert_eq!(failure.file, link);
    assert!(
        failure.reason.contains(&open.display().to_string()) && failure.reason.contains("mode 777"),
        "{}",
        failure.reason
    );
}

#[test]
fn a_plugin_owned_by_another_user_is_refused() {
    let euid = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap_or(1);
    if euid != 0 {
        eprintln!("skipped: giving a file to another user needs root");
        return;
    }
    let dir = private_dir();
    let plugins = mkdir(&dir.path().join("plugins"), 0o755);
    let file = copy_plugin_into("csv_connector", &plugins, "libcsv.so");
    std::os::unix::fs::chown(&file, Some(65534), None).unwrap();
    let registry = PluginRegistry::discover(std::slice::from_ref(&plugins), &[]);
    assert!(registry.get("csv").is_none());
    let reason = only_failure(&registry);
    assert!(
        reason.contains("file is owned by uid 65534") && reason.contains("libcsv.so"),
        "{reason}"
    );
    // The host's own files are fine: root's and its own.
    std::os::unix::fs::chown(&file, Some(0), None).unwrap();
    let registry = PluginRegistry::discover(std::slice::from_ref(&plugins), &[]);
    assert!(registry.get("csv").is_some(), "{:?}", registry.failures());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_bad_tokens_are_throttled_and_counted() {
    let dir = private_dir();
    let csv = dir.path().join("u.csv");
    std::fs::write(&csv, "id,login\nu1,ann\n").unwrap();
    let host = start_host(
        &format!(
            "[[app]]\nname = \"c\"\nconnector = \"csv\"\ntoken = \"{{TOKEN}}\"\n[app.parameters.connectivity]\nFile = {:?}\n[[app.object_type]]\nscim = \"User\"\ntarget = \"User\"\n",
            csv.display().to_string()
        ),
        &[plugin_path("csv_connector")],
    )
    .await;
    host.wait_ready().await;
    assert_eq!(host.request("GET", "c", "/Users", None).await.status, 200);
    // The default allows 10 failures a minute from one address.
    for _ in 0..ecma_host::config::DEFAULT_AUTH_FAILURES_PER_MINUTE {
        let r = host
            .request_with_token("GET", "c", "/Users", None, Some("wrong-token-000000"))
            .await;
        assert_eq!(r.status, 401);
    }
    let r = host
        .request_with_token("GET", "c", "/Users", None, Some("wrong-token-000000"))
        .await;
    assert_eq!(r.status, 429, "{:?}", r.body);
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Now even the right token waits: a right guess must look like any other.
    assert_eq!(host.request("GET", "c", "/Users", None).await.status, 429);
    let metrics = host
        .client
        .get(format!("{}/metrics", host.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let count = |name: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing:\n{metrics}"))
    };
    assert!(count("ecma_auth_failures_total") >= 10.0);
    assert!(count("ecma_auth_throttled_total") >= 2.0);
    host.stop().await;
}

#[test]
fn a_syntax_error_on_a_line_with_a_literal_secret_does_not_show_it() {
    let dir = private_dir();
    let config = dir.path().join("broken.toml");
    std::fs::write(
        &config,
        "[host]\nport = 8585\n\n[[app]]\nname = \"hr\"\nconnector = \"csv\"\ntoken = \"Sup3r-Secret-Token-42\n",
    )
    .unwrap();
    let out = Command::new(exe())
        .args(["check-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{all}");
    assert!(!all.contains("Sup3r-Secret"), "{all}");
    assert!(all.contains("line 7"), "{all}");
}

#[test]
fn a_token_file_others_can_read_is_warned_about() {
    let dir = private_dir();
    let token = dir.path().join("hr.token");
    std::fs::write(&token, "file-token-0123456789\n").unwrap();
    chmod(&token, 0o644);
    let csv = dir.path().join("u.csv");
    std::fs::write(&csv, "id,login\nu1,ann\n").unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[host]\nplugins_dirs = []\nplugin_files = [{plugin:?}]\n[[app]]\nname = \"hr\"\nconnector = \"csv\"\ntoken = {{ file = {token:?} }}\n[app.parameters.connectivity]\nFile = {csv:?}\n[[app.object_type]]\nscim = \"User\"\ntarget = \"User\"\n",
            plugin = plugin_path("csv_connector").display().to_string(),
            token = token.display().to_string(),
            csv = csv.display().to_string(),
        ),
    )
    .unwrap();
    let check = || {
        let out = Command::new(exe())
            .args(["check-config", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{all}");
        assert!(!all.contains("file-token-0123456789"), "{all}");
        all
    };
    let all = check();
    assert!(
        all.contains("readable by users other than its owner")
            && all.contains(&token.display().to_string())
            && all.contains("mode 644"),
        "{all}"
    );
    chmod(&token, 0o600);
    assert!(!check().contains("readable by users other than its owner"));
}
