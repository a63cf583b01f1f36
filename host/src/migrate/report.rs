//! The human-readable report (Markdown): per connector, what was carried where, what was not
//! and what to do instead, unknown fields, and the environment variables to set. Secret values
//! are never known to the migration, so they cannot appear here.

use std::fmt::Write;

use super::plan::{AppPlan, Note};

/// Host-wide findings and one section per connector.
pub struct Report<'a> {
    pub source: &'a str,
    pub toml_name: &'a str,
    pub host: &'a [Note],
    pub apps: &'a [AppPlan],
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

impl Report<'_> {
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Migration report\n\nSource: `{}` (Microsoft ECMA2Host configuration export). Configuration written: `{}`.\n",
            self.source, self.toml_name
        );
        let carried = self.apps.iter().filter(|a| a.connector.is_some()).count();
        let _ = writeln!(
            out,
            "{} connector(s) in the export, {carried} carried as application(s).\n",
            self.apps.len()
        );
        out.push_str("## Before starting\n\n");
        let secrets: Vec<_> = self.apps.iter().flat_map(|a| a.secrets.iter()).collect();
        let tokens: Vec<String> = self
            .apps
            .iter()
            .filter(|a| a.connector.is_some())
            .map(|a| a.env_name("TOKEN"))
            .collect();
        if !tokens.is_empty() || !secrets.is_empty() {
            out.push_str("Set these environment variables (or replace `{ env = \"...\" }` with `{ file = \"/path\" }`):\n\n| variable | what |\n|---|---|\n");
            for (t, a) in tokens
                .iter()
                .zip(self.apps.iter().filter(|a| a.connector.is_some()))
            {
                let _ = writeln!(
                    out,
                    "| `{t}` | the Secret Token of connector \"{}\": the same token Entra's provisioning configuration holds (at least 12 characters; the export does not carry it) |",
                    cell(&a.profile_name)
                );
            }
            for s in &secrets {
                let _ = writeln!(out, "| `{}` | {} |", s.env, cell(&s.what));
            }
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "Then run `ecma-host check-config --config {}`: it validates every parameter with the connector and reads the schema.\n",
            self.toml_name
        );
        if !self.host.is_empty() {
            out.push_str("## Host settings\n\n");
            notes(&mut out, self.host);
        }
        for app in self.apps {
            app_section(&mut out, app);
        }
        out
    }
}

fn notes(out: &mut String, notes: &[Note]) {
    out.push_str("| Microsoft | what to do |\n|---|---|\n");
    for n in notes {
        let _ = writeln!(out, "| {} | {} |", cell(&n.what), cell(&n.action));
    }
    out.push('\n');
}

fn app_section(out: &mut String, app: &AppPlan) {
    let _ = writeln!(
        out,
        "## Connector \"{}\" ({})\n",
        cell(&app.profile_name),
        cell(&app.library)
    );
    match app.connector {
        Some(c) => {
            let _ = writeln!(
                out,
                "Carried as application `{}` on connector `{}`: Entra's Tenant URL is `https://HOST:PORT/ecma2host_{}/scim`.\n",
                app.name,
                c.ours(),
                app.name
            );
        }
        None => {
            let _ = writeln!(out, "**Not carried**: no application was written for it.\n");
        }
    }
    if !app.notes.is_empty() {
        out.push_str("### Not carried, or needs attention\n\n");
        notes(out, &app.notes);
    }
    if !app.unknown.is_empty() {
        out.push_str("### Fields the migration does not know (not carried)\n\n");
        for u in &app.unknown {
            let _ = writeln!(out, "- {}", cell(u));
        }
        out.push('\n');
    }
    if !app.carried.is_empty() {
        out.push_str("### Carried\n\n| Microsoft | ecma-host |\n|---|---|\n");
        for c in &app.carried {
            let _ = writeln!(out, "| {} | {} |", cell(&c.from), cell(&c.to));
        }
        out.push('\n');
    }
}
