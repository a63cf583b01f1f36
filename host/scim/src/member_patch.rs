//! Group membership PATCHes as a set of member ids to add and remove. Entra changes a group's
//! membership one PATCH at a time (`add`/`remove` on `members` by value); a backend that can
//! apply such a change to its own records ([`crate::Backend::patch_members`]) never renders
//! the group, so adding one member to a group of 100,000 costs the change, not the group.
//!
//! Only the plain forms are recognised; anything else (a `replace`, a filter on another
//! sub-attribute, a `type` or `display` in a removal pattern, a value that is not a non-empty
//! string) is left to the general PATCH path, which gives it its full meaning or its error.

use std::sync::Arc;

use serde_json::Value;

use crate::filter::{CompValue, CompareOp, Filter};
use crate::json::get_ci;
use crate::patch::{PatchOp, PatchOpKind, PatchPath};
use crate::resource::StoredResource;
use crate::schema::{AttrType, ResourceTypeDef};

/// What one group PATCH does to its members: for each id, whether it ends up a member.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberChanges {
    /// Ids that are members after the PATCH (added when they were not), in request order.
    pub add: Vec<String>,
    /// Ids that are not members after the PATCH (removed when they were).
    pub remove: Vec<String>,
}

impl MemberChanges {
    /// The member changes of `ops`, when every operation is a plain `add` or `remove` of
    /// members of `rt` by value. Later operations win over earlier ones for the same id, as
    /// applying them in order would give. `None` for anything else.
    pub fn of(ops: &[PatchOp], rt: &ResourceTypeDef) -> Option<Self> {
        let members = rt.schema.attribute("members")?;
        if members.attr_type != AttrType::Complex || !members.multi_valued {
            return None;
        }
        let mut changes = MemberChanges::default();
        for op in ops {
            let path = op.path.as_ref()?;
            if !is_members(path, rt) {
                return None;
            }
            match (op.kind, &path.filter) {
                (PatchOpKind::Add, None) => {
                    for id in added_ids(op.value.as_ref()?)? {
                        changes.set(id, true);
                    }
                }
                (PatchOpKind::Remove, None) => {
                    // Without a value it removes every member: not a change of a few ids.
                    for id in removed_ids(op.value.as_ref().filter(|v| !v.is_null())?)? {
                        changes.set(id, false);
                    }
                }
                (PatchOpKind::Remove, Some(filter)) => changes.set(value_eq(filter)?, false),
                _ => return None,
            }
        }
        Some(changes)
    }

    fn set(&mut self, id: String, member: bool) {
        self.add.retain(|a| *a != id);
        self.remove.retain(|r| *r != id);
        if member {
            self.add.push(id);
        } else {
            self.remove.push(id);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

/// A group as [`crate::Backend::patch_members`] leaves it. A backend may keep the members
/// apart from the resource: the answer to one PATCH of a 100,000-member group then prints
/// each member from its value, where a tree would build, print and free 100,000 JSON objects.
#[derive(Debug)]
pub struct PatchedGroup {
    pub group: Arc<StoredResource>,
    /// `Some`: `group` holds no `members`, and these are the `value`s of its member elements,
    /// in order; each is served as `{"value": v}` (an empty list shows no `members`, as the
    /// tree leaves out an empty multi-valued attribute). `None`: `group` is the whole answer.
    pub member_values: Option<Arc<Vec<Value>>>,
}

impl From<Arc<StoredResource>> for PatchedGroup {
    fn from(group: Arc<StoredResource>) -> Self {
        Self {
            group,
            member_values: None,
        }
    }
}

/// `members` itself (no sub-attribute), with or without the core schema's URN.
fn is_members(path: &PatchPath, rt: &ResourceTypeDef) -> bool {
    path.attr.attr.eq_ignore_ascii_case("members")
        && path.attr.sub_attr.is_none()
        && path
            .attr
            .urn
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case(&rt.schema.id))
}

/// The ids of an `add`'s value: member objects with a non-empty string `value`, and besides
/// it only `$ref` (Entra sends `null`) and a canonical `type`, which the ids already say.
fn added_ids(value: &Value) -> Option<Vec<String>> {
    elements(value)?
        .iter()
        .map(|e| {
            let o = e.as_object()?;
            let known = o.iter().all(|(k, v)| {
                k.eq_ignore_ascii_case("value")
                    || (k.eq_ignore_ascii_case("$ref") && (v.is_null() || v.is_string()))
                    || (k.eq_ignore_ascii_case("type")
                        && v.as_str().is_some_and(|t| {
                            t.eq_ignore_ascii_case("User") || t.eq_ignore_ascii_case("Group")
                        }))
            });
            known.then(|| id_of(e)).flatten()
        })
        .collect()
}

/// The ids of a `remove`'s value (Entra's removal by value): patterns that name only the
/// member's `value` (and a `null` `$ref`), since a pattern with more must match it too.
fn removed_ids(value: &Value) -> Option<Vec<String>> {
    elements(value)?
        .iter()
        .map(|e| {
            let o = e.as_object()?;
            let only_value = o
                .iter()
                .all(|(k, v)| k.eq_ignore_ascii_case("value") || (k == "$ref" && v.is_null()));
            only_value.then(|| id_of(e)).flatten()
        })
        .collect()
}

fn elements(value: &Value) -> Option<Vec<&Value>> {
    match value {
        Value::Array(a) if !a.is_empty() => Some(a.iter().collect()),
        Value::Object(_) => Some(vec![value]),
        _ => None,
    }
}

fn id_of(e: &Value) -> Option<String> {
    match get_ci(e, "value") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// `members[value eq "id"]`: the id.
fn value_eq(filter: &Filter) -> Option<String> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(id),
        } if path.attr.eq_ignore_ascii_case("value")
            && path.sub_attr.is_none()
            && path.urn.is_none()
            && !id.is_empty() =>
        {
            Some(id.clone())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;
    use crate::patch::{parse_patch, patch_resource};
    use crate::schema::{ResourceTypeDef, core_group_schema};

    fn groups() -> ResourceTypeDef {
        ResourceTypeDef::new("Group", "/Groups", "Group", core_group_schema())
    }

    fn ops(operations: Value) -> Vec<PatchOp> {
        parse_patch(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": operations
        }))
        .unwrap()
    }

    fn member_ids(resource: &Value) -> BTreeSet<String> {
        resource["members"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| m["value"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The member set the general PATCH path gives, and the one the changes give, agree.
    fn agrees(before: &[&str], operations: Value) -> MemberChanges {
        let rt = groups();
        let members: Vec<Value> = before.iter().map(|id| json!({"value": id})).collect();
        let resource = json!({"id": "g", "displayName": "G", "members": members});
        let ops = ops(operations);
        let changes = MemberChanges::of(&ops, &rt).expect("a plain member change");
        let general = member_ids(&patch_resource(&resource, &ops, &rt).unwrap());
        let mut by_changes: BTreeSet<String> = before.iter().map(|s| s.to_string()).collect();
        by_changes.retain(|id| !changes.remove.contains(id));
        by_changes.extend(changes.add.iter().cloned());
        assert_eq!(general, by_changes);
        changes
    }

    #[test]
    fn entras_membership_patches_are_member_changes_with_the_general_paths_meaning() {
        let c = agrees(
            &["a", "b"],
            json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "c"}]}]),
        );
        assert_eq!(c.add, ["c"]);
        agrees(
            &["a", "b"],
            json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "a"}]}]),
        );
        agrees(
            &["a", "b"],
            json!([{"op": "remove", "path": "members[value eq \"b\"]"}]),
        );
        // Already a member, not a member: no error, nothing changes.
        agrees(
            &["a"],
            json!([{"op": "add", "path": "members", "value": [{"value": "a"}]},
                   {"op": "remove", "path": "members", "value": [{"value": "zz"}]}]),
        );
        // Order matters: the last operation on an id wins.
        let c = agrees(
            &["a"],
            json!([{"op": "add", "path": "members", "value": [{"value": "x"}, {"value": "y"}]},
                   {"op": "remove", "path": "members[value eq \"x\"]"},
                   {"op": "remove", "path": "members", "value": [{"value": "a"}]},
                   {"op": "add", "path": "members", "value": {"value": "a", "type": "User"}}]),
        );
        assert_eq!(
            (c.add, c.remove),
            (vec!["y".into(), "a".into()], vec!["x".into()])
        );
        // Ids are case-exact, as members.value is.
        agrees(
            &["Abc"],
            json!([{"op": "add", "path": "members", "value": [{"value": "abc"}]}]),
        );
    }

    #[test]
    fn anything_else_is_left_to_the_general_path() {
        let rt = groups();
        for operations in [
            json!([{"op": "replace", "path": "members", "value": [{"value": "a"}]}]),
            json!([{"op": "remove", "path": "members"}]),
            json!([{"op": "add", "path": "displayName", "value": "x"}]),
            json!([{"op": "add", "value": {"members": [{"value": "a"}]}}]),
            json!([{"op": "add", "path": "members", "value": [{"value": ""}]}]),
            json!([{"op": "add", "path": "members", "value": [{"value": 7}]}]),
            json!([{"op": "add", "path": "members", "value": [{"value": "a", "display": "A"}]}]),
            json!([{"op": "remove", "path": "members", "value": [{"value": "a", "type": "User"}]}]),
            json!([{"op": "remove", "path": "members[type eq \"User\"]"}]),
            json!([{"op": "remove", "path": "members[value eq \"a\" or value eq \"b\"]"}]),
            json!([{"op": "add", "path": "members", "value": []}]),
        ] {
            assert_eq!(
                MemberChanges::of(&ops(operations.clone()), &rt),
                None,
                "{operations}"
            );
        }
    }
}
