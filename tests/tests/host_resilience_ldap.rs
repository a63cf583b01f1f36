//! The host through what a real directory does: slapd frozen in the middle of a PATCH (the
//! watchdog answers 503 in time, other applications keep serving, the next PATCH after it
//! thaws succeeds), and slapd down when the host starts (the application waits registered and
//! starts by itself when the directory comes back).

use std::time::{Duration, Instant};

use ecma_host_tests::host::{TestHost, blocking, start_host_with};
use ecma_host_tests::plugins::plugin_path;
use ecma_host_tests::slapd::{SUFFIX, Slapd, users_app_toml};
use ecma_host_tests::sql::Target;
use serde_json::json;

const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A users-only directory application, plus an SQLite application that must keep serving.
fn apps(s: &Slapd, lite: &Target, extra: &str) -> String {
    format!(
        "{}{}",
        users_app_toml(
            s,
            "directory",
            &format!("setup_retry_max_secs = 1\n{extra}")
        ),
        ecma_host_tests::sql::scim_app_toml("lite", &lite.url, "scim_users", ""),
    )
}

fn lite_target() -> Target {
    let t = Target::sqlite();
    t.exec(&[
        "CREATE TABLE scim_users (id INTEGER PRIMARY KEY AUTOINCREMENT, login VARCHAR(200) NOT NULL UNIQUE, \
         first_name VARCHAR(200), last_name VARCHAR(200), email VARCHAR(200))",
        "INSERT INTO scim_users (login) VALUES ('someone@contoso.com')",
    ]);
    t
}

fn add_alice(s: &Slapd) {
    s.create_ou("people");
    let mut c = s.admin();
    let r = c
        .add(
            &format!("uid=alice,ou=people,{SUFFIX}"),
            vec![
                ("objectClass", ["inetOrgPerson"].into()),
                ("uid", ["alice"].into()),
                ("cn", ["Alice"].into()),
                ("sn", ["Before"].into()),
            ],
        )
        .unwrap();
    assert_eq!(r.rc, 0, "{r:?}");
}

/// A host over both applications ([`apps`]) with exports limited to `export_secs`, ready.
async fn ready_host(s: &Slapd, lite: &Target, export_secs: u64) -> TestHost {
    let config = apps(
        s,
        lite,
        &format!("[app.timeouts]\nexport_secs = {export_secs}\n"),
    );
    let host = start_host_with(
        &config,
        &[plugin_path("generic_ldap"), plugin_path("generic_sql")],
        "",
    )
    .await;
    host.wait_ready().await;
    host
}

fn set_sn(value: &str) -> serde_json::Value {
    json!({"schemas": [PATCH], "Operations": [{"op": "Replace", "path": format!("{EXT}:sn"), "value": value}]})
}

#[test]
fn slapd_frozen_mid_patch_gets_503_in_time_and_the_next_patch_succeeds() {
    let Some(s) = Slapd::start() else {
        return;
    };
    add_alice(&s);
    let lite = lite_target();
    let rt = ecma_host_tests::host::test_runtime();
    rt.block_on(async {
        let host = ready_host(&s, &lite, 2).await;
        let r = host
            .request(
                "GET",
                "directory",
                "/Users?filter=userName+eq+%22alice%22",
                None,
            )
            .await;
        let id = r.body["Resources"][0]["id"].as_str().unwrap().to_owned();

        let alice = format!("/Users/{id}");
        s.pause();
        let started = Instant::now();
        let frozen = host.request("PATCH", "directory", &alice, Some(set_sn("During")));
        let other = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            host.request(
                "GET",
                "lite",
                "/Users?filter=login+eq+%22someone@contoso.com%22",
                None,
            )
            .await
        };
        let (frozen, other) = tokio::join!(frozen, other);
        assert_eq!(
            other.body["totalResults"], 1,
            "the other application serves: {:?}",
            other.body
        );
        assert_eq!(frozen.status, 503, "{:?}", frozen.body);
        assert!(frozen.headers.contains_key("retry-after"));
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );

        s.resume();
        let r = host
            .request(
                "PATCH",
                "directory",
                &format!("/Users/{id}"),
                Some(set_sn("After")),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let in_directory = blocking(|| {
            s.read(&format!("uid=alice,ou=people,{SUFFIX}"))
                .unwrap()
                .attrs["sn"]
                .clone()
        });
        assert_eq!(in_directory, ["After"]);
        let cached = host
            .request("GET", "directory", &format!("/Users/{id}"), None)
            .await;
        assert_eq!(
            cached.body[EXT]["sn"],
            json!(["After"]),
            "{:?}",
            cached.body
        );
        host.stop().await;
    });
    rt.shutdown_timeout(Duration::from_secs(1));
}

/// A create sent while slapd is frozen is abandoned by the watchdog (503); whether it lands
/// when the directory thaws is the directory's business. The host reads the directory again
/// (a full import: a delta's watermark may already be past the create's time) until the
/// cache agrees with it, and Entra's retried POST then gets the right answer: 409 if the
/// first attempt landed, 201 if it did not, and the user in both places after it.
#[test]
fn a_create_abandoned_while_slapd_is_frozen_ends_with_the_cache_agreeing() {
    let Some(s) = Slapd::start() else {
        return;
    };
    add_alice(&s);
    let lite = lite_target();
    let rt = ecma_host_tests::host::test_runtime();
    rt.block_on(async {
        let host = ready_host(&s, &lite, 1).await;
        let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
            "userName": "frozen", EXT: {"cn": "Frozen", "sn": "Frozen"}});
        let dn = format!("uid=frozen,ou=people,{SUFFIX}");
        s.pause();
        let r = host
            .request("POST", "directory", "/Users", Some(user.clone()))
            .await;
        assert_eq!(r.status, 503, "{:?}", r.body);
        // The re-read asked for by the abandoned create waits on the frozen directory.
        tokio::time::sleep(Duration::from_secs(3)).await;
        s.resume();
        let deadline = Instant::now() + Duration::from_secs(20);
        let landed = loop {
            let in_directory = blocking(|| s.read(&dn).is_some());
            let r = host
                .request("GET", "directory", "/Users?filter=userName+eq+%22frozen%22", None)
                .await;
            let cached = r.body["totalResults"] == 1;
            // Agreement counts once the re-reads have had time to run (the one asked for on
            // abandoning, the one after the abandoned call returned): 6 s after the thaw.
            if cached == in_directory && Instant::now() > deadline - Duration::from_secs(14) {
                break in_directory;
            }
            assert!(
                Instant::now() < deadline,
                "the cache never agreed with the directory (directory has the user: {in_directory}): {:?}",
                r.body
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let retried = host
            .request("POST", "directory", "/Users", Some(user))
            .await;
        if landed {
            assert_eq!(
                (retried.status, retried.body["scimType"].as_str()),
                (409, Some("uniqueness")),
                "{:?}",
                retried.body
            );
        } else {
            assert_eq!(retried.status, 201, "{:?}", retried.body);
        }
        assert!(blocking(|| s.read(&dn).is_some()));
        let r = host
            .request("GET", "directory", "/Users?filter=userName+eq+%22frozen%22", None)
            .await;
        assert_eq!(r.body["totalResults"], 1, "{:?}", r.body);
        host.stop().await;
    });
    rt.shutdown_timeout(Duration::from_secs(1));
}

#[test]
fn a_directory_down_at_start_keeps_its_application_registered_until_it_returns() {
    let Some(mut s) = Slapd::start() else {
        return;
    };
    add_alice(&s);
    let lite = lite_target();
    s.stop();
    let rt = ecma_host_tests::host::test_runtime();
    rt.block_on(async {
        let host = start_host_with(
            &apps(&s, &lite, ""),
            &[plugin_path("generic_ldap"), plugin_path("generic_sql")],
            "",
        )
        .await;
        host.wait_app_ready("lite", Duration::from_secs(20)).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let status = host.app_status("directory").await;
            if status["state"] == "retrying" {
                assert!(
                    status["reason"].as_str().is_some_and(|r| !r.is_empty()),
                    "{status}"
                );
                break;
            }
            assert!(Instant::now() < deadline, "{status}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let r = host.request("GET", "directory", "/Users", None).await;
        assert_eq!(r.status, 503, "{:?}", r.body);
        assert!(r.headers.contains_key("retry-after"));

        blocking(|| s.restart());
        host.wait_app_ready("directory", Duration::from_secs(30))
            .await;
        let r = host
            .request(
                "GET",
                "directory",
                "/Users?filter=userName+eq+%22alice%22",
                None,
            )
            .await;
        assert_eq!(r.body["totalResults"], 1, "{:?}", r.body);
        host.stop().await;
    });
    rt.shutdown_timeout(Duration::from_secs(1));
}
