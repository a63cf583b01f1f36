//! Entries a full import has converted but not yet handed out, shared by both ways of
//! reading them (streamed on a thread, paged on the caller's).

use std::collections::VecDeque;

use plugin_api::prelude::*;

#[derive(Default)]
pub(super) struct Pending {
    entries: VecDeque<CsEntryChange>,
    /// The search has ended: nothing more will be added.
    pub done: bool,
}

impl Pending {
    pub fn extend(&mut self, entries: impl IntoIterator<Item = CsEntryChange>) {
        self.entries.extend(entries);
    }

    /// Moves entries into `page` up to `page_size`; true when the page is complete: full, or
    /// nothing more will come.
    pub fn fill(&mut self, page: &mut Vec<CsEntryChange>, page_size: usize) -> bool {
        let n = (page_size - page.len()).min(self.entries.len());
        page.extend(self.entries.drain(..n));
        page.len() >= page_size || self.done
    }

    /// True when every entry has been handed out.
    pub fn finished(&self) -> bool {
        self.done && self.entries.is_empty()
    }
}
