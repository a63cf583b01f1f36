//! Generic LDAP hardening against a real slapd: group members outside the containers the
//! connector serves are refused (400 at the host, naming the DN) before anything is written,
//! and a simple bind that would send its password in clear text over the network is warned
//! about through the host's log.

use ecma_host_tests::directory::add_user;
use ecma_host_tests::slapd::Slapd;
use ecma_host_tests::slapd::connector::{config, entry, export, instance, plugin, schema};
use plugin_api::model::*;

fn members(e: &ldap3::SearchEntry) -> Vec<String> {
    let mut v = e
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("member"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    v.sort();
    v
}

/// Asserts an export result is the refusal of `dn`: InvalidDn, which the host answers 400
/// with the DN in the detail.
fn refused(r: &ExportResult, dn: &str) {
    assert_eq!(r.code, ExportErrorCode::InvalidDn, "{r:?}");
    assert!(r.error_detail.contains(dn), "names the DN: {r:?}");
    let scim = ecma_host::errors::export_result_to_scim(r).unwrap_err();
    assert_eq!(scim.status, 400, "{scim:?}");
    assert!(scim.detail.contains(dn), "{scim:?}");
}

#[test]
fn ldap_group_members_outside_the_base_dns_are_refused() {
    let Some(s) = Slapd::start() else { return };
    let inside = s.create_ou("members-inside");
    let outside = s.create_ou("members-outside");
    let alice = add_user(&s, &inside, "alice", vec![]);
    let bob = add_user(&s, &inside, "bob", vec![]);
    let mallory = add_user(&s, &outside, "mallory", vec![]);
    let p = plugin();
    let mut cfg = config(&s);
    cfg.set("Base DNs", inside.clone());
    let sch = schema(&p, &cfg);
    let (mut inst, _) = instance(&p, &cfg);
    let gdn = format!("cn=team,{inside}");

    // An Add whose members include one outside the base: refused, nothing created.
    let add = |id: &str, members: Vec<Value>| {
        entry(id, "groupOfNames", ObjectModification::Add, &gdn)
            .with_change(AttributeChange::add("member", members))
    };
    let r = export(
        inst.as_mut(),
        &sch,
        vec![add(
            "g1",
            vec![
                Value::Reference(alice.clone()),
                Value::Reference(mallory.clone()),
            ],
        )],
    )
    .unwrap();
    refused(&r[0], &mallory);
    assert!(s.read(&gdn).is_none(), "nothing created");

    // Members under the base: created.
    let r = export(
        inst.as_mut(),
        &sch,
        vec![add("g2", vec![Value::Reference(alice.clone())])],
    )
    .unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{r:?}");
    let uuid = r[0].anchor_changes[0].value.as_text();
    let update = |id: &str, change: AttributeChange| {
        entry(id, "groupOfNames", ObjectModification::Update, &gdn)
            .with_anchor("entryUUID", uuid.clone())
            .with_change(change)
    };

    // An Update adding an outside member (with an inside one in the same change): refused as
    // a whole, the group unchanged. The value as a plain string is refused alike.
    let r = export(
        inst.as_mut(),
        &sch,
        vec![
            update(
                "u1",
                AttributeChange::update(
                    "member",
                    vec![
                        ValueChange::add(Value::Reference(bob.clone())),
                        ValueChange::add(Value::Reference(mallory.clone())),
                    ],
                ),
            ),
            update(
                "u2",
                AttributeChange::update(
                    "member",
                    vec![ValueChange::add(Value::String(mallory.to_uppercase()))],
                ),
            ),
        ],
    )
    .unwrap();
    refused(&r[0], &mallory);
    refused(&r[1], &mallory.to_uppercase());
    assert_eq!(members(&s.read(&gdn).unwrap()), vec![alice.clone()]);

    // A Replace of the member set that names the outsider: refused.
    let r = export(
        inst.as_mut(),
        &sch,
        vec![update(
            "u3",
            AttributeChange::replace("member", [Value::Reference(mallory.clone())]),
        )],
    )
    .unwrap();
    refused(&r[0], &mallory);
    assert_eq!(members(&s.read(&gdn).unwrap()), vec![alice.clone()]);

    // A DN whose last RDN value merely ends like the base (an escaped comma) is not under it.
    let lookalike = format!("cn=x\\,{inside}");
    let r = export(
        inst.as_mut(),
        &sch,
        vec![update(
            "u4",
            AttributeChange::update(
                "member",
                vec![ValueChange::add(Value::Reference(lookalike.clone()))],
            ),
        )],
    )
    .unwrap();
    refused(&r[0], &lookalike);

    // Members inside are added, and removing a member is never refused.
    let r = export(
        inst.as_mut(),
        &sch,
        vec![update(
            "u5",
            AttributeChange::update(
                "member",
                vec![
                    ValueChange::add(Value::Reference(bob.clone())),
                    ValueChange::delete(Value::Reference(alice.clone())),
                ],
            ),
        )],
    )
    .unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{r:?}");
    assert_eq!(members(&s.read(&gdn).unwrap()), vec![bob.clone()]);

    // A group created empty gets the connector's placeholder, which lies outside every base
    // and is still allowed.
    let empty = format!("cn=empty,{inside}");
    let r = export(
        inst.as_mut(),
        &sch,
        vec![entry("g3", "groupOfNames", ObjectModification::Add, &empty)],
    )
    .unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{r:?}");
    assert_eq!(members(&s.read(&empty).unwrap()).len(), 1);
}

#[test]
fn ldap_a_clear_text_simple_bind_over_the_network_is_warned_about() {
    let Some(s) = Slapd::start() else { return };
    let p = plugin();
    let warnings = |cfg: &ConfigParameters| {
        let (_inst, log) = instance(&p, cfg);
        let lines = log.0.lock().unwrap().clone();
        lines
            .into_iter()
            .filter(|(level, m)| *level == LogLevel::Warn && m.contains("clear text"))
            .map(|(_, m)| m)
            .collect::<Vec<_>>()
    };
    // The harness binds over loopback: nothing leaves the machine, no warning.
    let cfg = config(&s);
    assert!(warnings(&cfg).is_empty());
    // The same bind to a server elsewhere (the name does not resolve; the warning comes
    // before any connection): warned, with the server and the bind DN, never the password.
    let mut remote = config(&s);
    remote
        .set("Host", "ldap.example.invalid")
        .set("Connection timeout", "1");
    let w = warnings(&remote);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("ldap://ldap.example.invalid:")
            && w[0].contains("cn=admin")
            && w[0].contains("StartTLS")
            && !w[0].contains(ecma_host_tests::slapd::ADMIN_PW),
        "{w:?}"
    );
    // With StartTLS the password is protected: no warning.
    remote.set("Connection security", "StartTLS");
    assert!(warnings(&remote).is_empty());
}
