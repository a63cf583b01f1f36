//! Operating a running host through its admin socket, with the real binary: `ecma-host
//! status` for a ready application (the demo on SQLite), a retrying one (PostgreSQL that is
//! not there) and an importing one (a large CSV file), in words and in JSON; `ecma-host
//! import --full` changes the running host's cache; the socket is owner-only; with the host
//! gone the commands say so and point at `--offline`, which still works.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ecma_host_tests::host::{KillOnDrop, https_client, test_runtime};
use ecma_host_tests::plugins::{plugin_path, target_dir};
use ecma_host_tests::servers::free_port;
use serde_json::Value;

const OTHER_TOKEN: &str = "admin-test-token-0123456789";

fn exe() -> PathBuf {
    target_dir().join("ecma-host")
}

/// The demo's folder and configuration, with two more applications.
struct Setup {
    dir: tempfile::TempDir,
    port: u16,
    big_rows: usize,
}

impl Setup {
    fn config(&self) -> PathBuf {
        self.dir.path().join("ecma-host.toml")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("host.log")).unwrap_or_default()
    }

    fn token(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("token"))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// `ecma-host ARGS --config FILE`: success, stdout, stderr.
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(exe())
            .args(args)
            .arg("--config")
            .arg(self.config())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `status APP --json`, or None while no host answers.
    fn status_json(&self, app: &str) -> Option<Value> {
        let (ok, stdout, _) = self.run(&["status", app, "--json"]);
        ok.then(|| serde_json::from_str(&stdout).expect("status --json is JSON"))
    }

    fn serve(&self) -> KillOnDrop {
        let log = std::fs::File::create(self.dir.path().join("host.log")).unwrap();
        KillOnDrop(
            Command::new(exe())
                // Off: other tests' hosts may hold the default port.
                .args(["serve", "--status-page", "off", "--config"])
                .arg(self.config())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        )
    }

    /// Polls `status APP --json` until `done` says yes; panics after `timeout`.
    fn wait_for(&self, app: &str, timeout: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = self.status_json(app)
                && done(&v["applications"][0])
            {
                return v["applications"][0].clone();
            }
            assert!(
                Instant::now() < deadline,
                "'{app}' did not get there in {timeout:?}: {:?}\n{}",
                self.status_json(app),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn prepare() -> Setup {
    let ecma_host_tests::host::DemoSetup { dir, port, .. } = ecma_host_tests::host::prepare_demo();
    // A CSV file large enough that its first import is seen running.
    let big_rows = 400_000;
    let csv = dir.path().join("big.csv");
    let mut text = String::with_capacity(big_rows * 40);
    text.push_str("id,login,mail\n");
    for i in 0..big_rows {
        text.push_str(&format!("u{i},user{i},user{i}@example.org\n"));
    }
    std::fs::write(&csv, text).unwrap();
    // PostgreSQL that is not there: nothing listens on this port.
    let nowhere = format!("postgres://ecma:secret@127.0.0.1:{}/ecma", free_port());
    let extra = format!(
        "{pg}\n[[app]]\nname = \"big\"\nconnector = \"csv\"\ntoken = \"admin-test-big-token-0123456789\"\nautosync_minutes = 0\nimport_page_size = 50\n\
[app.parameters.connectivity]\nFile = {csv:?}\n[app.parameters.schema]\n\"Anchor column\" = \"id\"\n\
[[app.object_type]]\nscim = \"User\"\ntarget = \"User\"\nquery_attributes = [\"login\"]\n",
        pg = ecma_host_tests::sql::scim_app_toml("pgdown", &nowhere, "scim_users", "")
            .replace("{TOKEN}", OTHER_TOKEN)
            // Refused connections are retried for this long before setup gives up.
            .replace(
                "[app.parameters.connectivity]\n",
                "[app.parameters.connectivity]\n\"Command timeout\" = \"2\"\n"
            )
            .replace(
                "autosync_minutes = 0\n",
                "autosync_minutes = 0\nsetup_retry_max_secs = 2\n"
            ),
        csv = csv.display().to_string(),
    );
    let config = dir.path().join("ecma-host.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&extra);
    // The demo loads only its own connector: add the CSV one.
    let csv_plugin = plugin_path("csv_connector").display().to_string();
    let text = text.replacen(
        "plugin_files = [",
        &format!("plugin_files = [{csv_plugin:?}, "),
        1,
    );
    std::fs::write(&config, text).unwrap();
    Setup {
        dir,
        port,
        big_rows,
    }
}

async fn find_user(setup: &Setup, user_name: &str) -> Value {
    let cert = setup.dir.path().join("state/tls/cert.pem");
    let url = format!(
        "https://localhost:{}/ecma2host_demo/scim/Users?filter=userName+eq+%22{user_name}%22",
        setup.port
    );
    let r = https_client(&cert)
        .get(url)
        .bearer_auth(setup.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

fn insert_demo_user(db: &Path, user_name: &str) {
    test_runtime().block_on(async {
        use sqlx::ConnectOptions;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db)
            .connect()
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO users (userName, givenName, surname, displayName, mail, disabled) VALUES (?, 'Ada', 'Added', 'Ada Added', ?, 0)",
        )
        .bind(user_name)
        .bind(user_name)
        .execute(&mut conn)
        .await
        .unwrap();
    });
}

#[test]
fn status_and_import_talk_to_the_running_host() {
    let setup = prepare();
    let host = setup.serve();

    // Importing: the large file's first import is seen while it runs, objects counted.
    let importing = setup.wait_for("big", Duration::from_secs(60), |a| {
        a["state"] != "starting" && a["state"] != "retrying"
    });
    assert_eq!(
        importing["state"], "importing",
        "the first import of {} rows was over before the first look: {importing}",
        setup.big_rows
    );
    assert_eq!(importing["importing"], true, "{importing}");
    let (ok, text, err) = setup.run(&["status", "big"]);
    assert!(ok, "{err}");
    if text.contains("big (connector csv): importing") {
        assert!(text.contains("importing now ("), "{text}");
    }

    // Retrying: the target's error, and when the next attempt comes.
    let retrying = setup.wait_for("pgdown", Duration::from_secs(60), |a| {
        a["state"] == "retrying"
    });
    let reason = retrying["reason"].as_str().unwrap();
    assert!(
        reason.contains("cannot connect to PostgreSQL"),
        "{retrying}"
    );
    assert!(retrying["retryInSecs"].is_u64(), "{retrying}");
    assert!(
        !retrying.to_string().contains("secret"),
        "no password in a report: {retrying}"
    );

    // Ready: cache size and the first full import with its counts.
    let demo = setup.wait_for("demo", Duration::from_secs(30), |a| a["state"] == "ready");
    let users = demo["cache"][0]["objects"].as_u64().unwrap();
    assert!(users > 0, "{demo}");
    assert_eq!(demo["cache"][0]["resourceType"], "User");
    let first = &demo["lastFull"];
    assert_eq!(first["objects"].as_u64(), Some(users), "{demo}");
    assert_eq!(first["full"], true);
    assert!(first["started"].as_str().unwrap().ends_with('Z'), "{first}");
    assert_eq!(demo["connector"], "generic-sql");

    // In words, every application at once.
    let (ok, text, err) = setup.run(&["status"]);
    assert!(ok, "{err}");
    assert!(
        text.contains("demo (connector generic-sql): ready"),
        "{text}"
    );
    assert!(text.contains(&format!("User {users} (User)")), "{text}");
    assert!(
        text.contains("pgdown (connector generic-sql): retrying, next attempt in"),
        "{text}"
    );
    assert!(
        text.contains("why:          ") && text.contains("cannot connect to PostgreSQL"),
        "{text}"
    );
    assert!(text.contains("big (connector csv): "), "{text}");
    assert!(
        text.contains(&format!(
            "last full:    {} (",
            // To the second: 2024-05-01T10:00:00.123Z reads 2024-05-01 10:00:00Z.
            first["started"].as_str().unwrap()[..19].replacen('T', " ", 1) + "Z"
        )),
        "{text}"
    );
    assert!(text.contains("next run:"), "{text}");
    let (ok, _, err) = setup.run(&["status", "nope"]);
    assert!(!ok);
    assert!(
        err.contains("no application named 'nope'") && err.contains("demo"),
        "{err}"
    );

    // The socket is the owner's alone.
    {
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        let socket = setup.dir.path().join("state/admin/host.sock");
        let meta = std::fs::metadata(&socket).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let dir = std::fs::metadata(socket.parent().unwrap()).unwrap();
        assert_eq!(dir.permissions().mode() & 0o777, 0o700);
    }

    // A row added in the database reaches the running host's cache through `import --full`.
    let db = setup.dir.path().join("demo.db");
    insert_demo_user(&db, "ada.added@example.org");
    let rt = test_runtime();
    let before = rt.block_on(find_user(&setup, "ada.added@example.org"));
    assert_eq!(before["totalResults"], 0, "not yet imported: {before}");
    let (ok, text, err) = setup.run(&["import", "demo", "--full"]);
    assert!(ok, "{text}{err}\n{}", setup.log());
    assert!(
        text.contains(&format!(
            "full import of 'demo' on the running host: {} objects",
            users + 1
        )),
        "{text}"
    );
    let after = rt.block_on(find_user(&setup, "ada.added@example.org"));
    assert_eq!(after["totalResults"], 1, "{after}");
    assert_eq!(after["Resources"][0]["displayName"], "Ada Added");
    let demo = setup.status_json("demo").unwrap()["applications"][0].clone();
    assert_eq!(demo["cache"][0]["objects"].as_u64(), Some(users + 1));
    assert_eq!(demo["lastFull"]["objects"].as_u64(), Some(users + 1));

    // An import for an application that is not set up is refused with the reason.
    let (ok, _, err) = setup.run(&["import", "pgdown"]);
    assert!(!ok);
    assert!(
        err.contains("'pgdown' is not set up yet (retrying: ")
            && err.contains("cannot connect to PostgreSQL"),
        "{err}"
    );
    // The offline import does not go behind the running host's back.
    let (ok, _, err) = setup.run(&["import", "demo", "--offline", "--full"]);
    assert!(!ok);
    assert!(err.contains("in use by another ecma-host"), "{err}");

    // The host is gone (killed: its socket is left behind): both commands say there is no
    // host, import points at --offline, which works.
    drop(host);
    let (ok, _, err) = setup.run(&["status"]);
    assert!(!ok);
    assert!(
        err.contains("no running ecma-host owns the state directory"),
        "{err}"
    );
    let (ok, _, err) = setup.run(&["import", "demo", "--full"]);
    assert!(!ok);
    assert!(
        err.contains("no running ecma-host") && err.contains("--offline"),
        "{err}"
    );
    let (ok, text, err) = setup.run(&["import", "demo", "--offline", "--full"]);
    assert!(ok, "{text}{err}");
    assert!(
        err.contains("a running host's cache is not touched"),
        "{err}"
    );
    assert!(
        text.contains(&format!("full import of 'demo': {} objects", users + 1)),
        "{text}"
    );

    // A new host removes the socket the killed one left, and answers on it.
    let _host = setup.serve();
    setup.wait_for("demo", Duration::from_secs(30), |a| a["state"] == "ready");
}
