//! Delta by `modifyTimestamp`: the entries modified at or after the watermark. Sees adds and
//! modifies, never deletes.

use plugin_api::prelude::*;

use super::plan::ImportPlan;
use super::watermark::TIME_ZERO;
use crate::conn::{LResult, Session};
use crate::dn;
use crate::entry::first_value;
use crate::search::search_all;

/// The watermark of a full import started now: no time yet; the full import raises it to
/// the newest `modifyTimestamp` among the entries it reads.
pub(super) fn start() -> String {
    TIME_ZERO.to_owned()
}

/// The entries modified at or after `from`, and the newest `modifyTimestamp` among them.
pub(super) fn delta(
    session: &mut Session,
    plan: &ImportPlan,
    from: &str,
) -> LResult<(Vec<CsEntryChange>, String)> {
    let filter = format!(
        "(&{}(modifyTimestamp>={}))",
        plan.filter,
        dn::escape_filter(from)
    );
    let mut max = from.to_owned();
    let mut out = Vec::new();
    for base in &plan.bases {
        for e in search_all(session, base, plan.scope, &filter, &plan.attrs)? {
            if let Some(ts) = first_value(&e, "modifyTimestamp")
                && ts > max
            {
                max = ts;
            }
            out.extend(plan.convert(e, ObjectModification::Replace));
        }
    }
    Ok((out, max))
}
