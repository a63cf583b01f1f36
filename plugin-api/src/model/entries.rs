//! The change model (`CSEntryChange`): an object's change with its attribute and value
//! changes, anchors and import error.

use serde::{Deserialize, Serialize};

use super::values::Value;

/// `ObjectModificationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectModification {
    Add,
    Replace,
    Update,
    Delete,
    None,
}

/// `AttributeModificationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttributeModification {
    Add,
    Replace,
    Update,
    Delete,
}

/// `ValueModificationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValueModification {
    Add,
    Delete,
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
