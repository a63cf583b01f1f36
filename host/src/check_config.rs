//! `ecma-host check-config`: the configuration file, every application's parameters with its
//! connector (page by page), Entra's test connection through an instance (printing what the
//! connector warns about), the mappings against the discovered schema, and the warnings an
//! admin should see (unseen deletes, readable secret files). Exit 0 with warnings, 1 with
//! problems.

use std::process::ExitCode;

use crate::config::Config;
use crate::logging::init_logging;

/// `ecma-host check-config`.
pub fn check_config(path: &std::path::Path) -> anyhow::Result<ExitCode> {
    init_logging("warn");
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            println!("{}: {e}", path.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    let registry = config.host.plugin_registry();
    let mut problems = Vec::new();
    let mut warnings = config.secret_file_warnings();
    for f in registry.failures() {
        problems.push(format!("plugin {}: {}", f.file.display(), f.reason));
    }
    if let Err(errors) = crate::config::resolve_tokens(&config) {
        problems.extend(errors.iter().map(ToString::to_string));
    }
    for app in &config.apps {
        let plugin = match registry.for_app(&app.launch(&config.host)) {
            Ok(plugin) => plugin,
            Err(reason) => {
                problems.push(format!("app '{}': {reason}", app.name));
                continue;
            }
        };
        match crate::app::validate_with_connector(
            app,
            plugin.as_ref(),
            crate::app::Validation::AllProblems,
        ) {
            Ok(params) => match plugin.schema(&params) {
                Ok(schema) => {
                    // Entra's test connection, through an instance whose warnings are
                    // reported here (columns the connector hid, a clear-text bind, ...).
                    let collector =
                        std::sync::Arc::new(crate::plugins::WarningCollector::default());
                    match plugin.create_instance(
                        &params,
                        plugin_api::sdk::HostServices::new(collector.clone()),
                    ) {
                        Ok(mut instance) => {
                            if let Err(e) = instance.test_connection() {
                                problems.push(format!(
                                    "app '{}': test connection failed: {}",
                                    app.name, e.message
                                ));
                            }
                        }
                        Err(e) => problems.push(format!(
                            "app '{}': the connector cannot start an instance: {}",
                            app.name, e.message
                        )),
                    }
                    warnings.extend(
                        collector
                            .take()
                            .into_iter()
                            .map(|w| format!("app '{}': {w}", app.name)),
                    );
                    let caps = plugin.capabilities(&params).ok();
                    if let Some(w) = caps.as_ref().and_then(|c| app.reconciliation_warning(c)) {
                        warnings.push(w);
                    }
                    let traits = caps
                        .as_ref()
                        .map(crate::mapping::TargetTraits::of)
                        .unwrap_or_default();
                    for ot in &app.object_types {
                        if let Err(e) = crate::mapping::TypeMapping::build(ot, &schema, traits) {
                            problems.push(format!("app '{}': {e}", app.name));
                        }
                    }
                }
                Err(e) => problems.push(format!(
                    "app '{}': reading the connector's schema failed: {}",
                    app.name, e.message
                )),
            },
            Err(p) => problems.extend(p),
        }
    }
    for w in &warnings {
        println!("{}: warning: {w}", path.display());
    }
    if problems.is_empty() {
        println!(
            "{}: OK ({} application(s))",
            path.display(),
            config.apps.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &problems {
            println!("{}: {p}", path.display());
        }
        Ok(ExitCode::FAILURE)
    }
}
