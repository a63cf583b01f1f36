//! The scim2-tester conformance suite (scim2-cli) against the real `ecma-host` binary running
//! the demo (Generic SQL on SQLite) over HTTPS. Every check must pass.
//!
//! `.ci/run` installs scim2-cli into `.ci/venv` and sets `SCIM2_CLI`; under `CI=true` a missing
//! suite is a failure, locally the test is skipped with a loud message.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use ecma_host_tests::host::{KillOnDrop, wait_until_ready};
use ecma_host_tests::plugins::target_dir;
use ecma_host_tests::servers::in_ci;

fn scim2_cli() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("SCIM2_CLI").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.ci/venv/bin/scim2")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_file());
    if found.is_none() {
        let msg = "scim2-cli not found (bash .ci/run installs it into .ci/venv)";
        if in_ci() {
            panic!("{msg}; CI=true: a missing conformance suite is a failure");
        }
        eprintln!("SKIPPED: {msg}");
    }
    found
}

#[test]
fn scim2_tester_passes_every_check_against_the_demo() {
    let Some(scim2) = scim2_cli() else {
        return;
    };
    let exe = target_dir().join("ecma-host");
    assert!(exe.exists(), "run `cargo build --workspace` first");
    let ecma_host_tests::host::DemoSetup { dir, port, stdout } =
        ecma_host_tests::host::prepare_demo();
    assert!(
        stdout.contains("Generic SQL connector"),
        "the demo runs on SQLite: {stdout}"
    );
    let config = dir.path().join("ecma-host.toml");
    let log = std::fs::File::create(dir.path().join("host.log")).unwrap();
    let _host = KillOnDrop(
        Command::new(&exe)
            .args(["serve", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let token = std::fs::read_to_string(dir.path().join("token")).unwrap();
    let cert = dir.path().join("state/tls/cert.pem");
    let base = format!("https://localhost:{port}/ecma2host_demo/scim");
    // Ready when the first import is done.
    let ready = wait_until_ready(
        &format!("https://localhost:{port}/readyz"),
        Some(&cert),
        std::time::Duration::from_secs(10),
    );
    let host_log = || std::fs::read_to_string(dir.path().join("host.log")).unwrap_or_default();
    assert!(ready, "host did not become ready:\n{}", host_log());

    let out = Command::new(&scim2)
        .args([
            "--url",
            &base,
            "-h",
            &format!("Authorization: Bearer {token}"),
            "test",
        ])
        .env("SSL_CERT_FILE", &cert)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace('\u{1b}', "");
    let passed = text.lines().filter(|l| l.contains("SUCCESS")).count();
    let failed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("CRITICAL"))
        .collect();
    println!(
        "scim2-tester against ecma-host: {passed} passed, {} failed",
        failed.len()
    );
    assert!(
        passed > 30,
        "too few checks ran:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(failed.is_empty(), "scim2-tester failures:\n{text}");
}
