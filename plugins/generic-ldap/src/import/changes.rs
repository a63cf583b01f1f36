//! What the change-log strategies (accesslog, changelog) share: change records, and turning
//! them into entries by re-reading every changed object.

use std::collections::HashMap;

use ldap3::{Scope, SearchEntry};
use plugin_api::prelude::*;

use super::plan::ImportPlan;
use crate::conn::{LResult, LdapFailure, Session};
use crate::dn;
use crate::entry::first_value;
use crate::search::search_all;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChangeKind {
    Add,
    Modify,
    Delete,
    Rename,
}

impl ChangeKind {
    /// A logged operation's type (`reqType`, `changeType`; any case); None for an operation
    /// that changes no entry.
    pub fn parse(change_type: &str) -> Option<Self> {
        match change_type.to_ascii_lowercase().as_str() {
            "add" => Some(ChangeKind::Add),
            "modify" => Some(ChangeKind::Modify),
            "delete" => Some(ChangeKind::Delete),
            "modrdn" => Some(ChangeKind::Rename),
            _ => None,
        }
    }
}

/// The identifier a log records for the changed object, and the attribute that holds it
/// (accesslog's `reqEntryUUID` is an `entryUUID`, 389 DS's `targetUniqueId` an `nsUniqueId`).
#[derive(Debug, Clone)]
pub(super) struct LoggedId {
    pub attr: &'static str,
    pub value: String,
}

/// One logged change.
#[derive(Debug, Clone)]
pub(super) struct ChangeRecord {
    kind: ChangeKind,
    dn: String,
    /// A rename's new DN.
    new_dn: Option<String>,
    id: Option<LoggedId>,
    /// The object's class, when the log tells (a deleted object can no longer be read).
    class_hint: Option<String>,
}

impl ChangeRecord {
    /// A change of the object at `dn`; a rename's new DN is made of `new_rdn` and
    /// `new_superior` (None: the parent stays).
    pub fn new(
        kind: ChangeKind,
        dn: String,
        new_rdn: Option<&str>,
        new_superior: Option<&str>,
        id: Option<LoggedId>,
        class_hint: Option<String>,
    ) -> Self {
        let new_dn = (kind == ChangeKind::Rename).then(|| renamed_dn(&dn, new_rdn, new_superior));
        Self {
            kind,
            dn,
            new_dn,
            id,
            class_hint,
        }
    }
}

fn renamed_dn(old: &str, new_rdn: Option<&str>, new_superior: Option<&str>) -> String {
    let parent = new_superior
        .map(str::to_owned)
        .or_else(|| dn::split_first(old).map(|(_, p)| p))
        .unwrap_or_default();
    let rdn = new_rdn.unwrap_or("");
    if parent.is_empty() {
        rdn.to_owned()
    } else {
        format!("{rdn},{parent}")
    }
}

/// Puts log rows in log order (`K` is the position in the log) and resolves them; returns
/// the entries and the newest position (`from` when there were no rows).
pub(super) fn resolve_in_log_order<K: Ord + Clone>(
    session: &mut Session,
    plan: &ImportPlan,
    mut rows: Vec<(K, ChangeRecord)>,
    from: K,
) -> LResult<(Vec<CsEntryChange>, K)> {
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let newest = rows.last().map(|r| r.0.clone()).unwrap_or(from);
    let records = rows.into_iter().map(|r| r.1).collect();
    Ok((resolve(session, plan, records)?, newest))
}

/// Turns change records into entries: every affected object is re-read, so the host gets
/// its current state (with its current DN after renames); objects that are gone (deleted, or
/// moved out of the searched containers) become `Delete`s.
fn resolve(
    session: &mut Session,
    plan: &ImportPlan,
    records: Vec<ChangeRecord>,
) -> LResult<Vec<CsEntryChange>> {
    let records: Vec<ChangeRecord> = records
        .into_iter()
        .filter(|r| plan.in_bases(&r.dn) || r.new_dn.as_deref().is_some_and(|d| plan.in_bases(d)))
        .collect();
    // The logged identifiers find objects only when they are the anchor's values.
    let logs_anchor = |anchor: &str| {
        records.iter().all(|r| {
            r.id.as_ref()
                .is_some_and(|i| i.attr.eq_ignore_ascii_case(anchor))
        })
    };
    match plan.anchor.as_deref() {
        Some(anchor) if logs_anchor(anchor) => resolve_by_uuid(session, plan, anchor, &records),
        // DN as anchor, another attribute as anchor, or a log without identifiers.
        _ => resolve_by_dn(session, plan, &records),
    }
}

/// Objects found by their logged identifier (the anchor), read 50 to a search.
fn resolve_by_uuid(
    session: &mut Session,
    plan: &ImportPlan,
    anchor: &str,
    records: &[ChangeRecord],
) -> LResult<Vec<CsEntryChange>> {
    // Order of first appearance, one entry per object.
    let mut order: Vec<String> = Vec::new();
    let mut hints: HashMap<String, Option<String>> = HashMap::new();
    for r in records {
        let u = r.id.as_ref().expect("checked by the caller").value.clone();
        if !hints.contains_key(&u) {
            order.push(u.clone());
        }
        let h = hints.entry(u).or_default();
        if r.class_hint.is_some() {
            h.clone_from(&r.class_hint);
        }
    }
    let mut found = read_by_anchor(session, plan, anchor, &order)?;
    let mut out = Vec::new();
    for u in order {
        match found.remove(&u.to_lowercase()) {
            Some(e) => out.extend(plan.convert(e, ObjectModification::Replace)),
            None => {
                let hint = hints.get(&u).cloned().flatten();
                out.push(plan.deletion(hint.as_deref(), anchor, u));
            }
        }
    }
    Ok(out)
}

/// The objects among `values` of the anchor that still exist in the searched containers,
/// keyed by the lower-cased anchor value.
fn read_by_anchor(
    session: &mut Session,
    plan: &ImportPlan,
    anchor: &str,
    values: &[String],
) -> LResult<HashMap<String, SearchEntry>> {
    let mut found = HashMap::new();
    for chunk in values.chunks(50) {
        let ors: String = chunk
            .iter()
            .map(|u| format!("({anchor}={})", dn::escape_filter(u)))
            .collect();
        let filter = format!("(&{}(|{ors}))", plan.filter);
        for base in &plan.bases {
            for e in search_all(session, base, plan.scope, &filter, &plan.attrs)? {
                if let Some(u) = first_value(&e, anchor) {
                    found.insert(u.to_lowercase(), e);
                }
            }
        }
    }
    Ok(found)
}

/// What the log says became of a DN.
enum DnState {
    Present,
    /// Deleted or renamed away; the object's class when the log told.
    Gone(Option<String>),
}

/// Objects tracked by DN: the final state per DN decides between re-reading and a delete.
fn resolve_by_dn(
    session: &mut Session,
    plan: &ImportPlan,
    records: &[ChangeRecord],
) -> LResult<Vec<CsEntryChange>> {
    let mut out = Vec::new();
    for (written, state) in final_states(records) {
        let (current, hint) = match state {
            DnState::Present => (read_entry(session, &written, plan)?, None),
            DnState::Gone(hint) => (None, hint),
        };
        match current {
            Some(e) => out.extend(plan.convert(e, ObjectModification::Replace)),
            None if !plan.in_bases(&written) => {}
            None => out.push(plan.deletion_at(hint.as_deref(), written)),
        }
    }
    Ok(out)
}

/// Each DN the records name (as first written), in order of first appearance, with its
/// state after the last record.
fn final_states(records: &[ChangeRecord]) -> Vec<(String, DnState)> {
    let mut order: Vec<(String, String)> = Vec::new(); // (normalized, as written)
    let mut state: HashMap<String, DnState> = HashMap::new();
    let mut touch = |d: &str, s: DnState| {
        let n = dn::normalize(d);
        if !state.contains_key(&n) {
            order.push((n.clone(), d.to_owned()));
        }
        state.insert(n, s);
    };
    for r in records {
        match r.kind {
            ChangeKind::Add | ChangeKind::Modify => touch(&r.dn, DnState::Present),
            ChangeKind::Delete => touch(&r.dn, DnState::Gone(r.class_hint.clone())),
            ChangeKind::Rename => {
                touch(&r.dn, DnState::Gone(r.class_hint.clone()));
                if let Some(n) = &r.new_dn {
                    touch(n, DnState::Present);
                }
            }
        }
    }
    order
        .into_iter()
        .map(|(n, written)| {
            let s = state.remove(&n).expect("touched with the order");
            (written, s)
        })
        .collect()
}

/// The object at `dn_` as the plan reads it; None when there is none (of the plan's types).
pub(super) fn read_entry(
    session: &mut Session,
    dn_: &str,
    plan: &ImportPlan,
) -> LResult<Option<SearchEntry>> {
    match search_all(session, dn_, Scope::Base, &plan.filter, &plan.attrs) {
        Ok(mut v) => Ok(v.pop()),
        Err(LdapFailure::Result { rc: 32, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames() {
        assert_eq!(
            renamed_dn("uid=a,ou=p,dc=x", Some("uid=b"), None),
            "uid=b,ou=p,dc=x"
        );
        assert_eq!(
            renamed_dn("uid=a,ou=p,dc=x", Some("uid=b"), Some("ou=q,dc=x")),
            "uid=b,ou=q,dc=x"
        );
    }
}
