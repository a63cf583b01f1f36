//! The operator commands against real processes: gen-cert, import (with --dry-run),
//! test-connection against a running host, and the authenticated cache dump.

use std::process::{Command, Stdio};
use std::time::Duration;

use ecma_host_tests::host::{KillOnDrop, wait_until_ready};
use ecma_host_tests::plugins::{plugin_path, target_dir};
use ecma_host_tests::servers::free_port;

fn exe() -> std::path::PathBuf {
    target_dir().join("ecma-host")
}

#[test]
fn gen_cert_import_test_connection_and_cache_dump() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");

    // gen-cert writes a certificate valid for two years, and refuses to overwrite it.
    let out = Command::new(exe())
        .args(["gen-cert", "--hostname", "idsync.example", "--state-dir"])
        .arg(&state)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cert = state.join("tls/cert.pem");
    let expires = ecma_host::tls::not_after(&cert).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let days = (expires - now) / 86_400;
    assert!(
        (728..=731).contains(&days),
        "valid for two years, got {days} days"
    );
    let again = Command::new(exe())
        .args(["gen-cert", "--state-dir"])
        .arg(&state)
        .output()
        .unwrap();
    assert!(!again.status.success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(state.join("tls/key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the private key is readable by its owner only"
        );
    }

    let csv = dir.path().join("u.csv");
    let mut text = String::from("id,login\n");
    for i in 0..250 {
        text.push_str(&format!("u{i},user{i}@x\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let port = free_port();
    std::fs::write(dir.path().join("token"), "cli-token-0123456789\n").unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[host]\nlisten = \"127.0.0.1\"\nport = {port}\nhostname = \"localhost\"\nstate_dir = {state:?}\ncache_dump = true\nplugins_dirs = []\nplugin_files = [{plugin:?}]\n[[app]]\nname = \"c\"\nconnector = \"csv\"\ntoken = {{ file = {token:?} }}\n[app.parameters.connectivity]\nFile = {csv:?}\n[[app.object_type]]\nscim = \"User\"\ntarget = \"User\"\nquery_attributes = [\"login\"]\n",
            state = state.display().to_string(),
            plugin = plugin_path("csv_connector").display().to_string(),
            token = dir.path().join("token").display().to_string(),
            csv = csv.display().to_string(),
        ),
    )
    .unwrap();

    // import --dry-run reads everything without changing anything.
    let out = Command::new(exe())
        .args([
            "import",
            "c",
            "--offline",
            "--dry-run",
            "--full",
            "--config",
        ])
        .arg(&config)
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("full import of 'c' (dry run: nothing changed): 250 objects"),
        "{stdout}"
    );
    assert!(
        !state.join("apps/c/watermarks.json").exists(),
        "a dry run persists no watermark"
    );
    // Logs go to stderr; a pipe is not a terminal, so no colour escape sequences (journald
    // and log files would store them verbatim).
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("import finished"), "{stderr}");
    assert!(
        !stderr.contains('\x1b'),
        "no ANSI codes when stderr is not a terminal: {stderr:?}"
    );
    let out = Command::new(exe())
        .args(["import", "c", "--offline", "--delta", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the CSV connector has no delta import"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("delta import is not possible"));

    // test-connection against the running host, trusting its (pre-generated) certificate.
    let _host = KillOnDrop(
        Command::new(exe())
            .args(["serve", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(
        wait_until_ready(
            &format!("https://localhost:{port}/readyz"),
            Some(&cert),
            Duration::from_secs(15)
        ),
        "host did not start"
    );
    let out = Command::new(exe())
        .args(["test-connection", "c", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("test connection: OK") && stdout.contains("\"totalResults\":0"),
        "{stdout}"
    );

    // The cache dump is there when enabled, and still needs the token.
    let dump = ecma_host::probe::get(
        &format!("https://localhost:{port}/ecma2host_c/scim/cache"),
        "cli-token-0123456789",
        Some(&cert),
    )
    .unwrap();
    assert_eq!(dump.status, 200);
    let v: serde_json::Value = serde_json::from_str(&dump.body).unwrap();
    assert_eq!(v["User"].as_array().unwrap().len(), 250);
    let denied = ecma_host::probe::get(
        &format!("https://localhost:{port}/ecma2host_c/scim/cache"),
        "wrong-token-000000",
        Some(&cert),
    )
    .unwrap();
    assert_eq!(denied.status, 401);
}

/// `describe` without a configuration: every parameter page of the connector, Microsoft's
/// wizard order, with kind, requirement, default, values, validation and help.
#[test]
fn describe_lists_a_connectors_parameter_pages() {
    let out = Command::new(exe())
        .args(["describe", "generic-sql", "--file"])
        .arg(plugin_path("generic_sql"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let connectivity = stdout
        .find("== Connectivity ==")
        .expect("Connectivity page");
    let schema1 = stdout.find("== Schema 1 ==").expect("Schema 1 page");
    let schema4 = stdout.find("== Schema 4 ==").expect("Schema 4 page");
    let global = stdout.find("== Global ==").expect("Global page");
    assert!(
        connectivity < schema1 && schema1 < schema4 && schema4 < global,
        "{stdout}"
    );
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{stdout}"))
            .to_owned()
    };
    let conn = line("Connection string");
    assert!(
        conn.contains("String") && conn.contains("required"),
        "{conn}"
    );
    let pw = line("Password");
    assert!(
        pw.contains("EncryptedString") && pw.contains("optional"),
        "{pw}"
    );
    assert!(line("Command timeout").contains("default: \"30\""));
    assert!(
        stdout.contains("values: AttributeUpdate | ObjectReplace"),
        "{stdout}"
    );
    assert!(stdout.contains("validation: ^(sqlite|postgres"), "{stdout}");
    assert!(
        !stdout.contains("== Schema 5 =="),
        "the connector has four schema pages"
    );

    let out = Command::new(exe())
        .args(["describe", "no-such-connector", "--file"])
        .arg(plugin_path("generic_sql"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no-such-connector"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `describe` with an application's configuration: the schema the connector discovers in
/// the target (SQLite here), per attribute its type, multi-value, direction and anchor.
#[test]
fn describe_with_a_configuration_lists_the_discovered_schema() {
    let t = ecma_host_tests::sql::Target::sqlite();
    t.exec(&[
        "CREATE TABLE people (id INTEGER PRIMARY KEY, login VARCHAR(100) NOT NULL, age INTEGER, active BOOLEAN)",
        "CREATE TABLE people_groups (person_id INTEGER NOT NULL, grp VARCHAR(50) NOT NULL)",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[host]\nplugins_dirs = []\nplugin_files = [{plugin:?}]\n[[app]]\nname = \"people\"\nconnector = \"generic-sql\"\ntoken = \"describe-token-0123\"\n[app.parameters.connectivity]\n\"Connection string\" = {url:?}\n[app.parameters.schema]\nTable = \"people\"\n\"Anchor columns\" = \"id\"\n\"Multi-valued table\" = \"people_groups\"\n\"Multi-valued join column\" = \"person_id\"\n\"Attribute directions\" = \"age:Import\"\n[[app.object_type]]\nscim = \"User\"\ntarget = \"User\"\nquery_attributes = [\"login\"]\n",
            plugin = plugin_path("generic_sql").display().to_string(),
            url = t.url,
        ),
    )
    .unwrap();
    let out = Command::new(exe())
        .args(["describe", "generic-sql", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("== Connectivity =="), "{stdout}");
    assert!(
        stdout.contains("Schema discovered for application 'people'"),
        "{stdout}"
    );
    assert!(
        stdout.contains("== Object type User (anchor: id) =="),
        "{stdout}"
    );
    let attr = |name: &str| -> Vec<String> {
        stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no attribute {name}:\n{stdout}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        attr("id")[1..],
        ["Integer", "single", "import/export", "anchor"]
    );
    assert_eq!(attr("login")[1..], ["String", "single", "import/export"]);
    assert_eq!(attr("age")[1..], ["Integer", "single", "import"]);
    assert_eq!(attr("active")[1..], ["Boolean", "single", "import/export"]);
    assert_eq!(attr("grp")[1..], ["String", "multi", "import/export"]);
}

/// An application written with Microsoft's Generic SQL wizard labels, typed in any case and
/// spacing, is read as ours: `check-config` passes only if the labels reached the connector
/// (the object type is named under "Fixed value list/Table/View/SP", the watermark column
/// under "Water Mark Column Name"), and a full import stores the watermark the query given
/// under "WATER MARK QUERY" returns. Two keys for one parameter are one clear error.
#[test]
fn check_config_reads_microsofts_wizard_labels() {
    let t = ecma_host_tests::sql::Target::sqlite();
    t.exec(&[
        "CREATE TABLE people (id INTEGER PRIMARY KEY, login VARCHAR(100) NOT NULL, modified DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        "INSERT INTO people (login) VALUES ('ann'), ('bob')",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let write = |connectivity: &str| {
        let config = dir.path().join("c.toml");
        std::fs::write(
            &config,
            format!(
                r#"[host]
state_dir = {state:?}
plugins_dirs = []
plugin_files = [{plugin:?}]
[[app]]
name = "people"
connector = "generic-sql"
token = "labels-token-0123456789"
[app.parameters.connectivity]
"Connection string" = {url:?}
{connectivity}
[app.parameters.schema]
"OBJECT TYPE DETECTION METHOD" = "Fixed Value"
"fixed value list/table/view/sp" = "Person"
Table = "people"
"Anchor columns" = "id"
[app.parameters.global]
"delta strategy" = "Watermark"
"WATER MARK QUERY" = "SELECT '2031-01-02 03:04:05'"
"water_mark-column name" = "modified"
[[app.object_type]]
scim = "User"
target = "Person"
query_attributes = ["login"]
"#,
                state = state.display().to_string(),
                plugin = plugin_path("generic_sql").display().to_string(),
                url = t.url,
            ),
        )
        .unwrap();
        config
    };
    let run = |args: &[&str], config: &std::path::Path| {
        let out = Command::new(exe())
            .args(args)
            .arg("--config")
            .arg(config)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };

    let config = write(
        "\"user name\" = \"provisioning\"\n\"Command Timeout\" = \"20\"\n\"Export Type: Object Replace\" = true",
    );
    let (ok, text) = run(&["check-config"], &config);
    assert!(ok, "{text}");
    assert!(text.contains("OK (1 application(s))"), "{text}");
    let (ok, text) = run(&["import", "people", "--offline", "--full"], &config);
    assert!(ok, "{text}");
    assert!(text.contains("2 objects"), "{text}");
    let watermarks = std::fs::read_to_string(state.join("apps/people/watermarks.json"))
        .unwrap_or_else(|e| panic!("no watermark stored ({e}): {text}"));
    assert!(
        watermarks.contains("2031-01-02 03:04:05"),
        "the watermark comes from the query given as WATER MARK QUERY: {watermarks}"
    );

    // Our name and Microsoft's label for one parameter: refused, naming both keys.
    let config = write("\"Command timeout\" = \"30\"\n\"Command Timeout\" = \"40\"");
    let (ok, text) = run(&["check-config"], &config);
    assert!(!ok, "{text}");
    assert!(
        text.contains(
            "parameters 'Command Timeout' and 'Command timeout' both set 'Command timeout'; keep one"
        ) || text.contains(
            "parameters 'Command timeout' and 'Command Timeout' both set 'Command timeout'; keep one"
        ),
        "{text}"
    );
    assert_eq!(text.matches("both set").count(), 1, "one error: {text}");

    // A bad value under Microsoft's label: the problem names the parameter and the TOML key
    // it was written as, once.
    let config = write("\"COMMAND TIMEOUT\" = \"soon\"");
    let (ok, text) = run(&["check-config"], &config);
    assert!(!ok, "{text}");
    assert_eq!(
        text.matches("'Command timeout' (the TOML key 'COMMAND TIMEOUT')")
            .count(),
        1,
        "{text}"
    );
}

/// check-config runs Entra's test connection through an instance and prints what the
/// connector warns about on the way: here the columns Generic SQL hides because they look
/// like secrets (a warning, not a failure).
#[test]
fn check_config_reports_the_columns_a_connector_hides() {
    let t = ecma_host_tests::sql::Target::sqlite();
    t.exec(&[
        "CREATE TABLE people (id INTEGER PRIMARY KEY, login VARCHAR(100) NOT NULL, password_hash VARCHAR(200))",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            r#"[host]
state_dir = {state:?}
plugins_dirs = []
plugin_files = [{plugin:?}]
[[app]]
name = "people"
connector = "generic-sql"
token = "hidden-token-0123456789"
[app.parameters.connectivity]
"Connection string" = {url:?}
[app.parameters.schema]
Table = "people"
"Anchor columns" = "id"
[[app.object_type]]
scim = "User"
target = "User"
query_attributes = ["login"]
"#,
            state = dir.path().join("state").display().to_string(),
            plugin = plugin_path("generic_sql").display().to_string(),
            url = t.url,
        ),
    )
    .unwrap();
    let out = Command::new(exe())
        .args(["check-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("warning: app 'people'") && l.contains("password_hash")),
        "{text}"
    );
}

/// test-connection against a host serving plain HTTP (`--insecure-http`, for local tests)
/// needs no certificate to trust: none was ever generated here.
#[test]
fn test_connection_over_plain_http_needs_no_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("u.csv");
    std::fs::write(&csv, "id,login\nu1,one@x\n").unwrap();
    let port = free_port();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[admin]\nstatus_page = \"off\"\n[host]\nlisten = \"127.0.0.1\"\nport = {port}\nstate_dir = {state:?}\nplugins_dirs = []\nplugin_files = [{plugin:?}]\n[[app]]\nname = \"c\"\nconnector = \"csv\"\ntoken = \"plain-token-0123456789\"\n[app.parameters.connectivity]\nFile = {csv:?}\n[[app.object_type]]\nscim = \"User\"\ntarget = \"User\"\nquery_attributes = [\"login\"]\n",
            state = dir.path().join("state").display().to_string(),
            plugin = plugin_path("csv_connector").display().to_string(),
            csv = csv.display().to_string(),
        ),
    )
    .unwrap();
    let _host = KillOnDrop(
        Command::new(exe())
            .args(["serve", "--insecure-http", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(
        wait_until_ready(
            &format!("http://127.0.0.1:{port}/readyz"),
            None,
            Duration::from_secs(15)
        ),
        "host did not start"
    );
    let out = Command::new(exe())
        .args(["test-connection", "c", "--url"])
        .arg(format!("http://127.0.0.1:{port}"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test connection: OK"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
