//! The host keeps serving through what real targets do: an application whose database is down
//! at start stays registered (503 with `Retry-After` and the reason), the port and the other
//! applications serve at once, and it starts by itself when the database comes back.

use std::time::{Duration, Instant};

use ecma_host_tests::host::{blocking, start_host_with};
use ecma_host_tests::plugins::plugin_path;
use ecma_host_tests::sql::Target;
use serde_json::json;

const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";

fn users_table(t: &Target) {
    t.exec(&[
        "DROP TABLE IF EXISTS scim_users",
        &format!(
            "CREATE TABLE scim_users (id {pk}, login VARCHAR(200) NOT NULL UNIQUE, first_name VARCHAR(200), \
             last_name VARCHAR(200), email VARCHAR(200))",
            pk = t.serial_pk()
        ),
        "INSERT INTO scim_users (login, first_name) VALUES ('existing@contoso.com', 'Ex')",
    ]);
}

#[test]
fn an_application_whose_database_is_down_at_start_stays_registered_and_starts_when_it_returns() {
    let Some(mut pg) = Target::postgres() else {
        return;
    };
    let lite = Target::sqlite();
    users_table(&pg);
    users_table(&lite);
    pg.server.stop();
    // Retries at most a second apart, so the test sees the comeback quickly.
    let apps = format!(
        "{}\n{}",
        ecma_host_tests::sql::scim_app_toml("pg", &pg.url, "scim_users", "").replace(
            "autosync_minutes = 0\n",
            "autosync_minutes = 0\nsetup_retry_max_secs = 1\n"
        ),
        ecma_host_tests::sql::scim_app_toml("lite", &lite.url, "scim_users", ""),
    );
    let rt = ecma_host_tests::host::test_runtime();
    rt.block_on(async {
        let started = Instant::now();
        let host = start_host_with(&apps, &[plugin_path("generic_sql")], "").await;
        // The port is open before any target answered.
        let health = host
            .client
            .get(format!("{}/healthz", host.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status().as_u16(), 200);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );

        // The healthy application serves although the other's database is down.
        host.wait_app_ready("lite", Duration::from_secs(20)).await;
        let r = host
            .request(
                "GET",
                "lite",
                "/Users?filter=login+eq+%22existing@contoso.com%22",
                None,
            )
            .await;
        assert_eq!(r.body["totalResults"], 1, "{:?}", r.body);

        // The other one is registered, says why it is not serving, and asks to retry.
        // (The first attempt ends when the connector gives up connecting: its pool timeout.)
        let mut status = host.app_status("pg").await;
        for _ in 0..600 {
            if status["state"] == "retrying" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            status = host.app_status("pg").await;
        }
        assert_eq!(status["state"], "retrying", "{status}");
        assert!(
            status["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{status}"
        );
        let r = host.request("GET", "pg", "/Users", None).await;
        assert_eq!(r.status, 503, "{:?}", r.body);
        assert!(r.headers.get("retry-after").is_some(), "{:?}", r.headers);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("not available yet"),
            "{:?}",
            r.body
        );
        // A wrong token is still refused first: the endpoint exists and is authenticated.
        let r = host
            .request_with_token("GET", "pg", "/Users", None, Some("wrong-token-0000000"))
            .await;
        assert_eq!(r.status, 401);
        assert_eq!(host.readyz().await.0, 503);

        // The database comes back: the application starts by itself, no restart.
        blocking(|| pg.server.start_again());
        host.wait_app_ready("pg", Duration::from_secs(30)).await;
        let r = host
            .request(
                "GET",
                "pg",
                "/Users?filter=login+eq+%22existing@contoso.com%22",
                None,
            )
            .await;
        assert_eq!(r.body["totalResults"], 1, "{:?}", r.body);
        let create = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
            EXT: {"login": "adele@contoso.com", "first_name": "Adele"}});
        let r = host.request("POST", "pg", "/Users", Some(create)).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(
            blocking(
                || pg.count("SELECT COUNT(*) FROM scim_users WHERE login = 'adele@contoso.com'")
            ),
            1
        );
        host.wait_ready().await;
        host.stop().await;
    });
}

#[test]
fn a_second_host_on_the_same_state_directory_refuses_to_start_and_names_the_first() {
    use ecma_host_tests::host::{KillOnDrop, wait_until_ready};
    use ecma_host_tests::plugins::target_dir;
    use ecma_host_tests::servers::free_port;
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("u.csv");
    std::fs::write(&csv, "id,name\n1,one\n").unwrap();
    let config = |port: u16| {
        let path = dir.path().join(format!("c{port}.toml"));
        std::fs::write(
            &path,
            format!(
                "[host]\nlisten = \"127.0.0.1\"\nport = {port}\nstate_dir = {state:?}\nplugins_dirs = []\nplugin_files = [{plugin:?}]\n[[app]]\nname = \"c\"\nconnector = \"csv\"\ntoken = \"abcdefghijklmnop\"\n[app.parameters.connectivity]\nFile = {csv:?}\n[[app.object_type]]\nscim = \"User\"\ntarget = \"User\"\n",
                state = dir.path().join("state").display().to_string(),
                plugin = plugin_path("csv_connector").display().to_string(),
                csv = csv.display().to_string(),
            ),
        )
        .unwrap();
        path
    };
    let (first_port, second_port) = (free_port(), free_port());
    let first = KillOnDrop(
        Command::new(target_dir().join("ecma-host"))
            .args(["serve", "--insecure-http", "--config"])
            .arg(config(first_port))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(wait_until_ready(
        &format!("http://127.0.0.1:{first_port}/readyz"),
        None,
        Duration::from_secs(10)
    ));
    let second = Command::new(target_dir().join("ecma-host"))
        .args(["serve", "--insecure-http", "--config"])
        .arg(config(second_port))
        .output()
        .unwrap();
    assert!(!second.status.success(), "the second host must not run");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("in use by another ecma-host")
            && stderr.contains(&format!("pid {}", first.0.id())),
        "{stderr}"
    );
    // The offline import refuses too: it would write the running host's watermarks.
    let import = Command::new(target_dir().join("ecma-host"))
        .args(["import", "c", "--offline", "--config"])
        .arg(config(second_port))
        .output()
        .unwrap();
    assert!(!import.status.success());
    assert!(String::from_utf8_lossy(&import.stderr).contains("in use by another ecma-host"));
    drop(first);
}

/// A create is all or nothing: when the password step after the `Add` fails (here the
/// database refuses the password through a CHECK constraint), the `Add` is undone, so Entra's
/// retry creates the user with its password instead of finding one without.
#[test]
fn a_create_whose_password_step_fails_leaves_nothing_in_the_target() {
    let db = Target::sqlite();
    db.exec(&[
        "CREATE TABLE scim_users (id INTEGER PRIMARY KEY AUTOINCREMENT, login VARCHAR(200) NOT NULL UNIQUE, \
         first_name VARCHAR(200), pw VARCHAR(200) CHECK (length(pw) >= 12))",
    ]);
    let apps = format!(
        r#"
[[app]]
name = "pw"
connector = "generic-sql"
token = "{{TOKEN}}"
autosync_minutes = 0
[app.parameters.connectivity]
"Connection string" = {url:?}
[app.parameters.global]
"Password method" = "SQL"
"Set password SQL" = "UPDATE scim_users SET pw = @Password WHERE id = @id"
[app.parameters.schema]
"Table" = "scim_users"
"Anchor columns" = "id"
[[app.object_type]]
scim = "User"
target = "User"
query_attributes = ["login"]
attributes = ["login", "first_name"]
"#,
        url = db.url
    );
    let rt = ecma_host_tests::host::test_runtime();
    rt.block_on(async {
        let host = start_host_with(&apps, &[plugin_path("generic_sql")], "").await;
        host.wait_ready().await;
        let user = |password: &str| {
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
                   "password": password,
                   EXT: {"login": "adele@contoso.com", "first_name": "Adele"}})
        };
        let r = host
            .request("POST", "pw", "/Users", Some(user("short")))
            .await;
        assert!(r.status >= 400, "{:?}", r.body);
        assert_eq!(
            blocking(|| db.count("SELECT COUNT(*) FROM scim_users")),
            0,
            "the Add was undone"
        );
        let r = host
            .request(
                "GET",
                "pw",
                "/Users?filter=login+eq+%22adele@contoso.com%22",
                None,
            )
            .await;
        assert_eq!(r.body["totalResults"], 0, "{:?}", r.body);

        // Entra's retry (with an acceptable password) creates the user with it.
        let r = host
            .request("POST", "pw", "/Users", Some(user("a-long-enough-password")))
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let rows = blocking(|| db.rows("SELECT login, pw FROM scim_users"));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][1].as_deref(), Some("a-long-enough-password"));
        host.stop().await;
    });
}

/// An export whose outcome the host cannot know: the INSERT waits on a table lock past the
/// export time limit, so the host answers 503 and abandons the call, and the INSERT may still
/// land when the lock goes. The host re-reads the target soon after; then its cache says
/// what PostgreSQL holds, and Entra's retry sees the user (or creates it) instead of looping
/// on 409.
#[test]
fn after_an_export_with_an_unknown_outcome_the_cache_follows_the_target() {
    use sqlx::Connection;
    let Some(pg) = Target::postgres() else {
        return;
    };
    users_table(&pg);
    let apps = ecma_host_tests::sql::scim_app_toml("pg", &pg.url, "scim_users", "").replace(
        "autosync_minutes = 0\n",
        "autosync_minutes = 0\n[app.timeouts]\nexport_secs = 1\n",
    );
    let rt = ecma_host_tests::host::test_runtime();
    rt.block_on(async {
        let host = start_host_with(&apps, &[plugin_path("generic_sql")], "").await;
        host.wait_ready().await;
        let mut locker = sqlx::PgConnection::connect(&pg.url).await.unwrap();
        sqlx::raw_sql("BEGIN; LOCK TABLE scim_users IN ACCESS EXCLUSIVE MODE;")
            .execute(&mut locker)
            .await
            .unwrap();
        let create = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
            EXT: {"login": "late@contoso.com", "first_name": "Late"}});
        let started = Instant::now();
        let r = host
            .request("POST", "pg", "/Users", Some(create.clone()))
            .await;
        assert_eq!(r.status, 503, "{:?}", r.body);
        assert!(r.headers.contains_key("retry-after"));
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        // The lock goes; whatever the abandoned INSERT does now is the target's truth.
        sqlx::raw_sql("COMMIT").execute(&mut locker).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let in_target = blocking(|| {
            pg.count("SELECT COUNT(*) FROM scim_users WHERE login = 'late@contoso.com'")
        });
        eprintln!(
            "the abandoned INSERT {}",
            if in_target == 1 {
                "landed"
            } else {
                "did not land"
            }
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let cached = host
                .request(
                    "GET",
                    "pg",
                    "/Users?filter=login+eq+%22late@contoso.com%22",
                    None,
                )
                .await
                .body["totalResults"]
                .as_i64()
                .unwrap();
            if cached == in_target {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the cache ({cached}) still disagrees with the table ({in_target})"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Entra's retried POST: a 409 for the user the target has (Entra then matches it),
        // or a create when the INSERT did not land.
        let r = host.request("POST", "pg", "/Users", Some(create)).await;
        if in_target == 1 {
            assert_eq!(
                (r.status, r.body["scimType"].as_str()),
                (409, Some("uniqueness")),
                "{:?}",
                r.body
            );
        } else {
            assert_eq!(r.status, 201, "{:?}", r.body);
        }
        assert_eq!(
            blocking(
                || pg.count("SELECT COUNT(*) FROM scim_users WHERE login = 'late@contoso.com'")
            ),
            1
        );
        host.stop().await;
    });
    drop(rt);
}

/// An update whose outcome is unknown (the table is locked past the export time limit) makes
/// the host read that one object again (FullObject import), not the whole table: afterwards
/// the cache holds what PostgreSQL holds for it — here including a change another tool made
/// meanwhile — and no import ran.
#[test]
fn after_an_update_with_an_unknown_outcome_only_that_object_is_read_again() {
    use sqlx::Connection;
    let Some(pg) = Target::postgres() else {
        return;
    };
    users_table(&pg);
    let apps = ecma_host_tests::sql::scim_app_toml("pgre", &pg.url, "scim_users", "").replace(
        "autosync_minutes = 0\n",
        "autosync_minutes = 0\n[app.timeouts]\nexport_secs = 1\n",
    );
    let rt = ecma_host_tests::host::test_runtime();
    rt.block_on(async {
        let host = start_host_with(&apps, &[plugin_path("generic_sql")], "").await;
        host.wait_ready().await;
        let found = host
            .request(
                "GET",
                "pgre",
                "/Users?filter=login+eq+%22existing@contoso.com%22",
                None,
            )
            .await;
        let id = found.body["Resources"][0]["id"].as_str().unwrap().to_owned();
        let imports_before = host.metric("ecma_import_duration_seconds_count", "pgre").await;
        let mut locker = sqlx::PgConnection::connect(&pg.url).await.unwrap();
        sqlx::raw_sql("BEGIN; LOCK TABLE scim_users IN ACCESS EXCLUSIVE MODE;")
            .execute(&mut locker)
            .await
            .unwrap();
        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": format!("{EXT}:first_name"), "value": "Changed"}]});
        let r = host
            .request("PATCH", "pgre", &format!("/Users/{id}"), Some(patch))
            .await;
        assert_eq!(r.status, 503, "{:?}", r.body);
        // Another tool changes the same row before the lock goes.
        sqlx::query("UPDATE scim_users SET last_name = 'Other' WHERE id = $1")
            .bind(id.parse::<i32>().unwrap())
            .execute(&mut locker)
            .await
            .unwrap();
        sqlx::raw_sql("COMMIT").execute(&mut locker).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let row = blocking(|| {
            pg.rows(&format!(
                "SELECT first_name, last_name FROM scim_users WHERE id = {id}"
            ))
        });
        let (first, last) = (row[0][0].clone(), row[0][1].clone());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let cached = host
                .request("GET", "pgre", &format!("/Users/{id}"), None)
                .await
                .body;
            let field = |name: &str| cached[EXT][name].as_str().map(str::to_owned);
            if field("first_name") == first && field("last_name") == last {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the cache {cached} still disagrees with the row ({first:?}, {last:?})"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(host.metric("ecma_reread_objects_total", "pgre").await >= 1.0);
        assert_eq!(
            host.metric("ecma_import_duration_seconds_count", "pgre").await,
            imports_before,
            "the whole table was imported again"
        );
        host.stop().await;
    });
    drop(rt);
}

/// ECMA's continue-run rule for a delta against a real database: a row the connector cannot
/// import (its anchor column is NULL) fails that entry, the other changes are applied, and
/// the watermark stays where it was, so the next delta reads the same rows again and picks
/// up the row once it is fixed — without its `modified` moving (had the watermark advanced
/// past it, no later delta would see it).
#[test]
fn a_delta_with_a_failing_entry_keeps_the_watermark_and_the_next_delta_picks_the_change_up() {
    use ecma_host::app::ImportMode;

    let lite = Target::sqlite();
    lite.exec(&[
        "DROP TABLE IF EXISTS delta_users",
        "CREATE TABLE delta_users (id INTEGER PRIMARY KEY, login VARCHAR(200) UNIQUE, \
         first_name VARCHAR(200), modified DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        "INSERT INTO delta_users (login, first_name) VALUES ('a@contoso.com', 'A')",
    ]);
    let app = format!(
        r#"
[[app]]
name = "lite"
connector = "generic-sql"
token = "{{TOKEN}}"
autosync_minutes = 0
[app.parameters.connectivity]
"Connection string" = {url:?}
"Delta strategy" = "Watermark"
"Watermark column" = "modified"
[app.parameters.schema]
"Table" = "delta_users"
"Anchor columns" = "login"
[[app.object_type]]
scim = "User"
target = "User"
query_attributes = ["login"]
attributes = ["login", "first_name"]
"#,
        url = lite.url
    );
    let rt = ecma_host_tests::host::test_runtime();
    rt.block_on(async {
        let host = start_host_with(&app, &[plugin_path("generic_sql")], "").await;
        host.wait_app_ready("lite", Duration::from_secs(20)).await;
        let found = |login: &'static str| {
            let host = &host;
            async move {
                let path = format!("/Users?filter=login+eq+%22{login}%22");
                let r = host.request("GET", "lite", &path, None).await;
                assert_eq!(r.status, 200, "{:?}", r.body);
                r.body["totalResults"].as_u64().unwrap()
            }
        };
        assert_eq!(found("a@contoso.com").await, 1);
        // Seconds apart from the full import's watermark (the database's clock, to the second).
        tokio::time::sleep(Duration::from_millis(1100)).await;
        blocking(|| {
            lite.exec(&[
                "INSERT INTO delta_users (login, first_name) VALUES (NULL, 'No anchor yet')",
                "INSERT INTO delta_users (login, first_name) VALUES ('c@contoso.com', 'C')",
            ])
        });
        // The next delta's watermark would be past both rows.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let application = host.application("lite");
        let first = application.import(ImportMode::Delta, false).await;
        let first = first.expect("the run goes on past a failed entry");
        assert!(!first.full, "{first:?}");
        assert_eq!(first.errors, 1, "{first:?}");
        assert!(
            first
                .first_error
                .as_deref()
                .is_some_and(|e| e.contains("NULL")),
            "{first:?}"
        );
        assert_eq!(
            found("c@contoso.com").await,
            1,
            "the other change is applied"
        );

        blocking(|| {
            lite.exec(&["UPDATE delta_users SET login = 'b@contoso.com' WHERE login IS NULL"])
        });
        let second = application.import(ImportMode::Delta, false).await;
        let second = second.expect("a delta");
        assert_eq!(second.errors, 0, "{second:?}");
        assert_eq!(found("b@contoso.com").await, 1, "the fixed row, read again");
        // Now the whole delta succeeded: the watermark moves on, past these rows.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let third = application.import(ImportMode::Delta, false).await;
        assert_eq!(third.expect("a delta").objects, 0);
        host.stop().await;
    });
}
