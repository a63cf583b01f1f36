//! SCIM delete (DELETE): the deprovisioning policy's export, then the cache.

use ecma_scim::{ResourceTypeDef, ScimError};
use plugin_api::model::*;

use super::Application;
use crate::config::Deprovision;

impl Application {
    /// DELETE: the application's delete policy (export a `Delete`, set a flag, or nothing),
    /// then the cache. Called with the object's lock held (see [`super::locks`]).
    pub(super) async fn delete(&self, rt: &ResourceTypeDef, id: &str) -> Result<(), ScimError> {
        let (idx, old) = self.cached_object(rt, id)?;
        let t = &self.types[idx];
        let exported = match &t.on_delete {
            Deprovision::SetAttribute { set, value } => {
                self.require_export()?;
                let entry = Self::new_entry(t, ObjectModification::Update, Some(id), old.dn())
                    .with_change(AttributeChange::replace(set, [t.typed_bool(set, *value)]));
                self.export_entry(entry).await.map(drop)
            }
            d if *d == Deprovision::Delete => {
                self.require_export()?;
                let entry = Self::new_entry(t, ObjectModification::Delete, Some(id), old.dn());
                self.export_entry(entry).await.map(drop)
            }
            _ => Ok(()),
        };
        match exported {
            // Already gone from the target: the delete has happened; the cache follows.
            Ok(()) => {}
            Err(e) if e.status == 404 => {}
            Err(e) => return Err(e),
        }
        self.caches[idx].remove(id);
        Ok(())
    }
}
