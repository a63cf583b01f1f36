//! `ecma-host migrate` on Microsoft ECMA2Host configuration exports (tests/migrate/): the
//! Generic SQL and Generic LDAP exports become configurations that pass `check-config`
//! against real PostgreSQL and slapd servers and then serve Entra's create / match / update /
//! delete; the PowerShell export is reported, not carried; secrets never reach the outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use ecma_host_tests::host::{
    KillOnDrop, TOKEN, blocking, https_client, test_runtime, wait_until_ready,
};
use ecma_host_tests::plugins::{copy_plugin_into, target_dir};
use ecma_host_tests::servers::free_port;
use ecma_host_tests::slapd::{ADMIN_PW, Slapd};
use ecma_host_tests::sql::{Server, Target};
use serde_json::{Value, json};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Secret values the fixtures hold: none may appear in a generated file.
const FIXTURE_SECRETS: &[&str] = &[
    "AQAAANCMnd8BFdERjHoAwE",
    "dsn-file-password-7f3a",
    "ps-secret-token-9c41e2d0",
];

fn exe() -> PathBuf {
    target_dir().join("ecma-host")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrate")
}

/// The fixtures copied into a fresh folder with `{NAME}` placeholders filled in.
fn prepare(vars: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        for (k, v) in vars {
            text = text.replace(&format!("{{{k}}}"), v);
        }
        std::fs::write(dir.path().join(path.file_name().unwrap()), text).unwrap();
    }
    dir
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(exe());
    cmd.args(args).current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs `ecma-host migrate XML` in `dir`; returns the TOML and the report.
fn migrate(dir: &Path, xml: &str) -> (String, String) {
    let out = run(
        dir,
        &[
            "migrate",
            xml,
            "--out",
            "ecma-host.toml",
            "--report",
            "report.md",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let toml = std::fs::read_to_string(dir.join("ecma-host.toml")).unwrap();
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for s in FIXTURE_SECRETS {
        assert!(!toml.contains(s), "a secret reached the TOML: {s}\n{toml}");
        assert!(
            !report.contains(s),
            "a secret reached the report: {s}\n{report}"
        );
    }
    (toml, report)
}

/// `check-config` on the migrated file, with the secrets the report asks for.
fn check_config(dir: &Path, env: &[(&str, &str)]) {
    let out = run(dir, &["check-config", "--config", "ecma-host.toml"], env);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("OK (1 application(s))"),
        "{}",
        text(&out)
    );
}

/// The migrated file served by the real binary from `dir` (its default `plugins` and `state`
/// folders are there), until it is ready.
fn serve(dir: &Path, port: u16, env: &[(&str, &str)]) -> KillOnDrop {
    let mut cmd = Command::new(exe());
    cmd.args(["serve", "--config", "ecma-host.toml"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = KillOnDrop(cmd.spawn().unwrap());
    assert!(
        wait_until_ready(
            &format!("https://localhost:{port}/readyz"),
            Some(&dir.join("state/tls/cert.pem")),
            Duration::from_secs(30)
        ),
        "the migrated configuration did not serve"
    );
    child
}

/// Entra's requests against one application of a running host.
struct Entra {
    client: reqwest::Client,
    base: String,
}

/// Percent-encodes a path segment (a DN as SCIM id has `=` and `,`).
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Entra {
    fn new(dir: &Path, port: u16, app: &str) -> Self {
        Self {
            client: https_client(&dir.join("state/tls/cert.pem")),
            base: format!("https://localhost:{port}/ecma2host_{app}/scim"),
        }
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let t = resp.text().await.unwrap();
        (status, serde_json::from_str(&t).unwrap_or(Value::Null))
    }

    async fn find(&self, attr: &str, value: &str) -> Value {
        let (status, body) = self
            .send(
                "GET",
                &format!(
                    "/Users?filter={}",
                    segment(&format!("{attr} eq \"{value}\""))
                ),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

#[test]
fn generic_sql_export_passes_check_config_and_serves_entra_on_postgres() {
    let Some(t) = Target::postgres() else {
        return;
    };
    let Server::Postgres(pg) = &t.server else {
        unreachable!()
    };
    t.exec(&[
        "CREATE ROLE ecma LOGIN",
        "CREATE TABLE employees (login VARCHAR(200) PRIMARY KEY, first_name VARCHAR(200), \
         last_name VARCHAR(200), email VARCHAR(200), is_disabled BOOLEAN NOT NULL DEFAULT false, \
         modified TIMESTAMPTZ NOT NULL DEFAULT now())",
        "GRANT ALL ON employees TO ecma",
        "INSERT INTO employees (login, first_name) VALUES ('existing@contoso.com', 'Ex')",
    ]);
    let port = free_port();
    let dir = prepare(&[
        ("HOST_PORT", port.to_string()),
        ("PG_PORT", pg.port.to_string()),
    ]);
    let (toml, report) = migrate(dir.path(), "Configuration - HR.xml");
    // The DSN file next to the export became a native connection string; the wizard's pages
    // and the Schema section became our parameters and object type.
    for expected in [
        &format!("port = {port}"),
        "connector = \"generic-sql\"",
        "token = { env = \"HR_TOKEN\" }",
        &format!(
            "\"Connection string\" = \"postgres://127.0.0.1:{}/postgres\"",
            pg.port
        ),
        "User = \"ecma\"",
        "Password = { secret = { env = \"HR_PASSWORD\" } }",
        "\"Delta strategy\" = \"Watermark\"",
        "\"Watermark column\" = \"modified\"",
        "\"Date format\" = \"[year]-[month]-[day] [hour]:[minute]:[second]\"",
        "Table = \"employees\"",
        "\"Anchor columns\" = \"login\"",
        "import_page_size = 500",
        "autosync_minutes = 120",
        "anchor = \"login\"",
        "query_attributes = [\"login\"]",
        "attributes = [\"login\", \"first_name\", \"last_name\", \"email\"]",
        "on_disable = { set = \"is_disabled\", value = true }",
        "on_delete = \"delete\"",
    ] {
        assert!(toml.contains(expected), "missing {expected}:\n{toml}");
    }
    assert!(
        !toml.contains("DN column"),
        "the DN is autogenerated:\n{toml}"
    );
    for expected in [
        "`HR_TOKEN`",
        "`HR_PASSWORD`",
        "Trim Trailing Spaces",
        "thumbprint 3F2A9C1D",
        "Schema 3 DN attribute",
    ] {
        assert!(
            report.contains(expected),
            "report lacks {expected}:\n{report}"
        );
    }

    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    copy_plugin_into("generic_sql", &plugins, "libgeneric_sql.so");
    let env = [
        ("HR_TOKEN", TOKEN),
        ("HR_PASSWORD", "unused-with-trust-auth"),
    ];
    check_config(dir.path(), &env);
    let _host = serve(dir.path(), port, &env);
    let entra = Entra::new(dir.path(), port, "HR");
    test_runtime().block_on(async {
        let found = entra.find("login", "existing@contoso.com").await;
        assert_eq!(found["totalResults"], 1, "{found}");

        let (status, created) = entra
            .send(
                "POST",
                "/Users",
                Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
                    EXT: {"login": "adele@contoso.com", "first_name": "Adele", "last_name": "Vance", "email": "adele@contoso.com"}})),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["id"], "adele@contoso.com");
        let found = entra.find("login", "adele@contoso.com").await;
        assert_eq!(found["totalResults"], 1, "{found}");
        assert_eq!(found["Resources"][0][EXT]["first_name"], "Adele");

        let (status, body) = entra
            .send(
                "PATCH",
                "/Users/adele@contoso.com",
                Some(json!({"schemas": [PATCH], "Operations": [
                    {"op": "Replace", "path": format!("{EXT}:last_name"), "value": "Vance-Smith"}]})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let row = blocking(|| t.rows("SELECT last_name FROM employees WHERE login = 'adele@contoso.com'"));
        assert_eq!(row[0][0].as_deref(), Some("Vance-Smith"));

        let (status, body) = entra.send("DELETE", "/Users/adele@contoso.com", None).await;
        assert_eq!(status, 204, "{body}");
        assert_eq!(
            blocking(|| t.count("SELECT COUNT(*) FROM employees WHERE login = 'adele@contoso.com'")),
            0
        );
    });
}

#[test]
fn generic_ldap_export_passes_check_config_and_serves_entra_on_slapd() {
    let Some(s) = Slapd::start() else {
        return;
    };
    s.create_ou("people");
    let port = free_port();
    let dir = prepare(&[
        ("HOST_PORT", port.to_string()),
        ("LDAP_PORT", s.port.to_string()),
    ]);
    let (toml, report) = migrate(dir.path(), "Configuration - Directory.xml");
    for expected in [
        "connector = \"generic-ldap\"",
        &format!("Port = \"{}\"", s.port),
        "Binding = \"Simple\"",
        "\"User name\" = \"cn=admin,dc=example,dc=com\"",
        "Password = { secret = { env = \"DIRECTORY_PASSWORD\" } }",
        "\"Delta strategy\" = \"Accesslog\"",
        "\"Accesslog DN\" = \"cn=accesslog\"",
        "\"Base DNs\" = \"dc=example,dc=com\"",
        "Anchor = \"DN\"",
        "target = \"inetOrgPerson\"",
        "anchor = \"dn\"",
        "query_attributes = [\"dn\"]",
        "single_value = [\"uid\", \"cn\", \"sn\", \"mail\"]",
    ] {
        assert!(toml.contains(expected), "missing {expected}:\n{toml}");
    }
    assert!(!toml.contains("userPassword\"]"), "{toml}");
    // `-dn-` is served as Microsoft's host serves it: not renamed, not a DN attribute, and no
    // Entra mapping to change.
    assert!(!toml.contains("dn_attribute ="), "{toml}");
    assert!(!toml.contains("\"-dn-\""), "{toml}");
    assert!(!report.contains("must target ...:User:dn"), "{report}");
    for expected in [
        "-dn- names the DN on create",
        "Entra's mapping to it stays",
        "_distinguishedName",
        "attribute userPassword",
        "`DIRECTORY_TOKEN`",
    ] {
        assert!(
            report.contains(expected),
            "report lacks {expected}:\n{report}"
        );
    }

    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    copy_plugin_into("generic_ldap", &plugins, "libgeneric_ldap.so");
    let env = [("DIRECTORY_TOKEN", TOKEN), ("DIRECTORY_PASSWORD", ADMIN_PW)];
    check_config(dir.path(), &env);
    let _host = serve(dir.path(), port, &env);
    let entra = Entra::new(dir.path(), port, "Directory");
    let dn = "uid=migrated,ou=people,dc=example,dc=com";
    test_runtime().block_on(async {
        let (status, created) = entra
            .send(
                "POST",
                "/Users",
                Some(
                    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
                    EXT: {"-dn-": dn, "uid": "migrated", "cn": "Migrated User", "sn": "User",
                          "mail": "migrated@example.com", "objectClass": ["inetOrgPerson"]}}),
                ),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created[EXT]["-dn-"], dn, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        let found = entra.find("dn", dn).await;
        assert_eq!(found["totalResults"], 1, "{found}");
        assert_eq!(found["Resources"][0][EXT]["mail"], "migrated@example.com");

        let (status, body) = entra
            .send(
                "PATCH",
                &format!("/Users/{}", segment(&id)),
                Some(json!({"schemas": [PATCH], "Operations": [
                    {"op": "Replace", "path": format!("{EXT}:sn"), "value": "Renamed"}]})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let entry = blocking(|| s.read(dn)).expect("created in slapd");
        assert_eq!(entry.attrs["sn"], ["Renamed"]);

        let (status, body) = entra
            .send("DELETE", &format!("/Users/{}", segment(&id)), None)
            .await;
        assert_eq!(status, 204, "{body}");
        assert!(blocking(|| s.read(dn)).is_none());
    });
}

#[test]
fn powershell_export_is_reported_and_not_carried() {
    let dir = prepare(&[("HOST_PORT", "8585".into())]);
    let (toml, report) = migrate(dir.path(), "Configuration - CSV.xml");
    assert!(!toml.contains("[[app]]"), "{toml}");
    assert!(toml.contains("port = 8585"), "{toml}");
    for expected in [
        "Connector \"CSV\" (Microsoft.IAM.Connector.PowerShell)",
        "**Not carried**",
        "`csv` connector",
        "\"Import Script\"",
        "Connectivity \"Password\" (encrypted)",
    ] {
        assert!(
            report.contains(expected),
            "report lacks {expected}:\n{report}"
        );
    }
}

#[test]
fn a_file_that_is_not_an_export_is_one_clear_error_and_outputs_are_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("other.xml"), "<Project><Item/></Project>").unwrap();
    let out = run(dir.path(), &["migrate", "other.xml"], &[]);
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(
        msg.contains("not an ECMA2Host configuration export")
            && msg.contains("<Project>, not <Configuration>"),
        "{msg}"
    );
    assert!(!dir.path().join("ecma-host.toml").exists());

    let dir = prepare(&[("HOST_PORT", "8585".into())]);
    std::fs::write(dir.path().join("ecma-host.toml"), "# mine").unwrap();
    let out = run(dir.path(), &["migrate", "Configuration - CSV.xml"], &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("--force"), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ecma-host.toml")).unwrap(),
        "# mine"
    );
}

/// Migration's name table and the Generic SQL connector's own aliases (Microsoft's labels it
/// accepts in a configuration) say the same: a label the connector accepts becomes, in a
/// migration, that same parameter on that same page; a label whose value migration has to
/// convert (a DSN file, a .NET date format, a join condition) is no alias; and every alias has
/// a row, so a migrated export never reports as unknown a field the connector would take.
#[test]
fn the_name_table_agrees_with_the_generic_sql_connectors_aliases() {
    use ecma_host::migrate::names::{Connector, NAME_TABLE, OurPage, Rule, Special};
    use plugin_api::host::ConnectorPlugin;
    use plugin_api::model::{ConfigPage, ConfigParameterDefinition, ConfigParameters};

    let plugin = ecma_host_tests::sql::connector::load();
    let empty = ConfigParameters::new();
    let pages = [
        (ConfigPage::Connectivity, 1),
        (ConfigPage::Schema, 1),
        (ConfigPage::Schema, 2),
        (ConfigPage::Schema, 3),
        (ConfigPage::Schema, 4),
        (ConfigPage::Schema, 5),
        (ConfigPage::Global, 1),
        (ConfigPage::RunStep, 1),
    ];
    let mut defs: Vec<(ConfigPage, ConfigParameterDefinition)> = Vec::new();
    for (page, n) in pages {
        for d in plugin.config_parameters(&empty, page, n).unwrap() {
            if !defs.iter().any(|(_, e)| e.name == d.name) {
                defs.push((page, d));
            }
        }
    }
    let page_of = |p: OurPage| match p {
        OurPage::Connectivity => ConfigPage::Connectivity,
        OurPage::Global => ConfigPage::Global,
        OurPage::Schema => ConfigPage::Schema,
        OurPage::RunStep => ConfigPage::RunStep,
        OurPage::Partition => ConfigPage::Partition,
        OurPage::Capabilities => ConfigPage::Capabilities,
    };
    let rows: Vec<_> = NAME_TABLE
        .iter()
        .filter(|r| r.connector == Connector::GenericSql)
        .collect();
    for row in &rows {
        if !row.ours.is_empty() {
            let (page, _) = defs
                .iter()
                .find(|(_, d)| d.name == row.ours)
                .unwrap_or_else(|| panic!("'{}' is no parameter of the connector", row.ours));
            assert_eq!(
                *page,
                page_of(row.our_page),
                "'{}' is written on another page than the connector's",
                row.ours
            );
        }
        let named: Vec<&str> = defs
            .iter()
            .filter(|(_, d)| d.is_named(row.microsoft))
            .map(|(_, d)| d.name.as_str())
            .collect();
        match row.rule {
            // The same value under the same parameter (at most Microsoft's value words or a
            // checkbox, which the connector reads too; `domain\user` is the one user value
            // migration looks at).
            Rule::Same
            | Rule::Checkbox
            | Rule::Secret
            | Rule::Choice(_)
            | Rule::Special(Special::SqlUser) => assert!(
                named.is_empty() || named == [row.ours],
                "'{}' is '{}' to migration but {named:?} to the connector",
                row.microsoft,
                row.ours
            ),
            Rule::Special(_) | Rule::NotCarried(_) => assert!(
                named.is_empty(),
                "the connector takes '{}' as {named:?}, but migration converts or drops its value",
                row.microsoft
            ),
        }
    }
    for (_, d) in &defs {
        for alias in &d.aliases {
            let label = ConfigParameterDefinition::string(alias, "", "");
            assert!(
                rows.iter()
                    .any(|r| r.ours == d.name && label.is_named(r.microsoft)),
                "the connector's alias '{alias}' of '{}' has no row in the name table",
                d.name
            );
        }
    }
}
