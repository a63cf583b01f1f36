//! The autosync timer against a real slapd: with the modifyTimestamp delta strategy, which
//! cannot see deletes (the connector says so), an added and a modified entry reach the cache
//! through deltas and a deleted one through the reconciliation schedule; with the accesslog
//! (chosen by `Auto`) the delta itself brings the delete and no schedule is needed.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ecma_host_tests::host::{TestHost, blocking, eventually, start_host_with};
use ecma_host_tests::plugins::plugin_path;
use ecma_host_tests::slapd::{Slapd, users_app_toml};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";

/// Autosync every 1.2 s. `blind` uses modifyTimestamp with a reconciling full import every
/// 9 s; `logged` lets the connector choose (slapd's accesslog) and schedules no full import.
fn apps(s: &Slapd) -> String {
    let app = |name: &str, schedule: &str, strategy: &str| {
        users_app_toml(s, name, schedule)
            .replace("autosync_minutes = 0\n", "autosync_minutes = 0.02\n")
            .replace(
                "[app.parameters.connectivity]\n",
                &format!("[app.parameters.connectivity]\n\"Delta strategy\" = \"{strategy}\"\n"),
            )
    };
    format!(
        "{}{}",
        app(
            "blind",
            "full_import_every_hours = 0.0025",
            "ModifyTimestamp"
        ),
        app("logged", "full_import_every_hours = 0", "Auto"),
    )
}

/// The SCIM resource with this uid, if the cache has it.
async fn user(host: &TestHost, app: &str, uid: &str) -> Option<serde_json::Value> {
    let r = host
        .request(
            "GET",
            app,
            &format!("/Users?filter=userName+eq+%22{uid}%22"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["Resources"].get(0).cloned()
}

fn add_person(s: &Slapd, uid: &str) {
    let r = s
        .admin()
        .add(
            &format!("uid={uid},ou=people,{}", ecma_host_tests::slapd::SUFFIX),
            vec![
                ("objectClass", HashSet::from(["inetOrgPerson"])),
                ("uid", HashSet::from([uid])),
                ("cn", HashSet::from([uid])),
                ("sn", HashSet::from(["Before"])),
            ],
        )
        .unwrap();
    assert_eq!(r.rc, 0, "{r:?}");
}

fn dn(uid: &str) -> String {
    format!("uid={uid},ou=people,{}", ecma_host_tests::slapd::SUFFIX)
}

#[test]
fn autosync_on_slapd_reconciles_the_deletes_modify_timestamp_cannot_see() {
    let Some(s) = Slapd::start() else {
        return;
    };
    s.create_ou("people");
    for uid in ["ada", "bob", "cyd"] {
        add_person(&s, uid);
    }
    let rt = ecma_host_tests::host::test_runtime();
    rt.block_on(async {
        let host = start_host_with(&apps(&s), &[plugin_path("generic_ldap")], "").await;
        host.wait_ready().await;
        let (blind, logged) = (host.application("blind"), host.application("logged"));
        // The connector's declaration, and what check-config makes of it.
        assert!(!blind.capabilities.delta_sees_deletes);
        assert!(
            logged.capabilities.delta_sees_deletes,
            "accesslog sees deletes"
        );
        assert_eq!(
            logged.config.reconciliation_warning(&logged.capabilities),
            None
        );
        let mut unreconciled = blind.config.clone();
        unreconciled.full_import_every_hours = 0.0;
        assert!(
            unreconciled
                .reconciliation_warning(&blind.capabilities)
                .is_some_and(|w| w.contains("'blind'"))
        );

        eventually(
            "the first imports recorded",
            Duration::from_secs(5),
            || async {
                blind.history().last_full.is_some() && logged.history().last_full.is_some()
            },
        )
        .await;
        let first = blind.history().last_full.unwrap();
        let logged_first = logged.history().last_full.unwrap();
        assert_eq!(
            (first.objects, first.added, first.deleted),
            (3, 3, 0),
            "{first:?}"
        );
        eventually("a delta announced", Duration::from_secs(5), || async {
            blind.history().next_run_kind.as_deref() == Some("delta")
                && logged.history().next_run_kind.as_deref() == Some("delta")
        })
        .await;
        let cyd_id = user(&host, "blind", "cyd").await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();

        // Another tool adds and modifies entries: deltas bring them to both applications.
        blocking(|| {
            add_person(&s, "dee");
            let r = s
                .admin()
                .modify(
                    &dn("bob"),
                    vec![ldap3::Mod::Replace("sn", HashSet::from(["After"]))],
                )
                .unwrap();
            assert_eq!(r.rc, 0, "{r:?}");
        });
        for app in ["blind", "logged"] {
            eventually(
                &format!("{app}: the add and the modify in the cache"),
                Duration::from_secs(8),
                || async {
                    let dee = user(&host, app, "dee").await;
                    let bob = user(&host, app, "bob").await.unwrap();
                    dee.is_some() && bob[EXT]["sn"] == serde_json::json!(["After"])
                },
            )
            .await;
            eventually(
                &format!("{app}: the delta's counts exported"),
                Duration::from_secs(2),
                || async {
                    host.import_changes(app, "delta", "added").await == 1.0
                        && host.import_changes(app, "delta", "changed").await == 1.0
                },
            )
            .await;
        }

        // Another tool deletes an entry: the accesslog delta sees it; modifyTimestamp does
        // not, and the reconciling full import removes it.
        blocking(|| {
            let r = s.admin().delete(&dn("cyd")).unwrap();
            assert_eq!(r.rc, 0, "{r:?}");
        });
        eventually(
            "logged: the delta brought the delete",
            Duration::from_secs(8),
            || async { host.import_changes("logged", "delta", "deleted").await == 1.0 },
        )
        .await;
        let r = host
            .request("GET", "logged", &format!("/Users/{cyd_id}"), None)
            .await;
        assert_eq!(r.status, 404, "{:?}", r.body);
        assert_eq!(host.import_changes("logged", "full", "deleted").await, 0.0);

        let mut full_announced = false;
        let mut reconciled = None;
        let deadline = Instant::now() + Duration::from_secs(20);
        while reconciled.is_none() {
            assert!(
                Instant::now() < deadline,
                "blind: the delete never reached the cache"
            );
            let h = blind.history();
            full_announced |= h.next_run_kind.as_deref() == Some("full");
            reconciled = h.last_full.filter(|r| r.deleted > 0);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let reconciled = reconciled.unwrap();
        assert_eq!(
            (
                reconciled.objects,
                reconciled.added,
                reconciled.changed,
                reconciled.deleted,
                reconciled.unchanged,
                reconciled.errors
            ),
            (3, 0, 0, 1, 3, 0),
            "{reconciled:?}"
        );
        assert!(full_announced, "the history announced the full import");
        let r = host
            .request("GET", "blind", &format!("/Users/{cyd_id}"), None)
            .await;
        assert_eq!(r.status, 404, "{:?}", r.body);
        assert_eq!(host.import_changes("blind", "delta", "deleted").await, 0.0);
        assert_eq!(host.import_changes("blind", "full", "deleted").await, 1.0);
        // No full import was scheduled for the application whose deltas see deletes.
        assert_eq!(logged.history().last_full, Some(logged_first));
        assert_eq!(host.import_changes("logged", "full", "added").await, 3.0);
        host.stop().await;
    });
}
