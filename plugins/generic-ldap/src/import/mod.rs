//! Full import (paged on the caller's thread, or streamed on a producer thread; constant
//! memory) and delta import, one file per delta strategy: accesslog, RFC 4533 content
//! synchronisation, changelog, modifyTimestamp; and FullObject import (named objects read
//! again whole).
//!
//! This file only dispatches on [`DeltaStrategy`]; what the strategies share lives in
//! `plan` (entry conversion), `changes` (the change logs) and `crate::search`.

mod accesslog;
mod changelog;
mod changes;
mod content_sync;
mod full_object;
mod modify_timestamp;
mod paged;
mod pending;
mod plan;
mod raw_entry;
mod streamed;
mod sync_cookies;
mod sync_refresh;
mod watermark;

use std::collections::VecDeque;

use plugin_api::prelude::*;

use crate::conn::{LResult, Session};

pub(crate) use full_object::{FullObjectScope, full_objects};
pub(crate) use paged::PagedImport;
pub(crate) use plan::ImportPlan;
pub(crate) use streamed::StreamedImport;
pub(crate) use watermark::{DeltaStrategy, Watermark};

/// The watermark to store after a full import started now.
pub(crate) fn start_watermark(
    session: &mut Session,
    strategy: DeltaStrategy,
    plan: &ImportPlan,
) -> LResult<Watermark> {
    let value = match strategy {
        DeltaStrategy::Accesslog => accesslog::start(session)?,
        DeltaStrategy::ContentSync => content_sync::start(session, plan)?,
        DeltaStrategy::Changelog => changelog::start(session)?,
        DeltaStrategy::ModifyTimestamp => modify_timestamp::start(),
    };
    Ok(Watermark { strategy, value })
}

/// Runs a delta import to completion; returns the entries and the new watermark. Memory is
/// proportional to the number of changed objects, not to the directory size.
pub(crate) fn run_delta(
    session: &mut Session,
    plan: &ImportPlan,
    wm: &Watermark,
) -> LResult<(Vec<CsEntryChange>, Watermark)> {
    let (entries, value) = match wm.strategy {
        DeltaStrategy::Accesslog => accesslog::delta(session, plan, &wm.value)?,
        DeltaStrategy::ContentSync => content_sync::delta(session, plan, &wm.value)?,
        DeltaStrategy::Changelog => changelog::delta(session, plan, &wm.value)?,
        DeltaStrategy::ModifyTimestamp => modify_timestamp::delta(session, plan, &wm.value)?,
    };
    let watermark = Watermark {
        strategy: wm.strategy,
        value,
    };
    Ok((entries, watermark))
}

/// Pages of a finished delta.
pub(crate) struct DeltaImport {
    pub entries: VecDeque<CsEntryChange>,
}
