//! The SCIM engine's [`Backend`] over an application: each operation lives in its own file
//! (`read`, `create`, `update`, `delete`); this is only the trait's wiring.

use std::sync::Arc;

use ecma_scim::{
    Backend, Candidates, IndexPlan, MemberChanges, PatchedGroup, ResolvedAttr, ResourceTypeDef,
    ScimError, StoredResource,
};
use serde_json::Value as Json;

use super::Application;

impl Backend for Application {
    async fn candidates<'a>(
        &'a self,
        rt: &ResourceTypeDef,
        plan: Option<&IndexPlan>,
    ) -> Result<Candidates<'a>, ScimError> {
        Application::candidates(self, rt, plan)
    }

    async fn get(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
    ) -> Result<Option<Arc<StoredResource>>, ScimError> {
        Application::get(self, rt, id)
    }

    async fn create(
        &self,
        rt: &ResourceTypeDef,
        resource: Json,
    ) -> Result<Arc<StoredResource>, ScimError> {
        Application::create(self, rt, resource).await
    }

    async fn update(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
        new: Json,
    ) -> Result<Arc<StoredResource>, ScimError> {
        Application::update(self, rt, id, new).await
    }

    async fn patch_members(
        &self,
        rt: &ResourceTypeDef,
        id: &str,
        changes: &MemberChanges,
        precondition: &(dyn Fn(&str) -> Result<(), ScimError> + Sync),
        with_members: bool,
    ) -> Option<Result<PatchedGroup, ScimError>> {
        Application::patch_members(self, rt, id, changes, precondition, with_members).await
    }

    async fn delete(&self, rt: &ResourceTypeDef, id: &str) -> Result<(), ScimError> {
        Application::delete(self, rt, id).await
    }

    fn is_indexed(&self, rt: &ResourceTypeDef, attr: &ResolvedAttr) -> bool {
        Application::is_indexed(self, rt, attr)
    }

    /// The object's lock (see [`super::locks`]): the one lock a write to it holds.
    async fn write_guard(&self, rt: &ResourceTypeDef, id: &str) -> Option<Box<dyn Send>> {
        let idx = self.type_index(rt).ok()?;
        let guard = self
            .object_locks
            .object(&self.types[idx].object_type, id)
            .await;
        Some(Box::new(guard))
    }
}
