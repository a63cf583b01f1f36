//! SCIM update (PUT and PATCH, one path): the new resource becomes a connector record, its
//! diff from the cached record is exported, then the cache follows.

use std::sync::Arc;

use ecma_scim::{ResourceTypeDef, ScimError, StoredResource};
use plugin_api::model::*;
use serde_json::Value as Json;

use super::Application;
use super::render::json_bool;
use crate::cache::CacheEntry;
use crate::config::{Deprovision, ScimKind};
use crate::mapping::{Record, diff_records};

impl Application {
    /// PUT and PATCH: `new` is the whole new resource. The connector-level change set is the
    /// diff of the two records ([`diff_records`]), which covers every mapping (core,
    /// enterprise, extension, members) the same way; the export type decides between
    /// attribute changes and a whole-object `Replace`. Called with the object's lock held (see
    /// [`super::locks`]).
    pub(super) async fn update(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
        new: Json,
    ) -> Result<Arc<StoredResource>, ScimError> {
        self.require_export()?;
        let (idx, old) = self.cached_object(rt, id)?;
        let t = &self.types[idx];
        let old_record = old.record(&self.caches[idx].names().table());
        let mut new_record = t.record_from_resource(&new, &self.id_to_ref())?;
        // The anchor is the id: it never changes through SCIM.
        new_record.insert(
            t.anchor.clone(),
            old_record
                .get(&t.anchor)
                .cloned()
                .unwrap_or_else(|| vec![t.anchor_value(id)]),
        );
        // Attributes the connector keeps but SCIM does not expose (not selected, DN or query
        // attributes left out of the selection, ...) are not Entra's to delete: carry them.
        // Nor are attributes the connector only imports: they keep what the target says.
        for (name, values) in &old_record {
            if t.is_import_only(name) {
                new_record.insert(name.clone(), values.clone());
            } else if !t
                .attrs
                .iter()
                .any(|m| m.connector.eq_ignore_ascii_case(name))
            {
                new_record
                    .entry(name.clone())
                    .or_insert_with(|| values.clone());
            }
        }
        // Deprovisioning flags are not exposed over SCIM, so they carry over unless `active`
        // changes (the disable policy) or is removed (the flag is cleared).
        for d in [&t.on_disable, &t.on_delete] {
            if let Deprovision::SetAttribute { set, .. } = d
                && let Some(v) = old_record.get(set)
            {
                new_record.entry(set.clone()).or_insert_with(|| v.clone());
            }
        }
        let old_active = t.active_of(&old_record, old.active);
        let new_active = new.get("active").and_then(json_bool);
        if t.kind == ScimKind::User {
            match (old_active, new_active) {
                (old_value, Some(now)) if old_value.unwrap_or(true) != now => match &t.on_disable {
                    Deprovision::SetAttribute { set, value } => {
                        let v = if now { !*value } else { *value };
                        new_record.insert(set.clone(), vec![t.typed_bool(set, v)]);
                    }
                    d if *d == Deprovision::Delete && !now => {
                        let entry =
                            Self::new_entry(t, ObjectModification::Delete, Some(id), old.dn());
                        self.export_entry(entry).await?;
                        self.caches[idx].remove(id);
                        let mut gone = StoredResource::clone(&self.resource_now(idx, &old));
                        gone.resource["active"] = Json::Bool(false);
                        return Ok(Arc::new(gone));
                    }
                    _ => {}
                },
                (Some(_), None) => {
                    if let Some((attr, _)) = t.active_attribute() {
                        new_record.remove(attr);
                    }
                }
                _ => {}
            }
        }
        let asked_dn = t.dn_from_resource(&new);
        let new_dn = asked_dn
            .clone()
            .or_else(|| {
                t.dn_attribute
                    .as_ref()
                    .and_then(|a| new_record.get(a))
                    .and_then(|v| v.first())
                    .map(Value::as_text)
            })
            .unwrap_or_else(|| old.dn().to_owned());
        // `-dn-` changed: a rename (ECMA2 `ObjectRename`).
        let new_dn = if asked_dn.is_some() && same_dn(&new_dn, old.dn()) {
            old.dn().to_owned()
        } else {
            new_dn
        };
        if asked_dn.is_some() && new_dn != old.dn() {
            self.check_rename(t)?;
        }
        let changes = diff_records(&old_record, &new_record, self.capabilities.export_type);
        self.export_update(idx, id, &old, &new_record, &new_dn, changes)
            .await?;
        let active = if t.active_attribute().is_none() {
            new_active
        } else {
            None
        };
        let entry = self.caches[idx].entry(id, &new_dn, &new_record, active, Some(&old));
        let stored = self.resource_now(idx, &entry);
        self.caches[idx].put(entry);
        Ok(stored)
    }

    /// Exports the change of cached object `old` to `new_record` (named `new_dn`): `changes`
    /// (the attribute changes from its cached record), or the whole record for a connector
    /// that replaces objects. Nothing is exported when nothing changed.
    pub(super) async fn export_update(
        &self,
        idx: usize,
        id: &str,
        old: &CacheEntry,
        new_record: &Record,
        new_dn: &str,
        changes: Vec<AttributeChange>,
    ) -> Result<(), ScimError> {
        if changes.is_empty() && new_dn == old.dn() {
            return Ok(());
        }
        let t = &self.types[idx];
        // PUT and PATCH both export what the connector's export type asks for: a whole
        // object for ObjectReplace, attribute changes (the diff) otherwise.
        let replace = self.capabilities.export_type == ExportType::ObjectReplace;
        let mut entry = Self::new_entry(
            t,
            if replace {
                ObjectModification::Replace
            } else {
                ObjectModification::Update
            },
            Some(id),
            new_dn,
        );
        entry.changes = if replace {
            new_record
                .iter()
                .map(|(k, v)| AttributeChange::replace(k, v.iter().cloned()))
                .collect()
        } else {
            changes
        };
        let reread_target = self.reread_target_of(&entry);
        if let Err(e) = self.export_entry(entry).await {
            if e.status == 404
                && let Some(mut target) = reread_target
            {
                // "Missing" is ambiguous on a modify (LDAP says noSuchObject for a missing
                // parent or member DN too): the cache keeps the object until the target
                // has been read again and says whether it is really gone. It is looked
                // for where it was, not where a rename would have put it.
                target.dn = old.dn().to_owned();
                self.request_reread(target, "the target reported it missing on update");
            }
            return Err(e);
        }
        Ok(())
    }
}

/// Two DNs that name the same entry: compared without case, and without the spaces around
/// `,` and `=` separators (escaped separators, RFC 4514 `\,`, are part of a value).
fn same_dn(a: &str, b: &str) -> bool {
    fn norm(d: &str) -> String {
        let mut out = String::with_capacity(d.len());
        let mut escaped = false;
        for c in d.chars() {
            if escaped {
                out.push(c);
                escaped = false;
                continue;
            }
            match c {
                '\\' => {
                    escaped = true;
                    out.push(c);
                }
                ',' | '=' => {
                    while out.ends_with(' ') && !out.ends_with("\\ ") {
                        out.pop();
                    }
                    out.push(c);
                }
                ' ' if out.ends_with(',') || out.ends_with('=') => {}
                c => out.extend(c.to_lowercase()),
            }
        }
        out.trim().to_owned()
    }
    norm(a) == norm(b)
}

impl Application {
    /// A rename is possible when the connector renames and the anchor is not the DN itself
    /// (the SCIM id would change under Entra's feet).
    fn check_rename(&self, t: &crate::mapping::TypeMapping) -> Result<(), ScimError> {
        if !self.capabilities.object_rename {
            return Err(ScimError::mutability(format!(
                "'{}' cannot change: the connector of application '{}' does not rename objects",
                crate::mapping::DN_ATTRIBUTE,
                self.name
            )));
        }
        if t.anchor.eq_ignore_ascii_case("dn")
            || t.anchor.eq_ignore_ascii_case(crate::mapping::DN_ATTRIBUTE)
        {
            return Err(ScimError::mutability(format!(
                "'{}' cannot change: the anchor of {} is the DN, so a rename would change the object's id (configure an anchor attribute such as entryUUID)",
                crate::mapping::DN_ATTRIBUTE,
                t.object_type
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::same_dn;

    #[test]
    fn dns_compare_as_ldap_servers_compare_them() {
        assert!(same_dn("CN=Ada,OU=People,DC=x", "cn=ada, ou=people,dc=X"));
        assert!(same_dn("cn = Ada , dc=x", "cn=ada,dc=x"));
        assert!(!same_dn("cn=Ada\\,X,dc=x", "cn=Ada,X,dc=x"));
        assert!(!same_dn("cn=Ada,dc=x", "cn=Bob,dc=x"));
    }
}
