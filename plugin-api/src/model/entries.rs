//! The change model (`CSEntryChange`): an object's change with its attribute and value
//! changes, anchors and import error.

use serde::{Deserialize, Serialize};

use super::values::Value;
use super::wire::Wire;

/// `ObjectModificationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectModification {
    Add,
    Replace,
    Update,
    Delete,
    None,
}

impl Wire for ObjectModification {
    type Repr = u8;
    #[inline]
    fn to_wire(self) -> u8 {
        match self {
            ObjectModification::Add => 0,
            ObjectModification::Replace => 1,
            ObjectModification::Update => 2,
            ObjectModification::Delete => 3,
            ObjectModification::None => 4,
        }
    }
    #[inline]
    fn from_wire(v: u8) -> Self {
        match v {
            0 => ObjectModification::Add,
            1 => ObjectModification::Replace,
            2 => ObjectModification::Update,
            3 => ObjectModification::Delete,
            // Unknown modifications from a newer side become `None` (ignored), never a write.
            _ => ObjectModification::None,
        }
    }
}

/// `AttributeModificationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttributeModification {
    Add,
    Replace,
    Update,
    Delete,
}

impl Wire for AttributeModification {
    type Repr = u8;
    #[inline]
    fn to_wire(self) -> u8 {
        match self {
            AttributeModification::Add => 0,
            AttributeModification::Replace => 1,
            AttributeModification::Update => 2,
            AttributeModification::Delete => 3,
        }
    }
    #[inline]
    fn from_wire(v: u8) -> Self {
        match v {
            0 => AttributeModification::Add,
            2 => AttributeModification::Update,
            3 => AttributeModification::Delete,
            // An unknown modification: the values it carries replace the attribute's.
            _ => AttributeModification::Replace,
        }
    }
}

/// `ValueModificationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValueModification {
    Add,
    Delete,
}

impl Wire for ValueModification {
    type Repr = u8;
    #[inline]
    fn to_wire(self) -> u8 {
        match self {
            ValueModification::Add => 0,
            ValueModification::Delete => 1,
        }
    }
    #[inline]
    fn from_wire(v: u8) -> Self {
        match v {
            1 => ValueModification::Delete,
            // Only 1 deletes a value: anything else adds it.
            _ => ValueModification::Add,
        }
    }
}

/// `ValueChange`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueChange {
    pub modification: ValueModification,
    pub value: Value,
}

impl ValueChange {
    pub fn add(value: impl Into<Value>) -> Self {
        Self {
            modification: ValueModification::Add,
            value: value.into(),
        }
    }
    pub fn delete(value: impl Into<Value>) -> Self {
        Self {
            modification: ValueModification::Delete,
            value: value.into(),
        }
    }
}

/// `AttributeChange`. For `Add` and `Replace` every value change is an `Add` of a new value;
/// `Update` carries value adds and deletes; `Delete` carries none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeChange {
    pub name: String,
    pub modification: AttributeModification,
    pub values: Vec<ValueChange>,
}

impl AttributeChange {
    pub fn add(name: &str, values: impl IntoIterator<Item = Value>) -> Self {
        Self {
            name: name.to_owned(),
            modification: AttributeModification::Add,
            values: values.into_iter().map(ValueChange::add).collect(),
        }
    }
    pub fn replace(name: &str, values: impl IntoIterator<Item = Value>) -> Self {
        Self {
            name: name.to_owned(),
            modification: AttributeModification::Replace,
            values: values.into_iter().map(ValueChange::add).collect(),
        }
    }
    pub fn update(name: &str, changes: Vec<ValueChange>) -> Self {
        Self {
            name: name.to_owned(),
            modification: AttributeModification::Update,
            values: changes,
        }
    }
    pub fn delete(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            modification: AttributeModification::Delete,
            values: Vec::new(),
        }
    }
    /// The values this change adds (all values for `Add`/`Replace`).
    pub fn added_values(&self) -> impl Iterator<Item = &Value> {
        self.values
            .iter()
            .filter(|v| v.modification == ValueModification::Add)
            .map(|v| &v.value)
    }
    pub fn deleted_values(&self) -> impl Iterator<Item = &Value> {
        self.values
            .iter()
            .filter(|v| v.modification == ValueModification::Delete)
            .map(|v| &v.value)
    }
}

/// `AnchorAttribute`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorAttribute {
    pub name: String,
    pub value: Value,
}

/// `MAImportError` codes that a connector can attach to one imported entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportErrorCode {
    /// Discovery error for this entry; the run goes on, the watermark is not committed.
    CustomContinueRun,
    /// Fatal: the run stops.
    CustomStopRun,
    InvalidAttributeValue,
    MissingAnchor,
    ParseError,
}

impl Wire for ImportErrorCode {
    type Repr = u8;
    #[inline]
    fn to_wire(self) -> u8 {
        match self {
            ImportErrorCode::CustomContinueRun => 0,
            ImportErrorCode::CustomStopRun => 1,
            ImportErrorCode::InvalidAttributeValue => 2,
            ImportErrorCode::MissingAnchor => 3,
            ImportErrorCode::ParseError => 4,
        }
    }
    #[inline]
    fn from_wire(v: u8) -> Self {
        match v {
            1 => ImportErrorCode::CustomStopRun,
            2 => ImportErrorCode::InvalidAttributeValue,
            3 => ImportErrorCode::MissingAnchor,
            4 => ImportErrorCode::ParseError,
            // An unknown code fails its entry only, and the run goes on.
            _ => ImportErrorCode::CustomContinueRun,
        }
    }
}

/// An import error attached to one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryError {
    pub code: ImportErrorCode,
    pub name: String,
    pub detail: String,
}

/// `CSEntryChange`: one object's change, on import and on export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsEntryChange {
    /// Correlates export results with entries (ECMA uses a GUID).
    pub identifier: String,
    pub object_type: String,
    pub modification: ObjectModification,
    pub dn: String,
    pub anchor: Vec<AnchorAttribute>,
    pub changes: Vec<AttributeChange>,
    pub error: Option<EntryError>,
}

impl CsEntryChange {
    pub fn new(object_type: &str, modification: ObjectModification) -> Self {
        Self {
            identifier: String::new(),
            object_type: object_type.to_owned(),
            modification,
            dn: String::new(),
            anchor: Vec::new(),
            changes: Vec::new(),
            error: None,
        }
    }
    pub fn with_anchor(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.anchor.push(AnchorAttribute {
            name: name.to_owned(),
            value: value.into(),
        });
        self
    }
    pub fn with_change(mut self, change: AttributeChange) -> Self {
        self.changes.push(change);
        self
    }
    pub fn change(&self, name: &str) -> Option<&AttributeChange> {
        self.changes
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
    /// The anchor value for a single-attribute anchor.
    pub fn anchor_value(&self) -> Option<&Value> {
        self.anchor.first().map(|a| &a.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::wire::assert_wire_forms;

    #[test]
    fn change_enumerations_cross_the_boundary_as_their_numbers() {
        assert_wire_forms!(ObjectModification {
            Add => 0,
            Replace => 1,
            Update => 2,
            Delete => 3,
            None => 4,
        } unknown [5, 255] => None);
        assert_wire_forms!(AttributeModification {
            Add => 0,
            Replace => 1,
            Update => 2,
            Delete => 3,
        } unknown [4, 255] => Replace);
        assert_wire_forms!(ValueModification {
            Add => 0,
            Delete => 1,
        } unknown [2, 255] => Add);
        assert_wire_forms!(ImportErrorCode {
            CustomContinueRun => 0,
            CustomStopRun => 1,
            InvalidAttributeValue => 2,
            MissingAnchor => 3,
            ParseError => 4,
        } unknown [5, 255] => CustomContinueRun);
    }
}
