//! Configuration parameters, their definitions and validation, across the ABI.

use abi_stable::{
    StableAbi,
    std_types::{RString, RVec},
};

use crate::model::{self as m, Wire};

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiParamDef {
    pub name: RString,
    pub kind: u8,
    pub description: RString,
    pub validation: RString,
    pub default_value: RString,
    pub dropdown_values: RVec<RString>,
    pub dropdown_extensible: bool,
    pub checkbox_default: bool,
    pub required: bool,
    /// plugin-api 0.6.
    pub aliases: RVec<RString>,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiParam {
    pub name: RString,
    pub value: RString,
    pub encrypted: bool,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiValidation {
    pub ok: bool,
    pub parameter: RString,
    pub message: RString,
}

impl From<m::ConfigParameterDefinition> for AbiParamDef {
    fn from(d: m::ConfigParameterDefinition) -> Self {
        Self {
            name: d.name.into(),
            kind: d.kind.to_wire(),
            description: d.description.into(),
            validation: d.validation.into(),
            default_value: d.default_value.into(),
            dropdown_values: d.dropdown_values.into_iter().map(RString::from).collect(),
            dropdown_extensible: d.dropdown_extensible,
            checkbox_default: d.checkbox_default,
            required: d.required,
            aliases: d.aliases.into_iter().map(RString::from).collect(),
        }
    }
}

impl From<AbiParamDef> for m::ConfigParameterDefinition {
    fn from(d: AbiParamDef) -> Self {
        Self {
            name: d.name.into(),
            kind: m::ParameterKind::from_wire(d.kind),
            description: d.description.into(),
            validation: d.validation.into(),
            default_value: d.default_value.into(),
            dropdown_values: d.dropdown_values.into_iter().map(String::from).collect(),
            dropdown_extensible: d.dropdown_extensible,
            checkbox_default: d.checkbox_default,
            required: d.required,
            aliases: d.aliases.into_iter().map(String::from).collect(),
        }
    }
}

pub(crate) fn params_to_abi(c: &m::ConfigParameters) -> RVec<AbiParam> {
    c.iter()
        .map(|p| AbiParam {
            name: RString::from(p.name.as_str()),
            value: RString::from(p.value.as_str()),
            encrypted: p.encrypted,
        })
        .collect()
}

pub(crate) fn params_from_abi(v: RVec<AbiParam>) -> m::ConfigParameters {
    v.into_iter()
        .map(|p| m::ConfigParameter {
            name: p.name.into(),
            value: p.value.into(),
            encrypted: p.encrypted,
        })
        .collect()
}

impl From<m::ParameterValidation> for AbiValidation {
    fn from(v: m::ParameterValidation) -> Self {
        match v {
            m::ParameterValidation::Success => Self {
                ok: true,
                parameter: RString::new(),
                message: RString::new(),
            },
            m::ParameterValidation::Failure { parameter, message } => Self {
                ok: false,
                parameter: parameter.into(),
                message: message.into(),
            },
        }
    }
}

impl From<AbiValidation> for m::ParameterValidation {
    fn from(v: AbiValidation) -> Self {
        if v.ok {
            m::ParameterValidation::Success
        } else {
            m::ParameterValidation::Failure {
                parameter: v.parameter.into(),
                message: v.message.into(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::round_trip;
    use m::ConfigParameterDefinition as Def;

    #[test]
    fn parameter_definitions_of_every_kind_round_trip() {
        for def in [
            Def::string("Server", "^.+$", "localhost").required(),
            Def::string("User", "", "")
                .alias("User Name")
                .alias("Benutzer ✓"),
            Def::encrypted_string("Password").describe("secret"),
            Def::text("Query", "SELECT 1"),
            Def::checkbox("Paged", true),
            Def::dropdown("Mode", &["a", "b"], true, "b"),
            Def::file("Path", "/tmp/x.csv"),
            Def::label("Connection"),
            Def::divider(),
        ] {
            round_trip::<AbiParamDef, _>(def);
        }
    }

    #[test]
    fn configured_values_round_trip_with_their_encrypted_flag() {
        let mut config = m::ConfigParameters::new();
        config.set("Server", "db.example");
        config.set_secret("Password", "p@ss ✓");
        config.set("Empty", "");
        assert_eq!(params_from_abi(params_to_abi(&config)), config);
        assert!(params_from_abi(params_to_abi(&m::ConfigParameters::new())).is_empty());
    }

    #[test]
    fn validation_results_round_trip() {
        round_trip::<AbiValidation, _>(m::ParameterValidation::Success);
        round_trip::<AbiValidation, _>(m::ParameterValidation::Failure {
            parameter: "Server".into(),
            message: "unreachable".into(),
        });
    }
}
