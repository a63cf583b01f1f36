//! The generic-ldap connector against a real 389 Directory Server (started by the harness in a
//! temp dir, stopped by PID): vendor detection, `nsUniqueId` anchors, paged full import,
//! the `cn=changelog` delta with renames and deletes, and exports.

use ecma_host_tests::directory::{add_user, delta_sees_changes_deletes_and_renames, in_ou};
use ecma_host_tests::ds389::Ds389;
use ecma_host_tests::slapd::connector::{entry, export, import, instance, plugin, schema};
use plugin_api::model::*;

/// Auto settings on 389 DS: the Root DSE says "389 Project", so the anchor is `nsUniqueId`
/// and the delta reads the retro changelog (`changeNumber`, `targetUniqueId`).
#[test]
fn ds389_changelog_delta_with_renames_and_deletes() {
    let Some(ds) = Ds389::start() else { return };
    delta_sees_changes_deletes_and_renames(&ds, "changelog", "nsUniqueId");
}

#[test]
fn ds389_schema_paged_import_and_exports() {
    let Some(ds) = Ds389::start() else { return };
    let ou = ds.create_ou("people");
    for i in 0..25 {
        add_user(&ds, &ou, &format!("u{i:02}"), vec![]);
    }
    let p = plugin();
    let mut cfg = ds.connector_config();
    cfg.set("Search page size", "10");
    let sch = schema(&p, &cfg);
    let person = sch
        .types
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case("inetOrgPerson"))
        .expect("inetOrgPerson from the subschema");
    assert!(person.attribute("mail").is_some() && person.attribute("uid").is_some());
    let (mut inst, _) = instance(&p, &cfg);
    inst.test_connection().unwrap();
    let (full, _, pages) = import(inst.as_mut(), &sch, ImportType::Full, "", 7).unwrap();
    let people = in_ou(&full, &ou);
    assert_eq!(people.len(), 25, "paged import of every entry");
    assert!(pages >= 4, "pages of at most 7: {pages}");
    let nsuid = |s: &str| {
        // nsUniqueId is four groups of eight hex digits.
        s.split('-').count() == 4 && s.split('-').all(|g| g.len() == 8)
    };
    assert!(
        people
            .iter()
            .all(|e| e.anchor[0].name == "nsUniqueId" && nsuid(&e.anchor[0].value.as_text())),
        "{:?}",
        people[0].anchor
    );

    // Add (the server's nsUniqueId comes back as the anchor), update, rename, delete.
    let dn = format!("uid=new,{ou}");
    let add = entry("new", "inetOrgPerson", ObjectModification::Add, &dn)
        .with_change(AttributeChange::add("cn", [Value::from("New")]))
        .with_change(AttributeChange::add("sn", [Value::from("Person")]))
        .with_change(AttributeChange::add(
            "mail",
            [Value::from("new@example.com")],
        ));
    let r = export(inst.as_mut(), &sch, vec![add]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    let anchor = r[0]
        .anchor_changes
        .iter()
        .find(|a| a.name == "nsUniqueId")
        .expect("nsUniqueId anchor")
        .value
        .as_text();
    assert!(nsuid(&anchor), "{anchor}");
    let renamed = format!("uid=renamed,{ou}");
    let upd = entry("new", "inetOrgPerson", ObjectModification::Update, &renamed)
        .with_anchor("nsUniqueId", anchor.clone())
        .with_change(AttributeChange::replace(
            "mail",
            [Value::from("renamed@example.com")],
        ));
    let r = export(inst.as_mut(), &sch, vec![upd]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    let (after, _, _) = import(inst.as_mut(), &sch, ImportType::Full, "", 100).unwrap();
    let e = after
        .iter()
        .find(|e| e.anchor[0].value.as_text() == anchor)
        .expect("the exported object, found by its anchor");
    assert!(e.dn.eq_ignore_ascii_case(&renamed), "renamed: {}", e.dn);
    assert_eq!(
        ecma_host_tests::slapd::connector::values(e, "mail"),
        ["renamed@example.com"]
    );
    // An empty group gets the placeholder member on 389 DS too.
    let g = entry(
        "g",
        "groupOfNames",
        ObjectModification::Add,
        &format!("cn=empty,{ou}"),
    );
    let r = export(inst.as_mut(), &sch, vec![g]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    // Errors map like on OpenLDAP: a duplicate is ExistingObject, a missing one MissingObject.
    let dup = entry("dup", "inetOrgPerson", ObjectModification::Add, &renamed)
        .with_change(AttributeChange::add("cn", [Value::from("x")]))
        .with_change(AttributeChange::add("sn", [Value::from("y")]));
    let r = export(inst.as_mut(), &sch, vec![dup]).unwrap();
    assert_eq!(
        r[0].code,
        ExportErrorCode::ConnectedDirectoryExistingObject,
        "{:?}",
        r[0]
    );
    let del = entry("new", "inetOrgPerson", ObjectModification::Delete, &renamed)
        .with_anchor("nsUniqueId", anchor.clone());
    let r = export(inst.as_mut(), &sch, vec![del.clone()]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    let r = export(inst.as_mut(), &sch, vec![del]).unwrap();
    assert_eq!(
        r[0].code,
        ExportErrorCode::ConnectedDirectoryMissingObject,
        "{:?}",
        r[0]
    );
}

/// 389 DS lets a `groupOfNames` go without `member` (it is optional there): the last member
/// leaving is accepted as it is sent, and the connector then puts the placeholder in, as it
/// does where the schema refuses an empty group.
#[test]
fn ds389_last_member_out_brings_the_placeholder_in() {
    let Some(ds) = Ds389::start() else { return };
    let people = ds.create_ou("people");
    let member = add_user(&ds, &people, "m", vec![]);
    let groups = ds.create_ou("groups");
    let p = plugin();
    let cfg = ds.connector_config();
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);
    let gdn = format!("cn=g,{groups}");
    let add = entry("g", "groupOfNames", ObjectModification::Add, &gdn).with_change(
        AttributeChange::add("member", [Value::Reference(member.clone())]),
    );
    let r = export(inst.as_mut(), &sch, vec![add]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    let members = |ds: &Ds389| -> Vec<String> {
        let (found, _) = ds
            .admin()
            .search(&gdn, ldap3::Scope::Base, "(objectClass=*)", vec!["member"])
            .unwrap()
            .success()
            .unwrap();
        let group = ldap3::SearchEntry::construct(found.into_iter().next().expect("the group"));
        let mut m: Vec<String> = group
            .attrs
            .into_iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("member"))
            .flat_map(|(_, v)| v)
            .map(|d| d.to_lowercase())
            .collect();
        m.sort();
        m
    };
    assert_eq!(members(&ds), [member.to_lowercase()]);
    let leave = entry("g", "groupOfNames", ObjectModification::Update, &gdn).with_change(
        AttributeChange::update(
            "member",
            vec![ValueChange::delete(Value::Reference(member))],
        ),
    );
    let r = export(inst.as_mut(), &sch, vec![leave]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    assert_eq!(members(&ds), ["cn=empty-membership-placeholder"]);
}
