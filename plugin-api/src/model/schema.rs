//! The schema a connector offers (object types and their attributes) and its partitions.

use super::wire::Wire;
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

impl Wire for DataType {
    type Repr = u8;
    #[inline]
    fn to_wire(self) -> u8 {
        match self {
            DataType::String => 0,
            DataType::Integer => 1,
            DataType::Boolean => 2,
            DataType::Binary => 3,
            DataType::Reference => 4,
        }
    }
    #[inline]
    fn from_wire(v: u8) -> Self {
        match v {
            1 => DataType::Integer,
            2 => DataType::Boolean,
            3 => DataType::Binary,
            4 => DataType::Reference,
            // An unknown type from a newer plugin is read as a string.
            _ => DataType::String,
        }
    }
}

/// ECMA2 `AttributeOperation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttributeOperation {
    ImportOnly,
    ExportOnly,
    ImportExport,
}

impl Wire for AttributeOperation {
    type Repr = u8;
    #[inline]
    fn to_wire(self) -> u8 {
        match self {
            AttributeOperation::ImportOnly => 0,
            AttributeOperation::ExportOnly => 1,
            AttributeOperation::ImportExport => 2,
        }
    }
    #[inline]
    fn from_wire(v: u8) -> Self {
        match v {
            0 => AttributeOperation::ImportOnly,
            1 => AttributeOperation::ExportOnly,
            // An unknown operation: both directions, ECMA2's default.
            _ => AttributeOperation::ImportExport,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::wire::assert_wire_forms;

    #[test]
    fn schema_enumerations_cross_the_boundary_as_their_numbers() {
        assert_wire_forms!(DataType {
            String => 0,
            Integer => 1,
            Boolean => 2,
            Binary => 3,
            Reference => 4,
        } unknown [5, 255] => String);
        assert_wire_forms!(AttributeOperation {
            ImportOnly => 0,
            ExportOnly => 1,
            ImportExport => 2,
        } unknown [3, 255] => ImportExport);
    }
}
