//! Carrying wizard fields through the name table: renames, checkboxes, secrets and value
//! choices here; fields that need more are handed to the connector's own file.

use super::export::{ConnectorExport, MsParameter, MsType};
use super::names::{self, Connector, NameMapping, Rule, Special};
use super::plan::{AppPlan, Context, OutValue, shown};
use super::{ldap, sql};

/// A field with its `<type>:` prefix removed, when the prefix names one of the exported
/// object types (Schema 2–5 and run-step fields are per type).
pub fn strip_type_prefix<'a>(
    name: &'a str,
    export: &ConnectorExport,
) -> (&'a str, Option<&'a str>) {
    if let Some((prefix, rest)) = name.split_once(':') {
        let is_type = export
            .entries
            .iter()
            .any(|e| e.object_type.eq_ignore_ascii_case(prefix.trim()))
            || export.parameters.iter().any(|p| {
                names::normalize(&p.name) == names::normalize("Fixed value list/Table/View/SP")
                    && p.value
                        .split(',')
                        .any(|t| t.trim().eq_ignore_ascii_case(prefix.trim()))
            });
        if is_type && !rest.trim().is_empty() {
            return (rest.trim(), Some(prefix.trim()));
        }
    }
    // "Select Anchor for: User", "Select DN attribute for User".
    let lower = name.to_ascii_lowercase();
    for label in ["select anchor for", "select dn attribute for"] {
        if lower.starts_with(label) {
            let rest = name[label.len()..].trim_start_matches([':', ' ']);
            return (&name[..label.len()], (!rest.is_empty()).then_some(rest));
        }
    }
    (name, None)
}

/// Carries every field of the connector into `plan`.
pub fn carry(ctx: &Context<'_>, connector: Connector, plan: &mut AppPlan) {
    let mut decorations = 0;
    for p in &ctx.export.parameters {
        if p.kind.is_decoration() {
            decorations += 1;
            continue;
        }
        if let Some(size) = page_size(p) {
            if size > 0 {
                plan.import_page_size = size;
                plan.carried.push(super::plan::Carried {
                    from: p.location(),
                    to: format!("import_page_size = {size}"),
                });
            }
            continue;
        }
        let (label, _type) = strip_type_prefix(&p.name, ctx.export);
        match names::lookup(connector, p.page, p.run_profile, label) {
            Some(row) => apply(ctx, row, p, plan),
            None if p.value.trim().is_empty() && !p.is_secret() => {
                plan.unknown.push(format!("{} (empty)", p.location()));
            }
            None if p.is_secret() => plan.unknown.push(format!(
                "{} (an encrypted value: not readable here; if our connector needs it, give it as {{ secret = {{ env = \"...\" }} }})",
                p.location()
            )),
            None => plan
                .unknown
                .push(format!("{} = {}", p.location(), shown(&p.value))),
        }
    }
    if decorations > 0 {
        plan.note(
            format!("{decorations} label/divider field(s)"),
            "information the wizard displayed (server details, headings): nothing to carry",
        );
    }
}

/// The import page size (`PageSizeFullImport`, or a Full Import step's "Page Size"); export
/// page sizes have no counterpart (one SCIM write is one export) and read as 0.
fn page_size(p: &MsParameter) -> Option<u32> {
    let n = names::normalize(&p.name);
    if !n.starts_with("pagesize") {
        return None;
    }
    let full = n == "pagesizefullimport"
        || (n == "pagesize" && p.run_profile == Some(super::export::RunProfile::FullImport));
    Some(if full {
        p.value.trim().parse().unwrap_or(0)
    } else {
        0
    })
}

fn apply(ctx: &Context<'_>, row: &NameMapping, p: &MsParameter, plan: &mut AppPlan) {
    let from = p.location();
    match row.rule {
        Rule::Secret => {
            if p.value.trim().is_empty() && !p.encrypted {
                plan.note(from, "empty in the export: nothing to carry");
                return;
            }
            let what = row.ours.to_owned();
            plan.secret(row.our_page, row.ours, &what, &from);
        }
        Rule::Same => {
            if p.value.trim().is_empty() {
                return;
            }
            if p.is_secret() {
                plan.secret(row.our_page, row.ours, row.ours, &from);
            } else {
                let v = if p.kind == MsType::Text {
                    p.value.trim_matches(['\r', '\n']).replace("\r\n", "\n")
                } else {
                    p.value.trim().to_owned()
                };
                plan.set(row.our_page, row.ours, OutValue::Text(v), &from);
            }
        }
        Rule::Checkbox => {
            let v = matches!(
                p.value.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes"
            );
            plan.set(row.our_page, row.ours, OutValue::Bool(v), &from);
        }
        Rule::Choice(choices) => {
            let v = p.value.trim();
            if v.is_empty() {
                return;
            }
            match choices
                .iter()
                .find(|(ms, _)| names::normalize(ms) == names::normalize(v))
            {
                Some((_, ours)) => plan.set(
                    row.our_page,
                    row.ours,
                    OutValue::Text((*ours).to_owned()),
                    &from,
                ),
                None => plan.note(
                    format!("{from} = {}", shown(v)),
                    format!(
                        "this value has no counterpart in our '{}' (it takes {}): not carried",
                        row.ours,
                        choices
                            .iter()
                            .map(|(_, o)| *o)
                            .collect::<std::collections::BTreeSet<_>>()
                            .into_iter()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            }
        }
        Rule::NotCarried(advice) => {
            let empty = p.value.trim().is_empty() || p.value.trim() == "0";
            if !empty {
                let what = if p.is_secret() {
                    from
                } else {
                    format!("{from} = {}", shown(&p.value))
                };
                plan.note(what, advice);
            }
        }
        Rule::Special(s) => match s {
            Special::LdapBinding | Special::LdapChangeLog => ldap::special(s, p, plan),
            _ => sql::special(ctx, s, row, p, plan),
        },
    }
}
