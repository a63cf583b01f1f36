//! A generic SCIM client against the demo (the real `ecma-host` binary, Generic SQL on
//! SQLite): the usual core attributes (`emails` of type work, `displayName`, `name`,
//! `active`) land in the table, an attribute the demo does not map is refused naming it and
//! the application, and with `unknown_attributes = "ignore"` it is dropped instead.

use std::path::Path;
use std::process::{Command, Stdio};

use ecma_host_tests::host::{KillOnDrop, https_client, test_runtime, wait_until_ready};
use ecma_host_tests::plugins::target_dir;
use serde_json::{Value, json};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct Demo {
    dir: tempfile::TempDir,
    port: u16,
    token: String,
}

impl Demo {
    fn prepare() -> Self {
        let exe = target_dir().join("ecma-host");
        assert!(exe.exists(), "run `cargo build --workspace` first");
        let ecma_host_tests::host::DemoSetup { dir, port, .. } =
            ecma_host_tests::host::prepare_demo();
        let token = std::fs::read_to_string(dir.path().join("token"))
            .unwrap()
            .trim()
            .to_owned();
        Demo { dir, port, token }
    }

    fn serve(&self) -> KillOnDrop {
        let log = std::fs::File::create(self.dir.path().join("host.log")).unwrap();
        let host = KillOnDrop(
            Command::new(target_dir().join("ecma-host"))
                .args(["serve", "--config"])
                .arg(self.dir.path().join("ecma-host.toml"))
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        let ready = wait_until_ready(
            &format!("https://localhost:{}/readyz", self.port),
            Some(&self.cert()),
            std::time::Duration::from_secs(10),
        );
        assert!(ready, "host did not become ready:\n{}", self.log());
        host
    }

    fn cert(&self) -> std::path::PathBuf {
        self.dir.path().join("state/tls/cert.pem")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("host.log")).unwrap_or_default()
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let client = https_client(&self.cert());
        let url = format!("https://localhost:{}/ecma2host_demo/scim{path}", self.port);
        let mut req = client
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// The demo's row for a user, as the table holds it.
async fn row(db: &Path, user_name: &str) -> (Option<String>, Option<String>, bool) {
    use sqlx::{ConnectOptions, Row};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await
        .unwrap();
    let r = sqlx::query("SELECT mail, displayName, disabled FROM users WHERE userName = ?")
        .bind(user_name)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    (r.get(0), r.get(1), r.get::<bool, _>(2))
}

fn generic_client_user(user_name: &str, extra: Value) -> Value {
    let mut u = json!({"schemas": [CORE], "userName": user_name,
        "name": {"givenName": "Grace", "familyName": "Hopper"},
        "displayName": "Grace Hopper",
        "emails": [{"type": "work", "value": format!("{user_name}@example.org"), "primary": true}],
        "active": true});
    u.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    u
}

#[test]
fn a_generic_scim_clients_users_land_in_the_demo_table() {
    let demo = Demo::prepare();
    let db = demo.dir.path().join("demo.db");
    let rt = test_runtime();
    {
        let _host = demo.serve();
        rt.block_on(async {
            let (status, created) = demo
                .send("POST", "/Users", Some(generic_client_user("grace", json!({}))))
                .await;
            assert_eq!(status, 201, "{created}\n{}", demo.log());
            assert_eq!(created["emails"][0]["value"], "grace@example.org");
            assert_eq!(created["emails"][0]["type"], "work");
            assert_eq!(created["displayName"], "Grace Hopper");
            assert_eq!(created["active"], true);
            assert_eq!(
                row(&db, "grace").await,
                (
                    Some("grace@example.org".into()),
                    Some("Grace Hopper".into()),
                    false
                )
            );
            let id = created["id"].as_str().unwrap().to_owned();

            // Entra's PATCH path for the work e-mail, and a deactivation.
            let (status, patched) = demo
                .send(
                    "PATCH",
                    &format!("/Users/{id}"),
                    Some(json!({"schemas": [PATCH], "Operations": [
                        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "g.hopper@example.org"},
                        {"op": "replace", "path": "active", "value": false}]})),
                )
                .await;
            assert_eq!(status, 200, "{patched}");
            let (mail, _, disabled) = row(&db, "grace").await;
            assert_eq!(
                (mail.as_deref(), disabled),
                (Some("g.hopper@example.org"), true)
            );

            // An attribute the demo does not map: refused, naming it and the application.
            let (status, refused) = demo
                .send(
                    "POST",
                    "/Users",
                    Some(generic_client_user(
                        "linus",
                        json!({"nickName": "Lin", "title": "Engineer"}),
                    )),
                )
                .await;
            assert_eq!(status, 400, "{refused}");
            let detail = refused["detail"].as_str().unwrap();
            assert!(
                detail.contains("nickName") && detail.contains("'demo'"),
                "{detail}"
            );
        });
    }

    // The same client with `unknown_attributes = "ignore"`: created, the rest dropped.
    let config = demo.dir.path().join("ecma-host.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen(
            "autosync_minutes = 5\n",
            "autosync_minutes = 5\nunknown_attributes = \"ignore\"\n",
            1,
        ),
    )
    .unwrap();
    let _host = demo.serve();
    rt.block_on(async {
        let (status, created) = demo
            .send(
                "POST",
                "/Users",
                Some(generic_client_user(
                    "linus",
                    json!({"nickName": "Lin", "title": "Engineer"}),
                )),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        assert!(created.get("nickName").is_none());
        assert_eq!(
            row(&db, "linus").await.0.as_deref(),
            Some("linus@example.org")
        );
        let (status, _) = demo
            .send(
                "POST",
                "/Users",
                Some(generic_client_user("ken", json!({"nickName": "K"}))),
            )
            .await;
        assert_eq!(status, 201);
    });
    let log = demo.log();
    assert_eq!(
        log.matches("attribute=\"nickName\"").count(),
        1,
        "logged once for two requests:\n{log}"
    );
}
