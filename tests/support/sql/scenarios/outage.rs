//! The database stops mid-import and mid-export: clean retryable errors, nothing half written,
//! and the same instance carries on once the database is back.

use std::time::{Duration, Instant};

use plugin_api::host::ConnectorPlugin;
use plugin_api::model::*;

use super::tables::{add_user, simple_users, users_config, users_with_groups};
use crate::sql::connector::{export, import_all, instance, load};
use crate::sql::target::{Kind, Target};

/// The database stops while an import is reading: the import fails cleanly with a
/// retryable error, and the same instance imports again once the database is back.
///
/// PostgreSQL and MariaDB stream the table in one statement, read a few pages ahead of
/// the host: the table is made larger than what the socket buffers and the read-ahead
/// hold (80,000 rows of ~400 bytes: 32 MB against loopback socket buffers of up to ~10 MB),
/// so the import is still reading when the server stops.
pub fn outage_mid_import(t: &mut Target) {
    let users = "oi_users";
    let rows = 80_000;
    simple_users(t, users, 0);
    t.exec(&[&match t.kind {
        Kind::Postgres => format!(
            "INSERT INTO {users} (name, email) SELECT repeat('q', 190) || i, \
             repeat('x', 190) || i FROM generate_series(1, {rows}) AS i"
        ),
        Kind::MariaDb => format!(
            "INSERT INTO {users} (name, email) SELECT CONCAT(REPEAT('q', 190), seq), \
             CONCAT(REPEAT('x', 190), seq) FROM seq_1_to_{rows}"
        ),
        Kind::Sqlite => panic!("SQLite has no server to stop"),
    }]);
    let plugin = load();
    let config = t.config(&[
        ("Table", users),
        ("Anchor columns", "id"),
        ("Command timeout", "10"),
    ]);
    let mut inst = instance(&plugin, &config);
    let schema = plugin.schema(&config).unwrap();
    inst.open_import(OpenImportRequest {
        import_type: ImportType::Full,
        page_size: 100,
        custom_data: String::new(),
        partition: None,
        schema,
    })
    .unwrap();
    let first = inst.get_import_entries().unwrap();
    assert_eq!(first.entries.len(), 100);
    assert!(first.more_to_import);
    t.server.stop();
    // Pages read before the stop may still arrive; then the import fails, short of the
    // whole table.
    let mut seen = first.entries.len();
    let err = loop {
        match inst.get_import_entries() {
            Ok(page) => {
                seen += page.entries.len();
                assert!(page.more_to_import, "the import finished during the outage");
            }
            Err(e) => break e,
        }
    };
    assert!(seen < rows, "{seen} rows imported from a stopped server");
    assert_eq!(err.kind, ErrorKind::Connection, "{err:?}");
    assert!(err.kind.is_retryable());
    t.server.start_again();
    let (entries, _, _) =
        import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 1000).unwrap();
    assert_eq!(entries.len(), rows);
}

/// The database dies while an entry's transaction is open (a trigger on the child table
/// sleeps): the export reports a retryable error, nothing of the entry is stored, and the
/// same instance exports once the database is back.
pub fn outage_mid_export(t: &mut Target) {
    let (users, groups) = ("oe_users", "oe_groups");
    users_with_groups(t, users, groups);
    let slow: Vec<String> = match t.kind {
        Kind::Postgres => vec![
            "CREATE FUNCTION oe_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(120); RETURN NEW; END $$".into(),
            format!("CREATE TRIGGER oe_slow BEFORE INSERT ON {groups} FOR EACH ROW EXECUTE FUNCTION oe_slow()"),
        ],
        Kind::MariaDb => vec![format!(
            "CREATE TRIGGER oe_slow BEFORE INSERT ON {groups} FOR EACH ROW SET @oe_slept = SLEEP(120)"
        )],
        Kind::Sqlite => panic!("SQLite has no server to stop"),
    };
    t.exec(&slow.iter().map(String::as_str).collect::<Vec<_>>());
    let plugin = load();
    let config = users_config(t, users, groups, &[("Command timeout", "300")]);
    let mut inst = instance(&plugin, &config);
    let schema = plugin.schema(&config).unwrap();
    inst.open_export(OpenExportRequest {
        batch_size: 2,
        partition: None,
        schema,
    })
    .unwrap();
    let worker = std::thread::spawn(move || {
        let r = inst.put_export_entries(vec![
            add_user("o1", "olga", Some("o@example.com"), &["g1"]),
            add_user("o2", "oscar", None, &[]),
        ]);
        (inst, r)
    });
    // Wait until the entry's transaction is inside the sleeping trigger.
    let probe = match t.kind {
        Kind::Postgres => "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'",
        _ => "SELECT COUNT(*) FROM information_schema.processlist WHERE state = 'User sleep'",
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while t.count(probe) == 0 {
        assert!(
            Instant::now() < deadline,
            "the export never reached the trigger"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // A fast shutdown terminates the backend inside the open transaction. (Not a crash:
    // with the harness's synchronous_commit=off / innodb-flush-log-at-trx-commit=0 a crash
    // may also lose the committed fixture tables, which would prove nothing.)
    t.server.stop();
    let (mut inst, result) = worker.join().expect("export thread");
    match result {
        Err(e) => assert_eq!(e.kind, ErrorKind::Connection, "{e:?}"),
        Ok(results) => {
            assert_eq!(results.len(), 2);
            for r in &results {
                assert_eq!(r.code, ExportErrorCode::ConnectedDirectoryError, "{r:?}");
            }
        }
    }
    t.server.start_again();
    // Nothing half-written: the parent row inserted inside the killed transaction is gone.
    assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {users}")), 0);
    assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {groups}")), 0);
    let drop_trigger = match t.kind {
        Kind::Postgres => format!("DROP TRIGGER oe_slow ON {groups}"),
        _ => "DROP TRIGGER oe_slow".to_owned(),
    };
    t.exec(&[&drop_trigger]);
    // The same instance reconnects by itself.
    let results = export(
        &plugin,
        inst.as_mut(),
        &config,
        vec![
            add_user("o1", "olga", Some("o@example.com"), &["g1"]),
            add_user("o2", "oscar", None, &[]),
        ],
    )
    .unwrap();
    for r in &results {
        assert_eq!(r.code, ExportErrorCode::Success, "{r:?}");
    }
    assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {users}")), 2);
    assert_eq!(t.count(&format!("SELECT COUNT(*) FROM {groups}")), 1);
}
