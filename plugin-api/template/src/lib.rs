//! {{name}}: an ecma-host connector.
//!
//! A complete connector over an in-memory target, so that it builds, loads and passes the
//! connector kit as generated: replace `Store` with your system's client.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use plugin_api::prelude::*;

const P_STORE: &str = "Store";
const OBJECT_TYPE: &str = "User";
const ANCHOR: &str = "id";
/// The attributes besides the anchor, all single-valued strings.
const ATTRIBUTES: [&str; 2] = ["name", "email"];

/// An object: attribute → value.
type Object = BTreeMap<String, String>;

/// The in-memory target: stores by name, objects by anchor. Stands in for your system.
fn stores() -> &'static Mutex<HashMap<String, BTreeMap<String, Object>>> {
    static STORES: OnceLock<Mutex<HashMap<String, BTreeMap<String, Object>>>> = OnceLock::new();
    STORES.get_or_init(Default::default)
}

pub struct {{type}} {
    store: String,
    host: HostServices,
    /// The objects an open import has still to return, and its page size.
    import: Option<(Vec<(String, Object)>, usize)>,
}

impl {{type}} {
    fn with_store<T>(&self, f: impl FnOnce(&mut BTreeMap<String, Object>) -> T) -> T {
        let mut stores = stores().lock().unwrap_or_else(|e| e.into_inner());
        f(stores.entry(self.store.clone()).or_default())
    }
}

impl Connector for {{type}} {
    fn info() -> ConnectorInfo {
        ConnectorInfo {
            name: "{{name}}".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: String::new(),
            description: "{{name}} connector".into(),
            api_version: String::new(),
        }
    }

    // The default claims nothing: switch on what the connector does, and only that.
    fn capabilities(_config: &ConfigParameters) -> Capabilities {
        Capabilities {
            support_import: true,
            support_export: true,
            ..Capabilities::default()
        }
    }

    fn config_parameters(
        _config: &ConfigParameters,
        page: ConfigPage,
        _page_number: u32,
    ) -> ConnectorResult<Vec<ConfigParameterDefinition>> {
        Ok(match page {
            ConfigPage::Connectivity => vec![
                ConfigParameterDefinition::string(P_STORE, "", "")
                    .describe("Which in-memory store to use")
                    .required(),
            ],
            _ => Vec::new(),
        })
    }

    fn validate_config(
        config: &ConfigParameters,
        page: ConfigPage,
        _page_number: u32,
    ) -> ConnectorResult<ParameterValidation> {
        if page == ConfigPage::Connectivity && config.get_or_empty(P_STORE).trim().is_empty() {
            return Ok(ParameterValidation::Failure {
                parameter: P_STORE.into(),
                message: format!("'{P_STORE}' is required"),
            });
        }
        Ok(ParameterValidation::Success)
    }

    fn schema(_config: &ConfigParameters) -> ConnectorResult<Schema> {
        let mut attributes = vec![SchemaAttribute::anchor(ANCHOR, DataType::String)];
        attributes.extend(
            ATTRIBUTES
                .iter()
                .map(|a| SchemaAttribute::single(a, DataType::String)),
        );
        Ok(Schema {
            types: vec![SchemaType {
                name: OBJECT_TYPE.into(),
                locked: true,
                attributes,
                anchor_attributes: vec![ANCHOR.into()],
                possible_dn_components: Vec::new(),
            }],
        })
    }

    fn create(config: &ConfigParameters, host: HostServices) -> ConnectorResult<Self> {
        Ok(Self {
            store: config.require(P_STORE)?.to_owned(),
            host,
            import: None,
        })
    }

    fn test_connection(&mut self) -> ConnectorResult<()> {
        Ok(())
    }

    fn open_import(&mut self, request: OpenImportRequest) -> ConnectorResult<String> {
        if request.import_type == ImportType::Delta {
            return Err(ConnectorError::unsupported("no delta import: run a full import"));
        }
        let objects = self.with_store(|s| s.iter().map(|(k, o)| (k.clone(), o.clone())).collect());
        self.import = Some((objects, request.page_size.max(1) as usize));
        Ok(String::new())
    }

    /// The fast path: entries written straight into the page. A `NameId` from
    /// `page.name(...)` is valid in this page only: look names up again on every page.
    fn get_import_page(&mut self, page: &mut PageWriter) -> ConnectorResult<PageStatus> {
        let (objects, size) = self
            .import
            .as_mut()
            .ok_or_else(|| ConnectorError::invalid_input("get_import_page before open_import"))?;
        let take = (*size).min(objects.len());
        let user = page.name(OBJECT_TYPE);
        let anchor = page.name(ANCHOR);
        for (id, object) in objects.drain(..take) {
            self.host.check_cancelled()?;
            // `dn` is empty (this target has no DNs); `identifier` is the anchor's value.
            let mut entry = page.entry(user, ObjectModification::Add, "", &id);
            entry.anchor(anchor, ValueRef::String(&id));
            for (name, value) in &object {
                entry.add(name.as_str(), ValueRef::String(value));
            }
        }
        Ok(PageStatus {
            more_to_import: !objects.is_empty(),
            custom_data: String::new(),
        })
    }

    fn close_import(&mut self, _reason: CloseReason) -> ConnectorResult<String> {
        self.import = None;
        Ok(String::new())
    }

    fn open_export(&mut self, _request: OpenExportRequest) -> ConnectorResult<()> {
        Ok(())
    }

    fn put_export_entries(
        &mut self,
        entries: Vec<CsEntryChange>,
    ) -> ConnectorResult<Vec<ExportResult>> {
        Ok(self.with_store(|store| entries.iter().map(|e| export_one(store, e)).collect()))
    }
}

/// One entry's export: exactly one result, matched by `identifier`.
fn export_one(store: &mut BTreeMap<String, Object>, e: &CsEntryChange) -> ExportResult {
    let id = e.identifier.as_str();
    let Some(anchor) = e.anchor_value().map(Value::as_text).filter(|a| !a.is_empty()) else {
        return ExportResult::failure(id, ExportErrorCode::MissingAnchorComponent, "no id");
    };
    if let Some(bad) = e.changes.iter().find(|c| !ATTRIBUTES.contains(&c.name.as_str())) {
        return ExportResult::failure(
            id,
            ExportErrorCode::SyntaxViolation,
            format!("'{}' is not an attribute of {OBJECT_TYPE}", bad.name),
        );
    }
    match (e.modification, store.contains_key(&anchor)) {
        (ObjectModification::Add, true) => ExportResult::failure(
            id,
            ExportErrorCode::ConnectedDirectoryExistingObject,
            format!("{ANCHOR} {anchor:?} exists"),
        ),
        (ObjectModification::Add, false) => {
            let mut object = Object::new();
            apply(&mut object, &e.changes);
            store.insert(anchor.clone(), object);
            ExportResult::success(id).with_anchor(ANCHOR, anchor)
        }
        (ObjectModification::None, _) => ExportResult::success(id),
        (_, false) => ExportResult::failure(
            id,
            ExportErrorCode::ConnectedDirectoryMissingObject,
            format!("no {OBJECT_TYPE} with {ANCHOR} {anchor:?}"),
        ),
        (ObjectModification::Delete, true) => {
            store.remove(&anchor);
            ExportResult::success(id)
        }
        (ObjectModification::Update | ObjectModification::Replace, true) => {
            let object = store.get_mut(&anchor).expect("checked above");
            if e.modification == ObjectModification::Replace {
                object.clear();
            }
            apply(object, &e.changes);
            ExportResult::success(id)
        }
    }
}

/// Attribute changes on single-valued attributes: the last added value wins.
fn apply(object: &mut Object, changes: &[AttributeChange]) {
    for c in changes {
        match (c.modification, c.added_values().last()) {
            (AttributeModification::Delete, _) | (_, None) => {
                object.remove(&c.name);
            }
            (_, Some(v)) => {
                object.insert(c.name.clone(), v.as_text());
            }
        }
    }
}

plugin_api::export_connector!({{type}});
