//! The object a password call is for, across the ABI.

use abi_stable::{
    StableAbi,
    std_types::{RString, RVec},
};

use crate::model as m;

use super::entries::AbiAnchor;

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiPasswordTarget {
    pub object_type: RString,
    pub dn: RString,
    pub anchor: RVec<AbiAnchor>,
}

impl From<m::PasswordTarget> for AbiPasswordTarget {
    fn from(t: m::PasswordTarget) -> Self {
        Self {
            object_type: t.object_type.into(),
            dn: t.dn.into(),
            anchor: t.anchor.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<AbiPasswordTarget> for m::PasswordTarget {
    fn from(t: AbiPasswordTarget) -> Self {
        Self {
            object_type: t.object_type.into(),
            dn: t.dn.into(),
            anchor: t.anchor.into_iter().map(Into::into).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::round_trip;

    #[test]
    fn password_targets_round_trip() {
        round_trip::<AbiPasswordTarget, _>(m::PasswordTarget {
            object_type: "User".into(),
            dn: "cn=zoe".into(),
            anchor: vec![m::AnchorAttribute {
                name: "id".into(),
                value: m::Value::Integer(7),
            }],
        });
    }
}
