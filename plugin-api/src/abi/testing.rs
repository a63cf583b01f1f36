//! What the round-trip tests of the ABI conversions share: the check, and model values that
//! use every field and every enumeration variant.

use std::fmt::Debug;

use crate::model as m;

/// `value` survives the trip to its FFI twin `A` and back unchanged.
pub(super) fn round_trip<A, M>(value: M)
where
    A: From<M>,
    M: From<A> + Clone + PartialEq + Debug,
{
    assert_eq!(M::from(A::from(value.clone())), value);
}

/// A schema with every data type and attribute operation.
pub(super) fn schema() -> m::Schema {
    let user = m::SchemaType {
        name: "User".into(),
        locked: true,
        attributes: vec![
            m::SchemaAttribute::anchor("id", m::DataType::Integer),
            m::SchemaAttribute::single("name", m::DataType::String)
                .with_operation(m::AttributeOperation::ImportOnly),
            m::SchemaAttribute::single("active", m::DataType::Boolean)
                .with_operation(m::AttributeOperation::ExportOnly),
            m::SchemaAttribute::multi("photo", m::DataType::Binary),
            m::SchemaAttribute {
                hidden_by_default: true,
                ..m::SchemaAttribute::multi("manager", m::DataType::Reference)
            },
        ],
        anchor_attributes: vec!["id".into()],
        possible_dn_components: vec!["cn".into(), "ou".into()],
    };
    let group = m::SchemaType {
        name: "Group".into(),
        locked: false,
        attributes: vec![],
        anchor_attributes: vec![],
        possible_dn_components: vec![],
    };
    m::Schema {
        types: vec![user, group],
    }
}

pub(super) fn partition() -> m::Partition {
    m::Partition {
        id: "p-1".into(),
        dn: "dc=example,dc=com".into(),
        name: "example".into(),
        hidden: true,
    }
}

/// Entries with every object, attribute and value modification, every value type, and an
/// entry error of every code.
pub(super) fn entries() -> Vec<m::CsEntryChange> {
    use m::{AttributeModification as A, ObjectModification as O};
    let mut full = m::CsEntryChange::new("User", O::Update)
        .with_anchor("id", 7i64)
        .with_anchor("guid", m::Value::Binary(vec![0, 255, 9]))
        .with_change(m::AttributeChange::add("name", [m::Value::from("Zoë")]))
        .with_change(m::AttributeChange::replace(
            "active",
            [m::Value::Boolean(false)],
        ))
        .with_change(m::AttributeChange::update(
            "manager",
            vec![
                m::ValueChange::delete(m::Value::Reference("cn=old".into())),
                m::ValueChange::add(m::Value::Reference("cn=new".into())),
            ],
        ))
        .with_change(m::AttributeChange::delete("photo"));
    full.identifier = "e-1".into();
    full.dn = "cn=zoe".into();
    let mut out = vec![full];
    for modification in [O::Add, O::Replace, O::Delete, O::None] {
        out.push(m::CsEntryChange::new("Group", modification));
    }
    for (i, code) in [
        m::ImportErrorCode::CustomContinueRun,
        m::ImportErrorCode::CustomStopRun,
        m::ImportErrorCode::InvalidAttributeValue,
        m::ImportErrorCode::MissingAnchor,
        m::ImportErrorCode::ParseError,
    ]
    .into_iter()
    .enumerate()
    {
        let mut e = m::CsEntryChange::new("User", O::Add).with_change(m::AttributeChange {
            name: "n".into(),
            modification: A::Add,
            values: vec![],
        });
        e.error = Some(m::EntryError {
            code,
            name: format!("error {i}"),
            detail: "detail".into(),
        });
        out.push(e);
    }
    out
}
