//! slapd stopped in the middle of an import and of an export: clean errors, and after it
//! comes back the same instance reconnects and nothing is lost.

use std::collections::HashSet;

use ecma_host_tests::slapd::Slapd;
use ecma_host_tests::slapd::connector::{config, entry, export, import, instance, plugin, schema};
use plugin_api::model::*;

#[test]
fn ldap_server_stopped_mid_import_and_mid_export() {
    let Some(mut s) = Slapd::start() else { return };
    let ou = s.create_ou("outage");
    {
        let mut admin = s.admin();
        for i in 0..400 {
            let uid = format!("o{i:04}");
            admin
                .add(
                    &format!("uid={uid},{ou}"),
                    vec![
                        ("objectClass", HashSet::from(["inetOrgPerson"])),
                        ("uid", HashSet::from([uid.as_str()])),
                        ("cn", HashSet::from([uid.as_str()])),
                        ("sn", HashSet::from(["x"])),
                    ],
                )
                .unwrap()
                .success()
                .unwrap();
        }
    }
    let p = plugin();
    let mut cfg = config(&s);
    // Small server pages: the import needs many round trips, so it is still running when
    // the server goes away.
    cfg.set("Search page size", "10");
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);

    // Mid-import.
    inst.open_import(OpenImportRequest {
        import_type: ImportType::Full,
        page_size: 10,
        custom_data: String::new(),
        partition: None,
        schema: sch.clone(),
    })
    .unwrap();
    let first = inst.get_import_entries().unwrap();
    assert!(first.more_to_import);
    s.stop();
    let err = loop {
        match inst.get_import_entries() {
            Ok(page) if page.more_to_import => continue,
            Ok(page) => panic!(
                "import finished although the server stopped ({} entries)",
                page.entries.len()
            ),
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind, ErrorKind::Connection, "{err}");
    assert!(err.kind.is_retryable());
    inst.close_import(CloseReason::Unknown).unwrap();

    // Mid-export while the server is down: a whole-call connection error or a retryable
    // per-entry code, never a success.
    let mk = |i: usize| {
        entry(
            &format!("n{i}"),
            "inetOrgPerson",
            ObjectModification::Add,
            &format!("uid=new{i},{ou}"),
        )
        .with_change(AttributeChange::add("cn", [Value::from(format!("new{i}"))]))
        .with_change(AttributeChange::add("sn", [Value::from("x")]))
    };
    let batch: Vec<CsEntryChange> = (0..5).map(mk).collect();
    match export(inst.as_mut(), &sch, batch.clone()) {
        Err(e) => assert_eq!(e.kind, ErrorKind::Connection, "{e}"),
        Ok(results) => {
            assert_eq!(results.len(), batch.len());
            for r in results {
                assert_eq!(r.code, ExportErrorCode::ConnectedDirectoryError, "{r:?}");
            }
        }
    }

    // Back up: the same instance reconnects; the export is retried and nothing is lost.
    s.restart();
    let results = export(inst.as_mut(), &sch, batch).unwrap();
    for r in &results {
        assert_eq!(r.code, ExportErrorCode::Success, "{r:?}");
    }
    let (entries, _, _) = import(inst.as_mut(), &sch, ImportType::Full, "", 100).unwrap();
    let mine = entries
        .iter()
        .filter(|e| e.dn.to_lowercase().ends_with(&ou.to_lowercase()))
        .count();
    assert_eq!(mine, 405);

    // Stop the server between two exports of one open export run: the next call reconnects.
    s.stop();
    s.restart();
    let r = export(
        inst.as_mut(),
        &sch,
        vec![entry(
            "d0",
            "inetOrgPerson",
            ObjectModification::Delete,
            &format!("uid=new0,{ou}"),
        )],
    )
    .unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
}
