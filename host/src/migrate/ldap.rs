//! Generic LDAP: the fields whose values need work (Binding, the change log DN), and what the
//! Schema section implies for the connector (object classes, anchor, containers).

use super::export::{MsParameter, RunProfile};
use super::names::{Connector, OurPage, Special, attribute_name, is_dn_pseudo};
use super::plan::{AppPlan, Context, OutValue, shown};

pub fn special(s: Special, p: &MsParameter, plan: &mut AppPlan) {
    let from = p.location();
    let v = p.value.trim();
    if v.is_empty() {
        return;
    }
    match s {
        Special::LdapBinding => {
            let (security, binding) = match v.to_ascii_lowercase().as_str() {
                "anonymous" => (None, "Anonymous"),
                "basic" | "simple" => (None, "Simple"),
                "ssl" => (Some("LDAPS"), "Simple"),
                "tls" => (Some("StartTLS"), "Simple"),
                _ => {
                    plan.note(
                        format!("{from} = {}", shown(v)),
                        "Kerberos and other bindings are not supported: bind with Simple (a DN and a password) or SASL EXTERNAL (a client certificate); 'Binding' is left to our default",
                    );
                    return;
                }
            };
            if let Some(sec) = security {
                plan.set(
                    OurPage::Connectivity,
                    "Connection security",
                    OutValue::Text(sec.into()),
                    &from,
                );
                plan.note(
                    format!("{from} = {}", shown(v)),
                    "with a client certificate Microsoft's connector binds with SASL EXTERNAL: if it did, set 'Binding' to SASL EXTERNAL with 'Client certificate file' and 'Client key file'; set 'CA certificate file' unless the server's CA is in the system trust store",
                );
            }
            plan.set(
                OurPage::Connectivity,
                "Binding",
                OutValue::Text(binding.into()),
                &from,
            );
        }
        Special::LdapChangeLog => {
            let (strategy, dn_param) = if v.to_ascii_lowercase().contains("accesslog") {
                ("Accesslog", "Accesslog DN")
            } else {
                ("Changelog", "Changelog DN")
            };
            plan.set(
                OurPage::Global,
                "Delta strategy",
                OutValue::Text(strategy.into()),
                &from,
            );
            plan.set(
                OurPage::Global,
                dn_param,
                OutValue::Text(v.to_owned()),
                &from,
            );
        }
        _ => {}
    }
}

/// The connector parameters the Schema section decides: the object classes offered, the
/// anchor, the containers read; and Entra mappings that must change.
pub fn finish(ctx: &Context<'_>, plan: &mut AppPlan) {
    let entries = &ctx.export.entries;
    if !entries.is_empty() && plan.get(OurPage::Global, "Object types").is_none() {
        let types: Vec<&str> = entries.iter().map(|e| e.object_type.as_str()).collect();
        plan.set(
            OurPage::Global,
            "Object types",
            OutValue::Text(types.join(", ")),
            "Object Types page: target objects",
        );
    }
    if let Some(anchor) = entries
        .iter()
        .flat_map(|e| e.attributes.iter())
        .find(|a| a.is_anchor)
    {
        let ours = attribute_name(Connector::GenericLdap, &anchor.name);
        let value = if ours == "dn" || is_dn_pseudo(ours) {
            "DN"
        } else {
            ours
        };
        plan.set(
            OurPage::Global,
            "Anchor",
            OutValue::Text(value.to_owned()),
            &format!("Object Types page: Anchor \"{}\"", anchor.name),
        );
    }
    if !ctx.export.partition_dns.is_empty() {
        plan.set(
            OurPage::Global,
            "Base DNs",
            OutValue::Text(ctx.export.partition_dns.join("\n")),
            "Partitions: the partition DNs",
        );
    }
    let delta_profile = ctx
        .export
        .run_profiles
        .iter()
        .any(|(p, _)| *p == RunProfile::DeltaImport);
    if delta_profile && plan.get(OurPage::Global, "Delta strategy").is_none() {
        plan.note(
            "Delta Import run profile",
            "no change log DN in the export: our connector detects the server's change log ('Delta strategy' Auto)",
        );
    }
    let mentions = |name: &str| {
        entries
            .iter()
            .flat_map(|e| e.attributes.iter())
            .any(|a| a.name.eq_ignore_ascii_case(name))
    };
    if entries
        .iter()
        .flat_map(|e| e.attributes.iter())
        .any(|a| is_dn_pseudo(&a.name))
    {
        plan.carried.push(super::plan::Carried {
            from: "attribute -dn-".into(),
            to: "served as it is: ...:ECMA2Host:2.0:User:-dn- names the DN on create and is returned on reads; a change renames the entry unless the DN is the anchor (the SCIM id would change); Entra's mapping to it stays".into(),
        });
    }
    if mentions("_distinguishedName") {
        plan.note(
            "attribute _distinguishedName",
            "matching on _distinguishedName becomes matching on dn: change the Entra matching attribute to ...:User:dn",
        );
    }
    let password_attr = plan
        .text(OurPage::Global, "Password attribute")
        .unwrap_or("userPassword")
        .to_owned();
    if mentions(&password_attr) || mentions("export_password") {
        plan.note(
            format!("attribute {password_attr}"),
            "not exposed: ecma-host takes the initial password through SCIM 'password' (set with the connector's password operation); change the Entra mapping's target attribute to 'password'",
        );
    }
}
