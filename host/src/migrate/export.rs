//! Reading Microsoft's ECMA2Host configuration export (the wizard's "Export" XML) into plain
//! structures. Only reading happens here: what the values mean for ecma-host is decided by the
//! other files of this module.

use roxmltree::{Document, Node};

use super::error::MigrateError;

/// The whole export: one or more connectors and the host's settings.
#[derive(Debug, Clone)]
pub struct Export {
    pub connectors: Vec<ConnectorExport>,
    pub port: Option<u16>,
    /// A Windows certificate store thumbprint.
    pub certificate: Option<String>,
}

/// The wizard page a parameter belongs to (`<Use>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MsPage {
    Capabilities,
    Connectivity,
    Global,
    Schema,
    Partition,
    RunStep,
    Other,
}

impl MsPage {
    fn parse(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().as_str() {
            "capabilities" => Self::Capabilities,
            "connectivity" => Self::Connectivity,
            "global" => Self::Global,
            "schema" => Self::Schema,
            "partition" => Self::Partition,
            "runstep" => Self::RunStep,
            _ => Self::Other,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Capabilities => "Capabilities",
            Self::Connectivity => "Connectivity",
            Self::Global => "Global",
            Self::Schema => "Schema",
            Self::Partition => "Partitions",
            Self::RunStep => "Run step",
            Self::Other => "(unknown page)",
        }
    }
}

/// The field type (`<Type>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsType {
    String,
    EncryptedString,
    Text,
    CheckBox,
    DropDown,
    File,
    Label,
    Divider,
    Other,
}

impl MsType {
    fn parse(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().as_str() {
            "string" => Self::String,
            "encryptedstring" => Self::EncryptedString,
            "text" => Self::Text,
            "checkbox" => Self::CheckBox,
            "dropdown" => Self::DropDown,
            "file" => Self::File,
            "label" => Self::Label,
            "divider" => Self::Divider,
            _ => Self::Other,
        }
    }

    /// Labels and dividers only decorate the wizard: they hold no setting.
    pub fn is_decoration(self) -> bool {
        matches!(self, Self::Label | Self::Divider)
    }
}

/// One wizard field.
#[derive(Clone)]
pub struct MsParameter {
    pub name: String,
    pub kind: MsType,
    pub page: MsPage,
    pub schema_number: u32,
    pub encrypted: bool,
    /// The run profile a run-step parameter came from (`FullImport`, `DeltaImport`, `Export`).
    pub run_profile: Option<RunProfile>,
    pub value: String,
}

// Encrypted values are DPAPI blobs, useless elsewhere, but still never printed.
impl std::fmt::Debug for MsParameter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = if self.encrypted || self.kind == MsType::EncryptedString {
            "***"
        } else {
            self.value.as_str()
        };
        f.debug_struct("MsParameter")
            .field("name", &self.name)
            .field("page", &self.page)
            .field("schema_number", &self.schema_number)
            .field("run_profile", &self.run_profile)
            .field("value", &value)
            .finish()
    }
}

impl MsParameter {
    /// Whether the value must be treated as a secret (never written, never printed).
    pub fn is_secret(&self) -> bool {
        self.encrypted || self.kind == MsType::EncryptedString
    }

    /// Where the field was, for the report: `Schema 2 "User:Table/View/SP"`.
    pub fn location(&self) -> String {
        match (self.page, self.run_profile) {
            (MsPage::Schema, _) => format!("Schema {} \"{}\"", self.schema_number, self.name),
            (MsPage::RunStep, Some(p)) => format!("{} run step \"{}\"", p.label(), self.name),
            (page, _) => format!("{} \"{}\"", page.label(), self.name),
        }
    }
}

/// The run profiles Microsoft's host knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RunProfile {
    FullImport,
    DeltaImport,
    Export,
}

impl RunProfile {
    fn parse(s: &str) -> Option<Self> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '_'], "")
            .as_str()
        {
            "fullimport" => Some(Self::FullImport),
            "deltaimport" => Some(Self::DeltaImport),
            "export" => Some(Self::Export),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::FullImport => "Full Import",
            Self::DeltaImport => "Delta Import",
            Self::Export => "Export",
        }
    }
}

/// One selected attribute of an object type (`<AttributeSchema>`).
#[derive(Debug, Clone, Default)]
pub struct MsAttribute {
    pub name: String,
    pub is_anchor: bool,
    pub is_dn: bool,
    pub is_query: bool,
    pub is_deprovisioning: bool,
    pub multivalued: bool,
    pub single_value: bool,
    pub data_type: String,
}

/// One object type served to Entra (`<EntrySchema>`).
#[derive(Debug, Clone, Default)]
pub struct MsEntrySchema {
    pub external_name: String,
    pub object_type: String,
    pub attributes: Vec<MsAttribute>,
    pub dn_autogenerated: bool,
    pub hard_delete: String,
    pub soft_delete: String,
    pub hard_delete_attribute: String,
    pub soft_delete_attribute: String,
}

/// One configured connector: one Entra application.
#[derive(Debug, Clone)]
pub struct ConnectorExport {
    pub library: String,
    pub folder: String,
    pub profile_name: String,
    pub autosync_minutes: Option<u64>,
    /// Whether `<SecretToken>` held anything (its value is never kept).
    pub secret_token_present: bool,
    pub parameters: Vec<MsParameter>,
    /// Run profiles configured, with their page sizes (`BatchSize`, 0 when unset).
    pub run_profiles: Vec<(RunProfile, u32)>,
    pub entries: Vec<MsEntrySchema>,
    /// Partition DNs other than Microsoft's placeholder `default`.
    pub partition_dns: Vec<String>,
    pub support_password: bool,
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name().eq_ignore_ascii_case(name))
}

fn children<'a, 'i: 'a>(node: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name().eq_ignore_ascii_case(name))
}

/// The element's text (multi-line values keep their lines), empty when absent.
fn text(node: Node<'_, '_>, name: &str) -> String {
    child(node, name)
        .map(|c| {
            c.descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .collect::<String>()
        })
        .unwrap_or_default()
}

fn flag(node: Node<'_, '_>, name: &str) -> bool {
    matches!(
        text(node, name).trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes"
    )
}

/// Parses the export. A document that is not one names the element that is missing.
pub fn parse(xml: &str) -> Result<Export, MigrateError> {
    let doc =
        Document::parse(xml).map_err(|e| MigrateError::NotAnExport(format!("not XML: {e}")))?;
    let root = doc.root_element();
    if !root.tag_name().name().eq_ignore_ascii_case("Configuration") {
        return Err(MigrateError::NotAnExport(format!(
            "the root element is <{}>, not <Configuration>",
            root.tag_name().name()
        )));
    }
    let connectors = child(root, "Connectors").ok_or_else(|| {
        MigrateError::NotAnExport("<Configuration> has no <Connectors> element".into())
    })?;
    let mut out = Vec::new();
    for (i, c) in children(connectors, "Connector").enumerate() {
        out.push(parse_connector(c, i + 1)?);
    }
    if out.is_empty() {
        return Err(MigrateError::NotAnExport(
            "<Connectors> holds no <Connector> element".into(),
        ));
    }
    let setting = child(root, "Setting");
    let port = setting
        .map(|s| text(s, "Port"))
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.trim().parse::<u16>().map_err(|_| {
                MigrateError::NotAnExport(format!("<Setting><Port> is not a port number: {p:?}"))
            })
        })
        .transpose()?;
    let certificate = setting
        .map(|s| text(s, "Certificate").trim().to_owned())
        .filter(|c| !c.is_empty());
    Ok(Export {
        connectors: out,
        port,
        certificate,
    })
}

fn parse_connector(c: Node<'_, '_>, index: usize) -> Result<ConnectorExport, MigrateError> {
    let missing =
        |what: &str| MigrateError::NotAnExport(format!("connector #{index} has no {what} element"));
    let ecma = child(c, "ECMAConfig").ok_or_else(|| missing("<ECMAConfig>"))?;
    let library = text(ecma, "LibraryName").trim().to_owned();
    if library.is_empty() {
        return Err(missing("<ECMAConfig><LibraryName>"));
    }
    let profile_name = text(ecma, "ProfileName").trim().to_owned();
    if profile_name.is_empty() {
        return Err(missing("<ECMAConfig><ProfileName>"));
    }
    let config = child(c, "ConnectorConfig").ok_or_else(|| missing("<ConnectorConfig>"))?;
    let mut parameters: Vec<MsParameter> = child(config, "Parameters")
        .map(|p| {
            children(p, "Parameter")
                .map(|n| parameter(n, None))
                .collect()
        })
        .unwrap_or_default();
    let mut run_profiles = Vec::new();
    if let Some(runs) = child(config, "RunConfigurations") {
        for run in children(runs, "RunConfiguration") {
            let Some(profile) = RunProfile::parse(&text(run, "Name")) else {
                continue;
            };
            let mut batch = 0;
            for step in child(run, "RunSteps")
                .into_iter()
                .flat_map(|s| children(s, "RunStep"))
            {
                batch = text(step, "BatchSize").trim().parse().unwrap_or(batch);
                if let Some(p) = child(step, "Parameters") {
                    parameters
                        .extend(children(p, "Parameter").map(|n| parameter(n, Some(profile))));
                }
            }
            run_profiles.push((profile, batch));
        }
    }
    let schema = child(c, "Schema");
    let entries = schema
        .and_then(|s| child(s, "EntriesSchema"))
        .map(|e| children(e, "EntrySchema").map(entry_schema).collect())
        .unwrap_or_default();
    let partition_dns = schema
        .and_then(|s| child(s, "Partitions"))
        .map(|p| {
            children(p, "Partition")
                .map(|n| text(n, "DN").trim().to_owned())
                .filter(|dn| !dn.is_empty() && !dn.eq_ignore_ascii_case("default"))
                .collect()
        })
        .unwrap_or_default();
    Ok(ConnectorExport {
        library,
        folder: text(ecma, "ECMAFolderPath").trim().to_owned(),
        profile_name,
        autosync_minutes: text(ecma, "AutosyncTimer").trim().parse().ok(),
        secret_token_present: !text(ecma, "SecretToken").trim().is_empty(),
        parameters,
        run_profiles,
        entries,
        partition_dns,
        support_password: schema.is_some_and(|s| flag(s, "SupportPassword")),
    })
}

fn parameter(n: Node<'_, '_>, run_profile: Option<RunProfile>) -> MsParameter {
    MsParameter {
        name: text(n, "Name").trim().to_owned(),
        kind: MsType::parse(&text(n, "Type")),
        page: MsPage::parse(&text(n, "Use")),
        schema_number: text(n, "SchemaNumber").trim().parse().unwrap_or(1),
        encrypted: flag(n, "Encrypted"),
        run_profile,
        value: text(n, "Value"),
    }
}

fn entry_schema(n: Node<'_, '_>) -> MsEntrySchema {
    let attributes = child(n, "SchemaAttributes")
        .map(|a| {
            children(a, "AttributeSchema")
                .map(|a| MsAttribute {
                    name: text(a, "Name").trim().to_owned(),
                    is_anchor: flag(a, "IsAnchor"),
                    is_dn: flag(a, "IsDN"),
                    is_query: flag(a, "IsQueryAttribute"),
                    is_deprovisioning: flag(a, "IsDeprovisioningAttribute"),
                    multivalued: flag(a, "Multivalued"),
                    single_value: flag(a, "TreatAsSingleValue"),
                    data_type: text(a, "DataType").trim().to_owned(),
                })
                .filter(|a| !a.name.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let model = child(n, "DeprovisioningModel");
    let model_text = |name: &str| {
        model
            .map(|m| text(m, name).trim().to_owned())
            .unwrap_or_default()
    };
    MsEntrySchema {
        external_name: text(n, "ExternalName").trim().to_owned(),
        object_type: text(n, "ObjectType").trim().to_owned(),
        attributes,
        dn_autogenerated: flag(n, "IsDNAutogenerated"),
        hard_delete: model_text("HardDelete"),
        soft_delete: model_text("SoftDelete"),
        hard_delete_attribute: model_text("HardDeleteStatusAttribute"),
        soft_delete_attribute: model_text("SoftDeleteStatusAttribute"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_that_is_not_an_export_names_what_is_missing() {
        let e = parse("<Configuration><Setting/></Configuration>").unwrap_err();
        assert!(e.to_string().contains("<Connectors>"), "{e}");
        let e = parse("<Project/>").unwrap_err();
        assert!(e.to_string().contains("<Configuration>"), "{e}");
        let e = parse("not xml").unwrap_err();
        assert!(e.to_string().contains("not XML"), "{e}");
        let e = parse(
            "<Configuration><Connectors><Connector><ECMAConfig><ProfileName>x</ProfileName></ECMAConfig></Connector></Connectors></Configuration>",
        )
        .unwrap_err();
        assert!(e.to_string().contains("<LibraryName>"), "{e}");
    }

    #[test]
    fn encrypted_values_never_print() {
        let p = MsParameter {
            name: "Password".into(),
            kind: MsType::EncryptedString,
            page: MsPage::Connectivity,
            schema_number: 1,
            encrypted: true,
            run_profile: None,
            value: "AQAAANCMnd8BFdERjHoA".into(),
        };
        assert!(!format!("{p:?}").contains("AQAAA"));
    }
}
