//! The members of the groups patched last, as their answers showed them (each stored value
//! resolved to the id of the object it refers to). Entra adds the members of a large group
//! one PATCH at a time, and each answer shows them all: resolving 100,000 DNs is most of
//! such an answer's time. The next PATCH of the same group starts from the kept list,
//! dropping what it removes and resolving only what it adds.
//!
//! A kept list holds for the group's version it was made for (the record it was resolved
//! from, value for value) and while no cache of the application has changed which ids and
//! DNs it holds ([`crate::cache::TypeCache::references`]); otherwise the group is resolved
//! again. A few groups are kept, the oldest making room.

use std::sync::{Arc, Mutex};

use serde_json::Value as Json;

const SLOTS: usize = 4;

struct Memo {
    type_idx: usize,
    id: Box<str>,
    version: u64,
    references: u64,
    values: Arc<Vec<Json>>,
}

#[derive(Default)]
pub(super) struct MemberMemos {
    /// Oldest first.
    slots: Mutex<Vec<Memo>>,
}

impl MemberMemos {
    /// The members kept for group `id` of type `type_idx` at `version`, taken out, when
    /// they still hold at reference count `references`.
    pub(super) fn take(
        &self,
        type_idx: usize,
        id: &str,
        version: u64,
        references: u64,
    ) -> Option<Arc<Vec<Json>>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let at = slots
            .iter()
            .position(|m| m.type_idx == type_idx && *m.id == *id)?;
        let memo = slots.remove(at);
        (memo.version == version && memo.references == references).then_some(memo.values)
    }

    /// Keeps the members of group `id` at `version`, resolved at reference count
    /// `references`.
    pub(super) fn keep(
        &self,
        type_idx: usize,
        id: &str,
        version: u64,
        references: u64,
        values: Arc<Vec<Json>>,
    ) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.retain(|m| !(m.type_idx == type_idx && *m.id == *id));
        if slots.len() == SLOTS {
            slots.remove(0);
        }
        slots.push(Memo {
            type_idx,
            id: id.into(),
            version,
            references,
            values,
        });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_kept_list_holds_for_its_version_and_reference_count_only() {
        let memos = MemberMemos::default();
        let values = Arc::new(vec![json!("u1"), json!("u2")]);
        memos.keep(0, "g", 7, 3, values.clone());
        assert_eq!(memos.take(0, "g", 7, 3), Some(values.clone()));
        // Taken out: a second take finds nothing.
        assert_eq!(memos.take(0, "g", 7, 3), None);
        memos.keep(0, "g", 7, 3, values.clone());
        assert_eq!(
            memos.take(0, "g", 8, 3),
            None,
            "another version of the group"
        );
        memos.keep(0, "g", 7, 3, values.clone());
        assert_eq!(memos.take(0, "g", 7, 4), None, "ids or DNs changed since");
        memos.keep(0, "g", 7, 3, values.clone());
        assert_eq!(memos.take(1, "g", 7, 3), None, "another type");
    }

    #[test]
    fn the_oldest_group_makes_room() {
        let memos = MemberMemos::default();
        let values = Arc::new(vec![json!("u1")]);
        for g in 0..=SLOTS {
            memos.keep(0, &format!("g{g}"), 1, 1, values.clone());
        }
        assert_eq!(memos.take(0, "g0", 1, 1), None);
        for g in 1..=SLOTS {
            assert!(memos.take(0, &format!("g{g}"), 1, 1).is_some(), "g{g}");
        }
    }
}
