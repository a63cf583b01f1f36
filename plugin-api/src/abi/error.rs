//! Errors returned through the ABI, and `Result` to and from `RResult`.

use abi_stable::{
    StableAbi,
    std_types::{RResult, RString},
};

use crate::model::{self as m, Wire};

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiError {
    /// `ErrorKind` as a number.
    pub kind: u8,
    pub message: RString,
}

impl From<m::ConnectorError> for AbiError {
    fn from(e: m::ConnectorError) -> Self {
        Self {
            kind: e.kind.to_wire(),
            message: e.message.into(),
        }
    }
}

impl From<AbiError> for m::ConnectorError {
    fn from(e: AbiError) -> Self {
        Self {
            kind: m::ErrorKind::from_wire(e.kind),
            message: e.message.into(),
        }
    }
}

pub(crate) fn result_to_abi<T, U: From<T>>(r: m::ConnectorResult<T>) -> RResult<U, AbiError> {
    match r {
        Ok(v) => RResult::ROk(U::from(v)),
        Err(e) => RResult::RErr(e.into()),
    }
}

pub(crate) fn result_from_abi<T, U: From<T>>(r: RResult<T, AbiError>) -> m::ConnectorResult<U> {
    match r {
        RResult::ROk(v) => Ok(U::from(v)),
        RResult::RErr(e) => Err(e.into()),
    }
}
