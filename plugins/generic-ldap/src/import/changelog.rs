//! Delta from `cn=changelog` (389 DS retro changelog, OpenDJ): the changes numbered after
//! the watermark's `changeNumber`.

use ldap3::{Scope, SearchEntry};
use plugin_api::prelude::*;

use super::changes::{ChangeKind, ChangeRecord, LoggedId, resolve_in_log_order};
use super::plan::ImportPlan;
use crate::conn::{LResult, Session, read_root_dse};
use crate::entry::first_value;
use crate::search::search_all;

/// The log attributes a delta reads.
const RECORD_ATTRS: [&str; 7] = [
    "changeNumber",
    "changeType",
    "targetDN",
    "newRDN",
    "newSuperior",
    "targetUniqueId",
    "targetEntryUUID",
];

/// The watermark of a full import started now: the Root DSE's `lastChangeNumber`.
pub(super) fn start(session: &mut Session) -> LResult<String> {
    let settings = session.settings.clone();
    let root = read_root_dse(session.conn()?, &settings)?;
    Ok(root.last_change_number.unwrap_or(0).to_string())
}

/// The objects changed by changes numbered after the watermark, and the new watermark.
pub(super) fn delta(
    session: &mut Session,
    plan: &ImportPlan,
    watermark: &str,
) -> LResult<(Vec<CsEntryChange>, String)> {
    let settings = session.settings.clone();
    let from: u64 = watermark.parse().unwrap_or(0);
    let filter = format!("(changeNumber>={})", from + 1);
    let attrs: Vec<String> = RECORD_ATTRS.map(String::from).to_vec();
    let rows: Vec<(u64, ChangeRecord)> = search_all(
        session,
        &settings.changelog_dn,
        Scope::OneLevel,
        &filter,
        &attrs,
    )?
    .iter()
    .filter_map(|e| log_row(e, from))
    .collect();
    let (out, newest) = resolve_in_log_order(session, plan, rows, from)?;
    Ok((out, newest.to_string()))
}

/// One change numbered after `from`, keyed by its number; None for changes not after it and
/// for operations that change no entry.
fn log_row(e: &SearchEntry, from: u64) -> Option<(u64, ChangeRecord)> {
    let n: u64 = first_value(e, "changeNumber")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if n <= from {
        return None;
    }
    // `moddn` is LDIF's other name for a rename, which these logs may use.
    let kind = first_value(e, "changeType").as_deref().and_then(|t| {
        ChangeKind::parse(t).or_else(|| {
            t.eq_ignore_ascii_case("moddn")
                .then_some(ChangeKind::Rename)
        })
    })?;
    let record = ChangeRecord::new(
        kind,
        first_value(e, "targetDN").unwrap_or_default(),
        first_value(e, "newRDN").as_deref(),
        first_value(e, "newSuperior").as_deref(),
        logged_id(e),
        None,
    );
    Some((n, record))
}

/// The changed object's identifier as the log records it: 389 DS's retro changelog its
/// `nsUniqueId` (configured as `targetUniqueId`), OpenDJ its `entryUUID`.
fn logged_id(e: &SearchEntry) -> Option<LoggedId> {
    let id = |attr, value| LoggedId { attr, value };
    first_value(e, "targetUniqueId")
        .map(|v| id("nsUniqueId", v))
        .or_else(|| first_value(e, "targetEntryUUID").map(|v| id("entryUUID", v)))
}
