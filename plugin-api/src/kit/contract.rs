//! The checks that need no objects: parameters, schema, and whether the declared
//! capabilities match the calls (a declared call works, an undeclared one says Unsupported).

use crate::model::*;

use super::session::{Session, said};

/// Every page's definitions read; names unique on a page; the configuration validates on
/// every page; without a required parameter (one with no default) its page does not.
pub(crate) fn parameters(s: &Session<'_>) -> Result<(), String> {
    let mut problems = Vec::new();
    for page in ConfigPage::ALL {
        let defs = s
            .plugin
            .config_parameters(s.config, page, 1)
            .map_err(|e| format!("config_parameters({page:?}) returned {}", said(&e)))?;
        let mut seen = std::collections::HashSet::new();
        for d in &defs {
            if !matches!(d.kind, ParameterKind::Label | ParameterKind::Divider)
                && !seen.insert(d.name.to_ascii_lowercase())
            {
                problems.push(format!("page {page:?} defines '{}' twice", d.name));
            }
        }
        match s.plugin.validate_config(s.config, page, 1) {
            Ok(ParameterValidation::Success) => {}
            Ok(ParameterValidation::Failure { parameter, message }) => problems.push(format!(
                "validate_config({page:?}) refused the kit's configuration: '{parameter}': {message}"
            )),
            Err(e) => problems.push(format!("validate_config({page:?}) returned {}", said(&e))),
        }
        for d in defs
            .iter()
            .filter(|d| d.required && d.default_value.is_empty())
        {
            let mut without = ConfigParameters::new();
            for p in s.config.iter() {
                let named = |n: &str| n.eq_ignore_ascii_case(&p.name);
                if !named(&d.name) && !d.aliases.iter().any(|a| named(a)) {
                    without.insert(p.clone());
                }
            }
            match s.plugin.validate_config(&without, page, 1) {
                Ok(ParameterValidation::Success) => problems.push(format!(
                    "validate_config({page:?}) accepted a configuration without the required \
                     parameter '{}'",
                    d.name
                )),
                Err(e) if e.kind == ErrorKind::Panicked => problems.push(format!(
                    "validate_config({page:?}) without '{}' returned {}",
                    d.name,
                    said(&e)
                )),
                Ok(ParameterValidation::Failure { .. }) | Err(_) => {}
            }
        }
    }
    joined(problems)
}

/// At least one object type; each has an anchor, and its anchors are among its attributes;
/// the sample's type and text attribute exist.
pub(crate) fn schema(s: &Session<'_>, object_type: &str, text: &str) -> Result<(), String> {
    let mut problems = Vec::new();
    if s.schema.types.is_empty() {
        problems.push("the schema has no object type".to_owned());
    }
    for t in &s.schema.types {
        if t.anchor_attributes.is_empty() {
            problems.push(format!("object type '{}' has no anchor attribute", t.name));
        }
        for a in &t.anchor_attributes {
            if t.attribute(a).is_none() {
                problems.push(format!(
                    "object type '{}' names the anchor '{a}', which is not one of its attributes",
                    t.name
                ));
            }
        }
    }
    match s.schema.object_type(object_type) {
        None => problems.push(format!(
            "the sample's object type '{object_type}' is not in the schema"
        )),
        Some(t) if t.attribute(text).is_none() => problems.push(format!(
            "the sample's text attribute '{text}' is not an attribute of '{object_type}'"
        )),
        Some(_) => {}
    }
    joined(problems)
}

/// A call the capabilities do not declare must answer `Unsupported` (partitions may also be
/// an empty list): a host that believed otherwise would offer what the connector cannot do.
pub(crate) fn undeclared(s: &Session<'_>, caps: &Capabilities) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut expect_unsupported = |what: &str, r: Result<(), ConnectorError>| match r {
        Err(e) if e.kind == ErrorKind::Unsupported => {}
        Err(e) => problems.push(format!(
            "{what} is not declared, but the call returned {} instead of Unsupported",
            said(&e)
        )),
        Ok(()) => problems.push(format!(
            "{what} is not declared, but the call succeeded: declare it"
        )),
    };
    if !caps.support_import {
        expect_unsupported(
            "support_import",
            s.import(ImportType::Full, 10, "").map(drop),
        );
    }
    if caps.support_import && !caps.delta_import {
        // After a full import, so that a watermark is not what is missing.
        let watermark = s
            .import(ImportType::Full, 100, "")
            .map(|i| i.watermark)
            .unwrap_or_default();
        expect_unsupported(
            "delta_import",
            s.import(ImportType::Delta, 10, &watermark).map(drop),
        );
    }
    if !caps.support_export {
        let r = s
            .instance()
            .map_err(ConnectorError::internal)
            .and_then(|mut i| {
                i.open_export(OpenExportRequest {
                    batch_size: 1,
                    partition: None,
                    schema: s.schema.clone(),
                })?;
                i.put_export_entries(Vec::new()).map(drop)
            });
        expect_unsupported("support_export", r);
    }
    if !caps.support_password {
        let r = s
            .instance()
            .map_err(ConnectorError::internal)
            .and_then(|mut i| {
                i.set_password(
                    PasswordTarget {
                        object_type: s
                            .schema
                            .types
                            .first()
                            .map(|t| t.name.clone())
                            .unwrap_or_default(),
                        dn: String::new(),
                        anchor: Vec::new(),
                    },
                    Secret::new("Kit-Passw0rd!".to_owned()),
                    PasswordOptions::default(),
                )
            });
        expect_unsupported("support_password", r);
    }
    if !caps.support_partitions {
        match s.plugin.partitions(s.config) {
            Ok(p) if p.is_empty() => {}
            Ok(p) => problems.push(format!(
                "support_partitions is not declared, but partitions() returned {p:?}"
            )),
            Err(e) => expect_unsupported("support_partitions", Err(e)),
        }
    }
    joined(problems)
}

/// A declared delta import opens and runs from a full import's watermark.
pub(crate) fn delta(s: &Session<'_>) -> Result<(), String> {
    let full = s
        .import(ImportType::Full, 100, "")
        .map_err(|e| format!("the full import before the delta returned {}", said(&e)))?;
    match s.import(ImportType::Delta, 100, &full.watermark) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "delta_import is declared, but a delta import from the full import's watermark \
             {:?} returned {}",
            full.watermark,
            said(&e)
        )),
    }
}

/// Declared partitions are listed.
pub(crate) fn partitions(s: &Session<'_>) -> Result<(), String> {
    match s.plugin.partitions(s.config) {
        Ok(p) if !p.is_empty() => Ok(()),
        Ok(_) => Err("support_partitions is declared, but partitions() returned none".into()),
        Err(e) => Err(format!(
            "support_partitions is declared, but partitions() returned {}",
            said(&e)
        )),
    }
}

pub(crate) fn joined(problems: Vec<String>) -> Result<(), String> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
