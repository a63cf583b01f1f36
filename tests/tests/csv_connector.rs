//! The CSV connector through the real ABI: import and export round trips.

use std::path::Path;

use ecma_host::plugins::{CallLimits, ManagedInstance, PluginRegistry};
use ecma_host_tests::plugins::plugin_path;
use plugin_api::host::ConnectorInstance;
use plugin_api::model::*;

fn csv_instance(file: &Path, extra: &[(&str, &str)]) -> ManagedInstance {
    let registry = PluginRegistry::discover(&[], &[plugin_path("csv_connector")]);
    let plugin = registry.get("csv").unwrap().plugin.clone();
    let mut cfg = ConfigParameters::new();
    cfg.set("File", file.to_str().unwrap());
    cfg.set("Anchor column", "id");
    for (k, v) in extra {
        cfg.set(k, *v);
    }
    ManagedInstance::new(plugin, cfg, "test", CallLimits::default())
}

fn import_all(instance: &mut dyn ConnectorInstance, page_size: u32) -> (Vec<CsEntryChange>, usize) {
    instance
        .open_import(OpenImportRequest {
            import_type: ImportType::Full,
            page_size,
            custom_data: String::new(),
            partition: None,
            schema: Schema::default(),
        })
        .unwrap();
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        let page = instance.get_import_entries().unwrap();
        pages += 1;
        assert!(page.entries.len() <= page_size as usize);
        all.extend(page.entries);
        if !page.more_to_import {
            break;
        }
    }
    instance.close_import(CloseReason::Normal).unwrap();
    (all, pages)
}

fn value_of(entry: &CsEntryChange, attr: &str) -> Option<String> {
    entry.change(attr).map(|c| {
        c.added_values()
            .map(Value::as_text)
            .collect::<Vec<_>>()
            .join("|")
    })
}

fn export(instance: &mut dyn ConnectorInstance, entries: Vec<CsEntryChange>) -> Vec<ExportResult> {
    instance
        .open_export(OpenExportRequest {
            batch_size: 10,
            partition: None,
            schema: Schema::default(),
        })
        .unwrap();
    let results = instance.put_export_entries(entries).unwrap();
    instance.close_export(CloseReason::Normal).unwrap();
    results
}

fn entry(id: &str, modification: ObjectModification, anchor: &str) -> CsEntryChange {
    let mut e = CsEntryChange::new("User", modification).with_anchor("id", anchor);
    e.identifier = id.to_owned();
    e
}

#[test]
fn schema_comes_from_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(&file, "id,userName,groups\n1,a,x;y\n").unwrap();
    let registry = PluginRegistry::discover(&[], &[plugin_path("csv_connector")]);
    let plugin = &registry.get("csv").unwrap().plugin;
    let mut cfg = ConfigParameters::new();
    cfg.set("File", file.to_str().unwrap());
    cfg.set("Multi-valued columns", "groups");
    let schema = plugin.schema(&cfg).unwrap();
    let user = schema.object_type("User").unwrap();
    assert_eq!(user.anchor_attributes, vec!["id".to_owned()]);
    assert!(user.attribute("id").unwrap().is_anchor);
    assert!(user.attribute("groups").unwrap().multi_valued);
    assert!(!user.attribute("userName").unwrap().multi_valued);

    // Validation names the bad parameter.
    cfg.set("Anchor column", "nope");
    match plugin.validate_config(&cfg, ConfigPage::Schema, 1).unwrap() {
        ParameterValidation::Failure { parameter, message } => {
            assert_eq!(parameter, "Anchor column");
            assert!(message.contains("nope"), "{message}");
        }
        ParameterValidation::Success => panic!("a missing anchor column must fail validation"),
    }
    let pages = plugin
        .config_parameters(&cfg, ConfigPage::Connectivity, 1)
        .unwrap();
    assert!(
        pages
            .iter()
            .any(|p| p.name == "File" && p.kind == ParameterKind::File && p.required)
    );
}

#[test]
fn full_import_in_pages_sees_every_row_and_hand_edits() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    let mut text = String::from("id,userName,mail\n");
    for i in 0..25 {
        text.push_str(&format!("{i},user{i},user{i}@example.com\n"));
    }
    std::fs::write(&file, &text).unwrap();
    let managed = csv_instance(&file, &[]);
    let (entries, pages) = managed.call_blocking(|i| Ok(import_all(i, 10))).unwrap();
    assert_eq!(entries.len(), 25);
    assert_eq!(pages, 3);
    assert_eq!(value_of(&entries[7], "userName").as_deref(), Some("user7"));
    assert_eq!(entries[7].anchor_value(), Some(&Value::from("7")));

    // An edit by hand between runs is picked up by the next import.
    text.push_str("99,added-by-hand,\n");
    std::fs::write(&file, &text).unwrap();
    let (entries, _) = managed.call_blocking(|i| Ok(import_all(i, 100))).unwrap();
    assert_eq!(entries.len(), 26);
    let hand = entries.iter().find(|e| e.identifier == "99").unwrap();
    assert_eq!(value_of(hand, "userName").as_deref(), Some("added-by-hand"));
    assert_eq!(
        value_of(hand, "mail"),
        None,
        "empty cells are absent attributes"
    );
}

#[test]
fn export_add_update_replace_delete_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    let managed = csv_instance(
        &file,
        &[
            ("Columns", "id,userName,mail,groups"),
            ("Multi-valued columns", "groups"),
        ],
    );
    let hostile = "O'Brien, \"Jr\"\n'; DROP TABLE users; -- Ünïcødé ✓";
    let results = managed
        .call_blocking(|i| {
            Ok(export(
                i,
                vec![
                    entry("e1", ObjectModification::Add, "u1")
                        .with_change(AttributeChange::add("userName", [Value::from(hostile)]))
                        .with_change(AttributeChange::add(
                            "groups",
                            [Value::from("a"), Value::from("b")],
                        )),
                    entry("e2", ObjectModification::Add, "u2")
                        .with_change(AttributeChange::add("userName", [Value::from("two")]))
                        .with_change(AttributeChange::add("mail", [Value::from("two@x")])),
                    entry("e3", ObjectModification::Add, "u1"),
                    entry("e4", ObjectModification::Add, "u4")
                        .with_change(AttributeChange::add("nosuchcolumn", [Value::from("x")])),
                ],
            ))
        })
        .unwrap();
    let code = |id: &str| results.iter().find(|r| r.identifier == id).unwrap().code;
    assert_eq!(code("e1"), ExportErrorCode::Success);
    assert_eq!(code("e2"), ExportErrorCode::Success);
    assert_eq!(
        code("e3"),
        ExportErrorCode::ConnectedDirectoryExistingObject
    );
    assert_eq!(code("e4"), ExportErrorCode::SyntaxViolation);
    let e1 = results.iter().find(|r| r.identifier == "e1").unwrap();
    assert_eq!(e1.anchor_changes[0].value, Value::from("u1"));

    // Update: value-level changes on the multi-valued column, replace on a single one.
    let results = managed
        .call_blocking(|i| {
            Ok(export(
                i,
                vec![
                    entry("e5", ObjectModification::Update, "u1")
                        .with_change(AttributeChange::update(
                            "groups",
                            vec![ValueChange::delete("a"), ValueChange::add("c")],
                        ))
                        .with_change(AttributeChange::replace("mail", [Value::from("one@x")])),
                    // Replace clears what the entry does not mention.
                    entry("e6", ObjectModification::Replace, "u2")
                        .with_change(AttributeChange::replace("userName", [Value::from("TWO")])),
                    entry("e7", ObjectModification::Update, "missing")
                        .with_change(AttributeChange::replace("mail", [Value::from("m")])),
                ],
            ))
        })
        .unwrap();
    assert_eq!(results[0].code, ExportErrorCode::Success);
    assert_eq!(results[1].code, ExportErrorCode::Success);
    assert_eq!(
        results[2].code,
        ExportErrorCode::ConnectedDirectoryMissingObject
    );

    let (entries, _) = managed.call_blocking(|i| Ok(import_all(i, 100))).unwrap();
    let u1 = entries.iter().find(|e| e.identifier == "u1").unwrap();
    assert_eq!(
        value_of(u1, "userName").as_deref(),
        Some(hostile),
        "hostile value read back exactly"
    );
    assert_eq!(value_of(u1, "groups").as_deref(), Some("b|c"));
    assert_eq!(value_of(u1, "mail").as_deref(), Some("one@x"));
    let u2 = entries.iter().find(|e| e.identifier == "u2").unwrap();
    assert_eq!(value_of(u2, "userName").as_deref(), Some("TWO"));
    assert_eq!(value_of(u2, "mail"), None, "Replace cleared mail");

    // Delete, and deleting again reports a missing object.
    let results = managed
        .call_blocking(|i| {
            Ok(export(
                i,
                vec![
                    entry("d1", ObjectModification::Delete, "u2"),
                    entry("d2", ObjectModification::Delete, "u2"),
                ],
            ))
        })
        .unwrap();
    assert_eq!(results[0].code, ExportErrorCode::Success);
    assert_eq!(
        results[1].code,
        ExportErrorCode::ConnectedDirectoryMissingObject
    );
    let (entries, _) = managed.call_blocking(|i| Ok(import_all(i, 100))).unwrap();
    assert_eq!(entries.len(), 1);

    // Atomic writes leave no temporary files behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_second_process_writing_between_runs_is_not_lost() {
    // Two instances stand for two host processes: each read-modify-write is locked and
    // re-reads the file, so neither overwrites the other's rows.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    let cols = [("Columns", "id,userName")];
    let a = csv_instance(&file, &cols);
    let b = csv_instance(&file, &cols);
    for (n, inst) in [(1, &a), (2, &b), (3, &a)] {
        let r = inst
            .call_blocking(move |i| {
                Ok(export(
                    i,
                    vec![entry("x", ObjectModification::Add, &format!("u{n}"))],
                ))
            })
            .unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success);
    }
    let (entries, _) = b.call_blocking(|i| Ok(import_all(i, 100))).unwrap();
    let mut ids: Vec<_> = entries.iter().map(|e| e.identifier.clone()).collect();
    ids.sort();
    assert_eq!(ids, ["u1", "u2", "u3"]);
}

#[test]
fn a_missing_file_is_a_retryable_connection_error() {
    let dir = tempfile::tempdir().unwrap();
    let managed = csv_instance(&dir.path().join("absent.csv"), &[]);
    let err = managed
        .call_blocking(|i| {
            i.open_import(OpenImportRequest {
                import_type: ImportType::Full,
                page_size: 10,
                custom_data: String::new(),
                partition: None,
                schema: Schema::default(),
            })
        })
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection);
    assert!(err.kind.is_retryable());
}

/// A lock on the file that is never released (another writer hung) makes an export fail with
/// a retryable Connection error after the configured wait, instead of blocking forever; once
/// the lock is free, exports work again.
#[test]
fn an_export_waits_for_a_held_file_lock_only_as_long_as_configured() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("u.csv");
    std::fs::write(&file, "id,name\n1,one\n").unwrap();
    let managed = csv_instance(&file, &[("Lock wait seconds", "0.3")]);
    let other_writer = std::fs::File::create(dir.path().join("u.csv.lock")).unwrap();
    other_writer.lock().unwrap();
    let entry = CsEntryChange::new("User", ObjectModification::Add)
        .with_anchor("id", "2".to_owned())
        .with_change(AttributeChange::add("name", [Value::from("two")]));
    let started = std::time::Instant::now();
    let err = managed
        .call_blocking({
            let entry = entry.clone();
            move |i| {
                i.open_export(OpenExportRequest {
                    batch_size: 1,
                    partition: None,
                    schema: Schema::default(),
                })?;
                i.put_export_entries(vec![entry])
            }
        })
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection, "{err:?}");
    assert!(
        err.message.contains("locked by another writer"),
        "{}",
        err.message
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    drop(other_writer);
    let results = managed
        .call_blocking(|i| Ok(export(i, vec![entry])))
        .unwrap();
    assert_eq!(results[0].code, ExportErrorCode::Success);
    assert!(std::fs::read_to_string(&file).unwrap().contains("2,two"));
}

/// ECMA2's FullObject import through the ABI: the requests' answers, decoded.
fn full_objects(managed: &ManagedInstance, requests: Vec<CsEntryChange>) -> Vec<CsEntryChange> {
    managed
        .call_blocking(move |i| i.get_full_objects(requests))
        .unwrap()
        .entries
        .to_entries()
        .unwrap()
}

fn request(object_type: &str, anchor: &str) -> CsEntryChange {
    CsEntryChange::new(object_type, ObjectModification::None).with_anchor("id", anchor)
}

/// A FullObject request reads the file as it is now (edited behind the connector's back): a
/// row comes back exactly as a full import gives it, a row that is gone as a Delete naming the
/// anchor; a request of another object type or without an anchor is left unanswered.
#[test]
fn full_objects_are_the_rows_as_a_full_import_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(
        &file,
        "id,userName,mail,groups\n1,one,one@x,a;b\n2,two,two@x,c\n3,three,,\n",
    )
    .unwrap();
    let managed = csv_instance(&file, &[("Multi-valued columns", "groups")]);
    let (before, _) = managed.call_blocking(|i| Ok(import_all(i, 100))).unwrap();
    assert_eq!(before.len(), 3);

    // Another process changes row 2 and removes row 3.
    std::fs::write(
        &file,
        "id,userName,mail,groups\n1,one,one@x,a;b\n2,TWO,,c;d;e\n",
    )
    .unwrap();
    let (now, _) = managed.call_blocking(|i| Ok(import_all(i, 100))).unwrap();
    let imported = |id: &str| now.iter().find(|e| e.identifier == id).unwrap().clone();

    // The anchor may also come as the anchor column's value (how an export entry carries it).
    let by_column = CsEntryChange::new("User", ObjectModification::None)
        .with_change(AttributeChange::add("id", [Value::from("1")]));
    let answers = full_objects(
        &managed,
        vec![
            request("User", "2"),
            request("User", "3"),
            request("Group", "1"),
            CsEntryChange::new("User", ObjectModification::None),
            by_column,
        ],
    );
    assert_eq!(answers.len(), 3, "{answers:#?}");
    assert_eq!(
        answers[0],
        imported("2"),
        "the current row, as a full import reads it"
    );
    assert_eq!(value_of(&answers[0], "groups").as_deref(), Some("c|d|e"));
    assert_eq!(value_of(&answers[0], "mail"), None);
    assert_eq!(answers[1].modification, ObjectModification::Delete);
    assert_eq!(answers[1].object_type, "User");
    assert_eq!(answers[1].anchor_value(), Some(&Value::from("3")));
    assert!(answers[1].changes.is_empty());
    assert_eq!(answers[2], imported("1"));
    assert_ne!(
        answers[0],
        *before.iter().find(|e| e.identifier == "2").unwrap()
    );
}

/// FullObject reads under the export lock: a held lock (an export still writing) is waited
/// for only as long as configured, then a retryable Connection error; a file that exports have
/// not created yet holds nothing.
#[test]
fn full_objects_wait_for_the_file_lock_and_a_missing_file_holds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("u.csv");
    let managed = csv_instance(
        &file,
        &[("Lock wait seconds", "0.3"), ("Columns", "id,name")],
    );
    let answers = full_objects(&managed, vec![request("User", "7")]);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].modification, ObjectModification::Delete);
    assert_eq!(answers[0].anchor_value(), Some(&Value::from("7")));

    std::fs::write(&file, "id,name\n7,seven\n").unwrap();
    let writer = std::fs::File::create(dir.path().join("u.csv.lock")).unwrap();
    writer.lock().unwrap();
    let err = managed
        .call_blocking(|i| i.get_full_objects(vec![request("User", "7")]))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection, "{err:?}");
    assert!(
        err.message.contains("locked by another writer"),
        "{}",
        err.message
    );
    drop(writer);
    let answers = full_objects(&managed, vec![request("User", "7")]);
    assert_eq!(answers[0].modification, ObjectModification::Add);
    assert_eq!(value_of(&answers[0], "name").as_deref(), Some("seven"));
}
