//! The connector's configuration, built from an application's TOML parameter pages, and its
//! validation by the connector (page by page, as Microsoft's wizard does).

use std::collections::{BTreeMap, BTreeSet};

use plugin_api::model::{
    ConfigPage, ConfigParameterDefinition, ConfigParameters, ParameterKind, ParameterValidation,
};

use super::{AppError, setup_err};
use crate::config::{AppConfig, ParameterValue};

/// Builds the connector's configuration from the TOML pages; secrets become encrypted
/// parameters, as do parameters the connector declares as EncryptedString.
pub fn connector_parameters(
    app: &AppConfig,
    encrypted_names: &BTreeSet<String>,
) -> Result<ConfigParameters, AppError> {
    let mut params = ConfigParameters::new();
    for (page, values) in app.parameters.pages() {
        for (name, value) in values {
            let (text, secret) = match value {
                ParameterValue::Text(t) => (t.clone(), false),
                ParameterValue::Bool(b) => ((if *b { "1" } else { "0" }).to_owned(), false),
                ParameterValue::Integer(i) => (i.to_string(), false),
                ParameterValue::Secret(s) => (
                    s.secret
                        .resolve(&format!(
                            "parameter '{name}' ({page}) of app '{}'",
                            app.name
                        ))
                        .map_err(|e| setup_err(&app.name, e.to_string()))?
                        .expose()
                        .to_owned(),
                    true,
                ),
            };
            if secret || encrypted_names.contains(name) {
                params.set_secret(name, text);
            } else {
                params.set(name, text);
            }
        }
    }
    Ok(params)
}

/// Schema pages are numbered (Microsoft's Generic SQL has Schema 1–5); more than this many is
/// a connector that ignores the number.
const MAX_SCHEMA_PAGES: u32 = 10;

/// The pages in the order of Microsoft's wizard.
const PAGES: [ConfigPage; 6] = [
    ConfigPage::Connectivity,
    ConfigPage::Capabilities,
    ConfigPage::Schema,
    ConfigPage::Global,
    ConfigPage::Partition,
    ConfigPage::RunStep,
];

/// Every parameter page the connector declares for `params` (pages can depend on earlier
/// values, as in the wizard), in the wizard's order, with the page's number (Schema pages
/// count from 1; other pages are 1).
pub fn parameter_pages(
    plugin: &dyn plugin_api::host::ConnectorPlugin,
    params: &ConfigParameters,
) -> Vec<(ConfigPage, u32, Vec<ConfigParameterDefinition>)> {
    let mut out = Vec::new();
    for page in PAGES {
        if page != ConfigPage::Schema {
            let defs = plugin
                .config_parameters(params, page, 1)
                .unwrap_or_default();
            if !defs.is_empty() {
                out.push((page, 1, defs));
            }
            continue;
        }
        let mut previous: Vec<String> = Vec::new();
        for n in 1..=MAX_SCHEMA_PAGES {
            let defs = plugin
                .config_parameters(params, page, n)
                .unwrap_or_default();
            let names: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
            // An empty page ends the schema pages; the same page again means the connector
            // does not number its schema pages.
            if defs.is_empty() || names == previous {
                break;
            }
            previous = names;
            out.push((page, n, defs));
        }
    }
    out
}

/// Every parameter definition on every page.
fn all_definitions(
    plugin: &dyn plugin_api::host::ConnectorPlugin,
    params: &ConfigParameters,
) -> Vec<ConfigParameterDefinition> {
    parameter_pages(plugin, params)
        .into_iter()
        .flat_map(|(_, _, defs)| defs)
        .collect()
}

/// The names of parameters a connector declares as encrypted, on any page.
fn encrypted_parameter_names(
    plugin: &dyn plugin_api::host::ConnectorPlugin,
    params: &ConfigParameters,
) -> BTreeSet<String> {
    all_definitions(plugin, params)
        .into_iter()
        .filter(|d| d.kind == ParameterKind::EncryptedString)
        .map(|d| d.name)
        .collect()
}

/// The configuration with each parameter under the name the connector declares (and, for
/// messages, the TOML key each was given as): a TOML key
/// may be any of its names or aliases (Microsoft's wizard labels, for one), typed with any
/// case and spacing. Two keys naming one parameter are a problem; keys the connector does not
/// declare on any page pass unchanged.
fn canonical_names(
    app: &AppConfig,
    plugin: &dyn plugin_api::host::ConnectorPlugin,
    params: ConfigParameters,
) -> Result<(ConfigParameters, BTreeMap<String, String>), Vec<String>> {
    let defs: Vec<ConfigParameterDefinition> = all_definitions(plugin, &params)
        .into_iter()
        .filter(|d| !d.name.is_empty() && d.kind != ParameterKind::Label)
        .collect();
    let mut out = ConfigParameters::new();
    let mut given_as: BTreeMap<String, String> = BTreeMap::new();
    let mut problems = Vec::new();
    for p in params.iter() {
        let name = defs
            .iter()
            .find(|d| d.name == p.name)
            .or_else(|| defs.iter().find(|d| d.is_named(&p.name)))
            .map_or(p.name.clone(), |d| d.name.clone());
        if let Some(first) = given_as.insert(name.clone(), p.name.clone()) {
            problems.push(format!(
                "app '{}': parameters '{first}' and '{}' both set '{name}'; keep one",
                app.name, p.name
            ));
            continue;
        }
        if name != p.name {
            tracing::debug!(app = %app.name, given = %p.name, parameter = %name, "parameter name resolved");
        }
        let mut renamed = p.clone();
        renamed.name = name;
        out.insert(renamed);
    }
    if problems.is_empty() {
        Ok((out, given_as))
    } else {
        Err(problems)
    }
}

/// How much validation reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// Every page, every problem (`check-config`).
    AllProblems,
    /// Stop after the first page with a problem (starting an application: a target that is
    /// down would otherwise be waited for once per page).
    FirstProblem,
}

/// Checks each page's parameters with the connector; one message per failure, naming the
/// page and the parameter.
pub fn validate_with_connector(
    app: &AppConfig,
    plugin: &dyn plugin_api::host::ConnectorPlugin,
    mode: Validation,
) -> Result<ConfigParameters, Vec<String>> {
    let plain = connector_parameters(app, &BTreeSet::new()).map_err(|e| vec![e.to_string()])?;
    let (plain, given_as) = canonical_names(app, plugin, plain)?;
    // A problem names the parameter as the connector knows it and, where the TOML said it
    // differently, as the admin wrote it.
    let named = |parameter: &str| match given_as.get(parameter) {
        Some(key) if key != parameter => format!("'{parameter}' (the TOML key '{key}')"),
        _ => format!("'{parameter}'"),
    };
    let encrypted = encrypted_parameter_names(plugin, &plain);
    let mut params = ConfigParameters::new();
    for p in plain.iter() {
        if p.encrypted || encrypted.contains(&p.name) {
            params.set_secret(&p.name, p.value.clone());
        } else {
            params.set(&p.name, p.value.clone());
        }
    }
    let mut problems = Vec::new();
    for page in ConfigPage::ALL {
        let defs = plugin
            .config_parameters(&params, page, 1)
            .unwrap_or_default();
        for d in defs.iter().filter(|d| d.required) {
            if params.get(&d.name).is_none_or(str::is_empty) {
                problems.push(format!(
                    "app '{}': required {page:?} parameter '{}' is missing ({})",
                    app.name, d.name, d.description
                ));
            }
        }
        match plugin.validate_config(&params, page, 1) {
            Ok(ParameterValidation::Success) => {}
            Ok(ParameterValidation::Failure { parameter, message }) => problems.push(format!(
                "app '{}': {page:?} parameter {}: {message}",
                app.name,
                named(&parameter)
            )),
            Err(e) => problems.push(format!(
                "app '{}': validating the {page:?} page failed: {}",
                app.name, e.message
            )),
        }
        if mode == Validation::FirstProblem && !problems.is_empty() {
            break;
        }
    }
    // Each problem once, however many pages report it.
    let mut seen = BTreeSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    if problems.is_empty() {
        Ok(params)
    } else {
        Err(problems)
    }
}
