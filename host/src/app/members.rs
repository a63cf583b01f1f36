//! Membership PATCHes ([`MemberChanges`]) applied to the cached record: Entra adds and removes
//! group members one PATCH at a time, and a group may have 100,000 of them. The general path
//! renders the group, patches the resource and reads it back, which costs the whole member
//! list three times over; here the cost is one pass over the stored values (hashing each,
//! resolving only those that may be one of the ids), the export of the change itself, and
//! the packing of the new record.
//!
//! The values stored and the ids compared are those of rendering and reading
//! ([`crate::mapping::AttrMapping::value_of_id`] and `id_of_value`), so the result is the
//! record the general path would have written.

use std::sync::Arc;

use ecma_scim::{MemberChanges, PatchedGroup, ResourceTypeDef, ScimError};
use foldhash::{HashSet, HashSetExt};
use plugin_api::model::{AttributeOperation, Value, ValueChange};
use serde_json::Value as Json;

use super::Application;
use super::render::version_of;
use crate::cache::key_of;
use crate::mapping::{AttrMapping, attribute_change};

impl Application {
    /// `None` when this type has no writable members mapping (the general path answers).
    pub(super) async fn patch_members(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
        changes: &MemberChanges,
        precondition: &(dyn Fn(&str) -> Result<(), ScimError> + Sync),
        with_members: bool,
    ) -> Option<Result<PatchedGroup, ScimError>> {
        let idx = match self.type_index(rt) {
            Ok(idx) => idx,
            Err(e) => return Some(Err(e)),
        };
        let m = self.types[idx].members_mapping()?;
        if m.operation == AttributeOperation::ImportOnly {
            return None;
        }
        Some(
            self.change_members(rt, idx, m, id, changes, precondition, with_members)
                .await,
        )
    }

    #[allow(clippy::too_many_arguments)]
    async fn change_members(
        &self,
        rt: &ResourceTypeDef,
        idx: usize,
        m: &AttrMapping,
        id: &str,
        changes: &MemberChanges,
        precondition: &(dyn Fn(&str) -> Result<(), ScimError> + Sync),
        with_members: bool,
    ) -> Result<PatchedGroup, ScimError> {
        let (_, old) = self.cached_object(rt, id)?;
        precondition(&version_of(&old))?;
        let t = &self.types[idx];
        let id_to_ref = self.id_to_ref();
        // Counted before the snapshots the members are resolved with are taken.
        let references = self.reference_changes();
        let dn_to_id = self.dn_to_id();
        let mut adding = Vec::with_capacity(changes.add.len());
        for member in &changes.add {
            if let Some(v) = m.value_of_id(member, &id_to_ref)? {
                adding.push((member.as_str(), v));
            }
        }
        let ids = || changes.add.iter().chain(&changes.remove);
        // A stored value shows as one of the ids only if it is the id itself, the value that
        // stores it, or the DN of its object, each compared without case: the keys of those
        // are all a value is checked against before it is resolved.
        let mut probes = HashSet::with_capacity(3 * (changes.add.len() + changes.remove.len()));
        for member in ids() {
            probes.insert(key_of(member));
            probes.insert(key_of(&id_to_ref(member)));
            if let Some(e) = self
                .caches
                .iter()
                .find_map(|c| c.snapshot().get(member).cloned())
            {
                probes.insert(key_of(e.dn()));
            }
        }
        let names = self.caches[idx].names().table();
        let mut record = old.record(&names);
        let before = record.remove(&m.connector);
        let had = before.as_ref().map(Vec::len);
        let mut after = Vec::with_capacity(had.unwrap_or(0) + adding.len());
        let mut removed = Vec::new();
        let mut removed_at = Vec::new();
        let mut present: HashSet<usize> = HashSet::new();
        for (at, v) in before.into_iter().flatten().enumerate() {
            let maybe_one = match &v {
                Value::String(s) | Value::Reference(s) => probes.contains(&key_of(s)),
                _ => true,
            };
            if maybe_one && let Some(shown) = AttrMapping::id_of_value(&v, &dn_to_id) {
                if changes.remove.contains(&shown) {
                    removed.push(v);
                    removed_at.push(at);
                    continue;
                }
                if let Some(at) = adding.iter().position(|(a, _)| *a == shown) {
                    present.insert(at);
                }
            }
            after.push(v);
        }
        let added: Vec<Value> = adding
            .into_iter()
            .enumerate()
            .filter(|(at, _)| !present.contains(at))
            .map(|(_, (_, v))| v)
            .collect();
        // The members the answer shows: those kept for the group's current version, less
        // the removed ones, or all of them resolved; then the added ones.
        let member_values = with_members.then(|| {
            let kept = self
                .member_memos
                .take(idx, id, old.meta.version, references)
                .filter(|values| values.len() == had.unwrap_or(0));
            let mut values = match kept {
                Some(values) => {
                    let mut values = Arc::unwrap_or_clone(values);
                    drop_positions(&mut values, &removed_at);
                    values
                }
                None => m.member_values(&after, &dn_to_id),
            };
            values.extend(m.member_values(&added, &dn_to_id));
            Arc::new(values)
        });
        if removed.is_empty() && added.is_empty() {
            // Adding a member that is there, removing one that is not: nothing to write. The
            // answer is rendered from the record at hand (decoding the group again would
            // cost another pass over its members).
            if let Some(values) = &member_values {
                let memos = &self.member_memos;
                memos.keep(idx, id, old.meta.version, references, values.clone());
            }
            return Ok(PatchedGroup {
                group: self.resource_of_record(t, &old, &record, &dn_to_id),
                member_values,
            });
        }
        self.require_export()?;
        after.extend(added.iter().cloned());
        let after = (!after.is_empty()).then_some(after);
        let change = attribute_change(
            &m.connector,
            had,
            after.as_deref(),
            self.capabilities.export_type,
            || {
                removed
                    .into_iter()
                    .map(ValueChange::delete)
                    .chain(added.into_iter().map(ValueChange::add))
                    .collect()
            },
        );
        if let Some(values) = after {
            record.insert(m.connector.clone(), values);
        }
        self.export_update(idx, id, &old, &record, old.dn(), vec![change])
            .await?;
        let entry = self.caches[idx].entry(id, old.dn(), &record, old.active, Some(&old));
        // The record the entry was packed from (no decoding of the group again), its members
        // apart (no JSON object for each).
        record.remove(&m.connector);
        if let Some(values) = &member_values {
            let memos = &self.member_memos;
            memos.keep(idx, id, entry.meta.version, references, values.clone());
        }
        let group = self.resource_of_record(t, &entry, &record, &dn_to_id);
        self.caches[idx].put(entry);
        Ok(PatchedGroup {
            group,
            member_values,
        })
    }
}

/// `values` without the elements at positions `at` (ascending).
fn drop_positions(values: &mut Vec<Json>, at: &[usize]) {
    let mut next = at.iter().peekable();
    let mut position = 0;
    values.retain(|_| {
        let dropped = next.next_if_eq(&&position).is_some();
        position += 1;
        !dropped
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::drop_positions;

    #[test]
    fn drops_exactly_the_positions_given() {
        let mut values: Vec<_> = (0..6).map(|i| json!(i)).collect();
        drop_positions(&mut values, &[0, 2, 5]);
        assert_eq!(values, [json!(1), json!(3), json!(4)]);
        drop_positions(&mut values, &[]);
        assert_eq!(values.len(), 3);
    }
}
