//! The generic-ldap connector's FullObject import and first-pass passwords against a real
//! slapd, through the plugin ABI: answers equal to what a full import gives after the
//! directory changed behind the connector's back, Deletes for objects the directory does not
//! hold (as the requested type), DN-only requests, DN anchors, a directory that is down; an Add
//! carrying `export_password` creates the entry with a password one can bind with.

use std::collections::HashSet;

use ecma_host_tests::directory::add_user;
use ecma_host_tests::slapd::Slapd;
use ecma_host_tests::slapd::connector::{
    config, entry, export, import, instance, plugin, schema, values,
};
use plugin_api::host::{ConnectorInstance, ConnectorPlugin};
use plugin_api::model::*;

fn first(e: &ldap3::SearchEntry, attr: &str) -> Option<String> {
    e.attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .and_then(|(_, v)| v.first().cloned())
}

/// The schema the host sends when it imports one object type.
fn one_type(sch: &Schema, name: &str) -> Schema {
    Schema {
        types: vec![sch.object_type(name).expect("type in schema").clone()],
    }
}

/// A full import of one type, the way the host runs it.
fn full_import(inst: &mut dyn ConnectorInstance, sch: &Schema) -> Vec<CsEntryChange> {
    import(inst, sch, ImportType::Full, "", 100).unwrap().0
}

fn full_objects(
    inst: &mut dyn ConnectorInstance,
    requests: Vec<CsEntryChange>,
) -> ConnectorResult<Vec<CsEntryChange>> {
    Ok(inst
        .get_full_objects(requests)?
        .entries
        .to_entries()
        .unwrap())
}

/// An entry with its attribute changes in name order: a full import lists them in the
/// server's order, a re-read in another; the content is what must match.
fn sorted(mut e: CsEntryChange) -> CsEntryChange {
    e.changes.sort_by_key(|c| c.name.to_lowercase());
    e
}

fn imported<'a>(entries: &'a [CsEntryChange], dn: &str) -> &'a CsEntryChange {
    entries
        .iter()
        .find(|e| e.dn.eq_ignore_ascii_case(dn))
        .unwrap_or_else(|| panic!("{dn} not imported"))
}

fn request(object_type: &str, dn: &str, anchor: Option<(&str, &str)>) -> CsEntryChange {
    let mut r = CsEntryChange::new(object_type, ObjectModification::None);
    r.dn = dn.to_owned();
    if let Some((name, value)) = anchor {
        r = r.with_anchor(name, value);
    }
    r
}

fn by_uuid(value: &str) -> Option<(&str, &str)> {
    Some(("entryUUID", value))
}

#[test]
fn ldap_full_objects_answer_as_a_full_import_does() {
    let Some(mut s) = Slapd::start() else { return };
    let ou = s.create_ou("fullobject");
    let alice = add_user(&s, &ou, "alice", vec![]);
    let bob = add_user(&s, &ou, "bob", vec![]);
    let team = format!("cn=team,{ou}");
    s.admin()
        .add(
            &team,
            vec![
                ("objectClass", HashSet::from(["groupOfNames"])),
                ("cn", HashSet::from(["team"])),
                ("member", HashSet::from([alice.as_str()])),
            ],
        )
        .unwrap()
        .success()
        .unwrap();
    let uuid = |dn: &str| first(&s.read(dn).unwrap(), "entryUUID").unwrap();
    let (alice_uuid, bob_uuid, team_uuid) = (uuid(&alice), uuid(&bob), uuid(&team));

    // Behind the connector's back: alice changes, bob is renamed.
    let mut admin = s.admin();
    admin
        .modify(
            &alice,
            vec![
                ldap3::Mod::Replace("title", HashSet::from(["changed"])),
                ldap3::Mod::Add("mail", HashSet::from(["a1@x", "a2@x"])),
            ],
        )
        .unwrap()
        .success()
        .unwrap();
    admin
        .modifydn(&bob, "uid=robert", true, None)
        .unwrap()
        .success()
        .unwrap();
    let robert = format!("uid=robert,{ou}");

    let p = plugin();
    let cfg = config(&s);
    let sch = schema(&p, &cfg);
    let users = one_type(&sch, "inetOrgPerson");
    let groups = one_type(&sch, "groupOfNames");
    // A fresh instance: the host has described no type to it yet.
    let (mut inst, _) = instance(&p, &cfg);
    let answers = full_objects(
        inst.as_mut(),
        vec![
            // 0: by anchor (with its DN).
            request("inetOrgPerson", &alice, by_uuid(&alice_uuid)),
            // 1: by anchor, with the DN from before the rename.
            request("inetOrgPerson", &bob, by_uuid(&bob_uuid)),
            // 2: by DN only (a create whose entryUUID the host never learned).
            request("inetOrgPerson", &alice, None),
            // 3: an anchor no object has.
            request(
                "inetOrgPerson",
                "",
                by_uuid("00000000-0000-4000-8000-000000000000"),
            ),
            // 4: a DN no object has.
            request("inetOrgPerson", &format!("uid=nobody,{ou}"), None),
            // 5, 6: objects of the other type.
            request("groupOfNames", &alice, None),
            request("inetOrgPerson", "", by_uuid(&team_uuid)),
            // 7: the group, by anchor.
            request("groupOfNames", "", by_uuid(&team_uuid)),
            // Unanswered: nothing to find it by; a type the connector does not offer.
            request("inetOrgPerson", "", None),
            request("organizationalUnit", &ou, None),
            // 8: a filter metacharacter is a value, not a wildcard.
            request("inetOrgPerson", "", by_uuid("*")),
        ],
    )
    .unwrap();
    assert_eq!(answers.len(), 9, "{answers:#?}");

    let now_users = full_import(inst.as_mut(), &users);
    let now_groups = full_import(inst.as_mut(), &groups);
    let as_imported = |dn: &str, from: &[CsEntryChange]| sorted(imported(from, dn).clone());

    assert_eq!(sorted(answers[0].clone()), as_imported(&alice, &now_users));
    assert_eq!(answers[0].modification, ObjectModification::Add);
    assert_eq!(values(&answers[0], "title"), ["changed"]);
    assert_eq!(values(&answers[0], "mail"), ["a1@x", "a2@x"]);
    assert!(answers[0].change("userPassword").is_none());

    assert_eq!(sorted(answers[1].clone()), as_imported(&robert, &now_users));
    assert!(
        answers[1].dn.starts_with("uid=robert,"),
        "{}",
        answers[1].dn
    );
    assert_eq!(answers[1].anchor_value().unwrap().as_text(), bob_uuid);

    assert_eq!(sorted(answers[2].clone()), as_imported(&alice, &now_users));
    assert_eq!(answers[2].anchor[0].name, "entryUUID");
    assert_eq!(answers[2].anchor_value().unwrap().as_text(), alice_uuid);

    let deleted = |i: usize, object_type: &str| {
        let a = &answers[i];
        assert_eq!(
            a.modification,
            ObjectModification::Delete,
            "answer {i}: {a:?}"
        );
        assert_eq!(a.object_type, object_type, "answer {i}");
        assert!(a.changes.is_empty());
        a
    };
    let d = deleted(3, "inetOrgPerson");
    assert_eq!(d.anchor[0].name, "entryUUID");
    assert_eq!(
        d.anchor_value().unwrap().as_text(),
        "00000000-0000-4000-8000-000000000000"
    );
    assert_eq!(deleted(4, "inetOrgPerson").dn, format!("uid=nobody,{ou}"));
    assert_eq!(deleted(5, "groupOfNames").dn, alice);
    assert_eq!(
        deleted(6, "inetOrgPerson")
            .anchor_value()
            .unwrap()
            .as_text(),
        team_uuid
    );
    assert_eq!(sorted(answers[7].clone()), as_imported(&team, &now_groups));
    assert_eq!(answers[7].object_type, "groupOfNames");
    assert_eq!(values(&answers[7], "member"), [alice.as_str()]);
    assert_eq!(
        deleted(8, "inetOrgPerson")
            .anchor_value()
            .unwrap()
            .as_text(),
        "*"
    );

    // The host described its choice of attributes (import or export of the type): the answer
    // carries those, as the import of that type does.
    let mut narrow = users.clone();
    narrow.types[0]
        .attributes
        .retain(|a| ["entryUUID", "uid", "mail"].contains(&a.name.as_str()));
    let narrow_users = full_import(inst.as_mut(), &narrow);
    let answers = full_objects(
        inst.as_mut(),
        vec![request("inetOrgPerson", "", by_uuid(&alice_uuid))],
    )
    .unwrap();
    assert_eq!(
        sorted(answers[0].clone()),
        as_imported(&alice, &narrow_users)
    );
    let names: Vec<&str> = answers[0].changes.iter().map(|c| c.name.as_str()).collect();
    assert!(
        !names.contains(&"title") && names.contains(&"mail"),
        "{names:?}"
    );

    // The directory cannot be asked: a retryable connection error, not an answer.
    s.stop();
    let err = full_objects(
        inst.as_mut(),
        vec![request("inetOrgPerson", "", by_uuid(&alice_uuid))],
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection, "{err}");
}

#[test]
fn ldap_full_objects_with_the_dn_as_anchor() {
    let Some(s) = Slapd::start() else { return };
    let ou = s.create_ou("fulldn");
    let elsewhere = s.create_ou("elsewhere");
    let carol = add_user(&s, &ou, "carol", vec![]);
    let outside = add_user(&s, &elsewhere, "dave", vec![]);
    let p = plugin();
    let mut cfg = config(&s);
    cfg.set("Anchor", "DN").set("Base DNs", &ou);
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);
    let users = one_type(&sch, "inetOrgPerson");
    s.admin()
        .modify(
            &carol,
            vec![ldap3::Mod::Replace("description", HashSet::from(["new"]))],
        )
        .unwrap()
        .success()
        .unwrap();
    let ghost = format!("uid=ghost,{ou}");
    let answers = full_objects(
        inst.as_mut(),
        vec![
            request("inetOrgPerson", "", Some(("dn", &carol))),
            request("inetOrgPerson", "", Some(("dn", &ghost))),
            // Outside the configured containers: a full import never returns it.
            request("inetOrgPerson", &outside, None),
            request("groupOfNames", &carol, None),
        ],
    )
    .unwrap();
    assert_eq!(answers.len(), 4, "{answers:#?}");
    let now = full_import(inst.as_mut(), &users);
    assert_eq!(
        sorted(answers[0].clone()),
        sorted(imported(&now, &carol).clone())
    );
    assert_eq!(answers[0].anchor[0].name, "dn");
    assert_eq!(values(&answers[0], "description"), ["new"]);
    for (i, dn) in [(1, &ghost), (2, &outside), (3, &carol)] {
        let a = &answers[i];
        assert_eq!(a.modification, ObjectModification::Delete, "{a:?}");
        assert_eq!(a.dn, *dn);
        assert_eq!(a.anchor[0].name, "dn");
        assert_eq!(a.anchor_value().unwrap().as_text(), *dn);
    }
    assert_eq!(answers[3].object_type, "groupOfNames");
    assert!(s.read(&outside).is_some() && s.read(&carol).is_some());
}

fn can_bind(s: &Slapd, dn: &str, pw: &str) -> bool {
    let mut c = ldap3::LdapConn::new(&s.url).unwrap();
    c.simple_bind(dn, pw).map(|r| r.rc == 0).unwrap_or(false)
}

/// The stored password attribute, as the root DN reads it.
fn stored_password(s: &Slapd, dn: &str) -> String {
    let e = s.read(dn).expect("entry");
    e.bin_attrs
        .get("userPassword")
        .map(|v| String::from_utf8_lossy(&v[0]).into_owned())
        .or_else(|| first(&e, "userPassword"))
        .expect("userPassword stored")
}

fn new_user(id: &str, ou: &str, uid: &str) -> CsEntryChange {
    entry(
        id,
        "inetOrgPerson",
        ObjectModification::Add,
        &format!("uid={uid},{ou}"),
    )
    .with_change(AttributeChange::add("uid", [Value::from(uid)]))
    .with_change(AttributeChange::add("cn", [Value::from(uid)]))
    .with_change(AttributeChange::add("sn", [Value::from("First")]))
}

fn with_password(e: CsEntryChange, values: &[&str]) -> CsEntryChange {
    e.with_change(AttributeChange::add(
        "export_password",
        values.iter().map(|v| Value::from(*v)),
    ))
}

#[test]
fn ldap_export_password_in_first_pass() {
    let Some(s) = Slapd::start() else { return };
    let ou = s.create_ou("firstpass");
    let p = plugin();
    let cfg = config(&s);
    assert!(p.capabilities(&cfg).unwrap().export_password_in_first_pass);
    let sch = schema(&p, &cfg);
    assert!(
        sch.types
            .iter()
            .all(|t| t.attribute("export_password").is_none()),
        "export_password is not a schema attribute"
    );

    for (hash, uid, pw) in [
        ("0", "plain", "First-pässword 1"),
        ("1", "hashed", "First-pässword 2"),
    ] {
        let mut cfg = config(&s);
        cfg.set("Hash password before sending", hash);
        let (mut inst, log) = instance(&p, &cfg);
        let r = export(
            inst.as_mut(),
            &sch,
            vec![with_password(new_user("1", &ou, uid), &[pw])],
        )
        .unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
        let dn = format!("uid={uid},{ou}");
        let e = s.read(&dn).expect("created");
        assert!(
            !e.attrs
                .keys()
                .any(|k| k.eq_ignore_ascii_case("export_password"))
        );
        assert!(
            can_bind(&s, &dn, pw),
            "bind with the first-pass password (hash={hash})"
        );
        assert!(!can_bind(&s, &dn, "wrong"));
        let stored = stored_password(&s, &dn);
        if hash == "1" {
            assert!(stored.starts_with("{SSHA}"), "{stored}");
        } else {
            assert_eq!(stored, pw);
        }
        let lines = log.0.lock().unwrap();
        assert!(lines.iter().all(|(_, m)| !m.contains(pw)), "{lines:?}");
    }

    let (mut inst, log) = instance(&p, &cfg);
    let secret = "Never-in-a-message 3";
    // Not one string value; and outside an Add (a password change is SetPassword's).
    let update = entry(
        "3",
        "inetOrgPerson",
        ObjectModification::Update,
        &format!("uid=plain,{ou}"),
    );
    let r = export(
        inst.as_mut(),
        &sch,
        vec![
            with_password(new_user("2", &ou, "twovalues"), &[secret, "other"]),
            with_password(update, &[secret]),
        ],
    )
    .unwrap();
    for res in &r {
        assert_eq!(res.code, ExportErrorCode::SyntaxViolation, "{res:?}");
        assert!(res.error_detail.contains("export_password"), "{res:?}");
        assert!(!res.error_detail.contains(secret), "{res:?}");
    }
    assert!(s.read(&format!("uid=twovalues,{ou}")).is_none());
    assert!(can_bind(&s, &format!("uid=plain,{ou}"), "First-pässword 1"));

    // With Password Modify the add cannot carry the password: not declared, and an Add that
    // carries one anyway fails clearly and creates nothing.
    let mut exop = config(&s);
    exop.set("Password method", "PasswordModify");
    assert!(!p.capabilities(&exop).unwrap().export_password_in_first_pass);
    let (mut inst2, log2) = instance(&p, &exop);
    let r = export(
        inst2.as_mut(),
        &sch,
        vec![with_password(new_user("4", &ou, "exop"), &[secret])],
    )
    .unwrap();
    assert_eq!(r[0].code, ExportErrorCode::CustomStopRun, "{:?}", r[0]);
    assert!(
        r[0].error_detail.contains("export_password")
            && r[0].error_detail.contains("Password method"),
        "{}",
        r[0].error_detail
    );
    assert!(!r[0].error_detail.contains(secret));
    assert!(s.read(&format!("uid=exop,{ou}")).is_none());
    for l in [log, log2] {
        let lines = l.0.lock().unwrap();
        assert!(lines.iter().all(|(_, m)| !m.contains(secret)), "{lines:?}");
    }
}
