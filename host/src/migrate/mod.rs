//! `ecma-host migrate`: a Microsoft ECMA2Host configuration export (the wizard's XML) →
//! an ecma-host TOML configuration and a report of what could not be carried.
//!
//! Files, one job each: `export.rs` reads the XML; `names.rs` is the one table of Microsoft
//! labels and our parameter names; `params.rs` carries fields through it, `sql.rs`, `dsn.rs`
//! and `ldap.rs` do what each connector's values need; `schema.rs` maps object types;
//! `plan.rs` holds one application's result; `toml_out.rs` and `report.rs` write them.
//! Secrets are never read: each becomes an environment-variable reference.

mod dsn;
mod error;
pub mod export;
mod ldap;
pub mod names;
mod params;
pub mod plan;
mod report;
mod schema;
mod sql;
mod toml_out;

use std::path::Path;

pub use error::MigrateError;
use export::{ConnectorExport, Export, RunProfile};
use names::Connector;
use plan::{AppPlan, Context, Note};

/// What a migration produced.
#[derive(Debug, Clone)]
pub struct Migration {
    pub toml: String,
    pub report: String,
    pub apps: Vec<AppPlan>,
}

/// Names the outputs refer to each other by.
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    /// The export's file name, for the header and the report.
    pub source: &'a str,
    pub toml: &'a str,
    pub report: &'a str,
}

/// Migrates the export `xml`; `source_dir` is where files it names (a DSN file) are looked
/// for besides their own path.
pub fn migrate(
    xml: &str,
    source_dir: Option<&Path>,
    names: Names<'_>,
) -> Result<Migration, MigrateError> {
    let export = export::parse(xml)?;
    let apps: Vec<AppPlan> = export
        .connectors
        .iter()
        .map(|c| connector(c, source_dir))
        .collect();
    let mut host = host_notes(&export);
    let mut seen = std::collections::BTreeSet::new();
    for a in apps.iter().filter(|a| a.connector.is_some()) {
        if !seen.insert(a.name.clone()) {
            host.push(Note {
                what: format!("two connectors named \"{}\"", a.name),
                action: "application names must differ: rename one in the TOML (and its Tenant URL in Entra)".into(),
            });
        }
    }
    let carried: Vec<&AppPlan> = apps.iter().filter(|a| a.connector.is_some()).collect();
    let toml = toml_out::render(names.source, names.report, export.port, &carried);
    // The file must load as it is: a migration that writes a configuration ecma-host refuses
    // would only move the problem to start-up.
    if let Err(e) =
        crate::config::Config::from_toml(&toml, Path::new(names.toml), std::iter::empty())
        && seen.len() == carried.len()
    {
        return Err(MigrateError::Generated(e.to_string()));
    }
    let report = report::Report {
        source: names.source,
        toml_name: names.toml,
        host: &host,
        apps: &apps,
    }
    .render();
    Ok(Migration { toml, report, apps })
}

fn host_notes(export: &Export) -> Vec<Note> {
    let mut notes = Vec::new();
    if let Some(thumbprint) = &export.certificate {
        notes.push(Note {
            what: format!("Setting Certificate (thumbprint {thumbprint})"),
            action: "a Windows certificate store reference cannot be carried: export the certificate with its private key to PEM and set [host] tls_cert and tls_key, or let ecma-host generate one (`ecma-host gen-cert`) and make the provisioning agent's machine trust it; its subject must match the host name in the Tenant URL".into(),
        });
    }
    if export.port.is_none() {
        notes.push(Note {
            what: "Setting Port".into(),
            action: "absent from the export: ecma-host's default 8585 applies".into(),
        });
    }
    notes
}

/// One connector → one application (or a refusal with what to do instead).
fn connector(c: &ConnectorExport, source_dir: Option<&Path>) -> AppPlan {
    let kind = Connector::from_library(&c.library);
    let mut plan = AppPlan::new(&c.profile_name, &c.library, kind);
    let Some(kind) = kind else {
        refuse(c, &mut plan);
        return plan;
    };
    plan.autosync_minutes = c.autosync_minutes;
    if !c.run_profiles.is_empty() {
        let has = |p: RunProfile| c.run_profiles.iter().any(|(q, _)| *q == p);
        plan.full_import = has(RunProfile::FullImport);
        plan.delta_import = has(RunProfile::DeltaImport);
        plan.export = has(RunProfile::Export);
    }
    if let Some((_, batch)) = c
        .run_profiles
        .iter()
        .find(|(p, b)| *p == RunProfile::FullImport && *b > 0)
    {
        plan.import_page_size = *batch;
    }
    if c.secret_token_present {
        plan.note(
            "ECMAConfig SecretToken",
            "the export holds a token: it is not copied; give it through the token variable below",
        );
    }
    if !c.folder.is_empty() {
        plan.note(
            format!("ECMAFolderPath {:?}", c.folder),
            "connector DLL folders do not apply: ecma-host loads its connectors from [host] plugins_dirs",
        );
    }
    let ctx = Context {
        export: c,
        source_dir,
    };
    params::carry(&ctx, kind, &mut plan);
    match kind {
        Connector::GenericSql => sql::finish(&ctx, &mut plan),
        Connector::GenericLdap => ldap::finish(&ctx, &mut plan),
    }
    schema::object_types(&c.entries, kind, &mut plan);
    if plan.object_types.is_empty() {
        plan.note(
            "Schema",
            "no object type could be carried: add an [[app.object_type]] (scim, target, anchor, query_attributes) before starting",
        );
    }
    if c.support_password && kind == Connector::GenericSql {
        plan.note(
            "Schema SupportPassword",
            "passwords: set 'Password method' (SQL or Stored procedure) on the Global page; Entra's initial password arrives as SCIM 'password'",
        );
    }
    plan
}

/// A connector with no Linux counterpart: listed with what to do, and every field it had.
fn refuse(c: &ConnectorExport, plan: &mut AppPlan) {
    let lib = c.library.to_ascii_lowercase();
    let action = if lib.contains("powershell") {
        "Microsoft's PowerShell connector runs Windows PowerShell scripts inside the host: there is no Linux counterpart. If the scripts read and write a CSV file (like Microsoft's ECMA2HostCSV sample), use ecma-host's `csv` connector; otherwise write a connector plugin against plugin-api that does what the scripts did (plugins/csv is the example to copy)"
    } else {
        "a vendor or custom ECMA2 connector DLL cannot be loaded by ecma-host (a .NET assembly): ask the vendor for a SCIM endpoint or a Linux connector, or write a connector plugin against plugin-api (plugins/csv is the example to copy)"
    };
    plan.note(format!("connector {}", c.library), action);
    for p in c.parameters.iter().filter(|p| !p.kind.is_decoration()) {
        plan.unknown.push(if p.is_secret() {
            format!("{} (encrypted)", p.location())
        } else {
            format!("{} = {}", p.location(), plan::shown(&p.value))
        });
    }
    for e in &c.entries {
        plan.unknown.push(format!(
            "object type \"{}\" served as {} ({} attribute(s))",
            e.object_type,
            e.external_name,
            e.attributes.len()
        ));
    }
}

/// `ecma-host migrate FILE`: reads the export, writes the TOML and the report. Existing files
/// are replaced only with `force`.
pub fn migrate_file(
    file: &Path,
    out: &Path,
    report: &Path,
    force: bool,
) -> anyhow::Result<Migration> {
    use anyhow::Context as _;
    for p in [out, report] {
        if p.exists() && !force {
            anyhow::bail!("{} exists; use --force to replace it", p.display());
        }
    }
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    // Windows tools write XML in UTF-16 or with a byte-order mark.
    let xml = decode(&bytes);
    let name_of = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string())
    };
    let (source, toml_name, report_name) = (name_of(file), name_of(out), name_of(report));
    let migration = migrate(
        &xml,
        file.parent(),
        Names {
            source: &source,
            toml: &toml_name,
            report: &report_name,
        },
    )
    .with_context(|| file.display().to_string())?;
    std::fs::write(out, &migration.toml)
        .with_context(|| format!("cannot write {}", out.display()))?;
    std::fs::write(report, &migration.report)
        .with_context(|| format!("cannot write {}", report.display()))?;
    Ok(migration)
}

fn decode(bytes: &[u8]) -> String {
    let utf16 = |le: bool, b: &[u8]| {
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(true, rest),
        [0xFE, 0xFF, rest @ ..] => utf16(false, rest),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}
