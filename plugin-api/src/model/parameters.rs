//! Configuration parameters: the pages a connector shows, their definitions, the configured
//! values, and validation.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::errors::{ConnectorError, ConnectorResult};
use super::wire::Wire;

/// `ConfigParameterPage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigPage {
    Connectivity,
    Global,
    Partition,
    RunStep,
    Capabilities,
    Schema,
}

impl ConfigPage {
    pub const ALL: [ConfigPage; 6] = [
        ConfigPage::Connectivity,
        ConfigPage::Global,
        ConfigPage::Partition,
        ConfigPage::RunStep,
        ConfigPage::Capabilities,
        ConfigPage::Schema,
    ];

    /// The page's wire value. Pages are the one enumeration without a [`Wire`] default: the
    /// parameters of any other page would be wrong, so a page this side does not know is
    /// refused ([`Self::try_from_wire`]).
    #[inline]
    pub(crate) fn to_wire(self) -> u8 {
        match self {
            ConfigPage::Connectivity => 0,
            ConfigPage::Global => 1,
            ConfigPage::Partition => 2,
            ConfigPage::RunStep => 3,
            ConfigPage::Capabilities => 4,
            ConfigPage::Schema => 5,
        }
    }
    /// The page of a wire value; `None` for one this side does not know.
    #[inline]
    pub(crate) fn try_from_wire(v: u8) -> Option<Self> {
        Some(match v {
            0 => ConfigPage::Connectivity,
            1 => ConfigPage::Global,
            2 => ConfigPage::Partition,
            3 => ConfigPage::RunStep,
            4 => ConfigPage::Capabilities,
            5 => ConfigPage::Schema,
            _ => return None,
        })
    }
}

/// `ConfigParameterType`: the eight kinds of parameter a connector page can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParameterKind {
    String,
    EncryptedString,
    Text,
    CheckBox,
    DropDown,
    File,
    Label,
    Divider,
}

impl Wire for ParameterKind {
    type Repr = u8;
    #[inline]
    fn to_wire(self) -> u8 {
        match self {
            ParameterKind::String => 0,
            ParameterKind::EncryptedString => 1,
            ParameterKind::Text => 2,
            ParameterKind::CheckBox => 3,
            ParameterKind::DropDown => 4,
            ParameterKind::File => 5,
            ParameterKind::Label => 6,
            ParameterKind::Divider => 7,
        }
    }
    #[inline]
    fn from_wire(v: u8) -> Self {
        match v {
            1 => ParameterKind::EncryptedString,
            2 => ParameterKind::Text,
            3 => ParameterKind::CheckBox,
            4 => ParameterKind::DropDown,
            5 => ParameterKind::File,
            6 => ParameterKind::Label,
            7 => ParameterKind::Divider,
            // An unknown kind from a newer plugin is shown as a plain string.
            _ => ParameterKind::String,
        }
    }
}

/// `ConfigParameterDefinition`: one parameter a connector asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigParameterDefinition {
    pub name: String,
    pub kind: ParameterKind,
    /// Help text (for labels: the text shown).
    pub description: String,
    /// A regular expression the value must match (empty: anything).
    pub validation: String,
    pub default_value: String,
    pub dropdown_values: Vec<String>,
    pub dropdown_extensible: bool,
    pub checkbox_default: bool,
    /// Whether the host must refuse a configuration without this parameter.
    pub required: bool,
    /// Other names the parameter is known by (plugin-api 0.6), e.g. the label Microsoft's
    /// wizard shows for it: a configuration may use any of them, and the host hands the
    /// connector the parameter under `name`.
    pub aliases: Vec<String>,
}

impl ConfigParameterDefinition {
    fn base(name: &str, kind: ParameterKind) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            description: String::new(),
            validation: String::new(),
            default_value: String::new(),
            dropdown_values: Vec::new(),
            dropdown_extensible: false,
            checkbox_default: false,
            required: false,
            aliases: Vec::new(),
        }
    }
    /// `CreateStringParameter(name, regex, default)`.
    pub fn string(name: &str, validation: &str, default: &str) -> Self {
        Self {
            validation: validation.to_owned(),
            default_value: default.to_owned(),
            ..Self::base(name, ParameterKind::String)
        }
    }
    /// `CreateEncryptedStringParameter(name, regex, default)`.
    pub fn encrypted_string(name: &str) -> Self {
        Self::base(name, ParameterKind::EncryptedString)
    }
    /// `CreateTextParameter(name, default)`: multi-line, not validated.
    pub fn text(name: &str, default: &str) -> Self {
        Self {
            default_value: default.to_owned(),
            ..Self::base(name, ParameterKind::Text)
        }
    }
    /// `CreateCheckBoxParameter(name, default)`.
    pub fn checkbox(name: &str, default: bool) -> Self {
        Self {
            checkbox_default: default,
            default_value: if default { "1" } else { "0" }.to_owned(),
            ..Self::base(name, ParameterKind::CheckBox)
        }
    }
    /// `CreateDropDownParameter(name, values, extensible, default)`.
    pub fn dropdown(name: &str, values: &[&str], extensible: bool, default: &str) -> Self {
        Self {
            dropdown_values: values.iter().map(|v| (*v).to_owned()).collect(),
            dropdown_extensible: extensible,
            default_value: default.to_owned(),
            ..Self::base(name, ParameterKind::DropDown)
        }
    }
    /// `CreateFileParameter(name, default)`.
    pub fn file(name: &str, default: &str) -> Self {
        Self {
            default_value: default.to_owned(),
            ..Self::base(name, ParameterKind::File)
        }
    }
    /// `CreateLabelParameter(text)`.
    pub fn label(text: &str) -> Self {
        Self {
            description: text.to_owned(),
            ..Self::base(text, ParameterKind::Label)
        }
    }
    /// `CreateDividerParameter()`.
    pub fn divider() -> Self {
        Self::base("", ParameterKind::Divider)
    }
    pub fn describe(mut self, description: &str) -> Self {
        self.description = description.to_owned();
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// Another name for the parameter (see [`Self::aliases`]).
    pub fn alias(mut self, name: &str) -> Self {
        self.aliases.push(name.to_owned());
        self
    }
    /// Whether `key` names this parameter: its name or an alias, compared without case and
    /// without spaces, hyphens or underscores ("User Name", "user_name" and "UserName" are
    /// one name).
    pub fn is_named(&self, key: &str) -> bool {
        let key = loose_name(key);
        !key.is_empty()
            && (loose_name(&self.name) == key || self.aliases.iter().any(|a| loose_name(a) == key))
    }
}

/// `ConfigParameter`: one configured value. Encrypted values are redacted in `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigParameter {
    pub name: String,
    pub value: String,
    pub encrypted: bool,
}

impl fmt::Debug for ConfigParameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &dyn fmt::Debug = if self.encrypted { &"***" } else { &self.value };
        f.debug_struct("ConfigParameter")
            .field("name", &self.name)
            .field("value", value)
            .field("encrypted", &self.encrypted)
            .finish()
    }
}

/// The configuration handed to a connector: ECMA's `KeyedCollection<string, ConfigParameter>`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConfigParameters {
    params: BTreeMap<String, ConfigParameter>,
}

impl ConfigParameters {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.insert(ConfigParameter {
            name: name.to_owned(),
            value: value.into(),
            encrypted: false,
        });
        self
    }
    pub fn set_secret(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.insert(ConfigParameter {
            name: name.to_owned(),
            value: value.into(),
            encrypted: true,
        });
        self
    }
    pub fn insert(&mut self, p: ConfigParameter) {
        self.params.insert(p.name.clone(), p);
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(|p| p.value.as_str())
    }
    /// The value, or the empty string when absent.
    pub fn get_or_empty(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }
    /// A checkbox value: "1", "true", "yes" (any case) are true.
    pub fn get_bool(&self, name: &str) -> Option<bool> {
        self.get(name).map(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            )
        })
    }
    /// The value, or a `Config` error naming the missing parameter.
    pub fn require(&self, name: &str) -> ConnectorResult<&str> {
        match self.get(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ConnectorError::config(format!(
                "required parameter '{name}' is missing"
            ))),
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = &ConfigParameter> {
        self.params.values()
    }
    pub fn len(&self) -> usize {
        self.params.len()
    }
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }
}

impl FromIterator<ConfigParameter> for ConfigParameters {
    fn from_iter<I: IntoIterator<Item = ConfigParameter>>(iter: I) -> Self {
        let mut c = Self::new();
        for p in iter {
            c.insert(p);
        }
        c
    }
}

/// `ParameterValidationResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParameterValidation {
    Success,
    Failure { parameter: String, message: String },
}

/// A parameter name reduced to what an admin means by it: letters and digits, lower case.
fn loose_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::wire::assert_wire_forms;

    #[test]
    fn parameter_kinds_cross_the_boundary_as_their_numbers() {
        assert_wire_forms!(ParameterKind {
            String => 0,
            EncryptedString => 1,
            Text => 2,
            CheckBox => 3,
            DropDown => 4,
            File => 5,
            Label => 6,
            Divider => 7,
        } unknown [8, 255] => String);
    }

    #[test]
    fn config_pages_cross_the_boundary_as_their_numbers_and_unknown_ones_are_refused() {
        let forms = [
            (ConfigPage::Connectivity, 0),
            (ConfigPage::Global, 1),
            (ConfigPage::Partition, 2),
            (ConfigPage::RunStep, 3),
            (ConfigPage::Capabilities, 4),
            (ConfigPage::Schema, 5),
        ];
        // Every page is in `forms`: a new one fails to compile here until it is added.
        let _ = |page: ConfigPage| match page {
            ConfigPage::Connectivity
            | ConfigPage::Global
            | ConfigPage::Partition
            | ConfigPage::RunStep
            | ConfigPage::Capabilities
            | ConfigPage::Schema => {}
        };
        // `ALL` lists every page, in wire order.
        assert_eq!(ConfigPage::ALL.map(ConfigPage::to_wire), [0, 1, 2, 3, 4, 5]);
        for (page, wire) in forms {
            assert_eq!(page.to_wire(), wire);
            assert_eq!(ConfigPage::try_from_wire(wire), Some(page));
        }
        for unknown in [6, 255] {
            assert_eq!(ConfigPage::try_from_wire(unknown), None);
        }
    }

    #[test]
    fn a_parameter_answers_to_its_name_and_aliases_however_they_are_typed() {
        let d = super::ConfigParameterDefinition::string("User", "", "").alias("User Name");
        for key in [
            "User",
            "user",
            "User Name",
            "user_name",
            "USERNAME",
            "user-name",
        ] {
            assert!(d.is_named(key), "{key}");
        }
        for key in ["Users", "Name", "", " "] {
            assert!(!d.is_named(key), "{key}");
        }
    }
}
