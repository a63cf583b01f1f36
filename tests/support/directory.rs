//! What the Generic LDAP tests need from any directory server (OpenLDAP's slapd, 389 DS), and
//! the scenarios they share.

use std::collections::HashSet;

use plugin_api::model::*;

use crate::ds389::Ds389;
use crate::slapd::Slapd;
use crate::slapd::connector::{import, instance, plugin, schema, values};

pub trait Directory {
    /// A connection bound as the server's administrator.
    fn admin(&self) -> ldap3::LdapConn;
    /// Creates `ou=<name>` under the suffix; returns its DN.
    fn create_ou(&self, name: &str) -> String;
    /// Generic LDAP connector parameters for this server.
    fn connector_config(&self) -> ConfigParameters;
}

impl Directory for Slapd {
    fn admin(&self) -> ldap3::LdapConn {
        Slapd::admin(self)
    }
    fn create_ou(&self, name: &str) -> String {
        Slapd::create_ou(self, name)
    }
    fn connector_config(&self) -> ConfigParameters {
        crate::slapd::connector::config(self)
    }
}

impl Directory for Ds389 {
    fn admin(&self) -> ldap3::LdapConn {
        Ds389::admin(self)
    }
    fn create_ou(&self, name: &str) -> String {
        Ds389::create_ou(self, name)
    }
    fn connector_config(&self) -> ConfigParameters {
        Ds389::connector_config(self)
    }
}

/// Adds an inetOrgPerson `uid=<uid>` under `ou`; returns its DN.
pub fn add_user(
    s: &(impl Directory + ?Sized),
    ou: &str,
    uid: &str,
    extra: Vec<(&str, HashSet<&str>)>,
) -> String {
    let dn = format!("uid={},{ou}", ldap3::dn_escape(uid));
    let mut attrs = vec![
        ("objectClass", HashSet::from(["top", "inetOrgPerson"])),
        ("uid", HashSet::from([uid])),
        ("cn", HashSet::from([uid])),
        ("sn", HashSet::from(["Test"])),
    ];
    attrs.extend(extra);
    let r = s.admin().add(&dn, attrs).expect("add user");
    assert_eq!(r.rc, 0, "add {dn}: {r:?}");
    dn
}

/// The entries whose DN is under `ou`.
pub fn in_ou<'a>(entries: &'a [CsEntryChange], ou: &str) -> Vec<&'a CsEntryChange> {
    entries
        .iter()
        .filter(|e| e.dn.to_lowercase().ends_with(&ou.to_lowercase()))
        .collect()
}

/// The delta scenario every change-tracking strategy must pass: after a full import, a modify,
/// a rename, a delete, an add, and an add-then-delete reach the next delta import (changed
/// objects whole as `Replace`, renamed ones with their new DN and the same anchor, gone ones as
/// `Delete`); unchanged objects are not re-sent; a delta with nothing new is empty.
pub fn delta_sees_changes_deletes_and_renames(s: &dyn Directory, strategy: &str, anchor: &str) {
    let ou = s.create_ou("delta");
    let keep = add_user(s, &ou, "keep", vec![]);
    let modme = add_user(s, &ou, "modme", vec![]);
    let renme = add_user(s, &ou, "renme", vec![]);
    let delme = add_user(s, &ou, "delme", vec![]);
    let p = plugin();
    let cfg = s.connector_config();
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);
    let (full, wm, _) = import(inst.as_mut(), &sch, ImportType::Full, "", 50).unwrap();
    assert_eq!(in_ou(&full, &ou).len(), 4);
    assert!(
        wm.starts_with(&format!("generic-ldap:v1:{strategy}:")),
        "strategy chosen: {wm}"
    );
    assert!(
        full.iter().all(|e| e.anchor[0].name == anchor),
        "anchor {anchor}: {:?}",
        full.first().map(|e| &e.anchor)
    );
    let anchor_of = |dn: &str| {
        full.iter()
            .find(|e| e.dn.eq_ignore_ascii_case(dn))
            .unwrap()
            .anchor[0]
            .value
            .as_text()
    };
    let (ren_uuid, del_uuid) = (anchor_of(&renme), anchor_of(&delme));

    // Changes after the full import.
    let mut admin = s.admin();
    admin
        .modify(
            &modme,
            vec![ldap3::Mod::Replace("title", HashSet::from(["changed"]))],
        )
        .unwrap()
        .success()
        .unwrap();
    admin
        .modifydn(&renme, "uid=renamed", true, None)
        .unwrap()
        .success()
        .unwrap();
    admin.delete(&delme).unwrap().success().unwrap();
    let added = add_user(s, &ou, "added", vec![]);
    let gone = add_user(s, &ou, "addedthengone", vec![]);
    admin.delete(&gone).unwrap().success().unwrap();

    let (delta, wm2, _) = import(inst.as_mut(), &sch, ImportType::Delta, &wm, 2).unwrap();
    assert_ne!(wm2, wm, "the watermark moves forward");
    let find = |pred: &dyn Fn(&CsEntryChange) -> bool| delta.iter().filter(|e| pred(e)).count();
    assert_eq!(
        find(&|e| e.dn.eq_ignore_ascii_case(&keep)),
        0,
        "unchanged object not re-sent"
    );
    let m = delta
        .iter()
        .find(|e| e.dn.eq_ignore_ascii_case(&modme))
        .unwrap();
    assert_eq!(m.modification, ObjectModification::Replace);
    assert_eq!(values(m, "title"), ["changed"]);
    let r = delta
        .iter()
        .find(|e| e.anchor[0].value.as_text() == ren_uuid)
        .expect("renamed object in delta");
    assert_eq!(r.modification, ObjectModification::Replace);
    assert!(r.dn.to_lowercase().starts_with("uid=renamed,"), "{}", r.dn);
    let d = delta
        .iter()
        .find(|e| e.anchor[0].value.as_text() == del_uuid)
        .expect("deleted object in delta");
    assert_eq!(d.modification, ObjectModification::Delete);
    assert_eq!(d.object_type, "inetOrgPerson");
    let a = delta
        .iter()
        .find(|e| e.dn.eq_ignore_ascii_case(&added))
        .unwrap();
    assert_eq!(a.modification, ObjectModification::Replace);
    let deletes = delta
        .iter()
        .filter(|e| e.modification == ObjectModification::Delete)
        .count();
    assert_eq!(deletes, 2, "delme and addedthengone: {delta:#?}");
    assert!(
        !delta
            .iter()
            .any(|e| e.dn.eq_ignore_ascii_case(&gone)
                && e.modification != ObjectModification::Delete),
        "an object added and deleted since the watermark is not imported"
    );

    // Nothing changed since: an empty delta, same watermark.
    let (again, wm3, _) = import(inst.as_mut(), &sch, ImportType::Delta, &wm2, 10).unwrap();
    assert!(again.is_empty(), "{again:#?}");
    assert_eq!(wm3, wm2);
}
