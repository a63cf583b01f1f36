//! The autosync timer against a real PostgreSQL with the watermark delta strategy, which
//! cannot see deletes: with a seconds-level `autosync_minutes`, rows inserted and updated
//! outside the host reach the cache through deltas, and a deleted row leaves it through the
//! reconciliation schedule (`full_import_every_hours`), or on the next cycle with
//! `reconcile_deletes = "every_cycle"`. Counts are checked in the application's history and in
//! `/metrics`, the cache through SCIM.

use std::time::{Duration, Instant};

use ecma_host_tests::host::{TestHost, blocking, eventually, start_host_with};
use ecma_host_tests::plugins::plugin_path;
use ecma_host_tests::sql::{Target, scim_app_toml};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";

/// Autosync every 1.2 s; in `scheduled`, a reconciling full import every 9 s.
fn apps(t: &Target) -> String {
    let watermark = "[app.parameters.connectivity]\n\"Delta strategy\" = \"Watermark\"\n\"Watermark column\" = \"modified\"\n";
    let app = |name: &str, schedule: &str| {
        scim_app_toml(name, &t.url, "people", "")
            .replace(
                "autosync_minutes = 0\n",
                &format!("autosync_minutes = 0.02\n{schedule}"),
            )
            .replace("[app.parameters.connectivity]\n", watermark)
    };
    format!(
        "{}{}",
        app("scheduled", "full_import_every_hours = 0.0025\n"),
        app(
            "everycycle",
            "full_import_every_hours = 0\nreconcile_deletes = \"every_cycle\"\n"
        ),
    )
}

/// The SCIM resource with this login, if the cache has it.
async fn user(host: &TestHost, app: &str, login: &str) -> Option<serde_json::Value> {
    let r = host
        .request(
            "GET",
            app,
            &format!("/Users?filter=login+eq+%22{login}%22"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["Resources"].get(0).cloned()
}

#[test]
fn autosync_brings_inserts_and_updates_by_delta_and_deletes_by_reconciliation() {
    let Some(pg) = Target::postgres() else {
        return;
    };
    pg.exec(&[
        &format!(
            "CREATE TABLE people (id {pk}, login VARCHAR(200) NOT NULL UNIQUE, first_name VARCHAR(200), \
             last_name VARCHAR(200), email VARCHAR(200), modified {modified})",
            pk = pg.serial_pk(),
            modified = pg.modified_column()
        ),
        "INSERT INTO people (login, first_name) VALUES ('ada', 'Ada'), ('bob', 'Bob'), ('cyd', 'Cyd')",
    ]);
    let rt = ecma_host_tests::host::test_runtime();
    rt.block_on(async {
        let host = start_host_with(&apps(&pg), &[plugin_path("generic_sql")], "").await;
        host.wait_ready().await;
        let scheduled = host.application("scheduled");
        let every_cycle = host.application("everycycle");
        assert!(
            !scheduled.capabilities.delta_sees_deletes,
            "a watermark cannot see deletes"
        );

        // The first import: a full one that added everything.
        eventually(
            "the first import recorded",
            Duration::from_secs(5),
            || async { scheduled.history().last_full.is_some() },
        )
        .await;
        let first = scheduled.history().last_full.unwrap();
        assert_eq!(
            (
                first.objects,
                first.added,
                first.changed,
                first.deleted,
                first.errors
            ),
            (3, 3, 0, 0, 0),
            "{first:?}"
        );
        assert_eq!(first.first_error, None);
        let cyd_id = user(&host, "scheduled", "cyd").await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // The next cycle is a delta (the next full import is 9 s away); every cycle of the
        // other application is a full import.
        eventually(
            "the scheduled delta announced",
            Duration::from_secs(5),
            || async { scheduled.history().next_run_kind.as_deref() == Some("delta") },
        )
        .await;
        assert!(scheduled.history().next_run.is_some());
        assert_eq!(every_cycle.history().next_run_kind.as_deref(), Some("full"));

        // Another tool inserts and updates rows: deltas bring them.
        blocking(|| {
            pg.exec(&[
                "INSERT INTO people (login, first_name) VALUES ('dee', 'Dee')",
                &format!(
                    "UPDATE people SET first_name = 'Robert', modified = {} WHERE login = 'bob'",
                    pg.now()
                ),
            ])
        });
        eventually(
            "the insert and the update in the cache",
            Duration::from_secs(8),
            || async {
                let dee = user(&host, "scheduled", "dee").await;
                let bob = user(&host, "scheduled", "bob").await.unwrap();
                dee.is_some() && bob[EXT]["first_name"] == "Robert"
            },
        )
        .await;
        eventually(
            "the delta's counts exported",
            Duration::from_secs(2),
            || async {
                host.import_changes("scheduled", "delta", "added").await == 1.0
                    && host.import_changes("scheduled", "delta", "changed").await == 1.0
            },
        )
        .await;
        let last_delta = scheduled.history().last_delta.expect("deltas ran");
        assert!(!last_delta.full);
        // No delta took anything away.
        assert_eq!(
            host.import_changes("scheduled", "delta", "deleted").await,
            0.0
        );

        // Another tool deletes a row: no delta sees it; the reconciling full import does.
        blocking(|| pg.exec(&["DELETE FROM people WHERE login = 'cyd'"]));
        let mut full_announced = false;
        let mut reconciled = None;
        let deadline = Instant::now() + Duration::from_secs(20);
        while reconciled.is_none() {
            assert!(
                Instant::now() < deadline,
                "the delete never reached the cache"
            );
            let h = scheduled.history();
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
            .request("GET", "scheduled", &format!("/Users/{cyd_id}"), None)
            .await;
        assert_eq!(r.status, 404, "{:?}", r.body);
        assert_eq!(
            host.import_changes("scheduled", "full", "deleted").await,
            1.0
        );
        assert_eq!(
            host.import_changes("scheduled", "delta", "deleted").await,
            0.0
        );

        // With reconcile_deletes = "every_cycle" every cycle was a full import: the same
        // changes arrived without any delta, and the delete within a cycle.
        assert_eq!(every_cycle.history().last_delta, None);
        eventually(
            "every_cycle has the delete",
            Duration::from_secs(5),
            || async { user(&host, "everycycle", "cyd").await.is_none() },
        )
        .await;
        for (change, expected) in [("added", 4.0), ("changed", 1.0), ("deleted", 1.0)] {
            assert_eq!(
                host.import_changes("everycycle", "full", change).await,
                expected,
                "{change}"
            );
        }
        let dee = user(&host, "everycycle", "dee").await.unwrap();
        assert_eq!(dee[EXT]["first_name"], "Dee");
        host.stop().await;
    });
}
