//! `ecma-host describe CONNECTOR`: what Microsoft's wizard shows before an administrator maps
//! attributes in Entra: each parameter page of a connector, and (with an application's
//! configuration) the object types and attributes the connector discovers in its target.

use std::fmt::Write;

use plugin_api::host::ConnectorPlugin;
use plugin_api::model::{
    AttributeOperation, ConfigPage, ConfigParameterDefinition, ConfigParameters, DataType,
    ParameterKind, Schema,
};

fn page_title(page: ConfigPage, number: u32) -> String {
    match page {
        ConfigPage::Schema => format!("Schema {number}"),
        ConfigPage::RunStep => "Run step".into(),
        ConfigPage::Partition => "Partition".into(),
        other => format!("{other:?}"),
    }
}

/// Every parameter page the connector declares for `params`, with the page's title (see
/// [`crate::app::parameter_pages`]).
pub fn pages(
    plugin: &dyn ConnectorPlugin,
    params: &ConfigParameters,
) -> Vec<(String, Vec<ConfigParameterDefinition>)> {
    crate::app::parameter_pages(plugin, params)
        .into_iter()
        .map(|(page, n, defs)| (page_title(page, n), defs))
        .collect()
}

fn kind(k: ParameterKind) -> &'static str {
    match k {
        ParameterKind::String => "String",
        ParameterKind::EncryptedString => "EncryptedString",
        ParameterKind::Text => "Text",
        ParameterKind::CheckBox => "CheckBox",
        ParameterKind::DropDown => "DropDown",
        ParameterKind::File => "File",
        ParameterKind::Label => "Label",
        ParameterKind::Divider => "Divider",
    }
}

/// The parameter pages as text.
pub fn render_pages(pages: &[(String, Vec<ConfigParameterDefinition>)]) -> String {
    let mut out = String::new();
    for (title, defs) in pages {
        let _ = writeln!(out, "== {title} ==");
        for d in defs {
            if d.kind == ParameterKind::Divider {
                let _ = writeln!(out, "  ----");
                continue;
            }
            if d.kind == ParameterKind::Label {
                let _ = writeln!(out, "  ({})", d.description);
                continue;
            }
            let default = match d.kind {
                ParameterKind::CheckBox => d.checkbox_default.to_string(),
                _ if d.default_value.is_empty() => "-".into(),
                _ => format!("{:?}", d.default_value),
            };
            let _ = writeln!(
                out,
                "  {:<32} {:<16} {:<9} default: {default}",
                d.name,
                kind(d.kind),
                if d.required { "required" } else { "optional" },
            );
            if !d.dropdown_values.is_empty() {
                let _ = writeln!(
                    out,
                    "      values: {}{}",
                    d.dropdown_values.join(" | "),
                    if d.dropdown_extensible {
                        " (or another value)"
                    } else {
                        ""
                    }
                );
            }
            if !d.validation.is_empty() {
                let _ = writeln!(out, "      validation: {}", d.validation);
            }
            if !d.description.is_empty() {
                let _ = writeln!(out, "      {}", d.description);
            }
        }
        out.push('\n');
    }
    out
}

fn data_type(t: DataType) -> &'static str {
    match t {
        DataType::String => "String",
        DataType::Integer => "Integer",
        DataType::Boolean => "Boolean",
        DataType::Binary => "Binary",
        DataType::Reference => "Reference",
    }
}

fn direction(o: AttributeOperation) -> &'static str {
    match o {
        AttributeOperation::ImportOnly => "import",
        AttributeOperation::ExportOnly => "export",
        AttributeOperation::ImportExport => "import/export",
    }
}

/// The discovered schema as text: per object type, its anchor(s) and each attribute.
pub fn render_schema(schema: &Schema) -> String {
    let mut out = String::new();
    for t in &schema.types {
        let _ = writeln!(
            out,
            "== Object type {} (anchor: {}) ==",
            t.name,
            t.anchor_attributes.join(", ")
        );
        let _ = writeln!(
            out,
            "  {:<32} {:<10} {:<7} {:<14} FLAGS",
            "ATTRIBUTE", "TYPE", "VALUES", "DIRECTION"
        );
        for a in &t.attributes {
            let mut flags = Vec::new();
            if a.is_anchor
                || t.anchor_attributes
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(&a.name))
            {
                flags.push("anchor");
            }
            if a.hidden_by_default {
                flags.push("hidden");
            }
            let _ = writeln!(
                out,
                "  {:<32} {:<10} {:<7} {:<14} {}",
                a.name,
                data_type(a.data_type),
                if a.multi_valued { "multi" } else { "single" },
                direction(a.operation),
                flags.join(",")
            );
        }
        out.push('\n');
    }
    out
}
