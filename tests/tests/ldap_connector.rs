//! The generic-ldap connector against a real slapd, through the plugin ABI: schema,
//! partitions, paged full import, every export kind with error mapping, groups, hostile
//! values, delta import through accesslog, passwords, SASL EXTERNAL over ldapi.
//!
//! Each test starts its own slapd (about 0.1 s), so tests run in parallel and each server
//! is stopped by its `Drop`. One file over 800 lines because the scenarios share these
//! helpers and the harness's connector module; each test stands alone.

use std::collections::HashSet;

use ecma_host_tests::directory::{add_user, delta_sees_changes_deletes_and_renames, in_ou};
use ecma_host_tests::slapd::connector::{
    config, entry, export, import, instance, plugin, schema, values,
};
use ecma_host_tests::slapd::{
    BINARY_ID_ATTR, BINARY_ID_CLASS, ExtraSchema, READER_DN, READER_PW, SUFFIX, Slapd, SlapdOptions,
};
use plugin_api::host::ConnectorPlugin;
use plugin_api::model::*;

fn first(e: &ldap3::SearchEntry, attr: &str) -> Option<String> {
    e.attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .and_then(|(_, v)| v.first().cloned())
}

fn all(e: &ldap3::SearchEntry, attr: &str) -> Vec<String> {
    let mut v = e
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn ldap_schema_partitions_and_capabilities() {
    let Some(s) = Slapd::start() else { return };
    let p = plugin();
    assert_eq!(p.info().name, "generic-ldap");
    let mut cfg = config(&s);
    cfg.set("Object types", "");
    let sch = schema(&p, &cfg);
    let person = sch
        .object_type("inetOrgPerson")
        .expect("inetOrgPerson type");
    assert_eq!(
        person.anchor_attributes,
        ["entryUUID"],
        "OpenLDAP anchors on entryUUID"
    );
    let uid_number = sch
        .object_type("posixGroup")
        .and_then(|t| t.attribute("gidNumber"))
        .expect("posixGroup.gidNumber");
    assert_eq!(uid_number.data_type, DataType::Integer);
    assert!(!uid_number.multi_valued);
    let member = sch
        .object_type("groupOfNames")
        .and_then(|t| t.attribute("member"))
        .unwrap();
    assert_eq!(member.data_type, DataType::Reference);
    assert!(member.multi_valued);
    assert_eq!(
        person.attribute("jpegPhoto").unwrap().data_type,
        DataType::Binary
    );
    assert_eq!(
        person.attribute("userPassword").unwrap().operation,
        AttributeOperation::ExportOnly
    );
    // Auxiliary classes are not object types.
    assert!(sch.object_type("posixAccount").is_none());

    let parts = p.partitions(&cfg).unwrap();
    let dns: Vec<&str> = parts.iter().map(|p| p.dn.as_str()).collect();
    assert!(dns.contains(&SUFFIX), "{dns:?}");
    assert!(
        !dns.iter().any(|d| d.eq_ignore_ascii_case("cn=accesslog")),
        "{dns:?}"
    );

    let caps = p.capabilities(&cfg).unwrap();
    assert!(!caps.is_dn_as_anchor);
    assert_eq!(caps.distinguished_name_style, DnStyle::Ldap);
    cfg.set("Anchor", "DN");
    assert!(p.capabilities(&cfg).unwrap().is_dn_as_anchor);
    assert_eq!(
        schema(&p, &cfg)
            .object_type("inetOrgPerson")
            .unwrap()
            .anchor_attributes,
        ["dn"]
    );

    // Operational attributes only on request.
    let mut cfg = config(&s);
    assert!(
        schema(&p, &cfg)
            .object_type("inetOrgPerson")
            .unwrap()
            .attribute("modifyTimestamp")
            .is_none()
    );
    cfg.set("Include operational attributes", "1");
    let op = schema(&p, &cfg);
    let ts = op
        .object_type("inetOrgPerson")
        .unwrap()
        .attribute("modifyTimestamp")
        .unwrap();
    assert_eq!(ts.operation, AttributeOperation::ImportOnly);
}

#[test]
fn ldap_full_import_paged_users_and_groups() {
    let Some(s) = Slapd::start() else { return };
    let ou = s.create_ou("fullimport");
    let mut uuids = std::collections::HashMap::new();
    let mut dns = Vec::new();
    for i in 0..130 {
        let n = i.to_string();
        let dn = add_user(
            &s,
            &ou,
            &format!("user{i:03}"),
            vec![("employeeNumber", HashSet::from([n.as_str()]))],
        );
        dns.push(dn);
    }
    for dn in &dns {
        let e = s.read(dn).unwrap();
        uuids.insert(dn.to_lowercase(), first(&e, "entryUUID").unwrap());
    }
    let group_dn = format!("cn=staff,{ou}");
    s.admin()
        .add(
            &group_dn,
            vec![
                ("objectClass", HashSet::from(["groupOfNames"])),
                ("cn", HashSet::from(["staff"])),
                ("member", HashSet::from([dns[0].as_str(), dns[1].as_str()])),
            ],
        )
        .unwrap()
        .success()
        .unwrap();

    let p = plugin();
    let mut cfg = config(&s);
    // A small server page size forces many paged-results round trips.
    cfg.set("Search page size", "7");
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);
    let (entries, wm, pages) = import(inst.as_mut(), &sch, ImportType::Full, "", 25).unwrap();
    let mine = in_ou(&entries, &ou);
    let users: Vec<_> = mine
        .iter()
        .filter(|e| e.object_type == "inetOrgPerson")
        .collect();
    let groups: Vec<_> = mine
        .iter()
        .filter(|e| e.object_type == "groupOfNames")
        .collect();
    assert_eq!(users.len(), dns.len());
    assert_eq!(groups.len(), 1);
    assert!(pages >= 131 / 25, "{pages} pages");
    assert!(wm.starts_with("generic-ldap:v1:accesslog:"), "{wm}");
    for u in &users {
        assert_eq!(u.modification, ObjectModification::Add);
        assert_eq!(u.anchor[0].name, "entryUUID");
        assert_eq!(
            u.anchor[0].value.as_text(),
            uuids[&u.dn.to_lowercase()],
            "anchor of {}",
            u.dn
        );
        let uid = values(u, "uid");
        assert_eq!(uid.len(), 1);
        assert!(u.change("objectClass").is_some());
        assert!(u.change("userPassword").is_none());
    }
    // Without paged results: one streamed search, same result.
    cfg.set("Use paged results", "0");
    let (mut inst, log) = instance(&p, &cfg);
    let (unpaged, _, _) = import(inst.as_mut(), &sch, ImportType::Full, "", 25).unwrap();
    assert!(
        log.0
            .lock()
            .unwrap()
            .iter()
            .any(|(_, m)| m.contains("one streamed search"))
    );
    let mut a: Vec<String> = in_ou(&unpaged, &ou)
        .iter()
        .map(|e| e.dn.to_lowercase())
        .collect();
    let mut b: Vec<String> = mine.iter().map(|e| e.dn.to_lowercase()).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);

    let g = groups[0];
    let members: Vec<&Value> = g.change("member").unwrap().added_values().collect();
    assert!(members.iter().all(|m| matches!(m, Value::Reference(_))));
    let mut got: Vec<String> = members.iter().map(|m| m.as_text().to_lowercase()).collect();
    got.sort();
    let mut want = vec![dns[0].to_lowercase(), dns[1].to_lowercase()];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn ldap_export_add_update_rename_delete_and_errors() {
    let Some(s) = Slapd::start() else { return };
    let ou = s.create_ou("export");
    let p = plugin();
    let mut cfg = config(&s);
    cfg.set("DN templates", format!("inetOrgPerson = uid={{uid}},{ou}"));
    cfg.set("Auxiliary object classes", "inetOrgPerson = posixAccount");
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);

    // Add: DN from the template, auxiliary class from configuration.
    let add = entry("1", "inetOrgPerson", ObjectModification::Add, "")
        .with_change(AttributeChange::add("uid", [Value::from("alice")]))
        .with_change(AttributeChange::add("cn", [Value::from("Alice A")]))
        .with_change(AttributeChange::add("sn", [Value::from("A")]))
        .with_change(AttributeChange::add(
            "mail",
            [Value::from("a1@x"), Value::from("a2@x")],
        ))
        .with_change(AttributeChange::add("description", [Value::from("temp")]))
        .with_change(AttributeChange::add("uidNumber", [Value::Integer(1001)]))
        .with_change(AttributeChange::add("gidNumber", [Value::Integer(100)]))
        .with_change(AttributeChange::add(
            "homeDirectory",
            [Value::from("/home/alice")],
        ));
    let r = export(inst.as_mut(), &sch, vec![add.clone()]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    let dn = format!("uid=alice,{ou}");
    let e = s.read(&dn).expect("created");
    assert!(all(&e, "objectClass").iter().any(|c| c == "posixAccount"));
    assert_eq!(all(&e, "mail"), ["a1@x", "a2@x"]);
    let uuid = first(&e, "entryUUID").unwrap();
    assert_eq!(r[0].anchor_changes[0].name, "entryUUID");
    assert_eq!(r[0].anchor_changes[0].value.as_text(), uuid);

    // The same add again: the object exists.
    let r = export(inst.as_mut(), &sch, vec![add]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::ConnectedDirectoryExistingObject);
    assert!(
        r[0].error_detail.contains("entryAlreadyExists"),
        "{}",
        r[0].error_detail
    );

    // Update: incremental multi-valued change, replace, attribute delete.
    let upd = entry("2", "inetOrgPerson", ObjectModification::Update, &dn)
        .with_anchor("entryUUID", uuid.clone())
        .with_change(AttributeChange::update(
            "mail",
            vec![ValueChange::delete("a1@x"), ValueChange::add("a3@x")],
        ))
        .with_change(AttributeChange::replace("title", [Value::from("Boss")]))
        .with_change(AttributeChange::delete("description"));
    let r = export(inst.as_mut(), &sch, vec![upd]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    let e = s.read(&dn).unwrap();
    assert_eq!(all(&e, "mail"), ["a2@x", "a3@x"]);
    assert_eq!(all(&e, "title"), ["Boss"]);
    assert!(all(&e, "description").is_empty());

    // Rename (the DN changed; the anchor finds the object) and move to another container.
    let ou2 = s.create_ou("export-moved");
    let new_dn = format!("uid=alice2,{ou2}");
    let ren = entry("3", "inetOrgPerson", ObjectModification::Update, &new_dn)
        .with_anchor("entryUUID", uuid.clone())
        .with_change(AttributeChange::replace("uid", [Value::from("alice2")]));
    let r = export(inst.as_mut(), &sch, vec![ren]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    assert!(s.read(&dn).is_none());
    let e = s.read(&new_dn).expect("renamed");
    assert_eq!(first(&e, "entryUUID").unwrap(), uuid);
    assert_eq!(all(&e, "uid"), ["alice2"]);

    // A rename under a parent that does not exist: LDAP says noSuchObject, but the object is
    // there, so this is a bad request (400), not a missing object (404).
    let nowhere = entry(
        "3b",
        "inetOrgPerson",
        ObjectModification::Update,
        &format!("uid=alice2,ou=nowhere,{ou}"),
    )
    .with_anchor("entryUUID", uuid.clone());
    let r = export(inst.as_mut(), &sch, vec![nowhere]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::InvalidDn, "{:?}", r[0]);
    assert!(
        r[0].error_detail.contains("the object itself exists"),
        "{:?}",
        r[0]
    );
    assert!(s.read(&new_dn).is_some(), "the object stays where it was");

    // Error mapping.
    let missing = entry("4", "inetOrgPerson", ObjectModification::Update, "")
        .with_anchor("entryUUID", "00000000-0000-0000-0000-000000000000")
        .with_change(AttributeChange::replace("title", [Value::from("x")]));
    let no_sn = entry(
        "5",
        "inetOrgPerson",
        ObjectModification::Add,
        &format!("uid=nosn,{ou}"),
    )
    .with_change(AttributeChange::add("cn", [Value::from("No Sn")]));
    let bad_syntax = entry("6", "inetOrgPerson", ObjectModification::Update, &new_dn)
        .with_anchor("entryUUID", uuid.clone())
        .with_change(AttributeChange::replace(
            "uidNumber",
            [Value::from("not-a-number")],
        ));
    let r = export(inst.as_mut(), &sch, vec![missing, no_sn, bad_syntax]).unwrap();
    assert_eq!(r.len(), 3);
    let by_id = |id: &str| r.iter().find(|x| x.identifier == id).unwrap();
    assert_eq!(
        by_id("4").code,
        ExportErrorCode::ConnectedDirectoryMissingObject
    );
    assert_eq!(
        by_id("5").code,
        ExportErrorCode::SyntaxViolation,
        "{:?}",
        by_id("5")
    );
    assert!(
        by_id("5").error_detail.contains("objectClassViolation"),
        "{:?}",
        by_id("5")
    );
    assert_eq!(
        by_id("6").code,
        ExportErrorCode::SyntaxViolation,
        "{:?}",
        by_id("6")
    );
    assert!(!by_id("6").error_detail.is_empty());

    // Permission: a read-only identity.
    let mut ro = cfg.clone();
    ro.set("User name", READER_DN)
        .set_secret("Password", READER_PW);
    let (mut ro_inst, _) = instance(&p, &ro);
    let r = export(
        ro_inst.as_mut(),
        &sch,
        vec![
            entry("7", "inetOrgPerson", ObjectModification::Update, &new_dn)
                .with_anchor("entryUUID", uuid.clone())
                .with_change(AttributeChange::replace("title", [Value::from("Hacked")])),
        ],
    )
    .unwrap();
    assert_eq!(r[0].code, ExportErrorCode::PermissionIssue, "{:?}", r[0]);
    assert!(r[0].error_detail.contains("insufficientAccessRights"));

    // Delete, then delete again: missing.
    let del = entry("8", "inetOrgPerson", ObjectModification::Delete, &new_dn)
        .with_anchor("entryUUID", uuid.clone());
    let r = export(inst.as_mut(), &sch, vec![del.clone()]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    assert!(s.read(&new_dn).is_none());
    let r = export(inst.as_mut(), &sch, vec![del]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::ConnectedDirectoryMissingObject);
}

#[test]
fn ldap_group_membership() {
    let Some(s) = Slapd::start() else { return };
    let ou = s.create_ou("groups");
    let a = add_user(&s, &ou, "ga", vec![]);
    let b = add_user(&s, &ou, "gb", vec![]);
    let c = add_user(&s, &ou, "gc", vec![]);
    let p = plugin();
    let cfg = config(&s);
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);
    let gdn = format!("cn=team,{ou}");
    let add = entry("g", "groupOfNames", ObjectModification::Add, &gdn).with_change(
        AttributeChange::add(
            "member",
            [Value::Reference(a.clone()), Value::Reference(b.clone())],
        ),
    );
    let r = export(inst.as_mut(), &sch, vec![add]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    let uuid = r[0].anchor_changes[0].value.as_text();
    let upd = entry("g2", "groupOfNames", ObjectModification::Update, &gdn)
        .with_anchor("entryUUID", uuid.clone())
        .with_change(AttributeChange::update(
            "member",
            vec![
                ValueChange::add(Value::Reference(c.clone())),
                ValueChange::delete(Value::Reference(a.clone())),
            ],
        ));
    let r = export(inst.as_mut(), &sch, vec![upd]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    let e = s.read(&gdn).unwrap();
    let mut want = vec![b.clone(), c.clone()];
    want.sort();
    assert_eq!(all(&e, "member"), want);

    // Adding a member twice and removing an absent one converge (permissive modify).
    let again = entry("g3", "groupOfNames", ObjectModification::Update, &gdn)
        .with_anchor("entryUUID", uuid)
        .with_change(AttributeChange::update(
            "member",
            vec![
                ValueChange::add(Value::Reference(c.clone())),
                ValueChange::delete(Value::Reference(a.clone())),
            ],
        ));
    let r = export(inst.as_mut(), &sch, vec![again]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    assert_eq!(all(&s.read(&gdn).unwrap(), "member"), want);

    let (entries, _, _) = import(inst.as_mut(), &sch, ImportType::Full, "", 100).unwrap();
    let g = entries
        .iter()
        .find(|e| e.dn.eq_ignore_ascii_case(&gdn))
        .unwrap();
    let mut got: Vec<String> = g
        .change("member")
        .unwrap()
        .added_values()
        .map(|v| {
            assert!(matches!(v, Value::Reference(_)));
            v.as_text()
        })
        .collect();
    got.sort();
    assert_eq!(got, want);
}

/// groupOfNames requires a member: a group created empty (as Entra creates groups) gets the
/// placeholder member, which leaves when a real member arrives, comes back when the last one
/// leaves, and is never imported. With the placeholder off, the server's refusal comes through.
#[test]
fn ldap_empty_groups_keep_a_placeholder_member() {
    const PLACEHOLDER: &str = "cn=empty-membership-placeholder";
    let Some(s) = Slapd::start() else { return };
    let ou = s.create_ou("empty");
    let a = add_user(&s, &ou, "ea", vec![]);
    let p = plugin();
    let cfg = config(&s);
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);
    let gdn = format!("cn=empty,{ou}");
    let members = |s: &Slapd| all(&s.read(&gdn).unwrap(), "member");
    let r = export(
        inst.as_mut(),
        &sch,
        vec![entry("g", "groupOfNames", ObjectModification::Add, &gdn)],
    )
    .unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    assert_eq!(members(&s), [PLACEHOLDER]);
    let uuid = r[0].anchor_changes[0].value.as_text();
    let update = |adds: Vec<&str>, dels: Vec<&str>| {
        let changes = adds
            .into_iter()
            .map(|d| ValueChange::add(Value::Reference(d.to_owned())))
            .chain(
                dels.into_iter()
                    .map(|d| ValueChange::delete(Value::Reference(d.to_owned()))),
            )
            .collect();
        entry("g", "groupOfNames", ObjectModification::Update, &gdn)
            .with_anchor("entryUUID", uuid.clone())
            .with_change(AttributeChange::update("member", changes))
    };
    let ok = |r: Vec<ExportResult>| assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    ok(export(inst.as_mut(), &sch, vec![update(vec![&a], vec![])]).unwrap());
    assert_eq!(members(&s), vec![a.clone()], "the placeholder left");
    // Imported without the placeholder, with it too.
    ok(export(inst.as_mut(), &sch, vec![update(vec![], vec![&a])]).unwrap());
    assert_eq!(members(&s), [PLACEHOLDER], "the placeholder came back");
    let (entries, _, _) = import(inst.as_mut(), &sch, ImportType::Full, "", 100).unwrap();
    let g = entries
        .iter()
        .find(|e| e.dn.eq_ignore_ascii_case(&gdn))
        .unwrap();
    assert!(
        g.change("member")
            .is_none_or(|c| c.added_values().next().is_none()),
        "placeholder imported: {g:?}"
    );
    // Clearing the attribute (PATCH remove members) leaves the placeholder.
    ok(export(inst.as_mut(), &sch, vec![update(vec![&a], vec![])]).unwrap());
    let clear = entry("g", "groupOfNames", ObjectModification::Update, &gdn)
        .with_anchor("entryUUID", uuid.clone())
        .with_change(AttributeChange::delete("member"));
    ok(export(inst.as_mut(), &sch, vec![clear]).unwrap());
    assert_eq!(members(&s), [PLACEHOLDER]);

    // A membership change next to a value delete of another attribute: both apply (the
    // current values read for the membership must not hide the other attribute's values).
    s.admin()
        .modify(
            &gdn,
            vec![ldap3::Mod::Replace(
                "description",
                HashSet::from(["keep", "drop"]),
            )],
        )
        .unwrap()
        .success()
        .unwrap();
    let both = entry("g", "groupOfNames", ObjectModification::Update, &gdn)
        .with_anchor("entryUUID", uuid.clone())
        .with_change(AttributeChange::update(
            "member",
            vec![ValueChange::delete(Value::Reference(a.clone()))],
        ))
        .with_change(AttributeChange::update(
            "description",
            vec![ValueChange::delete(Value::from("drop"))],
        ));
    ok(export(inst.as_mut(), &sch, vec![both]).unwrap());
    assert_eq!(all(&s.read(&gdn).unwrap(), "description"), ["keep"]);
    assert_eq!(members(&s), [PLACEHOLDER]);

    let mut off = config(&s);
    off.set("Placeholder member", "");
    let (mut inst, _) = instance(&p, &off);
    let r = export(
        inst.as_mut(),
        &sch,
        vec![entry(
            "h",
            "groupOfNames",
            ObjectModification::Add,
            &format!("cn=nomembers,{ou}"),
        )],
    )
    .unwrap();
    assert_eq!(r[0].code, ExportErrorCode::SyntaxViolation, "{:?}", r[0]);
    assert!(
        r[0].error_detail.contains("objectClassViolation") || r[0].error_detail.contains("65"),
        "{:?}",
        r[0]
    );
}

/// Attribute descriptions with options other than `;binary` (language tags, AD's ranges) are
/// not the attribute's values: importing them would replace the real ones.
#[test]
fn ldap_tagged_values_are_not_imported_as_the_attribute() {
    let Some(s) = Slapd::start() else { return };
    let ou = s.create_ou("tags");
    let dn = add_user(
        &s,
        &ou,
        "tagged",
        vec![
            ("cn;lang-de", HashSet::from(["Markiert"])),
            ("description;lang-fr", HashSet::from(["étiqueté"])),
        ],
    );
    let p = plugin();
    let cfg = config(&s);
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);
    let (entries, _, _) = import(inst.as_mut(), &sch, ImportType::Full, "", 100).unwrap();
    let e = entries
        .iter()
        .find(|e| e.dn.eq_ignore_ascii_case(&dn))
        .unwrap();
    assert_eq!(values(e, "cn"), ["tagged"], "{e:?}");
    assert!(e.change("description").is_none(), "{e:?}");
    assert_eq!(
        e.changes
            .iter()
            .filter(|c| c.name.eq_ignore_ascii_case("cn"))
            .count(),
        1,
        "one change per attribute"
    );
}

#[test]
fn ldap_hostile_values_round_trip() {
    let Some(s) = Slapd::start() else { return };
    let ou = s.create_ou("hostile");
    let p = plugin();
    let mut cfg = config(&s);
    cfg.set("DN templates", format!("inetOrgPerson = cn={{cn}},{ou}"));
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);
    let names = [
        ",+\"\\<>;=#",
        " leading and trailing ",
        "#hash first",
        "Zoë Ångström 日本語 😀",
        "star*paren()back\\slash",
    ];
    let mut adds = Vec::new();
    for (i, n) in names.iter().enumerate() {
        adds.push(
            entry(
                &format!("h{i}"),
                "inetOrgPerson",
                ObjectModification::Add,
                "",
            )
            .with_change(AttributeChange::add("cn", [Value::from(*n)]))
            .with_change(AttributeChange::add("sn", [Value::from(format!("{n}-sn"))]))
            .with_change(AttributeChange::add("description", [Value::from(*n)])),
        );
    }
    let r = export(inst.as_mut(), &sch, adds).unwrap();
    for x in &r {
        assert_eq!(x.code, ExportErrorCode::Success, "{x:?}");
    }
    let (entries, _, _) = import(inst.as_mut(), &sch, ImportType::Full, "", 100).unwrap();
    let mine = in_ou(&entries, &ou);
    assert_eq!(mine.len(), names.len());
    for n in names {
        let e = mine
            .iter()
            .find(|e| values(e, "description") == [n.to_owned()])
            .unwrap_or_else(|| panic!("{n:?} not imported"));
        assert_eq!(values(e, "sn"), [format!("{n}-sn")]);
        // The DN the server returns names the same value.
        let rdn =
            e.dn.split_once(&format!(",{ou}"))
                .map(|x| x.0)
                .unwrap_or(&e.dn);
        let read = s.read(&e.dn).expect("DN from import reads back");
        assert!(all(&read, "cn").contains(&n.to_owned()), "{rdn} vs {n:?}");
    }

    // Filter metacharacters in an anchor value: with `uid` as a manual anchor, the
    // lookup for "x*" must find only that entry, not everything starting with x.
    add_user(&s, &ou, "x*", vec![]);
    add_user(&s, &ou, "xa", vec![]);
    add_user(&s, &ou, "x(y)\\z", vec![]);
    let mut by_uid = cfg.clone();
    by_uid.set("Anchor", "uid");
    let (mut inst2, _) = instance(&p, &by_uid);
    for (id, uid) in [("f1", "x*"), ("f2", "x(y)\\z")] {
        let r = export(
            inst2.as_mut(),
            &sch,
            vec![
                entry(id, "inetOrgPerson", ObjectModification::Update, "")
                    .with_anchor("uid", uid)
                    .with_change(AttributeChange::replace(
                        "title",
                        [Value::from(format!("t-{uid}"))],
                    )),
            ],
        )
        .unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    }
    let xa = s.read(&format!("uid=xa,{ou}")).unwrap();
    assert!(
        all(&xa, "title").is_empty(),
        "wildcard leaked: {:?}",
        all(&xa, "title")
    );
    let star = s
        .read(&format!("uid={},{ou}", ldap3::dn_escape("x*")))
        .unwrap();
    assert_eq!(all(&star, "title"), ["t-x*"]);
    let paren = s
        .read(&format!("uid={},{ou}", ldap3::dn_escape("x(y)\\z")))
        .unwrap();
    assert_eq!(all(&paren, "title"), ["t-x(y)\\z"]);
}

#[test]
fn ldap_delta_import_accesslog_with_deletes_and_renames() {
    let Some(s) = Slapd::start() else { return };
    delta_sees_changes_deletes_and_renames(&s, "accesslog", "entryUUID");
}

/// RFC 4533 content sync, chosen automatically when there is no accesslog: deletes come from
/// syncprov's session log.
#[test]
fn ldap_delta_import_content_sync_with_deletes_and_renames() {
    let Some(s) = Slapd::start_with(SlapdOptions {
        no_accesslog: true,
        ..Default::default()
    }) else {
        return;
    };
    delta_sees_changes_deletes_and_renames(&s, "contentsync", "entryUUID");
}

/// Without a session log syncprov can only answer a cookie with a present phase, where
/// deletes are implied by absence: the delta must ask for a full import rather than miss them.
#[test]
fn ldap_content_sync_without_session_log_asks_for_a_full_import() {
    let Some(s) = Slapd::start_with(SlapdOptions {
        no_accesslog: true,
        no_sync_sessionlog: true,
        ..Default::default()
    }) else {
        return;
    };
    let ou = s.create_ou("present");
    let delme = add_user(&s, &ou, "delme", vec![]);
    add_user(&s, &ou, "stays", vec![]);
    let p = plugin();
    let mut cfg = config(&s);
    cfg.set("Delta strategy", "ContentSync");
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);
    let (_, wm, _) = import(inst.as_mut(), &sch, ImportType::Full, "", 50).unwrap();
    s.admin().delete(&delme).unwrap().success().unwrap();
    let err = import(inst.as_mut(), &sch, ImportType::Delta, &wm, 10).unwrap_err();
    assert_eq!(err.kind, ErrorKind::FullImportRequired, "{err}");
    assert!(err.message.contains("present phase"), "{err}");
}

#[test]
fn ldap_delta_import_with_dn_anchor() {
    let Some(s) = Slapd::start() else { return };
    let ou = s.create_ou("deltadn");
    let renme = add_user(&s, &ou, "r1", vec![]);
    let delme = add_user(&s, &ou, "d1", vec![]);
    let p = plugin();
    let mut cfg = config(&s);
    cfg.set("Anchor", "DN");
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);
    let (_, wm, _) = import(inst.as_mut(), &sch, ImportType::Full, "", 50).unwrap();
    let mut admin = s.admin();
    admin
        .modifydn(&renme, "uid=r2", true, None)
        .unwrap()
        .success()
        .unwrap();
    admin.delete(&delme).unwrap().success().unwrap();
    let (delta, _, _) = import(inst.as_mut(), &sch, ImportType::Delta, &wm, 10).unwrap();
    let mut seen: Vec<(ObjectModification, String)> = delta
        .iter()
        .map(|e| (e.modification, e.anchor[0].value.as_text().to_lowercase()))
        .collect();
    seen.sort_by(|a, b| a.1.cmp(&b.1));
    let new_dn = format!("uid=r2,{ou}").to_lowercase();
    assert!(
        seen.contains(&(ObjectModification::Delete, renme.to_lowercase())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(ObjectModification::Delete, delme.to_lowercase())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(ObjectModification::Replace, new_dn)),
        "{seen:?}"
    );
}

fn can_bind(s: &Slapd, dn: &str, pw: &str) -> bool {
    let mut c = ldap3::LdapConn::new(&s.url).unwrap();
    c.simple_bind(dn, pw).map(|r| r.rc == 0).unwrap_or(false)
}

#[test]
fn ldap_set_and_change_password_then_bind() {
    let Some(s) = Slapd::start() else { return };
    let ou = s.create_ou("pw");
    let dn = add_user(&s, &ou, "pwuser", vec![]);
    let uuid = first(&s.read(&dn).unwrap(), "entryUUID").unwrap();
    let target = PasswordTarget {
        object_type: "inetOrgPerson".into(),
        dn: dn.clone(),
        anchor: vec![AnchorAttribute {
            name: "entryUUID".into(),
            value: Value::String(uuid),
        }],
    };
    let p = plugin();
    for (method, hash, pw) in [
        ("Attribute", "0", "Plain-pässword 1"),
        ("Attribute", "1", "Hashed-pässword 2"),
        ("PasswordModify", "0", "Exop-pässword 3"),
    ] {
        let mut cfg = config(&s);
        cfg.set("Password method", method)
            .set("Hash password before sending", hash);
        let (mut inst, _) = instance(&p, &cfg);
        inst.set_password(target.clone(), Secret::new(pw), PasswordOptions::default())
            .unwrap();
        assert!(can_bind(&s, &dn, pw), "bind after {method} hash={hash}");
        assert!(!can_bind(&s, &dn, "wrong"));
        if hash == "1" {
            let stored = s.read(&dn).unwrap();
            let raw = stored
                .bin_attrs
                .get("userPassword")
                .map(|v| String::from_utf8_lossy(&v[0]).into_owned())
                .or_else(|| first(&stored, "userPassword"));
            // The root DN may read it: it must be a hash, never the clear text.
            if let Some(raw) = raw {
                assert!(raw.starts_with("{SSHA}"), "{raw}");
            }
        }
    }
    // Change: proves the old password.
    let cfg = config(&s);
    let (mut inst, _) = instance(&p, &cfg);
    let err = inst
        .change_password(
            target.clone(),
            Secret::new("not the old one"),
            Secret::new("x"),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput, "{err}");
    inst.change_password(
        target,
        Secret::new("Exop-pässword 3"),
        Secret::new("Changed-4"),
    )
    .unwrap();
    assert!(can_bind(&s, &dn, "Changed-4"));
    assert!(!can_bind(&s, &dn, "Exop-pässword 3"));
}

#[test]
fn ldap_sasl_external_over_ldapi_and_anonymous() {
    let Some(s) = Slapd::start() else { return };
    let ou = s.create_ou("ldapi");
    let p = plugin();
    let mut cfg = config(&s);
    cfg.set("Unix socket", s.socket_path.to_str().unwrap())
        .set("Binding", "SASL EXTERNAL")
        .set("User name", "");
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);
    inst.test_connection().unwrap();
    let r = export(
        inst.as_mut(),
        &sch,
        vec![
            entry(
                "e",
                "inetOrgPerson",
                ObjectModification::Add,
                &format!("uid=ext,{ou}"),
            )
            .with_change(AttributeChange::add("cn", [Value::from("ext")]))
            .with_change(AttributeChange::add("sn", [Value::from("ext")])),
        ],
    )
    .unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);

    // Anonymous: may read, may not write.
    let mut anon = config(&s);
    anon.set("Binding", "Anonymous").set("User name", "");
    let (mut inst, _) = instance(&p, &anon);
    let (entries, _, _) = import(inst.as_mut(), &sch, ImportType::Full, "", 100).unwrap();
    assert_eq!(in_ou(&entries, &ou).len(), 1);
    let r = export(
        inst.as_mut(),
        &sch,
        vec![
            entry(
                "a",
                "inetOrgPerson",
                ObjectModification::Add,
                &format!("uid=anon,{ou}"),
            )
            .with_change(AttributeChange::add("cn", [Value::from("a")]))
            .with_change(AttributeChange::add("sn", [Value::from("a")])),
        ],
    )
    .unwrap();
    assert_eq!(r[0].code, ExportErrorCode::PermissionIssue, "{:?}", r[0]);

    // Wrong password: a configuration error from test_connection.
    let mut bad = config(&s);
    bad.set_secret("Password", "wrong");
    let (mut inst, _) = instance(&p, &bad);
    let err = inst.test_connection().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config, "{err}");
    assert!(err.message.contains("invalidCredentials"), "{err}");
}

/// Anchor bytes that are not UTF-8, with filter metacharacters (`*`, `(`, `\`, NUL) among them.
const BINARY_A: [u8; 16] = [
    0xff, 0x00, 0xfe, 0x80, 0x2a, 0x28, 0x5c, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x29, 0xf0, 0x8c, 0x01,
];
/// Differs from [`BINARY_A`] only in invalid sequences: lossy UTF-8 makes the two one text.
const BINARY_B: [u8; 16] = [
    0xfe, 0x00, 0xff, 0x81, 0x2a, 0x28, 0x5c, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x29, 0xf0, 0x8c, 0x01,
];

/// A connector whose anchor is the octet-string `ecmaBinaryId` of the binary-id schema:
/// configuration, schema, and a slapd with `ou=<ou>`.
fn binary_anchor_setup(ou: &str) -> Option<(Slapd, String, ConfigParameters)> {
    let s = Slapd::start_with(SlapdOptions {
        extra_schema: Some(ExtraSchema::binary_id()),
        ..SlapdOptions::default()
    })?;
    let ou = s.create_ou(ou);
    let mut cfg = config(&s);
    cfg.set("Base DNs", ou.clone())
        .set("Object types", "inetOrgPerson")
        .set("Anchor", BINARY_ID_ATTR)
        .set(
            "Auxiliary object classes",
            format!("inetOrgPerson = {BINARY_ID_CLASS}"),
        );
    Some((s, ou, cfg))
}

#[test]
fn ldap_binary_anchor_keeps_its_bytes_through_import_export_and_full_objects() {
    assert_eq!(
        String::from_utf8_lossy(&BINARY_A),
        String::from_utf8_lossy(&BINARY_B),
        "the two anchors must be one text once lossy"
    );
    let Some((s, ou, cfg)) = binary_anchor_setup("binary") else {
        return;
    };
    let alice = s.add_with_binary_id(&ou, "alice", &BINARY_A);
    let bob = s.add_with_binary_id(&ou, "bob", &BINARY_B);
    // A binary attribute that is not the anchor: its bytes are not UTF-8 either.
    let photo = vec![
        0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x80,
    ];
    let r = s
        .admin()
        .modify(
            &alice,
            vec![ldap3::Mod::Add(
                &b"jpegPhoto"[..],
                HashSet::from([&photo[..]]),
            )],
        )
        .unwrap();
    assert_eq!(r.rc, 0, "{r:?}");
    let p = plugin();
    let sch = schema(&p, &cfg);
    let person = sch.object_type("inetOrgPerson").unwrap();
    assert_eq!(person.anchor_attributes, [BINARY_ID_ATTR]);
    let anchor = person.attribute(BINARY_ID_ATTR).unwrap();
    assert_eq!(anchor.data_type, DataType::Binary);
    assert_eq!(
        anchor.operation,
        AttributeOperation::ImportExport,
        "a client-chosen anchor is written by the Add"
    );
    assert_eq!(
        person.attribute("jpegPhoto").unwrap().data_type,
        DataType::Binary
    );
    let (mut inst, _) = instance(&p, &cfg);

    // Import: the exact bytes, two distinct anchors.
    let (entries, _, _) = import(inst.as_mut(), &sch, ImportType::Full, "", 100).unwrap();
    let by_dn = |dn: &str| {
        entries
            .iter()
            .find(|e| e.dn.eq_ignore_ascii_case(dn))
            .unwrap_or_else(|| panic!("{dn} not imported: {entries:?}"))
    };
    let (a, b) = (by_dn(&alice), by_dn(&bob));
    assert_eq!(a.anchor[0].name, BINARY_ID_ATTR);
    assert_eq!(a.anchor[0].value, Value::Binary(BINARY_A.to_vec()));
    assert_eq!(b.anchor[0].value, Value::Binary(BINARY_B.to_vec()));
    assert_eq!(
        a.change("jpegPhoto")
            .unwrap()
            .added_values()
            .collect::<Vec<_>>(),
        [&Value::Binary(photo.clone())]
    );

    // Update found by the anchor bytes alone (no DN): it lands on alice, not on bob.
    let upd = entry("u", "inetOrgPerson", ObjectModification::Update, "")
        .with_anchor(BINARY_ID_ATTR, Value::Binary(BINARY_A.to_vec()))
        .with_change(AttributeChange::replace("sn", [Value::from("Changed")]));
    let r = export(inst.as_mut(), &sch, vec![upd]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    assert_eq!(all(&s.read(&alice).unwrap(), "sn"), ["Changed"]);
    assert_eq!(all(&s.read(&bob).unwrap(), "sn"), ["Binary"]);

    // FullObject: answered by the bytes; bytes no object has are a Delete naming them.
    let ask = |bytes: &[u8]| {
        CsEntryChange::new("inetOrgPerson", ObjectModification::None)
            .with_anchor(BINARY_ID_ATTR, Value::Binary(bytes.to_vec()))
    };
    let mut unknown = BINARY_A;
    unknown[15] = 0x02;
    let answers = inst
        .get_full_objects(vec![ask(&BINARY_B), ask(&unknown)])
        .unwrap()
        .entries
        .to_entries()
        .unwrap();
    assert_eq!(answers.len(), 2, "{answers:?}");
    assert_eq!(answers[0].modification, ObjectModification::Add);
    assert!(answers[0].dn.eq_ignore_ascii_case(&bob), "{:?}", answers[0]);
    assert_eq!(answers[0].anchor[0].value, Value::Binary(BINARY_B.to_vec()));
    assert_eq!(answers[1].modification, ObjectModification::Delete);
    assert_eq!(answers[1].anchor[0].value, Value::Binary(unknown.to_vec()));

    // Add: the client chose the anchor (the host sends it as the entry's anchor); the Add
    // writes those bytes and reports them back as bytes.
    let carol_id: Vec<u8> = (0..16).map(|i| 0xf0 ^ i).collect();
    let add = entry(
        "a",
        "inetOrgPerson",
        ObjectModification::Add,
        &format!("uid=carol,{ou}"),
    )
    .with_anchor(BINARY_ID_ATTR, Value::Binary(carol_id.clone()))
    .with_change(AttributeChange::add("cn", [Value::from("Carol")]))
    .with_change(AttributeChange::add("sn", [Value::from("C")]));
    let r = export(inst.as_mut(), &sch, vec![add]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    assert_eq!(
        s.binary_id(&format!("uid=carol,{ou}")),
        Some(carol_id.clone())
    );
    let reported = r[0]
        .anchor_changes
        .iter()
        .find(|a| a.name == BINARY_ID_ATTR)
        .expect("anchor reported");
    assert_eq!(reported.value, Value::Binary(carol_id));

    // Delete by the anchor bytes: bob goes, alice stays.
    let del = entry("d", "inetOrgPerson", ObjectModification::Delete, "")
        .with_anchor(BINARY_ID_ATTR, Value::Binary(BINARY_B.to_vec()));
    let r = export(inst.as_mut(), &sch, vec![del]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    assert!(s.read(&bob).is_none(), "bob deleted");
    assert_eq!(s.binary_id(&alice), Some(BINARY_A.to_vec()));
}

/// A new DN (an add's, a rename's) must lie under a container the connector serves: the
/// configured `Base DNs`, else the server's naming contexts. Elsewhere it is refused as an
/// invalid DN (400 at the host) naming the DN and the bases, and nothing is written.
#[test]
fn ldap_adds_and_renames_outside_the_base_dns_are_refused() {
    let Some(s) = Slapd::start() else { return };
    let inside = s.create_ou("inside");
    let outside = s.create_ou("outside");
    let p = plugin();
    let mut cfg = config(&s);
    cfg.set("Base DNs", inside.clone());
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);
    let person = |id: &str, dn: &str| {
        entry(id, "inetOrgPerson", ObjectModification::Add, dn)
            .with_change(AttributeChange::add("cn", [Value::from("Stray")]))
            .with_change(AttributeChange::add("sn", [Value::from("S")]))
    };
    let refused = |r: &ExportResult, dn: &str, bases: &[&str]| {
        assert_eq!(r.code, ExportErrorCode::InvalidDn, "{r:?}");
        assert!(r.error_detail.contains(dn), "names the DN: {r:?}");
        for b in bases {
            assert!(r.error_detail.contains(b), "names the base {b}: {r:?}");
        }
    };

    // The entry's DN, and a `-dn-` change (how the host carries a client's `-dn-`).
    let stray = format!("uid=stray,{outside}");
    let by_dn_change = person("2", "").with_change(AttributeChange::add(
        "-dn-",
        [Value::from(format!("uid=stray2,{outside}"))],
    ));
    let r = export(inst.as_mut(), &sch, vec![person("1", &stray), by_dn_change]).unwrap();
    refused(&r[0], &stray, &[&inside]);
    refused(&r[1], &format!("uid=stray2,{outside}"), &[&inside]);
    assert!(s.read(&stray).is_none(), "nothing created");
    assert!(s.read(&format!("uid=stray2,{outside}")).is_none());

    // Under the base: created.
    let kept = format!("uid=kept,{inside}");
    let r = export(inst.as_mut(), &sch, vec![person("3", &kept)]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{r:?}");
    let uuid = first(&s.read(&kept).unwrap(), "entryUUID").unwrap();

    // A rename out of the base, by the entry's DN or by a `-dn-` change: refused, the object
    // stays where it was.
    let away = format!("uid=kept,{outside}");
    let by_dn = entry("4", "inetOrgPerson", ObjectModification::Update, &away)
        .with_anchor("entryUUID", uuid.clone());
    let by_change = entry("5", "inetOrgPerson", ObjectModification::Update, "")
        .with_anchor("entryUUID", uuid.clone())
        .with_change(AttributeChange::replace(
            "-dn-",
            [Value::from(away.clone())],
        ));
    let r = export(inst.as_mut(), &sch, vec![by_dn, by_change]).unwrap();
    refused(&r[0], &away, &[&inside]);
    refused(&r[1], &away, &[&inside]);
    assert!(s.read(&away).is_none(), "not moved");
    assert!(s.read(&kept).is_some());

    // Without Base DNs: the server's naming contexts (not its change log).
    cfg.set("Base DNs", "");
    let (mut inst, _) = instance(&p, &cfg);
    let elsewhere = "uid=stray,ou=people,dc=elsewhere,dc=org";
    let r = export(inst.as_mut(), &sch, vec![person("6", elsewhere)]).unwrap();
    refused(&r[0], elsewhere, &[SUFFIX]);
    assert!(
        !r[0].error_detail.contains("cn=accesslog"),
        "the change log is no container: {:?}",
        r[0]
    );
    let ok = format!("uid=ok,{outside}");
    let r = export(inst.as_mut(), &sch, vec![person("7", &ok)]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{r:?}");
}

/// A delta import (accesslog) with an attribute anchor that is not the entry UUID the log
/// records: changed objects come back with their anchor bytes, a deleted one as a Delete
/// named by its DN (its anchor is gone with it), never by a UUID or a DN posing as the anchor.
#[test]
fn ldap_binary_anchor_delta_import_through_accesslog() {
    let Some((s, ou, cfg)) = binary_anchor_setup("binary-delta") else {
        return;
    };
    let alice = s.add_with_binary_id(&ou, "alice", &BINARY_A);
    let bob = s.add_with_binary_id(&ou, "bob", &BINARY_B);
    let p = plugin();
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);
    let (_, watermark, _) = import(inst.as_mut(), &sch, ImportType::Full, "", 100).unwrap();

    let mut c = s.admin();
    let r = c
        .modify(
            &alice,
            vec![ldap3::Mod::Replace("sn", HashSet::from(["Delta"]))],
        )
        .unwrap();
    assert_eq!(r.rc, 0, "{r:?}");
    assert_eq!(c.delete(&bob).unwrap().rc, 0);
    let carol = s.add_with_binary_id(&ou, "carol", &[0x00, 0xff]);

    let (entries, _, _) = import(inst.as_mut(), &sch, ImportType::Delta, &watermark, 100).unwrap();
    let find = |dn: &str| {
        entries
            .iter()
            .find(|e| e.dn.eq_ignore_ascii_case(dn))
            .unwrap_or_else(|| panic!("{dn} not in the delta: {entries:?}"))
    };
    let a = find(&alice);
    assert_eq!(a.modification, ObjectModification::Replace, "{a:?}");
    assert_eq!(a.anchor[0].value, Value::Binary(BINARY_A.to_vec()));
    assert_eq!(values(a, "sn"), ["Delta"]);
    let c = find(&carol);
    assert_eq!(c.modification, ObjectModification::Replace, "{c:?}");
    assert_eq!(c.anchor[0].value, Value::Binary(vec![0x00, 0xff]));
    let b = find(&bob);
    assert_eq!(b.modification, ObjectModification::Delete, "{b:?}");
    assert!(
        b.anchor
            .iter()
            .all(|x| x.value == Value::Binary(BINARY_B.to_vec())),
        "a deleted object is named by its DN, not by another value as its anchor: {b:?}"
    );
    assert_eq!(entries.len(), 3, "{entries:?}");
}
