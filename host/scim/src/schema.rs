//! SCIM schema model (RFC 7643 §2, §7, §8.7) and the resource types we serve.

use std::sync::LazyLock;

use serde_json::{Value, json};

use crate::filter::AttrPath;

pub const CORE_USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const CORE_GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The extension schema carrying the connector's selected attributes (Microsoft's ECMA host naming).
pub const ECMA2HOST_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";
pub const ECMA2HOST_GROUP_URN: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:Group";
pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SPC_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// Attribute data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

/// RFC 7643 §7 `mutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// RFC 7643 §7 `returned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// RFC 7643 §7 `uniqueness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute definition (RFC 7643 §7).
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeDef {
    pub name: String,
    pub attr_type: AttrType,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub description: String,
    pub sub_attributes: Vec<AttributeDef>,
    pub canonical_values: Vec<String>,
    pub reference_types: Vec<String>,
}

impl AttributeDef {
    /// A single-valued, optional, readWrite, case-insensitive attribute of the given type.
    pub fn new(name: impl Into<String>, attr_type: AttrType) -> Self {
        AttributeDef {
            name: name.into(),
            attr_type,
            multi_valued: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            description: String::new(),
            sub_attributes: Vec::new(),
            canonical_values: Vec::new(),
            reference_types: Vec::new(),
        }
    }
    pub fn string(name: &str) -> Self {
        Self::new(name, AttrType::String)
    }
    pub fn complex(name: &str, subs: Vec<AttributeDef>) -> Self {
        AttributeDef {
            sub_attributes: subs,
            ..Self::new(name, AttrType::Complex)
        }
    }
    pub fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    pub fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    pub fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    pub fn uniqueness(mut self, u: Uniqueness) -> Self {
        self.uniqueness = u;
        self
    }
    pub fn describe(mut self, d: &str) -> Self {
        self.description = d.to_owned();
        self
    }
    pub fn canonical(mut self, v: &[&str]) -> Self {
        self.canonical_values = v.iter().map(|s| (*s).to_owned()).collect();
        self
    }
    pub fn refs(mut self, v: &[&str]) -> Self {
        self.reference_types = v.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// A sub-attribute by name, case-insensitively (RFC 7643 §2.1).
    pub fn sub(&self, name: &str) -> Option<&AttributeDef> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The attribute definition as published in `/Schemas` (RFC 7643 §7).
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "type": self.attr_type.as_str(),
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability.as_str(),
            "returned": self.returned.as_str(),
            "uniqueness": self.uniqueness.as_str(),
        });
        if !self.sub_attributes.is_empty() {
            v["subAttributes"] = self.sub_attributes.iter().map(|a| a.to_json()).collect();
        }
        if !self.canonical_values.is_empty() {
            v["canonicalValues"] = json!(self.canonical_values);
        }
        if !self.reference_types.is_empty() {
            v["referenceTypes"] = json!(self.reference_types);
        }
        v
    }
}

/// A schema (RFC 7643 §7).
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaDef {
    /// The schema URN.
    pub id: String,
    pub name: String,
    pub description: String,
    pub attributes: Vec<AttributeDef>,
}

impl SchemaDef {
    pub fn attribute(&self, name: &str) -> Option<&AttributeDef> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// Keep only the named top-level attributes (case-insensitive), in schema order: "only attributes selected
    /// for the application appear" in `/Schemas`.
    pub fn select(mut self, names: &[&str]) -> Self {
        self.attributes
            .retain(|a| names.iter().any(|n| n.eq_ignore_ascii_case(&a.name)));
        self
    }

    /// The Schema resource served by `/Schemas/{id}` (RFC 7643 §7, §8.7).
    pub fn to_json(&self, base_url: &str) -> Value {
        json!({
            "schemas": [SCHEMA_URN],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes.iter().map(|a| a.to_json()).collect::<Vec<_>>(),
            "meta": {"resourceType": "Schema", "location": format!("{}/Schemas/{}", base_url.trim_end_matches('/'), self.id)},
        })
    }
}

/// An extension schema attached to a resource type (RFC 7643 §6 `schemaExtensions`).
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaExtension {
    pub schema: SchemaDef,
    pub required: bool,
}

/// A resource type (RFC 7643 §6): its endpoint, core schema and extensions.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceTypeDef {
    /// Name and id, e.g. `User`.
    pub name: String,
    /// Endpoint relative to the base URL, e.g. `/Users`.
    pub endpoint: String,
    pub description: String,
    pub schema: SchemaDef,
    pub extensions: Vec<SchemaExtension>,
}

/// A canonical attribute reference: which schema, which attribute, which sub-attribute, and its definition
/// (of the sub-attribute when there is one). Equality and hashing use the canonical names only, so it can key
/// an index.
#[derive(Debug, Clone)]
pub struct ResolvedAttr {
    /// Schema URN holding the attribute (the core schema URN for common attributes `id`, `externalId`, `meta`).
    pub urn: String,
    pub attr: String,
    pub sub_attr: Option<String>,
    /// Definition of the addressed attribute (the sub-attribute's when `sub_attr` is set).
    pub def: AttributeDef,
    /// Whether the top-level attribute is multi-valued (e.g. `emails` for `emails.value`).
    pub parent_multi_valued: bool,
    /// Whether the attribute lives inside the extension object `resource[urn]` rather than at top level.
    pub in_extension: bool,
}

impl PartialEq for ResolvedAttr {
    fn eq(&self, o: &Self) -> bool {
        self.urn == o.urn && self.attr == o.attr && self.sub_attr == o.sub_attr
    }
}
impl Eq for ResolvedAttr {}
impl std::hash::Hash for ResolvedAttr {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.urn.hash(h);
        self.attr.hash(h);
        self.sub_attr.hash(h);
    }
}

impl std::fmt::Display for ResolvedAttr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.urn, self.attr)?;
        if let Some(s) = &self.sub_attr {
            write!(f, ".{s}")?;
        }
        Ok(())
    }
}

/// Internal borrowed resolution used on hot paths (filter evaluation, PATCH).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolved<'a> {
    pub urn: &'a str,
    /// `Some(urn)` when the data lives under `resource[urn]`.
    pub ext: Option<&'a str>,
    pub attr: &'a AttributeDef,
    pub sub: Option<&'a AttributeDef>,
}

impl Resolved<'_> {
    pub fn leaf(&self) -> &AttributeDef {
        self.sub.unwrap_or(self.attr)
    }
    pub fn to_owned_attr(self) -> ResolvedAttr {
        ResolvedAttr {
            urn: self.urn.to_owned(),
            attr: self.attr.name.clone(),
            sub_attr: self.sub.map(|s| s.name.clone()),
            def: self.leaf().clone(),
            parent_multi_valued: self.attr.multi_valued,
            in_extension: self.ext.is_some(),
        }
    }
}

/// The common attributes every resource has (RFC 7643 §3.1). They are not listed in `/Schemas`.
pub(crate) static COMMON_ATTRIBUTES: LazyLock<Vec<AttributeDef>> = LazyLock::new(|| {
    use Mutability::*;
    let ro = |a: AttributeDef| a.mutability(ReadOnly);
    vec![
        ro(AttributeDef::string("id")
            .case_exact()
            .returned(Returned::Always)
            .uniqueness(Uniqueness::Server)),
        AttributeDef::string("externalId").case_exact(),
        ro(AttributeDef::complex(
            "meta",
            vec![
                ro(AttributeDef::string("resourceType").case_exact()),
                ro(AttributeDef::new("created", AttrType::DateTime)),
                ro(AttributeDef::new("lastModified", AttrType::DateTime)),
                ro(AttributeDef::new("location", AttrType::Reference)
                    .case_exact()
                    .refs(&["uri"])),
                ro(AttributeDef::string("version").case_exact()),
            ],
        )),
    ]
});

impl ResourceTypeDef {
    pub fn new(name: &str, endpoint: &str, description: &str, schema: SchemaDef) -> Self {
        ResourceTypeDef {
            name: name.to_owned(),
            endpoint: endpoint.to_owned(),
            description: description.to_owned(),
            schema,
            extensions: Vec::new(),
        }
    }
    pub fn with_extension(mut self, schema: SchemaDef, required: bool) -> Self {
        self.extensions.push(SchemaExtension { schema, required });
        self
    }

    /// All schema URNs of this type: core first.
    pub fn schema_urns(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.schema.id.as_str())
            .chain(self.extensions.iter().map(|e| e.schema.id.as_str()))
    }

    /// The extension with this URN, case-insensitively.
    pub fn extension(&self, urn: &str) -> Option<&SchemaExtension> {
        self.extensions
            .iter()
            .find(|e| e.schema.id.eq_ignore_ascii_case(urn))
    }

    /// Resolve an attribute path: short names (common attributes, then core, then extensions in order) or
    /// URN-qualified names, case-insensitively (RFC 7644 §3.10). Returns canonical names and the definition.
    pub fn resolve(&self, path: &AttrPath) -> Option<ResolvedAttr> {
        self.resolve_ref(path.urn.as_deref(), &path.attr, path.sub_attr.as_deref())
            .map(Resolved::to_owned_attr)
    }

    pub(crate) fn resolve_ref(
        &self,
        urn: Option<&str>,
        attr: &str,
        sub: Option<&str>,
    ) -> Option<Resolved<'_>> {
        let (urn, ext, def) = match urn {
            Some(u) if u.eq_ignore_ascii_case(&self.schema.id) => {
                let d = common(attr).or_else(|| self.schema.attribute(attr))?;
                (self.schema.id.as_str(), None, d)
            }
            Some(u) => {
                let e = self.extension(u)?;
                (
                    e.schema.id.as_str(),
                    Some(e.schema.id.as_str()),
                    e.schema.attribute(attr)?,
                )
            }
            None => {
                if let Some(d) = common(attr).or_else(|| self.schema.attribute(attr)) {
                    (self.schema.id.as_str(), None, d)
                } else {
                    let (e, d) = self
                        .extensions
                        .iter()
                        .find_map(|e| e.schema.attribute(attr).map(|d| (e, d)))?;
                    (e.schema.id.as_str(), Some(e.schema.id.as_str()), d)
                }
            }
        };
        let sub = match sub {
            Some(s) => Some(def.sub(s)?),
            None => None,
        };
        Some(Resolved {
            urn,
            ext,
            attr: def,
            sub,
        })
    }

    /// The ResourceType resource served by `/ResourceTypes/{id}` (RFC 7643 §6).
    pub fn to_json(&self, base_url: &str) -> Value {
        let mut v = json!({
            "schemas": [RESOURCE_TYPE_URN],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.schema.id,
            "meta": {"resourceType": "ResourceType", "location": format!("{}/ResourceTypes/{}", base_url.trim_end_matches('/'), self.name)},
        });
        if !self.extensions.is_empty() {
            v["schemaExtensions"] = self
                .extensions
                .iter()
                .map(|e| json!({"schema": e.schema.id, "required": e.required}))
                .collect();
        }
        v
    }
}

fn common(attr: &str) -> Option<&'static AttributeDef> {
    COMMON_ATTRIBUTES
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(attr))
}

fn multi_sub(value: AttributeDef, types: &[&str]) -> Vec<AttributeDef> {
    vec![
        value,
        AttributeDef::string("display"),
        AttributeDef::string("type").canonical(types),
        AttributeDef::new("primary", AttrType::Boolean),
    ]
}

/// The core User schema of RFC 7643 §4.1 / §8.7.1.
pub fn core_user_schema() -> SchemaDef {
    use AttrType::*;
    let s = AttributeDef::string;
    let name = AttributeDef::complex(
        "name",
        vec![
            s("formatted"),
            s("familyName"),
            s("givenName"),
            s("middleName"),
            s("honorificPrefix"),
            s("honorificSuffix"),
        ],
    )
    .describe("The components of the user's real name.");
    let ro = Mutability::ReadOnly;
    let attributes = vec![
        s("userName")
            .required()
            .uniqueness(Uniqueness::Server)
            .describe("Unique identifier for the User."),
        name,
        s("displayName"),
        s("nickName"),
        AttributeDef::new("profileUrl", Reference).refs(&["external"]),
        s("title"),
        s("userType"),
        s("preferredLanguage"),
        s("locale"),
        s("timezone"),
        AttributeDef::new("active", Boolean),
        s("password")
            .mutability(Mutability::WriteOnly)
            .returned(Returned::Never),
        AttributeDef::complex("emails", multi_sub(s("value"), &["work", "home", "other"])).multi(),
        AttributeDef::complex(
            "phoneNumbers",
            multi_sub(
                s("value"),
                &["work", "home", "mobile", "fax", "pager", "other"],
            ),
        )
        .multi(),
        AttributeDef::complex(
            "ims",
            multi_sub(
                s("value"),
                &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
            ),
        )
        .multi(),
        AttributeDef::complex(
            "photos",
            multi_sub(
                AttributeDef::new("value", Reference).refs(&["external"]),
                &["photo", "thumbnail"],
            ),
        )
        .multi(),
        AttributeDef::complex(
            "addresses",
            vec![
                s("formatted"),
                s("streetAddress"),
                s("locality"),
                s("region"),
                s("postalCode"),
                s("country"),
                s("type").canonical(&["work", "home", "other"]),
                AttributeDef::new("primary", Boolean),
            ],
        )
        .multi(),
        AttributeDef::complex(
            "groups",
            vec![
                s("value").mutability(ro),
                AttributeDef::new("$ref", Reference)
                    .refs(&["User", "Group"])
                    .mutability(ro),
                s("display").mutability(ro),
                s("type").canonical(&["direct", "indirect"]).mutability(ro),
            ],
        )
        .multi()
        .mutability(ro),
        AttributeDef::complex("entitlements", multi_sub(s("value"), &[])).multi(),
        AttributeDef::complex("roles", multi_sub(s("value"), &[])).multi(),
        AttributeDef::complex(
            "x509Certificates",
            multi_sub(AttributeDef::new("value", Binary), &[]),
        )
        .multi(),
    ];
    SchemaDef {
        id: CORE_USER_URN.to_owned(),
        name: "User".to_owned(),
        description: "User Account".to_owned(),
        attributes,
    }
}

/// The enterprise User extension of RFC 7643 §4.3.
pub fn enterprise_user_schema() -> SchemaDef {
    let s = AttributeDef::string;
    let attributes = vec![
        s("employeeNumber"),
        s("costCenter"),
        s("organization"),
        s("division"),
        s("department"),
        AttributeDef::complex(
            "manager",
            vec![
                s("value"),
                AttributeDef::new("$ref", AttrType::Reference).refs(&["User"]),
                s("displayName").mutability(Mutability::ReadOnly),
            ],
        ),
    ];
    SchemaDef {
        id: ENTERPRISE_USER_URN.to_owned(),
        name: "EnterpriseUser".to_owned(),
        description: "Enterprise User".to_owned(),
        attributes,
    }
}

/// The core Group schema of RFC 7643 §4.2 (members are references to Users or Groups).
pub fn core_group_schema() -> SchemaDef {
    let s = AttributeDef::string;
    let im = Mutability::Immutable;
    let attributes = vec![
        s("displayName").required(),
        AttributeDef::complex(
            "members",
            vec![
                s("value").mutability(im).case_exact(),
                AttributeDef::new("$ref", AttrType::Reference)
                    .refs(&["User", "Group"])
                    .mutability(im),
                s("display").mutability(Mutability::ReadOnly),
                s("type").canonical(&["User", "Group"]).mutability(im),
            ],
        )
        .multi(),
    ];
    SchemaDef {
        id: CORE_GROUP_URN.to_owned(),
        name: "Group".to_owned(),
        description: "Group".to_owned(),
        attributes,
    }
}

/// One connector attribute selected for the application.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtensionAttribute {
    pub name: String,
    pub attr_type: AttrType,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
}

/// An ECMA2Host extension schema (`urn` is [`ECMA2HOST_USER_URN`] or [`ECMA2HOST_GROUP_URN`]) carrying the
/// connector's selected attributes with their types.
pub fn ecma2host_extension(urn: &str, attrs: &[ExtensionAttribute]) -> SchemaDef {
    let name = urn.rsplit(':').next().unwrap_or("Extension");
    SchemaDef {
        id: urn.to_owned(),
        name: format!("ECMA2Host{name}"),
        description: "Attributes of the connected application".to_owned(),
        attributes: attrs
            .iter()
            .map(|a| AttributeDef {
                multi_valued: a.multi_valued,
                required: a.required,
                case_exact: a.case_exact,
                ..AttributeDef::new(a.name.clone(), a.attr_type)
            })
            .collect(),
    }
}

/// The standard `User` resource type (core + the given extensions, none required).
pub fn user_resource_type(core: SchemaDef, extensions: Vec<SchemaDef>) -> ResourceTypeDef {
    let mut rt = ResourceTypeDef::new("User", "/Users", "User Account", core);
    for e in extensions {
        rt = rt.with_extension(e, false);
    }
    rt
}

/// The standard `Group` resource type.
pub fn group_resource_type(core: SchemaDef, extensions: Vec<SchemaDef>) -> ResourceTypeDef {
    let mut rt = ResourceTypeDef::new("Group", "/Groups", "Group", core);
    for e in extensions {
        rt = rt.with_extension(e, false);
    }
    rt
}
