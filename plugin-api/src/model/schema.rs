//! The schema a connector offers (object types and their attributes) and its partitions.

use serde::{Deserialize, Serialize};

/// ECMA2 `AttributeType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DataType {
    String,
    Integer,
    Boolean,
    Binary,
    Reference,
}

/// ECMA2 `AttributeOperation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttributeOperation {
    ImportOnly,
    ExportOnly,
    ImportExport,
}

/// `SchemaAttribute`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaAttribute {
    pub name: String,
    pub data_type: DataType,
    pub multi_valued: bool,
    pub operation: AttributeOperation,
    pub is_anchor: bool,
    pub hidden_by_default: bool,
}

impl SchemaAttribute {
    pub fn single(name: &str, data_type: DataType) -> Self {
        Self {
            name: name.to_owned(),
            data_type,
            multi_valued: false,
            operation: AttributeOperation::ImportExport,
            is_anchor: false,
            hidden_by_default: false,
        }
    }
    pub fn multi(name: &str, data_type: DataType) -> Self {
        Self {
            multi_valued: true,
            ..Self::single(name, data_type)
        }
    }
    pub fn anchor(name: &str, data_type: DataType) -> Self {
        Self {
            is_anchor: true,
            ..Self::single(name, data_type)
        }
    }
    pub fn with_operation(mut self, operation: AttributeOperation) -> Self {
        self.operation = operation;
        self
    }
}

/// `SchemaType`: one object type (e.g. `User`, `Group`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaType {
    pub name: String,
    pub locked: bool,
    pub attributes: Vec<SchemaAttribute>,
    pub anchor_attributes: Vec<String>,
    pub possible_dn_components: Vec<String>,
}

impl SchemaType {
    pub fn attribute(&self, name: &str) -> Option<&SchemaAttribute> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// `Schema`: all object types a connector offers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Schema {
    pub types: Vec<SchemaType>,
}

impl Schema {
    pub fn object_type(&self, name: &str) -> Option<&SchemaType> {
        self.types
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }
}

/// `Partition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    pub id: String,
    pub dn: String,
    pub name: String,
    pub hidden: bool,
}
