//! The schema and partitions, across the ABI.

use abi_stable::{
    StableAbi,
    std_types::{RString, RVec},
};

use crate::model::{self as m, Wire};

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiSchemaAttribute {
    pub name: RString,
    pub data_type: u8,
    pub multi_valued: bool,
    pub operation: u8,
    pub is_anchor: bool,
    pub hidden_by_default: bool,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiSchemaType {
    pub name: RString,
    pub locked: bool,
    pub attributes: RVec<AbiSchemaAttribute>,
    pub anchor_attributes: RVec<RString>,
    pub possible_dn_components: RVec<RString>,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiSchema {
    pub types: RVec<AbiSchemaType>,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiPartition {
    pub id: RString,
    pub dn: RString,
    pub name: RString,
    pub hidden: bool,
}

impl From<m::Schema> for AbiSchema {
    fn from(s: m::Schema) -> Self {
        Self {
            types: s
                .types
                .into_iter()
                .map(|t| AbiSchemaType {
                    name: t.name.into(),
                    locked: t.locked,
                    attributes: t
                        .attributes
                        .into_iter()
                        .map(|a| AbiSchemaAttribute {
                            name: a.name.into(),
                            data_type: a.data_type.to_wire(),
                            multi_valued: a.multi_valued,
                            operation: a.operation.to_wire(),
                            is_anchor: a.is_anchor,
                            hidden_by_default: a.hidden_by_default,
                        })
                        .collect(),
                    anchor_attributes: t.anchor_attributes.into_iter().map(Into::into).collect(),
                    possible_dn_components: t
                        .possible_dn_components
                        .into_iter()
                        .map(Into::into)
                        .collect(),
                })
                .collect(),
        }
    }
}

impl From<AbiSchema> for m::Schema {
    fn from(s: AbiSchema) -> Self {
        Self {
            types: s
                .types
                .into_iter()
                .map(|t| m::SchemaType {
                    name: t.name.into(),
                    locked: t.locked,
                    attributes: t
                        .attributes
                        .into_iter()
                        .map(|a| m::SchemaAttribute {
                            name: a.name.into(),
                            data_type: m::DataType::from_wire(a.data_type),
                            multi_valued: a.multi_valued,
                            operation: m::AttributeOperation::from_wire(a.operation),
                            is_anchor: a.is_anchor,
                            hidden_by_default: a.hidden_by_default,
                        })
                        .collect(),
                    anchor_attributes: t.anchor_attributes.into_iter().map(Into::into).collect(),
                    possible_dn_components: t
                        .possible_dn_components
                        .into_iter()
                        .map(Into::into)
                        .collect(),
                })
                .collect(),
        }
    }
}

impl From<m::Partition> for AbiPartition {
    fn from(p: m::Partition) -> Self {
        Self {
            id: p.id.into(),
            dn: p.dn.into(),
            name: p.name.into(),
            hidden: p.hidden,
        }
    }
}

impl From<AbiPartition> for m::Partition {
    fn from(p: AbiPartition) -> Self {
        Self {
            id: p.id.into(),
            dn: p.dn.into(),
            name: p.name.into(),
            hidden: p.hidden,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::{partition, round_trip, schema};

    #[test]
    fn a_schema_with_every_data_type_and_operation_round_trips() {
        round_trip::<AbiSchema, _>(schema());
        round_trip::<AbiSchema, _>(m::Schema::default());
    }

    #[test]
    fn partitions_round_trip() {
        round_trip::<AbiPartition, _>(partition());
    }
}
