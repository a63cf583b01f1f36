//! Delta by RFC 4533 content synchronisation (refreshOnly) from the sync cookie of each
//! searched container.

use std::collections::HashMap;

use plugin_api::prelude::*;

use super::plan::ImportPlan;
use super::sync_cookies::SyncCookies;
use super::sync_refresh::{SyncRefresh, sync_refresh};
use crate::conn::{LResult, LdapFailure, Session};

/// The watermark of a full import started now: the provider's current state, without
/// transferring entries. A refresh whose filter matches nothing still ends with the cookie
/// (the cookie records the provider's change sequence, not the filter).
pub(super) fn start(session: &mut Session, plan: &ImportPlan) -> LResult<String> {
    let mut cookies = SyncCookies::default();
    for base in &plan.bases {
        let out = sync_refresh(
            session,
            base,
            plan.scope,
            "(!(objectClass=*))",
            &["1.1".to_owned()],
            None,
        )?;
        let cookie = out.cookie.ok_or_else(|| {
            LdapFailure::Protocol(format!(
                "content sync of {base}: the provider sent no cookie (is syncprov configured on this database, and has it been written to?)"
            ))
        })?;
        cookies.0.push((base.clone(), cookie));
    }
    Ok(cookies.encode())
}

/// The objects changed and deleted since the cookies of `watermark`, and the new watermark.
pub(super) fn delta(
    session: &mut Session,
    plan: &ImportPlan,
    watermark: &str,
) -> LResult<(Vec<CsEntryChange>, String)> {
    let anchor = uuid_anchor(plan)?;
    let before = SyncCookies::decode(watermark)
        .ok_or_else(|| LdapFailure::Protocol("the content sync watermark is unreadable".into()))?;
    let mut after = SyncCookies::default();
    let mut changes = Changes::default();
    // Deletes are applied after every container was read: an object that moved from
    // one searched container to another is reported present by one and deleted by
    // the other, and it still exists.
    let mut deleted: Vec<String> = Vec::new();
    for base in &plan.bases {
        let Some(cookie) = before.get(base) else {
            return Err(LdapFailure::FullImportRequired(format!(
                "no content sync cookie for {base} (the containers changed since the last full import)"
            )));
        };
        let r = refresh_from(session, plan, base, cookie)?;
        for e in r.entries {
            if let Some(c) = plan.convert(e, ObjectModification::Replace) {
                changes.put(c);
            }
        }
        deleted.extend(r.deleted);
        after
            .0
            .push((base.clone(), r.cookie.unwrap_or_else(|| cookie.to_vec())));
    }
    for uuid in deleted {
        changes.put_delete(plan, &anchor, uuid);
    }
    Ok((changes.out, after.encode()))
}

/// Deletes arrive as entry UUIDs, so the anchor must be entryUUID.
fn uuid_anchor(plan: &ImportPlan) -> LResult<String> {
    match plan.anchor.as_deref() {
        Some(a) if a.eq_ignore_ascii_case("entryUUID") => Ok(a.to_owned()),
        _ => Err(LdapFailure::Config(
            "the ContentSync delta strategy needs entryUUID as the anchor (deletes arrive as entry UUIDs)".into(),
        )),
    }
}

/// The changes to `base` since `cookie`; a full import is required when the provider can
/// only tell what is present (then deletes cannot be seen).
fn refresh_from(
    session: &mut Session,
    plan: &ImportPlan,
    base: &str,
    cookie: &[u8],
) -> LResult<SyncRefresh> {
    let r = sync_refresh(
        session,
        base,
        plan.scope,
        &plan.filter,
        &plan.attrs,
        Some(cookie.to_vec()),
    )?;
    if r.present_phase {
        return Err(LdapFailure::FullImportRequired(format!(
            "content sync of {base}: the provider answered with a present phase (no session log, or the cookie is older than it), so deletes cannot be seen"
        )));
    }
    Ok(r)
}

/// The delta's entries, one per object (by lower-cased identifier).
#[derive(Default)]
struct Changes {
    out: Vec<CsEntryChange>,
    seen: HashMap<String, usize>,
}

impl Changes {
    /// The last state wins: an object can be reported twice across phases.
    fn put(&mut self, e: CsEntryChange) {
        match self.seen.get(&e.identifier.to_lowercase()) {
            Some(&i) => self.out[i] = e,
            None => {
                self.seen
                    .insert(e.identifier.to_lowercase(), self.out.len());
                self.out.push(e);
            }
        }
    }

    /// A delete, unless the object was reported present (it moved between containers).
    fn put_delete(&mut self, plan: &ImportPlan, anchor: &str, uuid: String) {
        if self.seen.contains_key(&uuid.to_lowercase()) {
            return;
        }
        self.seen.insert(uuid.to_lowercase(), self.out.len());
        self.out.push(plan.deletion(None, anchor, uuid));
    }
}
