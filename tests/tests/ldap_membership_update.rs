//! Member-by-member updates of a groupOfNames (Entra's PATCH add/remove member) through the
//! generic-ldap connector against a real slapd. The connector first sends such a change
//! without reading the group's members (a compare for the placeholder, then one modify) and
//! falls back to reading them when slapd refuses it: an added member already present
//! (typeOrValueExists), a removed one absent (noSuchAttribute), the last member leaving
//! (objectClassViolation: the placeholder must come in). Each case checks the group as slapd
//! holds it afterwards.

use ecma_host_tests::directory::add_user;
use ecma_host_tests::slapd::connector::{config, entry, export, instance, plugin, schema};
use ecma_host_tests::slapd::{SUFFIX, Slapd};
use plugin_api::host::ConnectorInstance;
use plugin_api::model::*;

const PLACEHOLDER: &str = "cn=empty-membership-placeholder";
const OID_PERMISSIVE_MODIFY: &str = "1.2.840.113556.1.4.1413";

/// A slapd with users `names` under `ou=people`, one connector instance, and groups made
/// through the connector.
struct Fixture {
    s: Slapd,
    inst: Box<dyn ConnectorInstance>,
    schema: Schema,
    users: Vec<String>,
}

impl Fixture {
    fn start(names: &[&str]) -> Option<Self> {
        let s = Slapd::start()?;
        let ou = s.create_ou("people");
        let users = names.iter().map(|n| add_user(&s, &ou, n, vec![])).collect();
        s.create_ou("groups");
        let p = plugin();
        let cfg = config(&s);
        let schema = schema(&p, &cfg);
        let (inst, _) = instance(&p, &cfg);
        Some(Self {
            s,
            inst,
            schema,
            users,
        })
    }

    /// Creates group `cn` with `members` (none: the connector gives it the placeholder).
    fn group(&mut self, cn: &str, members: &[&String]) -> String {
        let gdn = format!("cn={cn},ou=groups,{SUFFIX}");
        let mut add = entry(cn, "groupOfNames", ObjectModification::Add, &gdn);
        if !members.is_empty() {
            add = add.with_change(AttributeChange::add(
                "member",
                members.iter().map(|m| Value::Reference((*m).clone())),
            ));
        }
        let r = export(self.inst.as_mut(), &self.schema, vec![add]).unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
        gdn
    }

    /// Sends one member update (by DN, as the host does for a group it has no anchor of) and
    /// returns its result.
    fn update(&mut self, gdn: &str, adds: &[&String], dels: &[&String]) -> ExportResult {
        let values = adds
            .iter()
            .map(|d| ValueChange::add(Value::Reference((*d).clone())))
            .chain(
                dels.iter()
                    .map(|d| ValueChange::delete(Value::Reference((*d).clone()))),
            )
            .collect();
        let upd = entry("u", "groupOfNames", ObjectModification::Update, gdn)
            .with_change(AttributeChange::update("member", values));
        export(self.inst.as_mut(), &self.schema, vec![upd])
            .unwrap()
            .remove(0)
    }

    /// The group's members as slapd holds them, lower-cased and sorted; None when the group is
    /// gone.
    fn members(&self, gdn: &str) -> Option<Vec<String>> {
        let e = self.s.read(gdn)?;
        let mut m: Vec<String> = e
            .attrs
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("member"))
            .flat_map(|(_, v)| v.iter().map(|d| d.to_lowercase()))
            .collect();
        m.sort();
        Some(m)
    }

    /// Whether slapd offers permissive modify: without it, a present add or an absent delete
    /// fails the connector's first modify and the fallback has to run.
    fn permissive(&self) -> bool {
        let mut c = self.s.admin();
        let (found, _) = c
            .search(
                "",
                ldap3::Scope::Base,
                "(objectClass=*)",
                vec!["supportedControl"],
            )
            .unwrap()
            .success()
            .unwrap();
        let root = ldap3::SearchEntry::construct(found.into_iter().next().unwrap());
        root.attrs
            .get("supportedControl")
            .is_some_and(|v| v.iter().any(|o| o == OID_PERMISSIVE_MODIFY))
    }
}

fn sorted(dns: &[&String]) -> Vec<String> {
    let mut v: Vec<String> = dns.iter().map(|d| d.to_lowercase()).collect();
    v.sort();
    v
}

fn ok(r: &ExportResult) {
    assert_eq!(r.code, ExportErrorCode::Success, "{r:?}");
}

/// The first member replaces the placeholder: found by a compare, deleted after the add.
#[test]
fn ldap_member_added_to_a_placeholder_group_replaces_the_placeholder() {
    let Some(mut f) = Fixture::start(&["pa"]) else {
        return;
    };
    let a = f.users[0].clone();
    let gdn = f.group("fresh", &[]);
    assert_eq!(f.members(&gdn).unwrap(), [PLACEHOLDER], "created empty");
    ok(&f.update(&gdn, &[&a], &[]));
    assert_eq!(f.members(&gdn).unwrap(), sorted(&[&a]), "placeholder out");
}

/// A member added to a group with real members joins them (no placeholder appears); adding
/// one already present succeeds without a duplicate (on a slapd without permissive modify,
/// through the fallback that reads the members).
#[test]
fn ldap_member_added_to_a_group_with_members_and_added_again() {
    let Some(mut f) = Fixture::start(&["ma", "mb", "mc"]) else {
        return;
    };
    let [a, b, c] = [0, 1, 2].map(|i| f.users[i].clone());
    let gdn = f.group("team", &[&a, &b]);
    ok(&f.update(&gdn, &[&c], &[]));
    assert_eq!(f.members(&gdn).unwrap(), sorted(&[&a, &b, &c]));

    let permissive = f.permissive();
    // Present already, spelt differently: slapd's DN matching sees the same member.
    let c_upper = c.to_uppercase();
    for again in [&c, &c_upper] {
        let r = f.update(&gdn, &[again], &[]);
        ok(&r);
        assert_eq!(
            f.members(&gdn).unwrap(),
            sorted(&[&a, &b, &c]),
            "re-adding {again} (permissive modify offered: {permissive})"
        );
    }
    // A present member next to a new one: the new one still goes in.
    let gdn2 = f.group("pair", &[&a]);
    ok(&f.update(&gdn2, &[&a, &b], &[]));
    assert_eq!(f.members(&gdn2).unwrap(), sorted(&[&a, &b]));
}

/// Removing a member that is not there succeeds and changes nothing; with another member
/// added in the same change, that one goes in.
#[test]
fn ldap_absent_member_removed() {
    let Some(mut f) = Fixture::start(&["xa", "xb", "xc"]) else {
        return;
    };
    let [a, b, c] = [0, 1, 2].map(|i| f.users[i].clone());
    let gdn = f.group("absent", &[&a]);
    ok(&f.update(&gdn, &[], &[&b]));
    assert_eq!(f.members(&gdn).unwrap(), sorted(&[&a]));
    ok(&f.update(&gdn, &[&c], &[&b]));
    assert_eq!(f.members(&gdn).unwrap(), sorted(&[&a, &c]));
    // Removing an absent member from a group holding only the placeholder keeps it.
    let empty = f.group("empty", &[]);
    ok(&f.update(&empty, &[], &[&a]));
    assert_eq!(f.members(&empty).unwrap(), [PLACEHOLDER]);
}

/// The last real member leaving brings the placeholder in (slapd refuses the plain delete:
/// groupOfNames must keep a member); the group stays. Removing one of several leaves the
/// others and no placeholder.
#[test]
fn ldap_members_removed_down_to_the_placeholder() {
    let Some(mut f) = Fixture::start(&["ra", "rb", "rc"]) else {
        return;
    };
    let [a, b, c] = [0, 1, 2].map(|i| f.users[i].clone());
    let gdn = f.group("shrink", &[&a, &b, &c]);
    ok(&f.update(&gdn, &[], &[&b]));
    assert_eq!(f.members(&gdn).unwrap(), sorted(&[&a, &c]));
    ok(&f.update(&gdn, &[], &[&a, &c]));
    assert_eq!(
        f.members(&gdn),
        Some(vec![PLACEHOLDER.to_owned()]),
        "the group stays, with the placeholder"
    );
    // And the next member in replaces it again.
    ok(&f.update(&gdn, &[&b], &[]));
    assert_eq!(f.members(&gdn).unwrap(), sorted(&[&b]));
    // Swapping the only member for another: never empty, no placeholder.
    ok(&f.update(&gdn, &[&c], &[&b]));
    assert_eq!(f.members(&gdn).unwrap(), sorted(&[&c]));
}

/// A member update of a group that does not exist is a missing object, not a success or a
/// syntax error (the compare, the first request sent, meets noSuchObject).
#[test]
fn ldap_member_update_of_a_missing_group() {
    let Some(mut f) = Fixture::start(&["na"]) else {
        return;
    };
    let a = f.users[0].clone();
    let gdn = format!("cn=nosuch,ou=groups,{SUFFIX}");
    let r = f.update(&gdn, &[&a], &[]);
    assert_eq!(
        r.code,
        ExportErrorCode::ConnectedDirectoryMissingObject,
        "{r:?}"
    );
    let r = f.update(&gdn, &[], &[&a]);
    assert_eq!(
        r.code,
        ExportErrorCode::ConnectedDirectoryMissingObject,
        "{r:?}"
    );
}
