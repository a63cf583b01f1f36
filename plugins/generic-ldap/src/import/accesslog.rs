//! Delta from OpenLDAP's slapo-accesslog: the successful writes logged after the
//! watermark's `reqStart`.

use ldap3::{Scope, SearchEntry};
use plugin_api::prelude::*;

use super::changes::{ChangeKind, ChangeRecord, LoggedId, resolve_in_log_order};
use super::plan::ImportPlan;
use super::watermark::TIME_ZERO;
use crate::conn::{LResult, LdapFailure, Session, check_result};
use crate::dn;
use crate::entry::{attr_values, first_value};
use crate::search::{entries_adapters, search_all};

/// The log attributes a delta reads.
const RECORD_ATTRS: [&str; 7] = [
    "reqStart",
    "reqType",
    "reqDN",
    "reqEntryUUID",
    "reqNewRDN",
    "reqNewSuperior",
    "reqOld",
];

/// The watermark of a full import started now: the newest `reqStart`. The log is purged
/// (logpurge) in production, so reading just this one attribute of every record is cheap.
pub(super) fn start(session: &mut Session) -> LResult<String> {
    let settings = session.settings.clone();
    let url = settings.url();
    let conn = session.conn()?;
    let mut max = TIME_ZERO.to_owned();
    let mut stream = conn
        .with_timeout(settings.op_timeout)
        .streaming_search_with(
            entries_adapters(Some(1000)),
            &settings.accesslog_dn,
            Scope::OneLevel,
            "(reqStart=*)",
            vec!["reqStart".to_owned()],
        )
        .map_err(|e| LdapFailure::from_ldap("read accesslog", &url, e))?;
    while let Some(re) = stream
        .next()
        .map_err(|e| LdapFailure::from_ldap("read accesslog", &url, e))?
    {
        let e = SearchEntry::construct(re);
        if let Some(v) = first_value(&e, "reqStart")
            && v > max
        {
            max = v;
        }
    }
    check_result("read accesslog", &stream.result())?;
    Ok(max)
}

/// The objects changed by writes logged after `from` (a `reqStart`), and the new watermark.
pub(super) fn delta(
    session: &mut Session,
    plan: &ImportPlan,
    from: &str,
) -> LResult<(Vec<CsEntryChange>, String)> {
    let settings = session.settings.clone();
    let filter = format!(
        "(&(objectClass=auditWriteObject)(reqResult=0)(reqStart>={}))",
        dn::escape_filter(from)
    );
    let attrs: Vec<String> = RECORD_ATTRS.map(String::from).to_vec();
    let rows: Vec<(String, ChangeRecord)> = search_all(
        session,
        &settings.accesslog_dn,
        Scope::OneLevel,
        &filter,
        &attrs,
    )?
    .iter()
    .filter_map(|e| log_row(e, from))
    .collect();
    // Generalized times with a fixed format sort as strings.
    resolve_in_log_order(session, plan, rows, from.to_owned())
}

/// One log record after `from`, keyed by its `reqStart`; None for records not after it and
/// for operations that change no entry.
fn log_row(e: &SearchEntry, from: &str) -> Option<(String, ChangeRecord)> {
    let start = first_value(e, "reqStart").unwrap_or_default();
    if start.as_str() <= from {
        return None;
    }
    let kind = first_value(e, "reqType")
        .as_deref()
        .and_then(ChangeKind::parse)?;
    let record = ChangeRecord::new(
        kind,
        first_value(e, "reqDN").unwrap_or_default(),
        first_value(e, "reqNewRDN").as_deref(),
        first_value(e, "reqNewSuperior").as_deref(),
        first_value(e, "reqEntryUUID").map(|value| LoggedId {
            attr: "entryUUID",
            value,
        }),
        class_from_old(&attr_values(e, "reqOld")),
    );
    Some((start, record))
}

/// `reqOld` holds `attr: value` lines of the old entry (when the overlay logs old values).
fn class_from_old(old: &[String]) -> Option<String> {
    let find = |name: &str| {
        old.iter().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    find("structuralObjectClass").or_else(|| find("objectClass"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_of_deleted_object() {
        assert_eq!(
            class_from_old(&["cn: x".into(), "objectClass: inetOrgPerson".into()]).as_deref(),
            Some("inetOrgPerson")
        );
    }
}
