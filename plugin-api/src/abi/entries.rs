//! The change model (`CSEntryChange`) and its values, across the ABI: what exports carry.

use abi_stable::{
    StableAbi,
    std_types::{ROption, RString, RVec},
};

use crate::model::{self as m, Wire};

/// The five ECMA2 attribute types. An exhaustive enum on purpose: ECMA2's type set is fixed.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone)]
pub enum AbiValue {
    String(RString),
    Integer(i64),
    Boolean(bool),
    Binary(RVec<u8>),
    Reference(RString),
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiValueChange {
    pub modification: u8,
    pub value: AbiValue,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiAttributeChange {
    pub name: RString,
    pub modification: u8,
    pub values: RVec<AbiValueChange>,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiAnchor {
    pub name: RString,
    pub value: AbiValue,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiEntryError {
    pub code: u8,
    pub name: RString,
    pub detail: RString,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiEntryChange {
    pub identifier: RString,
    pub object_type: RString,
    pub modification: u8,
    pub dn: RString,
    pub anchor: RVec<AbiAnchor>,
    pub changes: RVec<AbiAttributeChange>,
    pub error: ROption<AbiEntryError>,
}

impl From<m::Value> for AbiValue {
    fn from(v: m::Value) -> Self {
        match v {
            m::Value::String(s) => AbiValue::String(s.into()),
            m::Value::Integer(i) => AbiValue::Integer(i),
            m::Value::Boolean(b) => AbiValue::Boolean(b),
            m::Value::Binary(b) => AbiValue::Binary(b.into()),
            m::Value::Reference(s) => AbiValue::Reference(s.into()),
        }
    }
}

impl From<AbiValue> for m::Value {
    fn from(v: AbiValue) -> Self {
        match v {
            AbiValue::String(s) => m::Value::String(s.into()),
            AbiValue::Integer(i) => m::Value::Integer(i),
            AbiValue::Boolean(b) => m::Value::Boolean(b),
            AbiValue::Binary(b) => m::Value::Binary(b.into()),
            AbiValue::Reference(s) => m::Value::Reference(s.into()),
        }
    }
}

impl From<m::AnchorAttribute> for AbiAnchor {
    fn from(a: m::AnchorAttribute) -> Self {
        Self {
            name: a.name.into(),
            value: a.value.into(),
        }
    }
}

impl From<AbiAnchor> for m::AnchorAttribute {
    fn from(a: AbiAnchor) -> Self {
        Self {
            name: a.name.into(),
            value: a.value.into(),
        }
    }
}

impl From<m::CsEntryChange> for AbiEntryChange {
    fn from(e: m::CsEntryChange) -> Self {
        Self {
            identifier: e.identifier.into(),
            object_type: e.object_type.into(),
            modification: e.modification.to_wire(),
            dn: e.dn.into(),
            anchor: e.anchor.into_iter().map(Into::into).collect(),
            changes: e
                .changes
                .into_iter()
                .map(|c| AbiAttributeChange {
                    name: c.name.into(),
                    modification: c.modification.to_wire(),
                    values: c
                        .values
                        .into_iter()
                        .map(|v| AbiValueChange {
                            modification: v.modification.to_wire(),
                            value: v.value.into(),
                        })
                        .collect(),
                })
                .collect(),
            error: e
                .error
                .map(|err| AbiEntryError {
                    code: err.code.to_wire(),
                    name: err.name.into(),
                    detail: err.detail.into(),
                })
                .into(),
        }
    }
}

impl From<AbiEntryChange> for m::CsEntryChange {
    fn from(e: AbiEntryChange) -> Self {
        Self {
            identifier: e.identifier.into(),
            object_type: e.object_type.into(),
            modification: m::ObjectModification::from_wire(e.modification),
            dn: e.dn.into(),
            anchor: e.anchor.into_iter().map(Into::into).collect(),
            changes: e
                .changes
                .into_iter()
                .map(|c| m::AttributeChange {
                    name: c.name.into(),
                    modification: m::AttributeModification::from_wire(c.modification),
                    values: c
                        .values
                        .into_iter()
                        .map(|v| m::ValueChange {
                            modification: m::ValueModification::from_wire(v.modification),
                            value: v.value.into(),
                        })
                        .collect(),
                })
                .collect(),
            error: e.error.into_option().map(|err| m::EntryError {
                code: m::ImportErrorCode::from_wire(err.code),
                name: err.name.into(),
                detail: err.detail.into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::{entries, round_trip};

    #[test]
    fn values_of_every_type_round_trip() {
        for value in [
            m::Value::String("Zoë".into()),
            m::Value::Integer(i64::MIN),
            m::Value::Boolean(true),
            m::Value::Binary(vec![0, 255]),
            m::Value::Reference("cn=a".into()),
        ] {
            round_trip::<AbiValue, _>(value);
        }
    }

    #[test]
    fn anchors_round_trip() {
        round_trip::<AbiAnchor, _>(m::AnchorAttribute {
            name: "id".into(),
            value: m::Value::Integer(7),
        });
    }

    #[test]
    fn entries_with_every_modification_and_error_code_round_trip() {
        for entry in entries() {
            round_trip::<AbiEntryChange, _>(entry);
        }
    }

    #[test]
    fn unknown_modifications_and_codes_decode_to_safe_defaults() {
        let mut abi = AbiEntryChange::from(entries().swap_remove(1));
        abi.modification = 200;
        abi.changes = vec![AbiAttributeChange {
            name: "a".into(),
            modification: 200,
            values: vec![AbiValueChange {
                modification: 200,
                value: AbiValue::Integer(1),
            }]
            .into(),
        }]
        .into();
        abi.error = ROption::RSome(AbiEntryError {
            code: 200,
            name: "n".into(),
            detail: "d".into(),
        });
        let e = m::CsEntryChange::from(abi);
        assert_eq!(e.modification, m::ObjectModification::None);
        assert_eq!(e.changes[0].modification, m::AttributeModification::Replace);
        assert_eq!(
            e.changes[0].values[0].modification,
            m::ValueModification::Add
        );
        assert_eq!(e.error.unwrap().code, m::ImportErrorCode::CustomContinueRun);
    }
}
