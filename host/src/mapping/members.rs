//! The two directions of a group's `members` one value at a time: the value a member's SCIM
//! id is stored as, and the id a stored value shows as. A membership PATCH changes the
//! record with these ([`crate::app`]'s `members.rs`) instead of rendering the whole group
//! and reading it back; they are the conversions rendering and reading use, so both paths
//! store and show the same values.

use ecma_scim::ScimError;
use plugin_api::model::{DataType, Value};
use serde_json::Value as Json;

use super::values::{from_json, value_json};
use super::{AttrMapping, ScimTarget, TypeMapping};

impl TypeMapping {
    /// The mapping of `members`, when this type has one.
    pub fn members_mapping(&self) -> Option<&AttrMapping> {
        self.attrs
            .iter()
            .find(|m| matches!(m.target, ScimTarget::Members))
    }
}

impl AttrMapping {
    /// The value that stores a reference to SCIM id `id` (as reading a resource stores it).
    pub fn value_of_id(
        &self,
        id: &str,
        id_to_ref: &dyn Fn(&str) -> String,
    ) -> Result<Option<Value>, ScimError> {
        Ok(from_json(&Json::String(id.to_owned()), self, id_to_ref)?
            .into_iter()
            .next())
    }

    /// The `value`s of the member elements a group with the stored `values` shows, in order
    /// (rendering puts each in a `{"value": v}`).
    pub fn member_values(
        &self,
        values: &[Value],
        dn_to_id: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<Json> {
        values
            .iter()
            .map(|v| value_json(v, DataType::Reference, dn_to_id))
            .collect()
    }

    /// The SCIM id a stored member value shows as (as rendering a group shows it).
    pub fn id_of_value(v: &Value, dn_to_id: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        match value_json(v, DataType::Reference, dn_to_id) {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
}
