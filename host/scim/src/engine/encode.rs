//! The served JSON text of a resource under the default projection, printed straight from
//! the stored tree: `meta` merged in at its place and `members[].$ref` added on the way
//! out. Copying the tree to add them and copying it again to project it cost a
//! 100,000-member group two more trees of 100,000 objects (and their freeing) per answer;
//! the text is the same, since serde_json's maps print their keys in sorted order and the
//! entries here are printed in that order too.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

use crate::query::{Kept, Shown, ShownAttr, SubKeep, shown};
use crate::resource::StoredResource;
use crate::schema::{AttributeDef, ResourceTypeDef};

use super::ScimEngine;

impl ScimEngine {
    /// What [`ScimEngine::render`] followed by the default projection gives, as text.
    pub(super) fn encode_default(&self, rt: &ResourceTypeDef, sr: &StoredResource) -> String {
        self.encode_default_with(rt, sr, None)
    }

    /// [`Self::encode_default`], with `members` (when given) the values of the member
    /// elements kept apart from `sr` (see [`crate::PatchedGroup`]): the text is the one a
    /// tree holding `{"value": v}` for each of them prints.
    pub(super) fn encode_default_with(
        &self,
        rt: &ResourceTypeDef,
        sr: &StoredResource,
        members: Option<&[Value]>,
    ) -> String {
        let Some(m) = sr.resource.as_object() else {
            // Not an object: rendering adds nothing to it.
            return sr.resource.to_string();
        };
        let meta_key = "meta".to_owned();
        let meta = self.meta_json(rt, sr);
        let members_key = "members".to_owned();
        // Where the members stand in the order of keys; printed from `members`.
        let members_stand_in = Value::Array(Vec::new());
        let apart = members.filter(|values| !values.is_empty());
        // `render` inserts `meta` over any stored one: the entries with it, in key order.
        let mut entries: Vec<(&String, &Value)> = m
            .iter()
            .filter(|(k, _)| **k != meta_key)
            .filter(|(k, _)| members.is_none() || !k.eq_ignore_ascii_case("members"))
            .chain(std::iter::once((&meta_key, &meta)))
            .chain(apart.map(|_| (&members_key, &members_stand_in)))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        let member_ref = |o: &Map<String, Value>| self.member_ref(o);
        let refs = self
            .member_refs_apply(rt)
            .then_some(&member_ref as &MemberRef);
        let members_key = match apart {
            Some(_) => Some(members_key.clone()),
            None => crate::json::key_ci(m, "members"),
        };
        let served = Served {
            entries: shown(entries.into_iter(), rt, &[], &[]),
            members: members_key.as_deref().zip(refs),
            members_apart: members_key.as_deref().zip(apart),
        };
        // Printing borrowed JSON values cannot fail (no maps with non-string keys).
        serde_json::to_string(&served).unwrap_or_default()
    }
}

/// The `$ref` to add to one member element, when it gets one.
type MemberRef<'a> = dyn Fn(&Map<String, Value>) -> Option<String> + 'a;

/// A resource's shown members, and the key of `members` with the `$ref` maker, where
/// member references apply, and with the member values kept apart, where they are.
struct Served<'a> {
    entries: Vec<(&'a String, Shown<'a>)>,
    members: Option<(&'a str, &'a MemberRef<'a>)>,
    members_apart: Option<(&'a str, &'a [Value])>,
}

impl Serialize for Served<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.entries.len()))?;
        for (k, shown) in &self.entries {
            match shown {
                Shown::Attr(a) => {
                    let refs = self
                        .members
                        .filter(|(key, _)| *key == k.as_str())
                        .map(|(_, r)| r);
                    let apart = self
                        .members_apart
                        .filter(|(key, _)| *key == k.as_str())
                        .map(|(_, values)| values);
                    map.serialize_entry(k, &Attr { a, refs, apart })?;
                }
                Shown::Extension(attrs) => map.serialize_entry(k, &Extension(attrs))?,
            }
        }
        map.end()
    }
}

struct Extension<'a>(&'a [(&'a String, ShownAttr<'a>)]);

impl Serialize for Extension<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, a) in self.0 {
            map.serialize_entry(
                k,
                &Attr {
                    a,
                    refs: None,
                    apart: None,
                },
            )?;
        }
        map.end()
    }
}

/// One shown attribute; `refs` when it is the `members` that get `$ref`s, `apart` when it
/// is the `members` printed from their values.
struct Attr<'a> {
    a: &'a ShownAttr<'a>,
    refs: Option<&'a MemberRef<'a>>,
    apart: Option<&'a [Value]>,
}

impl Serialize for Attr<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let keep = match (&self.a.kept, self.a.def) {
            (Kept::Subs(keep), Some(def)) => Some((def, keep)),
            _ => None,
        };
        if let Some(values) = self.apart {
            let mut seq = s.serialize_seq(Some(values.len()))?;
            for v in values {
                match keep {
                    // A `{"value": v}` has no `type`, so it gets no `$ref`.
                    None => seq.serialize_element(&ValueOnly(v))?,
                    Some(_) => seq.serialize_element(&Element {
                        e: &serde_json::json!({ "value": v }),
                        keep,
                        refs: None,
                    })?,
                }
            }
            return seq.end();
        }
        match self.a.value {
            // Member references are added to the elements of an array only, as `render` does.
            Value::Array(items) if keep.is_some() || self.refs.is_some() => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for e in items {
                    seq.serialize_element(&Element {
                        e,
                        keep,
                        refs: self.refs,
                    })?;
                }
                seq.end()
            }
            v if keep.is_some() => Element {
                e: v,
                keep,
                refs: None,
            }
            .serialize(s),
            v => v.serialize(s),
        }
    }
}

/// A member element kept apart: `{"value": v}`.
struct ValueOnly<'a>(&'a Value);

impl Serialize for ValueOnly<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("value", self.0)?;
        map.end()
    }
}

/// One element of a complex attribute: its `$ref` added, then only the kept sub-attributes.
struct Element<'a> {
    e: &'a Value,
    keep: Option<(&'a AttributeDef, &'a SubKeep<'a>)>,
    refs: Option<&'a MemberRef<'a>>,
}

impl Serialize for Element<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Value::Object(o) = self.e else {
            return self.e.serialize(s);
        };
        let with_ref = self.refs.and_then(|r| r(o)).map(Value::String);
        if with_ref.is_none() && self.keep.is_none() {
            return o.serialize(s);
        }
        let mut entries: Vec<(&str, &Value)> = o
            .iter()
            .filter(|(k, _)| with_ref.is_none() || k.as_str() != "$ref")
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        if let Some(r) = &with_ref {
            // Where a map keyed by `String` (byte order) puts it.
            let at = entries.partition_point(|(k, _)| *k < "$ref");
            entries.insert(at, ("$ref", r));
        }
        if let Some((def, keep)) = self.keep {
            entries.retain(|(k, _)| def.sub(k).is_some_and(|sd| keep.keeps(sd)));
        }
        let mut map = s.serialize_map(Some(entries.len()))?;
        for (k, v) in entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::resource::Meta;
    use crate::schema::{
        ENTERPRISE_USER_URN, Returned, core_group_schema, core_user_schema, enterprise_user_schema,
    };
    use crate::{EngineConfig, ScimEngine, project};

    use super::*;

    /// The text printed from the stored tree is, byte for byte, the tree path's: render a
    /// copy, project it, print it.
    fn same_as_tree_path(engine: &ScimEngine, rt: &ResourceTypeDef, resource: Value) {
        let sr = StoredResource::new(
            resource,
            Meta {
                version: "W/\"1\"".into(),
                created: "2024-01-01T00:00:00Z".into(),
                ..Meta::default()
            },
        );
        let tree = project(&engine.render(rt, &sr), rt, &[], &[]).to_string();
        assert_eq!(engine.encode_default(rt, &sr), tree);
    }

    #[test]
    fn prints_what_rendering_and_projecting_a_copy_prints() {
        let users = ResourceTypeDef::new("User", "/Users", "User", core_user_schema())
            .with_extension(enterprise_user_schema(), false);
        let mut group_schema = core_group_schema();
        let members = group_schema
            .attributes
            .iter_mut()
            .find(|a| a.name == "members")
            .unwrap();
        let plain_groups = ResourceTypeDef::new("Group", "/Groups", "Group", core_group_schema());
        // A sub-attribute never returned: elements are printed with the others only.
        members
            .sub_attributes
            .iter_mut()
            .find(|s| s.name == "display")
            .unwrap()
            .returned = Returned::Never;
        let hidden_display = ResourceTypeDef::new("Group", "/Groups", "Group", group_schema);
        let engine = ScimEngine::new(EngineConfig::new(
            "https://h/app/scim",
            vec![users.clone(), plain_groups.clone()],
        ));
        let members = json!([
            {"value": "u1"},
            {"value": "u2", "type": "User"},
            {"value": "g 1", "type": "Group", "display": "G"},
            {"value": "u3", "type": "User", "$ref": null},
            {"value": "u4", "type": "User", "$REF": null},
            {"value": "u5", "type": "User", "$ref": "https://elsewhere/u5"},
            {"value": "u6", "type": "Printer"},
            {"$ref": null, "value": "u7"},
            "not an object",
        ]);
        for rt in [&plain_groups, &hidden_display] {
            same_as_tree_path(
                &engine,
                rt,
                json!({"id": "g", "displayName": "G", "members": members.clone(),
                       "meta": {"stale": true}, "notInSchema": 1,
                       "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]}),
            );
            same_as_tree_path(
                &engine,
                rt,
                json!({"id": "g", "members": {"value": "u1", "type": "User", "display": "x"}}),
            );
        }
        same_as_tree_path(
            &engine,
            &users,
            json!({"id": "u", "userName": "a@b", "password": "never shown", "active": true,
                   "emails": [{"value": "a@b", "type": "work", "primary": true}],
                   ENTERPRISE_USER_URN: {"employeeNumber": "7", "unknown": 1,
                                         "manager": {"value": "m", "displayName": "M"}},
                   "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER_URN]}),
        );
        same_as_tree_path(
            &engine,
            &users,
            json!({"id": "u", ENTERPRISE_USER_URN: {"unknown": 1}}),
        );
        same_as_tree_path(&engine, &users, json!("not an object"));
    }

    /// Members kept apart print as the tree holding `{"value": v}` for each of them would.
    #[test]
    fn members_kept_apart_print_as_the_tree_holding_them() {
        let mut group_schema = core_group_schema();
        group_schema
            .attributes
            .iter_mut()
            .find(|a| a.name == "members")
            .unwrap()
            .sub_attributes
            .iter_mut()
            .find(|s| s.name == "type")
            .unwrap()
            .returned = Returned::Never;
        let plain = ResourceTypeDef::new("Group", "/Groups", "Group", core_group_schema());
        let hidden_type = ResourceTypeDef::new("Group", "/Groups", "Group", group_schema);
        let engine = ScimEngine::new(EngineConfig::new("https://h/app/scim", vec![plain.clone()]));
        let meta = Meta {
            version: "W/\"1\"".into(),
            ..Meta::default()
        };
        let values = [
            json!("u1"),
            json!("CN=x,DC=y"),
            json!(5),
            json!("quote \" é"),
        ];
        let group = json!({"id": "g", "displayName": "G", "externalId": "e", "zzz": 1,
                           "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]});
        for rt in [&plain, &hidden_type] {
            for values in [&values[..], &values[..1], &[]] {
                let mut whole = group.clone();
                if !values.is_empty() {
                    let members: Vec<Value> =
                        values.iter().map(|v| json!({ "value": v })).collect();
                    whole["members"] = Value::Array(members);
                }
                let tree = StoredResource::new(whole, meta.clone());
                // A stale `members` in the resource is not printed: the values apart are.
                let mut without = group.clone();
                without["Members"] = json!([{"value": "stale"}]);
                let apart = StoredResource::new(without, meta.clone());
                assert_eq!(
                    engine.encode_default_with(rt, &apart, Some(values)),
                    engine.encode_default(rt, &tree),
                );
            }
        }
    }
}
