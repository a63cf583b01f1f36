//! How one connector object type is served over SCIM, and the conversions between the three
//! representations: connector records (plugin-api `Value`s by attribute name), cache records,
//! and SCIM JSON resources.
//!
//! Every exposed connector attribute appears in the ECMA2Host extension under its own name
//! (`urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User:ContosoLogin`), as Microsoft's
//! host does, so Entra's attribute mappings work unchanged. `core` mappings additionally expose
//! an attribute as a SCIM core or enterprise attribute (`userName`, `name.givenName`, ...).

use std::collections::BTreeMap;

use ecma_scim::json::get_ci;
use ecma_scim::{
    AttrType, AttributeDef, CORE_GROUP_URN, CORE_USER_URN, ECMA2HOST_GROUP_URN, ECMA2HOST_USER_URN,
    ENTERPRISE_USER_URN, ExtensionAttribute, Mutability, ResolvedAttr, ResourceTypeDef, ScimError,
    core_group_schema, core_user_schema, ecma2host_extension, enterprise_user_schema,
};
use plugin_api::model::{AttributeOperation, DataType, Schema, SchemaType, Value};
use serde_json::{Map, Value as Json, json};

use crate::config::{Deprovision, ObjectTypeConfig, ScimKind};

pub mod anchor;
pub mod diff;
mod members;
mod values;

pub use anchor::AnchorForm;
pub use diff::{apply_changes, attribute_change, diff_records};
use values::{from_json, get_path, set_path, to_json, value_json};

/// The ECMA2Host extension attribute that carries an object's DN, as Microsoft's host names
/// it (`urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User:-dn-`).
pub const DN_ATTRIBUTE: &str = "-dn-";

/// What the connector can do that changes how its types are served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetTraits {
    /// It takes passwords: Users accept a write-only `password`.
    pub passwords: bool,
    /// Its objects have LDAP-style DNs: the extension carries `-dn-`.
    pub ldap_dns: bool,
    /// It renames objects (ECMA2 `ObjectRename`): `-dn-` can change.
    pub renames: bool,
}

impl TargetTraits {
    pub fn of(c: &plugin_api::model::Capabilities) -> Self {
        Self {
            passwords: c.support_password,
            ldap_dns: c.distinguished_name_style == plugin_api::model::DnStyle::Ldap,
            renames: c.object_rename,
        }
    }
}

/// A connector record: attribute name → values (single-valued attributes have one).
pub type Record = BTreeMap<String, Vec<Value>>;

/// Where a connector attribute lives in a SCIM resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScimTarget {
    /// `resource[urn][name]`.
    Extension { urn: String, name: String },
    /// `resource[attr]` or `resource[attr][sub]` (core schema).
    Core { attr: String, sub: Option<String> },
    /// `sub` of the element of multi-valued `resource[attr]` whose `type` is `kind`
    /// (`emails[type eq "work"].value`, as Entra's mappings name them).
    CoreElement {
        attr: String,
        kind: String,
        sub: String,
    },
    /// `resource[urn][attr]` in a non-ECMA extension (enterprise).
    Enterprise { attr: String, sub: Option<String> },
    /// Group `members[].value`.
    Members,
}

/// One exposed attribute.
#[derive(Debug, Clone)]
pub struct AttrMapping {
    pub connector: String,
    pub data_type: DataType,
    /// Multi-valued as served over SCIM (false when "treat as single value").
    pub multi_valued: bool,
    pub target: ScimTarget,
    /// The connector's direction for it: an import-only attribute is never exported.
    pub operation: AttributeOperation,
}

/// Everything needed to serve one object type.
#[derive(Debug, Clone)]
pub struct TypeMapping {
    pub kind: ScimKind,
    pub object_type: String,
    pub anchor: String,
    /// How anchor values become SCIM ids and back.
    pub anchor_form: AnchorForm,
    /// Whether the extension carries the DN ([`DN_ATTRIBUTE`]).
    pub dn_exposed: bool,
    pub dn_attribute: Option<String>,
    pub query_attributes: Vec<String>,
    pub on_disable: Deprovision,
    pub on_delete: Deprovision,
    pub attrs: Vec<AttrMapping>,
    /// Data types of all the type's attributes (for values the host itself writes, like
    /// a deprovisioning flag).
    pub data_types: BTreeMap<String, DataType>,
    /// The connector's type reduced to the attributes the host uses: what import and export
    /// runs are opened with (ECMA2 passes the selected schema to Open*Connection).
    pub schema_type: SchemaType,
    pub resource_type: ResourceTypeDef,
    pub extension_urn: &'static str,
}

/// Errors building a mapping from configuration and schema.
#[derive(Debug, thiserror::Error)]
#[error("object type '{object_type}': {message}")]
pub struct MappingError {
    pub object_type: String,
    pub message: String,
}

fn scim_type(t: DataType) -> AttrType {
    match t {
        DataType::String => AttrType::String,
        DataType::Integer => AttrType::Integer,
        DataType::Boolean => AttrType::Boolean,
        DataType::Binary => AttrType::Binary,
        DataType::Reference => AttrType::Reference,
    }
}

impl TypeMapping {
    /// The mapping of one configured type for a connector with these traits.
    pub fn build(
        cfg: &ObjectTypeConfig,
        schema: &Schema,
        traits: TargetTraits,
    ) -> Result<Self, MappingError> {
        let passwords = traits.passwords;
        let err = |message: String| MappingError {
            object_type: cfg.target.clone(),
            message,
        };
        let st: &SchemaType = schema.object_type(&cfg.target).ok_or_else(|| {
            err(format!(
                "the connector's schema has no such object type (it has: {})",
                schema
                    .types
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let canonical = |name: &str, what: &str| -> Result<String, MappingError> {
            st.attribute(name)
                .map(|a| a.name.clone())
                .ok_or_else(|| err(format!("{what} '{name}' is not an attribute of the type")))
        };
        let anchor = match &cfg.anchor {
            Some(a) => canonical(a, "anchor")?,
            None => st
                .anchor_attributes
                .first()
                .cloned()
                .or_else(|| {
                    st.attributes
                        .iter()
                        .find(|a| a.is_anchor)
                        .map(|a| a.name.clone())
                })
                .ok_or_else(|| err("no anchor configured and the connector names none".into()))?,
        };
        let query_attributes = cfg
            .query_attributes
            .iter()
            .map(|q| canonical(q, "query attribute"))
            .collect::<Result<Vec<_>, _>>()?;
        let dn_attribute = cfg
            .dn_attribute
            .as_deref()
            .map(|d| canonical(d, "DN attribute"))
            .transpose()?;
        let selected: Vec<&plugin_api::model::SchemaAttribute> = match &cfg.attributes {
            Some(list) => list
                .iter()
                .map(|n| {
                    st.attribute(n).ok_or_else(|| {
                        err(format!(
                            "selected attribute '{n}' is not an attribute of the type"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
            None => st.attributes.iter().collect(),
        };
        for name in &cfg.single_value {
            canonical(name, "single_value attribute")?;
        }
        let single = |n: &str| cfg.single_value.iter().any(|s| s.eq_ignore_ascii_case(n));
        // Each connector attribute is exposed once: attributes mapped to a core or enterprise
        // attribute (or holding group members) leave the extension, and deprovisioning flags
        // are the host's business, not Entra's (Microsoft's wizard does not offer them either).
        let mut hidden: Vec<&str> = cfg.core.values().map(String::as_str).collect();
        hidden.extend(cfg.members_attribute.as_deref());
        for d in [&cfg.on_disable, &cfg.on_delete] {
            if let Deprovision::SetAttribute { set, .. } = d {
                hidden.push(set.as_str());
            }
        }
        let selected: Vec<&plugin_api::model::SchemaAttribute> = selected
            .into_iter()
            .filter(|a| !hidden.iter().any(|h| h.eq_ignore_ascii_case(&a.name)))
            .collect();
        let extension_urn = match cfg.scim {
            ScimKind::User => ECMA2HOST_USER_URN,
            ScimKind::Group => ECMA2HOST_GROUP_URN,
        };
        let mut attrs: Vec<AttrMapping> = selected
            .iter()
            .map(|a| AttrMapping {
                connector: a.name.clone(),
                data_type: a.data_type,
                multi_valued: a.multi_valued && !single(&a.name),
                target: ScimTarget::Extension {
                    urn: extension_urn.to_owned(),
                    name: a.name.clone(),
                },
                operation: a.operation,
            })
            .collect();

        // Core and enterprise mappings.
        let mut core_names: Vec<String> = Vec::new();
        let mut enterprise_names: Vec<String> = Vec::new();
        for (scim_path, connector) in &cfg.core {
            let attr = st.attribute(connector).ok_or_else(|| {
                err(format!(
                    "core mapping {scim_path} = '{connector}': no such attribute"
                ))
            })?;
            let (enterprise, path) = match scim_path.strip_prefix(ENTERPRISE_USER_URN) {
                Some(rest) => (true, rest.trim_start_matches(':')),
                None => (false, scim_path.as_str()),
            };
            let element = parse_element_path(path)
                .map_err(|m| err(format!("core mapping {scim_path}: {m}")))?;
            let (top, sub) = match path.split_once('.') {
                Some((t, s)) => (t.to_owned(), Some(s.to_owned())),
                None => (path.to_owned(), None),
            };
            let target = match element {
                Some((attr, kind, sub)) if !enterprise => {
                    ScimTarget::CoreElement { attr, kind, sub }
                }
                Some(_) => {
                    return Err(err(format!(
                        "core mapping {scim_path}: element paths are for core attributes"
                    )));
                }
                None if enterprise => ScimTarget::Enterprise { attr: top, sub },
                None => ScimTarget::Core { attr: top, sub },
            };
            match &target {
                ScimTarget::Enterprise { attr, .. } => enterprise_names.push(attr.clone()),
                ScimTarget::Core { attr, .. } | ScimTarget::CoreElement { attr, .. } => {
                    core_names.push(attr.clone())
                }
                _ => {}
            }
            attrs.push(AttrMapping {
                connector: attr.name.clone(),
                data_type: attr.data_type,
                multi_valued: false,
                operation: attr.operation,
                target,
            });
        }
        if let Some(members) = &cfg.members_attribute {
            let attr = st
                .attribute(members)
                .ok_or_else(|| err(format!("members_attribute '{members}' is not an attribute")))?;
            attrs.push(AttrMapping {
                connector: attr.name.clone(),
                data_type: attr.data_type,
                multi_valued: true,
                target: ScimTarget::Members,
                operation: attr.operation,
            });
            core_names.push("members".into());
        }

        let mut ext_attrs: Vec<ExtensionAttribute> = selected
            .iter()
            .map(|a| ExtensionAttribute {
                name: a.name.clone(),
                attr_type: scim_type(a.data_type),
                multi_valued: a.multi_valued && !single(&a.name),
                required: false,
                case_exact: false,
            })
            .collect();
        let dn_exposed = traits.ldap_dns
            && !selected
                .iter()
                .any(|a| a.name.eq_ignore_ascii_case(DN_ATTRIBUTE));
        if dn_exposed {
            ext_attrs.push(ExtensionAttribute {
                name: DN_ATTRIBUTE.to_owned(),
                attr_type: AttrType::String,
                multi_valued: false,
                required: false,
                case_exact: false,
            });
        }
        let mut extension = ecma2host_extension(extension_urn, &ext_attrs);
        for a in &mut extension.attributes {
            let operation = selected
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(&a.name))
                .map(|s| s.operation);
            let def = AttributeDef::clone(a);
            *a = if a.name.eq_ignore_ascii_case(&anchor) {
                // The anchor is the SCIM id: the target assigns it, Entra never changes it.
                def.mutability(Mutability::Immutable)
            } else if a.name.eq_ignore_ascii_case(DN_ATTRIBUTE) && dn_exposed {
                // Set on create; a change is a rename, for connectors that rename.
                def.mutability(if traits.renames {
                    Mutability::ReadWrite
                } else {
                    Mutability::Immutable
                })
            } else {
                match operation {
                    Some(AttributeOperation::ImportOnly) => def.mutability(Mutability::ReadOnly),
                    Some(AttributeOperation::ExportOnly) => def
                        .mutability(Mutability::WriteOnly)
                        .returned(ecma_scim::Returned::Never),
                    _ => def,
                }
            };
        }
        // Every attribute mapped to a core one leaves the extension empty: then it is not
        // offered at all (an empty schema only confuses clients that fill every extension).
        let extension = (!extension.attributes.is_empty()).then_some(extension);
        // A complex core attribute exposes only the sub-attributes that are mapped (a `name`
        // with only givenName/familyName stored must not advertise middleName & co.).
        let mut mapped_subs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for m in &attrs {
            if let ScimTarget::CoreElement { attr, sub, .. } = &m.target {
                // An element is told apart by its type; clients also mark the primary one.
                let subs = mapped_subs.entry(attr.to_lowercase()).or_default();
                subs.extend([sub.to_lowercase(), "type".into(), "primary".into()]);
            }
            if let ScimTarget::Core {
                attr,
                sub: Some(sub),
            }
            | ScimTarget::Enterprise {
                attr,
                sub: Some(sub),
            } = &m.target
            {
                mapped_subs
                    .entry(attr.to_lowercase())
                    .or_default()
                    .push(sub.to_lowercase());
            }
        }
        // Elements chosen by type: the type's canonical values are the mapped kinds, so a
        // client learns from /Schemas which elements the application stores.
        let mut mapped_kinds: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for m in &attrs {
            if let ScimTarget::CoreElement { attr, kind, .. } = &m.target {
                mapped_kinds
                    .entry(attr.to_lowercase())
                    .or_default()
                    .push(kind.clone());
            }
        }
        let narrow = |mut schema: ecma_scim::SchemaDef| {
            for a in &mut schema.attributes {
                if let Some(subs) = mapped_subs.get(&a.name.to_lowercase()) {
                    a.sub_attributes
                        .retain(|s| subs.contains(&s.name.to_lowercase()));
                }
                if let Some(kinds) = mapped_kinds.get(&a.name.to_lowercase()) {
                    for s in &mut a.sub_attributes {
                        if s.name.eq_ignore_ascii_case("type") {
                            s.canonical_values = kinds.clone();
                        }
                        // Which element is primary is not stored: accepted (Entra sends it)
                        // and ignored, as readOnly values in requests are (RFC 7643 §7).
                        if s.name.eq_ignore_ascii_case("primary") {
                            s.mutability = ecma_scim::Mutability::ReadOnly;
                        }
                    }
                }
            }
            schema
        };
        let resource_type = match cfg.scim {
            ScimKind::User => {
                let mut names: Vec<&str> = core_names.iter().map(String::as_str).collect();
                names.push("active");
                if passwords {
                    names.push("password");
                }
                let mut rt = ResourceTypeDef::new(
                    "User",
                    "/Users",
                    "Users of the connected application",
                    narrow(core_user_schema().select(&names)),
                );
                if let Some(extension) = extension {
                    rt = rt.with_extension(extension, false);
                }
                if !enterprise_names.is_empty() {
                    let names: Vec<&str> = enterprise_names.iter().map(String::as_str).collect();
                    rt = rt.with_extension(narrow(enterprise_user_schema().select(&names)), false);
                }
                rt
            }
            ScimKind::Group => {
                let mut names: Vec<&str> = core_names.iter().map(String::as_str).collect();
                names.push("displayName");
                let rt = ResourceTypeDef::new(
                    "Group",
                    "/Groups",
                    "Groups of the connected application",
                    narrow(core_group_schema().select(&names)),
                );
                match extension {
                    Some(extension) => rt.with_extension(extension, false),
                    None => rt,
                }
            }
        };
        let schema_type = {
            let mut used: Vec<String> = attrs.iter().map(|m| m.connector.to_lowercase()).collect();
            used.push(anchor.to_lowercase());
            used.extend(dn_attribute.iter().map(|d| d.to_lowercase()));
            used.extend(query_attributes.iter().map(|q| q.to_lowercase()));
            for d in [&cfg.on_disable, &cfg.on_delete] {
                if let Deprovision::SetAttribute { set, .. } = d {
                    used.push(set.to_lowercase());
                }
            }
            let mut t = st.clone();
            t.attributes
                .retain(|a| used.contains(&a.name.to_lowercase()));
            t
        };
        let anchor_form = AnchorForm::of(
            &anchor,
            st.attribute(&anchor)
                .map(|a| a.data_type)
                .unwrap_or(DataType::String),
        );
        Ok(Self {
            kind: cfg.scim,
            object_type: st.name.clone(),
            anchor,
            anchor_form,
            dn_exposed,
            dn_attribute,
            query_attributes,
            on_disable: cfg.on_disable.clone(),
            on_delete: cfg.on_delete.clone(),
            attrs,
            schema_type,
            data_types: st
                .attributes
                .iter()
                .map(|a| (a.name.to_lowercase(), a.data_type))
                .collect(),
            resource_type,
            extension_urn,
        })
    }

    /// The connector attribute a SCIM attribute path addresses (for index lookups).
    pub fn connector_attr_for(&self, attr: &ResolvedAttr) -> Option<&str> {
        if attr.attr.eq_ignore_ascii_case("id") && attr.sub_attr.is_none() {
            return Some(&self.anchor);
        }
        self.attrs.iter().find_map(|m| {
            let hit = match &m.target {
                ScimTarget::Extension { urn, name } => {
                    attr.urn.eq_ignore_ascii_case(urn) && attr.attr.eq_ignore_ascii_case(name)
                }
                ScimTarget::Core { attr: a, sub } => {
                    (attr.urn == CORE_USER_URN || attr.urn == CORE_GROUP_URN)
                        && attr.attr.eq_ignore_ascii_case(a)
                        && eq_opt(&attr.sub_attr, sub)
                }
                ScimTarget::CoreElement { attr: a, sub, .. } => {
                    (attr.urn == CORE_USER_URN || attr.urn == CORE_GROUP_URN)
                        && attr.attr.eq_ignore_ascii_case(a)
                        && attr
                            .sub_attr
                            .as_deref()
                            .is_none_or(|s| s.eq_ignore_ascii_case(sub))
                }
                ScimTarget::Enterprise { attr: a, sub } => {
                    attr.urn.eq_ignore_ascii_case(ENTERPRISE_USER_URN)
                        && attr.attr.eq_ignore_ascii_case(a)
                        && eq_opt(&attr.sub_attr, sub)
                }
                ScimTarget::Members => {
                    attr.attr.eq_ignore_ascii_case("members")
                        && attr
                            .sub_attr
                            .as_deref()
                            .is_none_or(|s| s.eq_ignore_ascii_case("value"))
                }
            };
            hit.then_some(m.connector.as_str())
        })
    }

    /// Whether `active` is stored in the target (a "set attribute" disable policy).
    pub fn active_attribute(&self) -> Option<(&str, bool)> {
        match &self.on_disable {
            Deprovision::SetAttribute { set, value } => Some((set.as_str(), *value)),
            _ => None,
        }
    }

    /// `active` as a user shows it: what the host keeps (`active_override`), else what the
    /// target stores (a "set attribute" disable policy), else unknown.
    pub fn active_of(&self, record: &Record, active_override: Option<bool>) -> Option<bool> {
        match (active_override, self.active_attribute()) {
            (Some(a), _) => Some(a),
            (None, Some((attr, disabled_value))) => record
                .get(attr)
                .and_then(|v| v.first())
                .and_then(truthy)
                .map(|flag| flag != disabled_value),
            (None, None) => None,
        }
    }

    /// A boolean as the target stores it in `attr` (a text column gets "true"/"false").
    pub fn typed_bool(&self, attr: &str, b: bool) -> Value {
        match self.data_types.get(&attr.to_lowercase()) {
            Some(DataType::String) => Value::String(b.to_string()),
            Some(DataType::Integer) => Value::Integer(b as i64),
            _ => Value::Boolean(b),
        }
    }

    /// SCIM resource (without meta) from a connector record.
    /// `dn_to_id` turns a reference value (a DN) into the SCIM id of the object it names.
    pub fn resource_from_record(
        &self,
        id: &str,
        record: &Record,
        dn: &str,
        active_override: Option<bool>,
        dn_to_id: &dyn Fn(&str) -> Option<String>,
    ) -> Json {
        let core_urn = match self.kind {
            ScimKind::User => CORE_USER_URN,
            ScimKind::Group => CORE_GROUP_URN,
        };
        let mut out = Map::new();
        let mut schemas = vec![Json::String(core_urn.into())];
        out.insert("id".into(), Json::String(id.to_owned()));
        let mut ext = Map::new();
        let mut enterprise = Map::new();
        for m in &self.attrs {
            let Some(values) = record.get(&m.connector).filter(|v| !v.is_empty()) else {
                continue;
            };
            match &m.target {
                ScimTarget::Extension { name, .. } => {
                    ext.insert(
                        name.clone(),
                        to_json(values, m.multi_valued, m.data_type, dn_to_id),
                    );
                }
                ScimTarget::Core { attr, sub } => {
                    set_path(
                        &mut out,
                        attr,
                        sub.as_deref(),
                        to_json(values, false, m.data_type, dn_to_id),
                    );
                }
                ScimTarget::CoreElement { attr, kind, sub } => {
                    let value = to_json(values, false, m.data_type, dn_to_id);
                    let list = out
                        .entry(attr.clone())
                        .or_insert_with(|| Json::Array(Vec::new()));
                    if let Json::Array(items) = list {
                        let at = items.iter().position(|e| element_is(e, kind));
                        let element = match at {
                            Some(i) => &mut items[i],
                            None => {
                                items.push(json!({ "type": kind }));
                                items.last_mut().expect("just pushed")
                            }
                        };
                        element[sub.as_str()] = value;
                    }
                }
                ScimTarget::Enterprise { attr, sub } => {
                    let v = if attr == "manager" {
                        let id = value_json(&values[0], m.data_type, dn_to_id);
                        json!({ "value": id })
                    } else {
                        to_json(values, false, m.data_type, dn_to_id)
                    };
                    set_path(&mut enterprise, attr, sub.as_deref(), v);
                }
                ScimTarget::Members => {
                    let members: Vec<Json> = m
                        .member_values(values, dn_to_id)
                        .into_iter()
                        .map(|v| json!({ "value": v }))
                        .collect();
                    out.insert("members".into(), Json::Array(members));
                }
            }
        }
        if self.dn_exposed && !dn.is_empty() {
            ext.insert(DN_ATTRIBUTE.into(), Json::String(dn.to_owned()));
        }
        if !ext.is_empty() {
            schemas.push(Json::String(self.extension_urn.into()));
            out.insert(self.extension_urn.into(), Json::Object(ext));
        }
        if !enterprise.is_empty() {
            schemas.push(Json::String(ENTERPRISE_USER_URN.into()));
            out.insert(ENTERPRISE_USER_URN.into(), Json::Object(enterprise));
        }
        if self.kind == ScimKind::User {
            // `active` is shown when it is known: stored in the target (a "set attribute"
            // disable policy) or kept by the host.
            if let Some(active) = self.active_of(record, active_override) {
                out.insert("active".into(), Json::Bool(active));
            }
        }
        out.insert("schemas".into(), Json::Array(schemas));
        Json::Object(out)
    }

    /// The DN a SCIM resource asks for (`-dn-` in the extension), where the type exposes it.
    pub fn dn_from_resource(&self, resource: &Json) -> Option<String> {
        if !self.dn_exposed {
            return None;
        }
        get_ci(resource, self.extension_urn)
            .and_then(|e| get_ci(e, DN_ATTRIBUTE))
            .and_then(Json::as_str)
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
    }

    /// The anchor value a SCIM id names, as the target stores it.
    pub fn anchor_value(&self, id: &str) -> Value {
        self.anchor_form
            .value_of(id)
            .unwrap_or_else(|| Value::String(id.to_owned()))
    }

    /// Whether the connector only imports `attr` (it is never exported).
    pub fn is_import_only(&self, attr: &str) -> bool {
        self.attrs.iter().any(|m| {
            m.operation == AttributeOperation::ImportOnly && m.connector.eq_ignore_ascii_case(attr)
        })
    }

    /// Connector record from a SCIM resource (validated by the engine against our schema).
    /// `id_to_dn` turns a SCIM id in a reference into the value the target stores.
    pub fn record_from_resource(
        &self,
        resource: &Json,
        id_to_ref: &dyn Fn(&str) -> String,
    ) -> Result<Record, ScimError> {
        let mut record = Record::new();
        // Core/enterprise first, then the extension, so an explicit extension value wins.
        let mut ordered: Vec<&AttrMapping> = self
            .attrs
            .iter()
            .filter(|m| !matches!(m.target, ScimTarget::Extension { .. }))
            .collect();
        ordered.extend(
            self.attrs
                .iter()
                .filter(|m| matches!(m.target, ScimTarget::Extension { .. })),
        );
        for m in ordered {
            let raw = match &m.target {
                ScimTarget::Extension { urn, name } => {
                    get_ci(resource, urn).and_then(|e| get_ci(e, name))
                }
                ScimTarget::Core { attr, sub } => get_path(resource, attr, sub.as_deref()),
                ScimTarget::CoreElement { attr, kind, sub } => get_ci(resource, attr)
                    .and_then(|list| element_of(list, kind))
                    .and_then(|e| get_ci(e, sub)),
                ScimTarget::Enterprise { attr, sub } => get_ci(resource, ENTERPRISE_USER_URN)
                    .and_then(|e| get_path(e, attr, sub.as_deref())),
                ScimTarget::Members => get_ci(resource, "members"),
            };
            let Some(raw) = raw else {
                continue;
            };
            let values = from_json(raw, m, id_to_ref)?;
            if values.is_empty() {
                record.remove(&m.connector);
            } else {
                record.insert(m.connector.clone(), values);
            }
        }
        Ok(record)
    }
}

/// `attr[type eq "kind"].sub` → (attr, kind, sub); `None` for a path without a filter.
fn parse_element_path(path: &str) -> Result<Option<(String, String, String)>, String> {
    let Some((attr, rest)) = path.split_once('[') else {
        return Ok(None);
    };
    let bad = || format!("expected attr[type eq \"kind\"].sub, got '{path}'");
    let (filter, sub) = rest.split_once(']').ok_or_else(bad)?;
    let sub = sub
        .strip_prefix('.')
        .filter(|s| !s.is_empty())
        .ok_or_else(bad)?;
    let mut words = filter.splitn(3, char::is_whitespace);
    let (Some(on), Some(op), Some(kind)) = (words.next(), words.next(), words.next()) else {
        return Err(bad());
    };
    let kind = kind.trim().trim_matches('"');
    if !on.eq_ignore_ascii_case("type") || !op.eq_ignore_ascii_case("eq") || kind.is_empty() {
        return Err(format!(
            "only elements chosen by type are mapped (attr[type eq \"kind\"].sub), got '{path}'"
        ));
    }
    Ok(Some((
        attr.trim().to_owned(),
        kind.to_owned(),
        sub.to_owned(),
    )))
}

/// Whether an element of a multi-valued attribute has type `kind`.
fn element_is(e: &Json, kind: &str) -> bool {
    get_ci(e, "type")
        .and_then(Json::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case(kind))
}

/// The element of type `kind`; when no element carries a type at all (a generic client
/// sending `emails: [{"value": …}]`), the primary element, or the only one.
fn element_of<'a>(list: &'a Json, kind: &str) -> Option<&'a Json> {
    let items = list.as_array()?;
    if let Some(e) = items.iter().find(|e| element_is(e, kind)) {
        return Some(e);
    }
    if items.iter().any(|e| get_ci(e, "type").is_some()) {
        return None;
    }
    items
        .iter()
        .find(|e| get_ci(e, "primary").and_then(Json::as_bool) == Some(true))
        .or(if items.len() == 1 {
            items.first()
        } else {
            None
        })
}

/// A stored flag as a boolean, whatever type the target keeps it in.
pub fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Boolean(b) => Some(*b),
        Value::Integer(i) => Some(*i != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "y" | "t" => Some(true),
            "false" | "0" | "no" | "n" | "f" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn eq_opt(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}
