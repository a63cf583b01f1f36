//! The connector model in plain Rust: what connector authors and the host work with.
//!
//! These types mirror ECMA2 (`Microsoft.MetadirectoryServices`): capabilities, configuration
//! parameters, schema, the `CSEntryChange` change model, import and export run steps. They never
//! cross the library boundary themselves; `crate::abi` holds their FFI-safe twins and the
//! conversions between the two.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The version of this crate, which is the plugin ABI version (see `VERSIONING.md`).
pub const PLUGIN_API_VERSION: &str = env!("CARGO_PKG_VERSION");

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// What kind of failure a connector call reported. Decides how the host reacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorKind {
    /// The configuration is wrong; retrying will not help.
    Config,
    /// The target system could not be reached or timed out; retrying later may help.
    Connection,
    /// The connector does not implement this call.
    Unsupported,
    /// The input handed to the connector is invalid.
    InvalidInput,
    /// The host asked the call to stop.
    Cancelled,
    /// The connector panicked; the host drops the instance and creates a new one.
    Panicked,
    /// Anything else.
    Internal,
    /// A delta import cannot continue from the watermark it was given (the change log was
    /// purged past it, the server refused the sync cookie): the host runs a full import.
    /// Added in plugin-api 0.1.1; an older host reads it as `Internal`.
    FullImportRequired,
}

impl ErrorKind {
    pub(crate) fn to_u8(self) -> u8 {
        match self {
            ErrorKind::Config => 1,
            ErrorKind::Connection => 2,
            ErrorKind::Unsupported => 3,
            ErrorKind::InvalidInput => 4,
            ErrorKind::Cancelled => 5,
            ErrorKind::Panicked => 6,
            ErrorKind::Internal => 7,
            ErrorKind::FullImportRequired => 8,
        }
    }
    pub(crate) fn from_u8(v: u8) -> Self {
        match v {
            1 => ErrorKind::Config,
            2 => ErrorKind::Connection,
            3 => ErrorKind::Unsupported,
            4 => ErrorKind::InvalidInput,
            5 => ErrorKind::Cancelled,
            6 => ErrorKind::Panicked,
            8 => ErrorKind::FullImportRequired,
            // Kinds added by newer plugins are treated as internal errors.
            _ => ErrorKind::Internal,
        }
    }

    /// Whether the same call may succeed later without a configuration change.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Connection)
    }
}

/// An error returned by a connector call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct ConnectorError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ConnectorError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }
    pub fn connection(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Connection, message)
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    pub fn full_import_required(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::FullImportRequired, message)
    }
}

pub type ConnectorResult<T> = Result<T, ConnectorError>;

/// A secret string (password). `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself. Call only where the value is really needed.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

// ---------------------------------------------------------------------------------------------
// Connector metadata and capabilities (MACapabilities)
// ---------------------------------------------------------------------------------------------

/// Who a connector is. `name` is what applications select in the host configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorInfo {
    pub name: String,
    pub version: String,
    pub vendor: String,
    pub description: String,
    /// The plugin-api version the connector was built against (filled in by the SDK).
    pub api_version: String,
}

/// `MADistinguishedNameStyle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DnStyle {
    None,
    Generic,
    Ldap,
}

/// `MAObjectConfirmation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectConfirmation {
    Normal,
    NoDeleteConfirmation,
    NoAddAndDeleteConfirmation,
}

/// `MAExportType`: how the connector wants changes to existing objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportType {
    AttributeReplace,
    AttributeUpdate,
    ObjectReplace,
    MultivaluedReferenceAttributeUpdate,
}

/// `MANormalizations` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Normalizations {
    pub uppercase: bool,
    pub remove_accents: bool,
}

/// The 17 members of ECMA2's `MACapabilities`, plus the import/export page sizes that ECMA2
/// exposes as `ImportDefaultPageSize`/`ImportMaxPageSize`/`ExportDefaultPageSize`/`ExportMaxPageSize`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub distinguished_name_style: DnStyle,
    pub object_rename: bool,
    pub no_reference_values_in_first_export: bool,
    pub delta_import: bool,
    pub concurrent_operation: bool,
    pub delete_add_as_replace: bool,
    pub export_password_in_first_pass: bool,
    pub full_export: bool,
    pub object_confirmation: ObjectConfirmation,
    pub export_type: ExportType,
    pub normalizations: Normalizations,
    pub is_dn_as_anchor: bool,
    pub support_import: bool,
    pub support_export: bool,
    pub support_partitions: bool,
    pub support_password: bool,
    pub support_hierarchy: bool,
    pub import_default_page_size: u32,
    pub import_max_page_size: u32,
    pub export_default_batch_size: u32,
    pub export_max_batch_size: u32,
}

impl Default for Capabilities {
    /// ECMA2's constructor defaults: ObjectRename, DeltaImport, ConcurrentOperation,
    /// DeleteAddAsReplace and all `Support*` true; the rest false; ObjectConfirmation Normal.
    fn default() -> Self {
        Self {
            distinguished_name_style: DnStyle::Generic,
            object_rename: true,
            no_reference_values_in_first_export: false,
            delta_import: true,
            concurrent_operation: true,
            delete_add_as_replace: true,
            export_password_in_first_pass: false,
            full_export: false,
            object_confirmation: ObjectConfirmation::Normal,
            export_type: ExportType::AttributeUpdate,
            normalizations: Normalizations::default(),
            is_dn_as_anchor: false,
            support_import: true,
            support_export: true,
            support_partitions: true,
            support_password: true,
            support_hierarchy: true,
            import_default_page_size: 100,
            import_max_page_size: 10_000,
            export_default_batch_size: 1,
            export_max_batch_size: 1_000,
        }
    }
}

impl Capabilities {
    /// One-line summary for listings (`ecma-host plugins`).
    pub fn short(&self) -> String {
        let mut parts = Vec::new();
        if self.support_import {
            parts.push(if self.delta_import {
                "import(full+delta)"
            } else {
                "import(full)"
            });
        }
        if self.support_export {
            parts.push(match self.export_type {
                ExportType::ObjectReplace => "export(object-replace)",
                ExportType::AttributeReplace => "export(attribute-replace)",
                ExportType::AttributeUpdate => "export(attribute-update)",
                ExportType::MultivaluedReferenceAttributeUpdate => "export(mv-reference-update)",
            });
        }
        if self.support_password {
            parts.push("password");
        }
        if self.support_partitions {
            parts.push("partitions");
        }
        if self.is_dn_as_anchor {
            parts.push("dn-as-anchor");
        }
        parts.join(" ")
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration parameters
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Schema and partitions
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// The change model (CSEntryChange)
// ---------------------------------------------------------------------------------------------

/// A typed attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Value {
    String(String),
    Integer(i64),
    Boolean(bool),
    Binary(Vec<u8>),
    Reference(String),
}

impl Value {
    pub fn data_type(&self) -> DataType {
        match self {
            Value::String(_) => DataType::String,
            Value::Integer(_) => DataType::Integer,
            Value::Boolean(_) => DataType::Boolean,
            Value::Binary(_) => DataType::Binary,
            Value::Reference(_) => DataType::Reference,
        }
    }
    /// The value as text (binary as standard base64 is left to callers; here it is lossy UTF-8).
    pub fn as_text(&self) -> String {
        match self {
            Value::String(s) | Value::Reference(s) => s.clone(),
            Value::Integer(i) => i.to_string(),
            Value::Boolean(b) => b.to_string(),
            Value::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Reference(s) => Some(s),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Integer(i)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Boolean(b)
    }
}

/// `ObjectModificationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectModification {
    Add,
    Replace,
    Update,
    Delete,
    None,
}

/// `AttributeModificationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttributeModification {
    Add,
    Replace,
    Update,
    Delete,
}

/// `ValueModificationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValueModification {
    Add,
    Delete,
}

/// `ValueChange`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueChange {
    pub modification: ValueModification,
    pub value: Value,
}

impl ValueChange {
    pub fn add(value: impl Into<Value>) -> Self {
        Self {
            modification: ValueModification::Add,
            value: value.into(),
        }
    }
    pub fn delete(value: impl Into<Value>) -> Self {
        Self {
            modification: ValueModification::Delete,
            value: value.into(),
        }
    }
}

/// `AttributeChange`. For `Add` and `Replace` every value change is an `Add` of a new value;
/// `Update` carries value adds and deletes; `Delete` carries none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeChange {
    pub name: String,
    pub modification: AttributeModification,
    pub values: Vec<ValueChange>,
}

impl AttributeChange {
    pub fn add(name: &str, values: impl IntoIterator<Item = Value>) -> Self {
        Self {
            name: name.to_owned(),
            modification: AttributeModification::Add,
            values: values.into_iter().map(ValueChange::add).collect(),
        }
    }
    pub fn replace(name: &str, values: impl IntoIterator<Item = Value>) -> Self {
        Self {
            name: name.to_owned(),
            modification: AttributeModification::Replace,
            values: values.into_iter().map(ValueChange::add).collect(),
        }
    }
    pub fn update(name: &str, changes: Vec<ValueChange>) -> Self {
        Self {
            name: name.to_owned(),
            modification: AttributeModification::Update,
            values: changes,
        }
    }
    pub fn delete(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            modification: AttributeModification::Delete,
            values: Vec::new(),
        }
    }
    /// The values this change adds (all values for `Add`/`Replace`).
    pub fn added_values(&self) -> impl Iterator<Item = &Value> {
        self.values
            .iter()
            .filter(|v| v.modification == ValueModification::Add)
            .map(|v| &v.value)
    }
    pub fn deleted_values(&self) -> impl Iterator<Item = &Value> {
        self.values
            .iter()
            .filter(|v| v.modification == ValueModification::Delete)
            .map(|v| &v.value)
    }
}

/// `AnchorAttribute`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorAttribute {
    pub name: String,
    pub value: Value,
}

/// `MAImportError` codes that a connector can attach to one imported entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportErrorCode {
    /// Discovery error for this entry; the run goes on, the watermark is not committed.
    CustomContinueRun,
    /// Fatal: the run stops.
    CustomStopRun,
    InvalidAttributeValue,
    MissingAnchor,
    ParseError,
}

/// An import error attached to one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryError {
    pub code: ImportErrorCode,
    pub name: String,
    pub detail: String,
}

/// `CSEntryChange`: one object's change, on import and on export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsEntryChange {
    /// Correlates export results with entries (ECMA uses a GUID).
    pub identifier: String,
    pub object_type: String,
    pub modification: ObjectModification,
    pub dn: String,
    pub anchor: Vec<AnchorAttribute>,
    pub changes: Vec<AttributeChange>,
    pub error: Option<EntryError>,
}

impl CsEntryChange {
    pub fn new(object_type: &str, modification: ObjectModification) -> Self {
        Self {
            identifier: String::new(),
            object_type: object_type.to_owned(),
            modification,
            dn: String::new(),
            anchor: Vec::new(),
            changes: Vec::new(),
            error: None,
        }
    }
    pub fn with_anchor(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.anchor.push(AnchorAttribute {
            name: name.to_owned(),
            value: value.into(),
        });
        self
    }
    pub fn with_change(mut self, change: AttributeChange) -> Self {
        self.changes.push(change);
        self
    }
    pub fn change(&self, name: &str) -> Option<&AttributeChange> {
        self.changes
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
    /// The anchor value for a single-attribute anchor.
    pub fn anchor_value(&self) -> Option<&Value> {
        self.anchor.first().map(|a| &a.value)
    }
}

// ---------------------------------------------------------------------------------------------
// Import and export run steps
// ---------------------------------------------------------------------------------------------

/// `OperationType` for import runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportType {
    Full,
    Delta,
}

/// `OpenImportConnectionRunStep` plus the schema of the types to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenImportRequest {
    pub import_type: ImportType,
    pub page_size: u32,
    /// The previous run's watermark (`CustomData`); empty on a first run.
    pub custom_data: String,
    pub partition: Option<Partition>,
    pub schema: Schema,
}

/// `GetImportEntriesResults`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportPage {
    pub entries: Vec<CsEntryChange>,
    pub more_to_import: bool,
    /// The watermark so far.
    pub custom_data: String,
}

/// `CloseReason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    Normal,
    TerminatedByUser,
    TerminatedShuttingDown,
    Unknown,
}

/// `OpenExportConnectionRunStep` plus the schema of the types to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenExportRequest {
    pub batch_size: u32,
    pub partition: Option<Partition>,
    pub schema: Schema,
}

/// `MAExportError`: the result of exporting one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExportErrorCode {
    Success,
    ConvertUpdateToAdd,
    ProvisioningParent,
    RetryReferenceAttribute,
    AmbiguousUpdate,
    AnchorTooLong,
    ChangeNamingAttribute,
    /// The target failed or could not be reached (retryable).
    ConnectedDirectoryError,
    ConnectedDirectoryMissingObject,
    /// The object already exists in the target (`cd-existing-object`).
    ConnectedDirectoryExistingObject,
    CustomContinueRun,
    CustomStopRun,
    InvalidDn,
    MissingAnchorComponent,
    MissingProvisioningAttribute,
    PermissionIssue,
    SyntaxViolation,
}

impl ExportErrorCode {
    const ALL: [ExportErrorCode; 17] = [
        ExportErrorCode::Success,
        ExportErrorCode::ConvertUpdateToAdd,
        ExportErrorCode::ProvisioningParent,
        ExportErrorCode::RetryReferenceAttribute,
        ExportErrorCode::AmbiguousUpdate,
        ExportErrorCode::AnchorTooLong,
        ExportErrorCode::ChangeNamingAttribute,
        ExportErrorCode::ConnectedDirectoryError,
        ExportErrorCode::ConnectedDirectoryMissingObject,
        ExportErrorCode::ConnectedDirectoryExistingObject,
        ExportErrorCode::CustomContinueRun,
        ExportErrorCode::CustomStopRun,
        ExportErrorCode::InvalidDn,
        ExportErrorCode::MissingAnchorComponent,
        ExportErrorCode::MissingProvisioningAttribute,
        ExportErrorCode::PermissionIssue,
        ExportErrorCode::SyntaxViolation,
    ];
    pub(crate) fn to_u16(self) -> u16 {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0) as u16
    }
    pub(crate) fn from_u16(v: u16) -> Self {
        // A code unknown to this host (added by a newer plugin) is a generic target failure.
        Self::ALL
            .get(v as usize)
            .copied()
            .unwrap_or(ExportErrorCode::ConnectedDirectoryError)
    }
    /// ECMA's error name, e.g. `ExportErrorConnectedDirectoryMissingObject`.
    pub fn ecma_name(self) -> &'static str {
        match self {
            ExportErrorCode::Success => "Success",
            ExportErrorCode::ConvertUpdateToAdd => "ExportActionConvertUpdateToAdd",
            ExportErrorCode::ProvisioningParent => "ExportActionProvisioningParent",
            ExportErrorCode::RetryReferenceAttribute => "ExportActionRetryReferenceAttribute",
            ExportErrorCode::AmbiguousUpdate => "ExportErrorAmbiguousUpdate",
            ExportErrorCode::AnchorTooLong => "ExportErrorAnchorTooLong",
            ExportErrorCode::ChangeNamingAttribute => "ExportErrorChangeNamingAttribute",
            ExportErrorCode::ConnectedDirectoryError => "ExportErrorConnectedDirectoryError",
            ExportErrorCode::ConnectedDirectoryMissingObject => {
                "ExportErrorConnectedDirectoryMissingObject"
            }
            ExportErrorCode::ConnectedDirectoryExistingObject => {
                "ExportErrorConnectedDirectoryExistingObject"
            }
            ExportErrorCode::CustomContinueRun => "ExportErrorCustomContinueRun",
            ExportErrorCode::CustomStopRun => "ExportErrorCustomStopRun",
            ExportErrorCode::InvalidDn => "ExportErrorInvalidDN",
            ExportErrorCode::MissingAnchorComponent => "ExportErrorMissingAnchorComponent",
            ExportErrorCode::MissingProvisioningAttribute => {
                "ExportErrorMissingProvisioningAttribute"
            }
            ExportErrorCode::PermissionIssue => "ExportErrorPermissionIssue",
            ExportErrorCode::SyntaxViolation => "ExportErrorSyntaxViolation",
        }
    }
}

/// `CSEntryChangeResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportResult {
    pub identifier: String,
    pub code: ExportErrorCode,
    pub error_name: String,
    pub error_detail: String,
    /// Anchors the target assigned (e.g. a database-generated key) for new objects. A
    /// connector whose target names objects by DN also reports the DN it created under the
    /// name `dn` (or `-dn-`), so the host can use it for references and renames.
    pub anchor_changes: Vec<AnchorAttribute>,
}

impl ExportResult {
    pub fn success(identifier: &str) -> Self {
        Self {
            identifier: identifier.to_owned(),
            code: ExportErrorCode::Success,
            error_name: String::new(),
            error_detail: String::new(),
            anchor_changes: Vec::new(),
        }
    }
    pub fn failure(identifier: &str, code: ExportErrorCode, detail: impl Into<String>) -> Self {
        Self {
            identifier: identifier.to_owned(),
            code,
            error_name: code.ecma_name().to_owned(),
            error_detail: detail.into(),
            anchor_changes: Vec::new(),
        }
    }
    pub fn with_anchor(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.anchor_changes.push(AnchorAttribute {
            name: name.to_owned(),
            value: value.into(),
        });
        self
    }
}

/// `PasswordOptions` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PasswordOptions {
    pub force_change_at_logon: bool,
    pub unlock_account: bool,
    pub validate_password: bool,
}

impl PasswordOptions {
    pub(crate) fn to_bits(self) -> u32 {
        (self.force_change_at_logon as u32)
            | ((self.unlock_account as u32) << 1)
            | ((self.validate_password as u32) << 2)
    }
    pub(crate) fn from_bits(bits: u32) -> Self {
        Self {
            force_change_at_logon: bits & 1 != 0,
            unlock_account: bits & 2 != 0,
            validate_password: bits & 4 != 0,
        }
    }
}

/// The object a password call is for (ECMA's `CSEntry`, reduced to what identifies it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordTarget {
    pub object_type: String,
    pub dn: String,
    pub anchor: Vec<AnchorAttribute>,
}

/// Log levels for the host log callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub(crate) fn to_u8(self) -> u8 {
        self as u8
    }
    pub(crate) fn from_u8(v: u8) -> Self {
        match v {
            0 => LogLevel::Error,
            1 => LogLevel::Warn,
            2 => LogLevel::Info,
            3 => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }
}
