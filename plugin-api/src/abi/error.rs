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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::round_trip;

    fn every_kind() -> [m::ErrorKind; 8] {
        use m::ErrorKind::*;
        [
            Config,
            Connection,
            Unsupported,
            InvalidInput,
            Cancelled,
            Panicked,
            Internal,
            FullImportRequired,
        ]
    }

    #[test]
    fn errors_of_every_kind_round_trip() {
        for kind in every_kind() {
            round_trip::<AbiError, _>(m::ConnectorError::new(kind, format!("{kind:?} ✓")));
        }
    }

    #[test]
    fn results_round_trip_both_ways() {
        let ok: m::ConnectorResult<String> = Ok("watermark".into());
        let back: m::ConnectorResult<String> =
            result_from_abi(result_to_abi::<String, RString>(ok.clone()));
        assert_eq!(back, ok);
        let err: m::ConnectorResult<String> = Err(m::ConnectorError::connection("down"));
        let back: m::ConnectorResult<String> =
            result_from_abi(result_to_abi::<String, RString>(err.clone()));
        assert_eq!(back, err);
    }

    #[test]
    fn an_unknown_error_kind_is_internal() {
        let e = m::ConnectorError::from(AbiError {
            kind: 200,
            message: "newer".into(),
        });
        assert_eq!(e, m::ConnectorError::internal("newer"));
    }
}
