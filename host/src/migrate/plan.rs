//! What one migrated connector becomes: the application's settings, its parameters by our
//! pages, its object types, and the report entries collected on the way.

use std::collections::BTreeMap;

use crate::config::ObjectTypeConfig;

use super::export::ConnectorExport;
use super::names::{Connector, OurPage};

/// What the connector files need beyond the field at hand.
pub struct Context<'a> {
    pub export: &'a ConnectorExport,
    /// The folder of the export file (a DSN file is looked for there).
    pub source_dir: Option<&'a std::path::Path>,
}

/// A value as the report shows it: short, one line.
pub fn shown(value: &str) -> String {
    let one_line = value.trim().replace(['\r', '\n'], " ");
    if one_line.chars().count() > 80 {
        format!("{:?}…", one_line.chars().take(80).collect::<String>())
    } else {
        format!("{one_line:?}")
    }
}

/// A parameter value as written to the TOML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutValue {
    Text(String),
    Bool(bool),
    /// `{ secret = { env = "NAME" } }`: the value itself is never known to the migration.
    Env(String),
}

/// Something the migration could not carry, or that needs the administrator's attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The Microsoft side: a field, a setting, a connector.
    pub what: String,
    /// What to do instead.
    pub action: String,
}

/// A field carried into the TOML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    pub from: String,
    pub to: String,
}

/// An environment variable the TOML refers to instead of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretNote {
    pub env: String,
    pub what: String,
}

/// One migrated (or refused) connector.
#[derive(Debug, Clone)]
pub struct AppPlan {
    pub profile_name: String,
    pub library: String,
    pub connector: Option<Connector>,
    /// Our application name (the URL segment).
    pub name: String,
    /// Prefix of the environment variables of this application's secrets.
    pub env_prefix: String,
    pub autosync_minutes: Option<u64>,
    pub full_import: bool,
    pub delta_import: bool,
    pub export: bool,
    pub import_page_size: u32,
    pub parameters: BTreeMap<OurPage, BTreeMap<String, OutValue>>,
    pub object_types: Vec<ObjectTypeConfig>,
    pub carried: Vec<Carried>,
    pub notes: Vec<Note>,
    /// Fields the migration does not know: reported, never silently dropped.
    pub unknown: Vec<String>,
    pub secrets: Vec<SecretNote>,
}

impl AppPlan {
    pub fn new(profile_name: &str, library: &str, connector: Option<Connector>) -> Self {
        let name: String = profile_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let mut env_prefix: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        // ECMA_HOST_* variables are configuration overrides; a digit cannot start a name.
        if env_prefix.starts_with("ECMA_HOST")
            || env_prefix.starts_with(|c: char| c.is_ascii_digit())
        {
            env_prefix = format!("APP_{env_prefix}");
        }
        let mut plan = Self {
            profile_name: profile_name.to_owned(),
            library: library.to_owned(),
            connector,
            name,
            env_prefix,
            autosync_minutes: None,
            full_import: true,
            delta_import: true,
            export: true,
            import_page_size: 0,
            parameters: BTreeMap::new(),
            object_types: Vec::new(),
            carried: Vec::new(),
            notes: Vec::new(),
            unknown: Vec::new(),
            secrets: Vec::new(),
        };
        if plan.name != profile_name {
            plan.note(
                format!("connector name \"{profile_name}\""),
                format!(
                    "an application name is a URL segment of letters, digits, '-' and '_': it is \"{}\"; change the Tenant URL in Entra to .../ecma2host_{}/scim",
                    plan.name, plan.name
                ),
            );
        }
        plan
    }

    /// The environment variable for one of this application's secrets.
    pub fn env_name(&self, what: &str) -> String {
        let what: String = what
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        format!("{}_{what}", self.env_prefix)
    }

    pub fn note(&mut self, what: impl Into<String>, action: impl Into<String>) {
        let n = Note {
            what: what.into(),
            action: action.into(),
        };
        if !self.notes.contains(&n) {
            self.notes.push(n);
        }
    }

    pub fn get(&self, page: OurPage, name: &str) -> Option<&OutValue> {
        self.parameters.get(&page).and_then(|p| p.get(name))
    }

    pub fn text(&self, page: OurPage, name: &str) -> Option<&str> {
        match self.get(page, name) {
            Some(OutValue::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// Sets one of our parameters, recording where it came from. A second, different value
    /// for the same parameter (two Microsoft fields that became one of ours) is reported and
    /// the first kept.
    pub fn set(&mut self, page: OurPage, name: &str, value: OutValue, from: &str) {
        let shown = match &value {
            OutValue::Text(t) if t.contains('\n') => "(multi-line text)".to_owned(),
            OutValue::Text(t) => format!("{t:?}"),
            OutValue::Bool(b) => b.to_string(),
            OutValue::Env(e) => format!("secret from ${e}"),
        };
        let params = self.parameters.entry(page).or_default();
        match params.get(name) {
            Some(existing) if *existing != value => {
                let what = from.to_owned();
                self.note(
                    what,
                    format!(
                        "also sets '{name}', which another field already set; the first value was kept: check it"
                    ),
                );
                return;
            }
            Some(_) => {}
            None => {
                params.insert(name.to_owned(), value);
            }
        }
        self.carried.push(Carried {
            from: from.to_owned(),
            to: format!("{} \"{name}\" = {shown}", page.toml_key()),
        });
    }

    /// Takes back a parameter a field set, saying why.
    pub fn unset(&mut self, page: OurPage, name: &str, what: &str, why: &str) {
        if let Some(params) = self.parameters.get_mut(&page)
            && params.remove(name).is_some()
        {
            let to = format!("{} \"{name}\"", page.toml_key());
            self.carried.retain(|c| !c.to.starts_with(&to));
            self.note(what, why);
        }
    }

    /// Sets a parameter to an environment-variable reference and lists the variable.
    pub fn secret(&mut self, page: OurPage, name: &str, what: &str, from: &str) -> String {
        let env = self.env_name(what);
        if let Some(OutValue::Env(existing)) = self.get(page, name) {
            return existing.clone();
        }
        self.set(page, name, OutValue::Env(env.clone()), from);
        self.secrets.push(SecretNote {
            env: env.clone(),
            what: format!("{from} (our parameter '{name}')"),
        });
        env
    }
}
